"""Exporting the store's events as XES and OCEL 2.0 JSON (issue 6).

The real helpdesk log goes in, is stitched, comes out in both formats, and is read back by
PM4Py (AGPL-3.0, a test-only oracle: an independent reader of both standards) and by our own
loaders: the same traces, events, activities and directly-follows graph as the original file.
Hostile text (markup, control characters, quotes, emoji, Hebrew) must come back intact, or
replaced where XML cannot carry it, and the documents must always parse.
"""

from __future__ import annotations

import gzip
import json
import tempfile
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from journeylens.cli import cli
from journeylens.cli.export import export_events as export_command
from journeylens.errors import JourneylensError
from journeylens.store import export as export_module
from journeylens.store.database import store_path
from journeylens.web.accounts import Role
from journeylens.web.app import open_accounts
from journeylens.workspace import Workspace
from tests.web_fixtures import Site, build_site

DATA = Path(__file__).parents[2] / "shared/data"
HELPDESK = DATA / "helpdesk/helpdesk.xes.gz"
TRACES, EVENTS = 4_580, 21_348
XES = "{http://www.xes-standard.org/}"
# Everything a text field may hold: markup, quotes, C0 controls (not XML), tab/LF/CR (XML,
# but turned into spaces in attribute values unless written as references), DEL, emoji, Hebrew.
HOSTILE = "a<b>&c \"q\" 's' ]]> \x00nul \x07bel \x1besc \x7fdel\ttab\nnew\rcr 🙂 שלום עולם"
NOT_XML = "\x00\x07\x1b"


def _pm4py() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py

    return pm4py


@contextmanager
def _quiet() -> Iterator[None]:
    """PM4Py warns about its own dependencies; the suite turns warnings into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _read_xes(path: Path) -> pd.DataFrame:
    with _quiet():
        frame: pd.DataFrame = _pm4py().read_xes(str(path), show_progress_bar=False)
    return frame


def _query(*stores: Path, sql: str) -> list[tuple[Any, ...]]:
    """``sql`` over stores attached read-only as s0, s1..."""
    con = duckdb.connect()
    try:
        for n, store in enumerate(stores):
            con.execute(f"ATTACH '{store}' AS s{n} (READ_ONLY)")
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("helpdesk") / "ws")
    ws.ingest(str(HELPDESK))
    ws.stitch()
    return ws


@pytest.fixture(scope="module")
def exported(helpdesk: Workspace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("exported")
    files = {"xes": folder / "helpdesk.xes.gz", "ocel": folder / "helpdesk.jsonocel"}
    for path in files.values():
        assert helpdesk.export_events(path) == EVENTS
    return files


# -- the helpdesk log, out and back in ------------------------------------------------------------


def test_pm4py_reads_our_xes_as_the_original_helpdesk_log(exported: dict[str, Path]) -> None:
    ours, original = _read_xes(exported["xes"]), _read_xes(HELPDESK)
    assert ours["case:concept:name"].nunique() == TRACES and len(ours) == EVENTS
    assert ours["case:concept:name"].str.startswith("c_").all()  # traces are customers
    assert Counter(ours["concept:name"]) == Counter(original["concept:name"])
    assert (ours["time:timestamp"].dt.tz is not None) and ours["time:timestamp"].notna().all()
    assert sorted(ours["time:timestamp"]) == sorted(original["time:timestamp"])
    assert ours["journeylens:event_id"].is_unique
    assert Counter(ours["org:resource"]) == Counter(original["org:resource"])
    pm4py = _pm4py()
    with _quiet():
        assert pm4py.discover_dfg(ours) == pm4py.discover_dfg(original)
        variants = [pm4py.get_variants(frame) for frame in (ours, original)]
    counted = [{k: len(v) if isinstance(v, list) else v for k, v in f.items()} for f in variants]
    assert counted[0] == counted[1]


def test_the_xes_is_gzip_and_declares_the_standard_extensions(exported: dict[str, Path]) -> None:
    with gzip.open(exported["xes"], "rb") as stream:
        root = ET.parse(stream).getroot()
    assert root.tag == f"{XES}log" and root.get("xes.version") == "1849-2016"
    assert {e.get("prefix") for e in root.iter(f"{XES}extension")} >= {"concept", "time", "org"}
    scopes = {g.get("scope"): {a.get("key") for a in g} for g in root.iter(f"{XES}global")}
    assert scopes["trace"] == {"concept:name"}
    assert {"concept:name", "time:timestamp"} <= scopes["event"]
    traces = root.findall(f"{XES}trace")
    assert len(traces) == TRACES
    keys = [t.find(f"{XES}string[@key='concept:name']") for t in traces]
    names = [k.get("value") for k in keys if k is not None]
    assert names == sorted(names) and len(set(names)) == TRACES  # ordered by customer key
    first = traces[0].find(f"{XES}event")
    assert first is not None
    stamp = first.find(f"{XES}date[@key='time:timestamp']")
    assert stamp is not None and str(stamp.get("value")).endswith("+00:00")


@pytest.mark.parametrize("fmt", ["xes", "ocel"])
def test_our_export_loads_back_into_a_fresh_store_unchanged(
    fmt: str, helpdesk: Workspace, exported: dict[str, Path], tmp_path: Path
) -> None:
    """Every (customer, activity, time) of the store comes back, the customer being the
    identifier the export named it by; nothing is quarantined."""
    fresh = Workspace.init(tmp_path / "fresh")
    [report] = fresh.ingest(str(exported[fmt]))
    assert (report.read, report.accepted, report.quarantined) == (EVENTS, EVENTS, 0)
    fresh.stitch()
    differ = _query(
        store_path(helpdesk.root),
        store_path(fresh.root),
        sql="""
        WITH old AS (SELECT customer_key c, activity a, ts t FROM s0.events),
             new AS (SELECT i.id_value c, activity a, ts t FROM s1.events
                     JOIN s1.event_identifiers i USING (event_id))
        SELECT (SELECT count(*) FROM new), (SELECT count(DISTINCT c) FROM new),
               (SELECT count(DISTINCT customer_key) FROM s1.events),
               (SELECT count(*) FROM (SELECT * FROM old EXCEPT ALL SELECT * FROM new)),
               (SELECT count(*) FROM (SELECT * FROM new EXCEPT ALL SELECT * FROM old))""",
    )
    assert differ == [(EVENTS, TRACES, TRACES, 0, 0)]


def test_pm4py_reads_our_ocel_with_one_customer_object_per_journey(
    helpdesk: Workspace, exported: dict[str, Path]
) -> None:
    with _quiet():
        log = _pm4py().read_ocel2_json(str(exported["ocel"]))
    assert len(log.events) == EVENTS and len(log.objects) == TRACES
    assert set(log.objects["ocel:type"]) == {"customer"}
    assert len(log.relations) == EVENTS and log.relations["ocel:eid"].is_unique
    keys = _query(store_path(helpdesk.root), sql="SELECT DISTINCT customer_key FROM s0.events")
    assert set(log.objects["ocel:oid"]) == {k for (k,) in keys}
    counts = _query(
        store_path(helpdesk.root), sql="SELECT activity, count(*) FROM s0.events GROUP BY 1"
    )
    assert Counter(log.events["ocel:activity"]) == dict(counts)
    assert Counter(log.events["org:resource"].dropna()).total() == EVENTS
    document = json.loads(exported["ocel"].read_text(encoding="utf-8"))
    assert list(document) == ["objectTypes", "eventTypes", "objects", "events"]
    declared = {
        t["name"]: {a["name"]: a["type"] for a in t["attributes"]} for t in document["eventTypes"]
    }
    assert set(declared) == {activity for activity, _ in counts}
    assert all(
        d == {"journeylens:source": "string", "org:resource": "string"} for d in declared.values()
    )


# -- streaming: batches, order, sampling ----------------------------------------------------------


def test_small_batches_write_the_same_bytes(
    helpdesk: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Traces cut across Arrow batches must be written as if the store came in one piece, and
    two exports of the same store are identical, compressed ones too (no time in the header)."""
    for suffix in (".xes", ".jsonocel", ".xes.gz"):
        first, second = tmp_path / "1" / f"events{suffix}", tmp_path / "2" / f"events{suffix}"
        helpdesk.export_events(first, limit_customers=300)
        with monkeypatch.context() as patch:
            patch.setattr(export_module, "BATCH_ROWS", 7)
            helpdesk.export_events(second, limit_customers=300)
        assert first.read_bytes() == second.read_bytes(), suffix
    # The gzip header names the file inside as the target does, not the temporary file.
    assert first.read_bytes()[10:21] == b"events.xes\x00"
    assert sorted(p.name for p in first.parent.iterdir()) == [
        "events.jsonocel",
        "events.xes",
        "events.xes.gz",
    ]


def test_limit_customers_takes_the_first_customers_by_key(
    helpdesk: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "sample.xes"
    written = helpdesk.export_events(path, limit_customers=25)
    expected = _query(
        store_path(helpdesk.root),
        sql="""SELECT list(customer_key ORDER BY customer_key), sum(n)::INT FROM (
                 SELECT customer_key, count(*) n FROM s0.events GROUP BY 1
                 ORDER BY 1 LIMIT 25)""",
    )
    frame = _read_xes(path)
    assert written == len(frame) == expected[0][1]
    assert sorted(set(frame["case:concept:name"])) == expected[0][0]


def test_unknown_suffix_and_empty_store_are_refused_without_a_file(
    tmp_path: Path, helpdesk: Workspace
) -> None:
    with pytest.raises(JourneylensError, match="cannot tell the export format"):
        helpdesk.export_events(tmp_path / "events.csv")
    unstitched = Workspace.init(tmp_path / "unstitched")
    unstitched.ingest(str(HELPDESK))
    with pytest.raises(JourneylensError, match="journeylens stitch"):
        unstitched.export_events(tmp_path / "none.xes")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unstitched"]  # no partial file left


# -- hostile text ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Two customers whose text, activity and attributes hold everything awkward."""
    root = tmp_path_factory.mktemp("hostile")
    rows = [
        {
            "customer_id": "ana",
            "timestamp": "2024-01-01T10:00:00.123456Z",
            "activity": f"asks <why> & {NOT_XML}",
            "channel": "web",
            "comment": HOSTILE,
            "amount": 12.5,
            "stars": 4,
            "note": HOSTILE,
            "count": 3,
            "ratio": 0.25,
            "vip": True,
            "tags": ["x", 1],
            "concept:name": "shadowed",
            "empty": None,
        },
        {
            "customer_id": "דוד",
            "timestamp": "2024-01-02T11:00:00Z",
            "activity": "שאלה 🙂",
            "channel": "web",
            "comment": "plain",
            "note": "x",
        },
    ]
    data = root / "hostile.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    ws = Workspace.init(root / "ws")
    (ws.root / "sources").mkdir()
    (ws.root / "sources/hostile.yaml").write_text(
        f"id: hostile\npath: {data}\nformat: jsonl\ntext: comment\nvalue: amount\nscore: stars\n"
        "score_type: csat\nattributes: [note, count, ratio, vip, tags, 'concept:name', empty]\n",
        encoding="utf-8",
    )
    [report] = ws.ingest("hostile")
    assert report.accepted == 2, report
    ws.stitch()
    return ws


def _xml_safe(text: str) -> str:
    return "".join("\ufffd" if c in NOT_XML else c for c in text)


def test_hostile_text_survives_xes_or_is_replaced_where_xml_cannot_hold_it(
    hostile: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.xes"
    assert hostile.export_events(path) == 2
    root = ET.parse(path).getroot()  # well-formed, or this raises
    events = {
        e.find(f"{XES}date").get("value"): {  # type: ignore[union-attr]
            a.get("key"): (a.tag.removeprefix(XES), a.get("value")) for a in e
        }
        for e in root.iter(f"{XES}event")
    }
    ana = events["2024-01-01T10:00:00.123456+00:00"]
    assert ana["concept:name"] == ("string", _xml_safe(f"asks <why> & {NOT_XML}"))
    assert ana["journeylens:text"] == ("string", _xml_safe(HOSTILE))
    assert ana["note"] == ("string", _xml_safe(HOSTILE))
    assert ana["journeylens:value"] == ("float", "12.5")
    assert ana["journeylens:score"] == ("float", "4.0")
    assert ana["journeylens:score_type"] == ("string", "csat")
    assert ana["count"] == ("int", "3") and ana["ratio"] == ("float", "0.25")
    assert ana["vip"] == ("boolean", "true") and ana["tags"] == ("string", '["x",1]')
    assert ana["attr:concept:name"] == ("string", "shadowed")  # never shadows the activity
    assert "empty" not in ana  # a JSON null is no attribute
    assert events["2024-01-02T11:00:00.000+00:00"]["concept:name"] == ("string", "שאלה 🙂")
    # PM4Py (lxml) reads the same values back.
    frame = _read_xes(path)
    assert set(frame["journeylens:text"]) == {_xml_safe(HOSTILE), "plain"}
    assert set(frame["concept:name"]) == {_xml_safe(f"asks <why> & {NOT_XML}"), "שאלה 🙂"}


def test_hostile_text_survives_ocel_exactly(hostile: Workspace, tmp_path: Path) -> None:
    """JSON carries every character, control characters included."""
    path = tmp_path / "hostile.ocel.json.gz"
    assert hostile.export_events(path) == 2
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        document = json.load(stream)
    [ana] = [e for e in document["events"] if e["time"].startswith("2024-01-01")]
    values = {a["name"]: a["value"] for a in ana["attributes"]}
    assert ana["type"] == f"asks <why> & {NOT_XML}"
    assert values["journeylens:text"] == HOSTILE and values["note"] == HOSTILE
    assert (values["count"], values["ratio"], values["vip"]) == (3, 0.25, True)
    assert values["tags"] == '["x",1]' and "empty" not in values
    types = {
        t["name"]: {a["name"]: a["type"] for a in t["attributes"]} for t in document["eventTypes"]
    }
    assert types[ana["type"]]["count"] == "integer"
    assert types[ana["type"]]["vip"] == "boolean"
    assert types[ana["type"]]["journeylens:value"] == "float"
    with _quiet():
        log = _pm4py().read_ocel2_json(str(path))
    assert set(log.events["journeylens:text"]) == {HOSTILE, "plain"}
    assert set(log.objects["ocel:type"]) == {"customer"} and len(log.objects) == 2


# -- the command line -----------------------------------------------------------------------------


def test_the_command_writes_the_file_it_names(hostile: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "out.data"
    args = ["-o", str(target), "--format", "ocel", "--limit-customers", "1"]
    result = runner.invoke(export_command, args, obj={"workspace": hostile.root})
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote 1 events to {target}"
    assert len(json.loads(target.read_text(encoding="utf-8"))["objects"]) == 1
    refused = runner.invoke(export_command, ["-o", str(target), "--format", "csv"], obj={})
    assert refused.exit_code == 2 and "csv" in refused.output
    if "export-events" in cli.commands:  # once registered in cli/main.py
        result = runner.invoke(cli, ["-w", str(hostile.root), "export-events", "-o", "x.txt"])
        assert result.exit_code == 1 and "cannot tell the export format" in result.output


# -- the web API ----------------------------------------------------------------------------------

ROUTE = "/api/data/export/{fmt}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A site without data yet; the tests load it (few events: the route is what is tested)."""
    return build_site(tmp_path_factory.mktemp("web") / "shoes", data=False)


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("journeylens-export-*")}


def test_the_export_endpoint_needs_an_editor_and_sends_the_file(site: Site, tmp_path: Path) -> None:
    before = _leftovers()
    with site.client() as client:
        assert client.get("/api/data/export/xes").status_code == 401
        refused: dict[Role, int] = {
            role: client.get("/api/data/export/xes", headers=site.bearer(role)).status_code
            for role in ("viewer", "editor")
        }
        assert refused == {"viewer": 403, "editor": 409}  # an editor, but no data yet
        source = tmp_path / "events.csv"
        source.write_text(
            "customer_id,timestamp,activity,channel\n"
            "c1,2024-01-01T10:00:00Z,visit <home>,web\nc1,2024-01-01T10:05:00Z,buy,web\n"
            "c2,2024-01-02T10:00:00Z,visit <home>,web\n",
            encoding="utf-8",
        )
        site.workspace.ingest(str(source))
        unstitched = client.get("/api/data/export/ocel", headers=site.bearer("editor"))
        assert unstitched.status_code == 409, unstitched.text  # loaded, not yet stitched
        site.workspace.stitch()
        assert client.get("/api/data/export/xes", headers=site.bearer("viewer")).status_code == 403
        xes = client.get("/api/data/export/xes", headers=site.bearer("editor"))
        assert xes.status_code == 200, xes.text
        assert xes.headers["content-type"].startswith("application/xml")
        assert 'attachment; filename="journeylens-events.xes"' in xes.headers["content-disposition"]
        root = ET.fromstring(xes.content)
        assert len(root.findall(f"{XES}trace")) == 2 and len(list(root.iter(f"{XES}event"))) == 3
        ocel = client.get(
            "/api/data/export/ocel",
            params={"gzip": "true", "limit_customers": 1},
            headers=site.bearer("admin"),
        )
        assert ocel.status_code == 200 and ocel.headers["content-type"] == "application/gzip"
        document = json.loads(gzip.decompress(ocel.content))
        assert len(document["objects"]) == 1 and len(document["events"]) == 2
        assert client.get("/api/data/export/csv", headers=site.bearer("editor")).status_code == 422
    actions = [(e.user, e.action, e.target) for e in open_accounts(site.root).audit_log()]
    assert ("eddie", "export-events", "xes") in actions
    assert ("ada", "export-events", "ocel") in actions
    assert _leftovers() <= before  # temporary files are removed once sent


def test_the_export_endpoint_documents_its_responses(site: Site) -> None:
    document = site.app.openapi()
    operation = document["paths"][ROUTE]["get"]
    assert {"200", "401", "403", "409", "422", "503"} <= set(operation["responses"])
    assert set(operation["responses"]["200"]["content"]) == {
        "application/xml",
        "application/json",
        "application/gzip",
    }
