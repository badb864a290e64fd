"""OCEL 2.0 logs (JSON and SQLite) become one journey per customer object.

Hand-written logs pin down the semantics (two customers, an object-to-object hop, the customer
type, quarantine, idempotence, malformed files); real logs written by PM4Py, an independent
implementation of the standard, check the counts end to end.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sqlite3
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.cli import cli
from journeylens.errors import JourneylensError
from journeylens.ingest import ocel
from journeylens.ingest.formats import bare_spec, detect_format
from journeylens.store.database import store_path
from journeylens.workspace import Workspace

DATA = Path(__file__).parents[2] / "shared/data"
FORMATS = ("ocel-json", "ocel-sqlite")
SUFFIX = {"ocel-json": ".jsonocel", "ocel-sqlite": ".sqlite"}


def _rel(target: str, qualifier: str) -> dict[str, str]:
    return {"objectId": target, "qualifier": qualifier}


# c1 and c2 are customers; o1 is placed by c1 (order -> customer), c2 places o2 (customer ->
# order); c1 refers c2, which must not hand c1's events to c2.
SHOP: dict[str, Any] = {
    "objectTypes": [
        {"name": "customer", "attributes": []},
        {"name": "order", "attributes": []},
        {"name": "item", "attributes": []},
    ],
    "eventTypes": [
        {"name": "register", "attributes": []},
        {
            "name": "place order",
            "attributes": [
                {"name": "channel", "type": "string"},
                {"name": "amount", "type": "float"},
            ],
        },
        {"name": "call", "attributes": []},
        {"name": "restock", "attributes": []},
        {"name": "pay", "attributes": []},
    ],
    "objects": [
        {"id": "c1", "type": "customer", "relationships": [_rel("c2", "refers")]},
        {"id": "c2", "type": "customer", "relationships": [_rel("o2", "places")]},
        {"id": "o1", "type": "order", "relationships": [_rel("c1", "placed by")]},
        {"id": "o2", "type": "order"},
        {
            "id": "i1",
            "type": "item",
            "attributes": [{"name": "sku", "time": "1970-01-01T00:00:00Z", "value": "X"}],
        },
    ],
    "events": [
        {
            "id": "e1",
            "type": "register",
            "time": "2024-01-01T09:00:00",
            "relationships": [_rel("c1", "who")],
        },
        {
            "id": "e2",
            "type": "place order",
            "time": "2024-01-02T10:00:00+02:00",
            "attributes": [{"name": "channel", "value": "web"}, {"name": "amount", "value": 12.5}],
            "relationships": [_rel("o1", "order"), _rel("i1", "item")],
        },
        {
            "id": "e3",
            "type": "place order",
            "time": "2024-01-03T10:00:00Z",
            "attributes": [{"name": "channel", "value": "shop"}],
            "relationships": [_rel("o2", "order")],
        },
        {
            "id": "e4",
            "type": "call",
            "time": "2024-01-04T10:00:00Z",
            "relationships": [_rel("c1", "caller"), _rel("c2", "callee")],
        },
        {
            "id": "e5",
            "type": "restock",
            "time": "2024-01-05T10:00:00Z",
            "relationships": [_rel("i1", "item")],
        },
        {"id": "e6", "type": "pay", "time": "not a time", "relationships": [_rel("c2", "payer")]},
        {
            "id": "e7",
            "type": "pay",
            "time": "2024-01-07T10:00:00Z",
            "relationships": [_rel("c1", "payer"), _rel("o1", "order")],
        },
    ],
}


def _write_json(doc: dict[str, Any], path: Path, indent: int | None = 1) -> Path:
    path.write_text(json.dumps(doc, indent=indent))
    return path


def _table(name: str) -> str:
    return re.sub(r"\W", "", name.title())


def _write_sqlite(doc: dict[str, Any], path: Path) -> Path:
    """The same log in the OCEL 2.0 relational layout, written by hand."""
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);"
        "CREATE TABLE event_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);"
        "CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);"
        "CREATE TABLE object_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);"
        "CREATE TABLE event_object (ocel_event_id TEXT, ocel_object_id TEXT, "
        "ocel_qualifier TEXT);"
        "CREATE TABLE object_object (ocel_source_id TEXT, ocel_target_id TEXT, "
        "ocel_qualifier TEXT);"
    )
    for kind in doc.get("eventTypes", []):
        columns = "".join(f', "{a["name"]}" TEXT' for a in kind["attributes"])
        con.execute(
            f'CREATE TABLE "event_{_table(kind["name"])}" (ocel_id TEXT, ocel_time TEXT{columns})'
        )
        con.execute(
            "INSERT INTO event_map_type VALUES (?, ?)", [kind["name"], _table(kind["name"])]
        )
    for kind in doc.get("objectTypes", []):
        con.execute(
            f'CREATE TABLE "object_{_table(kind["name"])}" '
            "(ocel_id TEXT, ocel_time TEXT, ocel_changed_field TEXT)"
        )
        con.execute(
            "INSERT INTO object_map_type VALUES (?, ?)", [kind["name"], _table(kind["name"])]
        )
    for obj in doc["objects"]:
        con.execute("INSERT INTO object VALUES (?, ?)", [obj["id"], obj["type"]])
        con.execute(
            f'INSERT INTO "object_{_table(obj["type"])}" VALUES (?, NULL, NULL)', [obj["id"]]
        )
        for rel in obj.get("relationships", []):
            con.execute(
                "INSERT INTO object_object VALUES (?, ?, ?)",
                [obj["id"], rel["objectId"], rel["qualifier"]],
            )
    for event in doc["events"]:
        con.execute("INSERT INTO event VALUES (?, ?)", [event["id"], event["type"]])
        attributes = {a["name"]: a["value"] for a in event.get("attributes", [])}
        names = ", ".join(f'"{n}"' for n in ["ocel_id", "ocel_time", *attributes])
        con.execute(
            f'INSERT INTO "event_{_table(event["type"])}" ({names}) '
            f"VALUES ({', '.join('?' * (2 + len(attributes)))})",
            [event["id"], event["time"], *attributes.values()],
        )
        for rel in event.get("relationships", []):
            con.execute(
                "INSERT INTO event_object VALUES (?, ?, ?)",
                [event["id"], rel["objectId"], rel["qualifier"]],
            )
    con.commit()
    con.close()
    return path


def _write(fmt: str, doc: dict[str, Any], folder: Path, stem: str = "shop") -> Path:
    path = folder / f"{stem}{SUFFIX[fmt]}"
    return _write_json(doc, path) if fmt == "ocel-json" else _write_sqlite(doc, path)


def _query(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(store_path(ws.root)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _nothing_stored(ws: Workspace) -> bool:
    if not store_path(ws.root).exists():
        return True
    counts = _query(
        ws,
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM quarantine), "
        "(SELECT count(*) FROM batches)",
    )
    return counts == [(0, 0, 0)]


def _source(ws: Workspace, source_id: str, path: Path, fmt: str, **fields: Any) -> None:
    """A source definition mapping OCEL's columns, as a user would write one."""
    spec = {
        "id": source_id,
        "path": str(path),
        "format": fmt,
        "timestamp": "ocel:timestamp",
        "activity": "ocel:type",
        "channel": None,
        "event_id": "ocel:event",
        "identifiers": [{"column": "ocel:oid", "type": "customer_id"}],
        **fields,
    }
    (ws.root / "sources").mkdir(exist_ok=True)
    (ws.root / f"sources/{source_id}.yaml").write_text(
        "".join(f"{key}: {json.dumps(value)}\n" for key, value in spec.items())
    )


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws")


# -- semantics -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_event_is_one_row_per_customer_it_concerns(
    ws: Workspace, tmp_path: Path, fmt: str
) -> None:
    path = _write(fmt, SHOP, tmp_path)
    assert detect_format(path) == fmt
    [report] = ws.ingest(str(path))
    # e5 concerns no customer; e6 has a bad time; e4 concerns two; e7 reaches c1 twice.
    assert (report.read, report.accepted, report.quarantined, report.duplicates) == (7, 6, 1, 0)
    rows = _query(
        ws,
        "SELECT source || ':' || source_event_id, i.id_value, activity, "
        "strftime(ts, '%Y-%m-%d %H:%M'), attributes->>'ocel:eid' FROM events "
        "JOIN event_identifiers i USING (event_id) WHERE i.id_type = 'customer_id' ORDER BY 1",
    )
    assert rows == [
        ("shop:e1@c1", "c1", "register", "2024-01-01 09:00", "e1"),  # naive: UTC
        ("shop:e2@c1", "c1", "place order", "2024-01-02 08:00", "e2"),  # order placed by c1
        ("shop:e3@c2", "c2", "place order", "2024-01-03 10:00", "e3"),  # c2 places the order
        ("shop:e4@c1", "c1", "call", "2024-01-04 10:00", "e4"),
        ("shop:e4@c2", "c2", "call", "2024-01-04 10:00", "e4"),
        ("shop:e7@c1", "c1", "pay", "2024-01-07 10:00", "e7"),
    ]
    objects = dict(
        _query(
            ws, "SELECT source || ':' || source_event_id, attributes->>'ocel:objects' FROM events"
        )
    )
    assert json.loads(objects["shop:e2@c1"]) == [
        {"id": "i1", "type": "item", "qualifier": "item"},
        {"id": "o1", "type": "order", "qualifier": "order"},
    ]
    assert json.loads(objects["shop:e4@c1"]) == [
        {"id": "c2", "type": "customer", "qualifier": "callee"}
    ]
    assert json.loads(objects["shop:e7@c1"]) == [
        {"id": "o1", "type": "order", "qualifier": "order"}
    ]
    [bad] = ws.quarantine()
    # JSON rows keep the file's order; SQLite rows come ordered by time, the bad one last.
    assert (bad.row, bad.column) == ({"ocel-json": 6, "ocel-sqlite": 7}[fmt], "ocel:timestamp")
    assert bad.reason.startswith("cannot parse timestamp not a time")
    assert bad.raw is not None and "e6" in bad.raw


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_source_maps_event_attributes_and_rejects_unknown_ones(
    ws: Workspace, tmp_path: Path, fmt: str
) -> None:
    path = _write(fmt, SHOP, tmp_path)
    _source(ws, "shop", path, fmt, object_type="order", channel="channel", value="amount")
    [report] = ws.ingest("shop")
    # Orders as the journeys: the customers' own events reach their orders through one hop.
    assert (report.read, report.accepted, report.quarantined) == (7, 6, 1)
    assert _query(
        ws, "SELECT source || ':' || source_event_id, channel, value FROM events ORDER BY 1"
    ) == [
        ("shop:e1@o1", None, None),
        ("shop:e2@o1", "web", 12.5),
        ("shop:e3@o2", "shop", None),
        ("shop:e4@o1", None, None),
        ("shop:e4@o2", None, None),
        ("shop:e7@o1", None, None),
    ]
    _source(ws, "typo", path, fmt, attributes=["chanel"])
    with pytest.raises(JourneylensError, match=r"no column 'chanel' \(an OCEL log has: ocel:eid"):
        ws.ingest("typo")


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_customer_type_is_found_or_asked_for(ws: Workspace, tmp_path: Path, fmt: str) -> None:
    no_customer = {
        "objectTypes": [{"name": "order", "attributes": []}, {"name": "item", "attributes": []}],
        "eventTypes": [{"name": "ship", "attributes": []}],
        "objects": [
            {"id": "o1", "type": "order"},
            {"id": "o2", "type": "order"},
            {"id": "i1", "type": "item"},
        ],
        "events": [
            {"id": "e1", "type": "ship", "time": "2024-01-01T00:00:00Z"}
            | {"relationships": [_rel("o1", ""), _rel("i1", "")]}
        ],
    }
    path = _write(fmt, no_customer, tmp_path, "orders")
    with pytest.raises(JourneylensError) as refused:
        ws.ingest(str(path))
    message = str(refused.value)
    assert message.startswith(str(path))
    assert "cannot tell which object type is the customer" in message
    assert "the log has order (2 objects), item (1 object)" in message
    assert "`object_type:`" in message and "--object-type" in message
    assert _nothing_stored(ws)

    _source(ws, "missing", path, fmt, object_type="customers")
    with pytest.raises(JourneylensError, match="no object type 'customers'; the log has order"):
        ws.ingest("missing")
    _source(ws, "orders", path, fmt, object_type="order")
    [by_order] = ws.ingest("orders")
    assert by_order.accepted == 1

    only = {**no_customer, "objectTypes": no_customer["objectTypes"][:1]}
    only["objects"] = no_customer["objects"][:2]
    [alone] = ws.ingest(str(_write(fmt, only, tmp_path, "only-orders")))
    assert alone.accepted == 1  # the only type is the customer

    clients = json.loads(json.dumps(no_customer).replace('"item"', '"Client"'))
    [named] = ws.ingest(str(_write(fmt, clients, tmp_path, "clients")))
    assert named.accepted == 1
    assert _query(
        ws, f"SELECT source || ':' || source_event_id FROM events WHERE source = '{named.source}'"
    ) == [("clients:e1@i1",)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_loading_twice_adds_nothing(ws: Workspace, tmp_path: Path, fmt: str) -> None:
    path = _write(fmt, SHOP, tmp_path)
    [first] = ws.ingest(str(path))

    def unread(*args: object) -> None:
        raise AssertionError("a file skipped by its checksum was read")

    with pytest.MonkeyPatch.context() as patch:  # the reader's first pass must not run either
        patch.setattr(ocel, "_index_json", unread)
        patch.setattr(ocel, "_plan_sqlite", unread)
        [again] = ws.ingest(str(path))
    assert (first.accepted, again.status, again.read) == (6, "skipped", 0)
    # The same log in another file (other bytes, same events): every event is a duplicate.
    if fmt == "ocel-json":
        copy = _write_json(SHOP, tmp_path / "copy.jsonocel", indent=None)
    else:
        copy = _write_sqlite(SHOP, tmp_path / "copy.sqlite")
        with sqlite3.connect(copy) as con:
            con.execute("CREATE TABLE note (text TEXT)")
    [other] = ws.ingest(str(copy), source_id="shop")
    assert (other.read, other.accepted, other.quarantined, other.duplicates) == (7, 0, 1, 6)
    assert _query(ws, "SELECT count(*) FROM events") == [(6,)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_log_of_many_batches_loads_whole(
    ws: Workspace, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store pulls batches on several threads: the SQLite reader must not mind.
    monkeypatch.setattr(ocel, "BATCH_ROWS", 7)
    customers = [{"id": f"c{i}", "type": "customer"} for i in range(40)]
    orders = [
        {"id": f"o{i}", "type": "order", "relationships": [_rel(f"c{i}", "by")]} for i in range(40)
    ]
    events = [
        {
            "id": f"e{n}",
            "type": "visit",
            "time": f"2024-01-01T00:00:{n % 60:02d}Z",
            "relationships": [_rel(f"{'co'[n % 2]}{n % 40}", "")],  # direct, or by an order
        }
        for n in range(3000)
    ]
    kinds = [{"name": "customer", "attributes": []}, {"name": "order", "attributes": []}]
    log = {
        "objectTypes": kinds,
        "eventTypes": [{"name": "visit", "attributes": []}],
        "objects": customers + orders,
        "events": events,
    }
    [report] = ws.ingest(str(_write(fmt, log, tmp_path, "many")))
    assert (report.read, report.accepted, report.quarantined) == (3000, 3000, 0)
    assert _query(ws, "SELECT count(DISTINCT id_value) FROM event_identifiers") == [(40,)]


def test_json_and_sqlite_readers_stream_the_same_rows_in_small_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = bare_spec(tmp_path / "x", "ocel-json", "shop")
    monkeypatch.setattr(ocel, "BATCH_ROWS", 2)

    def rows(reader: Any) -> tuple[list[int], list[str], set[tuple[Any, ...]]]:
        batches = list(reader)
        table = ocel.pa.Table.from_batches(batches, schema=reader.schema)
        keyed = {tuple(r.values()) for r in table.drop_columns(["_ord"]).to_pylist()}
        return [b.num_rows for b in batches], table.column_names, keyed

    sizes, names, from_sqlite = rows(
        ocel.ocel_sqlite_reader(_write_sqlite(SHOP, tmp_path / "s.sqlite"), spec)
    )
    assert sizes == [2, 2, 2, 1]
    assert names == ["_ord", *spec.columns()]  # only what the spec reads
    json_path = _write_json(SHOP, tmp_path / "s.jsonocel")
    _, _, from_json = rows(ocel.ocel_json_reader(json_path, spec))
    assert from_json == from_sqlite and len(from_json) == 7
    monkeypatch.setattr(ocel, "CHUNK", 3)  # every value is cut by a read, many times
    sizes, _, tiny_reads = rows(ocel.ocel_json_reader(json_path, spec))
    assert tiny_reads == from_json and sizes == [2, 2, 2, 1]


# -- malformed files -------------------------------------------------------------------------------

_GOOD = json.dumps(SHOP, indent=1)
BROKEN_JSON = [
    ("truncated", _GOOD[: len(_GOOD) * 2 // 3], "not OCEL 2.0 JSON (line"),
    ("empty", "", "expected a JSON object, found end of file"),
    ("a list", "[]", "expected a JSON object, found '['"),
    ("events not a list", '{"objects": [], "events": {}}', "expected an array, found '{'"),
    ("no events", '{"objects": []}', "no `events` array"),
    ("trailing text", _GOOD + "\n{}", "unexpected text after the end of the document"),
    ("no event id", _GOOD.replace('"id": "e3"', '"di": "e3"'), "events[2] has no `id`"),
    (
        "relationship without a target",
        _GOOD.replace('"objectId": "o2"', '"object": "o2"', 2),
        "objects[1] (id 'c2'): relationship 0 has no `objectId`",
    ),
    (
        "OCEL 1.0",
        '{"ocel:global-event": {}, "ocel:events": {}}',
        "'ocel:global-event' is OCEL 1.0",
    ),
    ("nested too deeply", '{"events": [' + "[" * 50_000 + "]}", "values nested too deeply"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in BROKEN_JSON], ids=[c[0] for c in BROKEN_JSON]
)
def test_malformed_json_is_refused_whole_with_the_reason(
    ws: Workspace, tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "broken.jsonocel"
    path.write_text(text)
    with pytest.raises(JourneylensError) as refused:
        ws.ingest(str(path))
    assert str(refused.value).startswith(f"{path}: ")
    assert expected in str(refused.value)
    assert _nothing_stored(ws)


def test_a_truncated_log_fails_on_the_command_line_and_writes_nothing(
    ws: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "cut.jsonocel"
    text = json.dumps(SHOP, indent=1)
    path.write_text(text[: text.index('"id": "e5"')])
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "ingest", str(path), "--json"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: not OCEL 2.0 JSON (line ")
    assert _nothing_stored(ws)
    path.write_bytes(b'{"events": ["\xff"]}')
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "ingest", str(path)])
    assert result.exit_code == 1 and "not UTF-8 text" in result.stderr


def test_malformed_sqlite_is_refused_whole_with_the_reason(ws: Workspace, tmp_path: Path) -> None:
    not_sqlite = tmp_path / "notes.sqlite"
    not_sqlite.write_text("hello, not a database\n" * 100)
    with pytest.raises(JourneylensError, match=r"notes.sqlite: not an OCEL 2.0 SQLite database"):
        ws.ingest(str(not_sqlite))

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE things (id TEXT)")
    with pytest.raises(JourneylensError, match=r"no table 'event' \(it has things\)"):
        ws.ingest(str(other))

    lost = _write_sqlite(SHOP, tmp_path / "lost.sqlite")
    with sqlite3.connect(lost) as con:
        con.execute('DROP TABLE "event_PlaceOrder"')
    with pytest.raises(JourneylensError, match="no table for event type 'place order'"):
        ws.ingest(str(lost))
    assert _nothing_stored(ws)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_json_is_loaded_reconciled_or_refused_whole(data: st.DataObject) -> None:
    good = json.dumps(SHOP).encode()
    cut = data.draw(st.integers(0, len(good)))
    junk = data.draw(st.binary(max_size=20) | st.sampled_from([b"{", b"]", b'"', b",", b"null"]))
    kind = data.draw(st.sampled_from(["truncate", "insert", "replace"]))
    payload = {
        "truncate": good[:cut],
        "insert": good[:cut] + junk + good[cut:],
        "replace": good[:cut] + junk + good[cut + len(junk) :],
    }[kind]
    _check_loaded_or_refused("log.jsonocel", payload)


_GOOD_SQLITE: list[bytes] = []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_sqlite_is_loaded_reconciled_or_refused_whole(data: st.DataObject) -> None:
    if not _GOOD_SQLITE:
        with tempfile.TemporaryDirectory() as scratch:
            _GOOD_SQLITE.append(_write_sqlite(SHOP, Path(scratch) / "g.sqlite").read_bytes())
    payload = bytearray(_GOOD_SQLITE[0])
    if data.draw(st.booleans()):
        payload = payload[: data.draw(st.integers(0, len(payload)))]
    else:
        for _ in range(data.draw(st.integers(1, 20))):
            payload[data.draw(st.integers(0, len(payload) - 1))] = data.draw(st.integers(0, 255))
    _check_loaded_or_refused("log.sqlite", bytes(payload))


def _check_loaded_or_refused(name: str, payload: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Workspace.init(Path(scratch) / "ws")
        source = Path(scratch) / name
        source.write_bytes(payload)
        try:
            reports = workspace.ingest(str(source))
        except JourneylensError:
            assert _nothing_stored(workspace)
            return
        for report in reports:
            assert report.read == report.accepted + report.quarantined + report.duplicates
            assert len(workspace.quarantine(report.batch_id)) == report.quarantined


# -- real logs, checked against PM4Py --------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """PM4Py prints a banner and its dependencies warn; neither is what these tests check."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module")
def pm4py() -> ModuleType:
    with _quiet():
        return pytest.importorskip("pm4py")


def _store_journeys(ws: Workspace, source: str) -> Counter[tuple[str, str, int]]:
    rows = _query(
        ws,
        "SELECT i.id_value, activity, epoch_ms(ts) FROM events JOIN event_identifiers i "
        f"USING (event_id) WHERE source = '{source}'",
    )
    return Counter((str(c), str(a), int(t)) for c, a, t in rows)


def _epoch_ms(column: Any) -> list[int]:
    import pandas as pd

    return list((column - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1))


def test_receipt_log_as_ocel_matches_pm4py_in_json_and_sqlite(
    pm4py: ModuleType, ws: Workspace, tmp_path: Path
) -> None:
    import pandas as pd

    frame = pd.read_csv(DATA / "receipt/receipt.csv", dtype=str, keep_default_na=False)
    frame["time:timestamp"] = pd.to_datetime(frame["time:timestamp"], utc=True, format="ISO8601")
    with _quiet():
        log = pm4py.convert_log_to_ocel(
            frame,
            activity_column="concept:name",
            timestamp_column="time:timestamp",
            object_types=["case:concept:name", "org:resource"],
        )
    names = {"case:concept:name": "application", "org:resource": "resource"}
    for table in (log.objects, log.relations):
        table["ocel:type"] = table["ocel:type"].map(names)
    json_path, sqlite_path = tmp_path / "receipt.jsonocel", tmp_path / "receipt.sqlite"
    with _quiet():
        pm4py.write_ocel2_json(log, str(json_path))
        pm4py.write_ocel2_sqlite(log, str(sqlite_path))

    # Neither type is named like a customer: the user is asked, with the counts.
    with pytest.raises(JourneylensError, match=r"application \(1434 objects\), resource \(48"):
        ws.ingest(str(json_path))

    by_source = {}
    for source, path, fmt, read in (
        ("receipt-json", json_path, "ocel-json", pm4py.read_ocel2_json),
        ("receipt-sqlite", sqlite_path, "ocel-sqlite", pm4py.read_ocel2_sqlite),
    ):
        _source(ws, source, path, fmt, object_type="application")
        [report] = ws.ingest(source)
        with _quiet():
            flat = pm4py.ocel_flattening(read(str(path)), "application")
        assert (report.read, report.accepted, report.quarantined) == (len(flat),) * 2 + (0,)
        assert len(flat) == 8_577 and flat["case:concept:name"].nunique() == 1_434
        expected = Counter(
            zip(
                flat["case:concept:name"],
                flat["concept:name"],
                _epoch_ms(flat["time:timestamp"]),
                strict=True,
            )
        )
        # Same customers, activities and times (PM4Py's JSON keeps whole seconds only).
        by_source[source] = _store_journeys(ws, source)
        assert by_source[source] == expected
    assert Counter((c, a) for c, a, _ in by_source["receipt-json"].elements()) == Counter(
        (c, a) for c, a, _ in by_source["receipt-sqlite"].elements()
    )


def test_complaints_reach_their_customer_through_the_dossier_as_pm4py_says(
    pm4py: ModuleType, ws: Workspace, tmp_path: Path
) -> None:
    import pandas as pd
    from pm4py.objects.ocel.obj import OCEL

    rows = pd.read_csv(
        DATA / "bpic2016_complaints/BPI2016_Complaints.csv",
        sep=";",
        encoding="latin-1",
        dtype=str,
        keep_default_na=False,
    )
    rows["dossier"] = "dossier-" + rows["ComplaintDossierID"]
    rows["customer"] = "customer-" + rows["CustomerID"]
    rows["time"] = pd.to_datetime(rows["ContactDate"], utc=True)
    # Complaints touch only their dossier, and the dossier says whose it is (object to object).
    # PM4Py's writers drop objects without events, so each dossier is also opened, by its
    # customer, at its first contact: those events reach the customer directly *and* through
    # the dossier, and must count once.
    opened = rows.sort_values("time").drop_duplicates("dossier")
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    "ocel:eid": "complaint-" + rows["ComplaintID"],
                    "ocel:activity": "complaint: " + rows["ComplaintTheme_EN"],
                    "ocel:timestamp": rows["time"],
                    "channel": rows["ContactChannelID"],
                }
            ),
            pd.DataFrame(
                {
                    "ocel:eid": "opened-" + opened["dossier"],
                    "ocel:activity": "dossier opened",
                    "ocel:timestamp": opened["time"],
                    "channel": opened["ContactChannelID"],
                }
            ),
        ]
    )
    relations = pd.concat(
        [
            events.iloc[: len(rows)].assign(
                **{"ocel:oid": rows["dossier"].values, "ocel:type": "dossier"}
            ),
            events.iloc[len(rows) :].assign(
                **{"ocel:oid": opened["dossier"].values, "ocel:type": "dossier"}
            ),
            events.iloc[len(rows) :].assign(
                **{"ocel:oid": opened["customer"].values, "ocel:type": "customer"}
            ),
        ]
    ).drop(columns="channel")
    relations["ocel:qualifier"] = relations["ocel:type"].map(
        {"dossier": "about", "customer": "opened by"}
    )
    objects = pd.concat(
        [
            pd.DataFrame({"ocel:oid": rows["customer"], "ocel:type": "customer"}),
            pd.DataFrame({"ocel:oid": rows["dossier"], "ocel:type": "dossier"}),
        ]
    ).drop_duplicates()
    o2o = pd.DataFrame(
        {"ocel:oid": rows["dossier"], "ocel:oid_2": rows["customer"], "ocel:qualifier": "of"}
    ).drop_duplicates()
    log = OCEL(events=events, objects=objects, relations=relations, o2o=o2o)
    json_path, sqlite_path = tmp_path / "complaints.jsonocel", tmp_path / "complaints.sqlite"
    with _quiet():
        pm4py.write_ocel2_json(log, str(json_path))
        pm4py.write_ocel2_sqlite(log, str(sqlite_path))

    stored = {}
    for path, read in ((json_path, pm4py.read_ocel2_json), (sqlite_path, pm4py.read_ocel2_sqlite)):
        source = path.suffix[1:]
        [report] = ws.ingest(str(path), source_id=source)  # the type "customer" is found
        with _quiet():
            back = read(str(path))
        # The oracle: PM4Py's reading of the file, joined by hand: event -> customer, and
        # event -> object -> customer through an object-to-object link either way.
        kinds = dict(zip(back.objects["ocel:oid"], back.objects["ocel:type"], strict=True))
        o2o_back = back.o2o[["ocel:oid", "ocel:oid_2"]]
        links = pd.concat(
            [o2o_back.set_axis(["near", "far"], axis=1), o2o_back.set_axis(["far", "near"], axis=1)]
        )
        links = links[
            links["far"].map(kinds).eq("customer") & links["near"].map(kinds).ne("customer")
        ]
        e2o = back.relations[["ocel:eid", "ocel:activity", "ocel:oid"]]
        direct = e2o[e2o["ocel:oid"].map(kinds) == "customer"]
        hop = e2o.merge(links, left_on="ocel:oid", right_on="near")
        pairs = pd.concat(
            [direct, hop[["ocel:eid", "ocel:activity", "far"]].set_axis(direct.columns, axis=1)]
        ).drop_duplicates(["ocel:eid", "ocel:oid"])
        assert len(pairs) == 289 + 256 and pairs["ocel:oid"].nunique() == 226
        assert (report.read, report.accepted, report.quarantined) == (len(pairs), len(pairs), 0)
        stored[source] = _store_journeys(ws, source)
        assert Counter((c, a) for c, a, _ in stored[source].elements()) == Counter(
            zip(pairs["ocel:oid"], pairs["ocel:activity"], strict=True)
        )
    assert stored["jsonocel"] == stored["sqlite"]
    # Each row lists the event's other objects: a complaint, its dossier and nothing else.
    objects_of = dict(
        _query(
            ws,
            "SELECT attributes->>'ocel:eid', attributes->>'ocel:objects' FROM events "
            "WHERE source = 'sqlite'",
        )
    )
    first = rows.iloc[0]
    assert json.loads(objects_of[f"complaint-{first['ComplaintID']}"]) == [
        {"id": first["dossier"], "type": "dossier", "qualifier": "about"}
    ]
