from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from journeylens.cli import cli
from journeylens.errors import JourneylensError
from journeylens.store.database import migrations, store_path
from journeylens.workspace import Workspace

DATA = Path(__file__).parents[2] / "shared/data"
MESSY = (
    "customer_id,timestamp,activity,channel\n"
    "c1,2024-01-01T10:00:00Z,view,webshop\n"
    "c2,2024-01-01T10:00:00Z,view\n"  # too few columns
    "c3,2024-01-01T11:00:00Z,buy,webshop,extra\n"  # too many
    '"c4","2024-01-02 10:00",pay,app\n'  # unknown channel: loaded, warned
    "c5,notadate,x,webshop\n"
    ",2024-01-01T10:00:00Z,view,webshop\n"  # no identifier
    "c6,2099-01-01T10:00:00Z,view,webshop\n"  # future
    "c7,2024-01-03T09:00:00+02:00,,webshop\n"  # no activity
)


def _query(ws: Workspace, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(store_path(ws.root)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws", example="running-shoes")


def test_messy_csv_reconciles_and_quarantines_every_bad_row_at_its_position(
    ws: Workspace, tmp_path: Path
) -> None:
    source = tmp_path / "messy.csv"
    source.write_text(MESSY)
    [report] = ws.ingest(str(source))
    assert (report.read, report.accepted, report.quarantined, report.duplicates) == (8, 2, 6, 0)
    assert report.read == report.accepted + report.quarantined + report.duplicates
    assert report.warnings == 1 and "unknown channel 'app'" in report.messages[0]
    assert [(q.row, q.column, q.reason.split(":")[0]) for q in ws.quarantine()] == [
        (3, "channel", "missing columns"),
        (4, None, "too many columns"),
        (6, "timestamp", "cannot parse timestamp notadate (expected ISO 8601)"),
        (7, "customer_id", "no customer identifier (expected one of"),
        (8, "timestamp", "timestamp 2099-01-01T10"),
        (9, "activity", "missing activity"),
    ]
    assert _query(
        ws,
        "SELECT source_row, activity, strftime(ts, '%Y-%m-%d %H:%M') FROM events "
        "ORDER BY source_row",
    ) == [(2, "view", "2024-01-01 10:00"), (5, "pay", "2024-01-02 10:00")]


def test_same_file_twice_adds_nothing_and_overlaps_dedupe(ws: Workspace, tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text(
        "customer_id,timestamp,activity,channel\n"
        "c1,2024-01-01T10:00:00Z,view,webshop\n"
        "c1,2024-01-01T10:00:00Z,view,webshop\n"  # a real repeat: kept
        "c2,2024-01-01T11:00:00Z,view,webshop\n"
    )
    [one] = ws.ingest(str(first))
    assert (one.accepted, one.duplicates) == (3, 0)
    [again] = ws.ingest(str(first))
    assert again.status == "skipped" and again.read == 0
    overlap = tmp_path / "b.csv"
    overlap.write_text(
        "customer_id,timestamp,activity,channel\n"
        "c2,2024-01-01T11:00:00Z,view,webshop\n"
        "c1,2024-01-01T10:00:00Z,view,webshop\n"
        "c3,2024-01-02T11:00:00Z,buy,webshop\n"
    )
    [two] = ws.ingest(str(overlap))
    assert (two.read, two.accepted, two.duplicates) == (3, 1, 2)
    assert _query(ws, "SELECT count(*) FROM events") == [(4,)]


def test_explicit_event_ids_dedupe_within_and_across_files(ws: Workspace, tmp_path: Path) -> None:
    (ws.root / "sources").mkdir()
    (ws.root / "sources/app.yaml").write_text(
        "id: app\npath: data/*.jsonl\nevent_id: id\nchannel_constant: webshop\n"
        "identifiers: [{column: email, type: email}, {column: cookie, type: cookie}]\n"
        "attributes: [device]\n"
    )
    (ws.root / "data").mkdir()
    (ws.root / "data/1.jsonl").write_text(
        '{"id": "e1", "email": " Ana@Example.COM ", "cookie": "k1", "timestamp": '
        '"2024-03-01T08:00:00Z", "activity": "view", "device": "mobile"}\n'
        "{not json}\n"
        '{"id": "e1", "email": "ana@example.com", "timestamp": "2024-03-01T08:00:00Z", '
        '"activity": "view"}\n'
        "\n"
        '["a list"]\n'
        '{"id": "e2", "cookie": "k2", "timestamp": "2024-03-01T09:00:00", "activity": "buy"}\n'
    )
    [report] = ws.ingest("app")
    assert (report.read, report.accepted, report.quarantined, report.duplicates) == (5, 2, 2, 1)
    assert [(q.row, q.reason) for q in ws.quarantine()] == [
        (2, "not a JSON object"),
        (5, "not a JSON object"),
    ]
    assert _query(ws, "SELECT id_type, id_value FROM event_identifiers ORDER BY 1, 2") == [
        ("cookie", "k1"),
        ("cookie", "k2"),
        ("email", "ana@example.com"),
    ]
    assert _query(
        ws, "SELECT source || ':' || source_event_id, attributes->>'device' FROM events ORDER BY 1"
    ) == [
        ("app:e1", "mobile"),
        ("app:e2", None),
    ]


def test_a_bare_carriage_return_in_an_unquoted_field_is_text(ws: Workspace, tmp_path: Path) -> None:
    # DuckDB ends a line at any carriage return; an export written on Unix keeps them in text.
    source = tmp_path / "cr.csv"
    source.write_bytes(
        b"customer_id,timestamp,activity,channel\n"
        b"c1,2024-01-01T10:00:00Z,view,web\r\rshop\n"
        b"c2,notadate,view,webshop\n"
        b"c3,2024-01-02T10:00:00Z,pay\rnow\n"  # one column short
        b"c4,2024-01-03T10:00:00Z,buy,webshop\n"
    )
    [report] = ws.ingest(str(source))
    assert (report.read, report.accepted, report.quarantined) == (4, 2, 2)
    assert [(q.row, q.column, q.raw) for q in ws.quarantine()] == [
        (3, "timestamp", "c2,notadate,view,webshop"),
        (4, "channel", "c3,2024-01-02T10:00:00Z,pay\rnow"),
    ]
    assert _query(ws, "SELECT source_row, channel FROM events ORDER BY 1") == [
        (2, "web\r\rshop"),
        (5, "webshop"),
    ]


def test_a_broken_xes_file_fails_with_the_readers_own_message(
    ws: Workspace, tmp_path: Path
) -> None:
    events = "".join(
        f'<event><string key="concept:name" value="step {i}"/>'
        f'<date key="time:timestamp" value="2024-01-01T10:{i:02d}:00+00:00"/></event>'
        for i in range(30)
    )
    text = f'<log><trace><string key="concept:name" value="case 1"/>{events}</trace></log>'
    path = tmp_path / "cut.xes"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(JourneylensError) as refused:
        ws.ingest(str(path))
    # Raised while the store reads the stream; DuckDB's wrapping of it is peeled off.
    assert str(refused.value).startswith(f"{path}: not a readable XES file after event ")
    assert "Invalid Input" not in str(refused.value)
    assert _query(ws, "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM batches)") == [
        (0,)
    ]


def test_migration_003_keeps_old_ids_so_an_overlapping_file_still_dedupes(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    path = store_path(ws.root)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMPTZ)")
    for number, sql in migrations()[:2]:
        con.execute(sql)
        con.execute("INSERT INTO schema_version VALUES (?, now())", [number])
    # What loads stored before migration 003: hex MD5 of the content and occurrence, and
    # "source:id" for a source's own id.
    old = hashlib.md5(b"2024-01-01 10:00:00+00\x1fview\x1fwebshop\x1f\x1fc1\x1f1").hexdigest()
    con.execute(
        "INSERT INTO events (event_id, batch_id, source, source_row, ts, activity, channel) "
        "VALUES (?, 1, 'a', 2, '2024-01-01 10:00:00+00', 'view', 'webshop'), "
        "('app:e1', 1, 'app', 2, '2024-01-02 10:00:00+00', 'buy', 'webshop')",
        [old],
    )
    con.execute(
        "INSERT INTO event_identifiers VALUES (?, 'customer_id', 'c1'), "
        "('app:e1', 'customer_id', 'c2')",
        [old],
    )
    con.close()
    source = tmp_path / "b.csv"
    source.write_text(
        "customer_id,timestamp,activity,channel\nc1,2024-01-01T10:00:00Z,view,webshop\n"
    )
    [report] = ws.ingest(str(source))
    assert (report.accepted, report.duplicates) == (0, 1)
    assert _query(
        ws,
        "SELECT replace(CAST(event_id AS VARCHAR), '-', ''), source_event_id FROM events "
        "ORDER BY source",
    ) == [(old, None), (hashlib.md5(b"app:e1").hexdigest(), "e1")]
    assert _query(ws, "SELECT count(*) FROM events JOIN event_identifiers USING (event_id)") == [
        (2,)
    ]


def test_parquet_and_xlsx_load_with_file_row_numbers(ws: Workspace, tmp_path: Path) -> None:
    table = pa.table(
        {
            "customer_id": ["a", "b", None],
            "timestamp": ["2024-01-01T00:00:00Z"] * 3,
            "activity": ["x", "y", "z"],
            "channel": ["webshop"] * 3,
        }
    )
    pq.write_table(table, tmp_path / "e.parquet")
    [report] = ws.ingest(str(tmp_path / "e.parquet"))
    assert (report.accepted, report.quarantined) == (2, 1)
    assert [q.row for q in ws.quarantine()] == [3]

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["customer_id", "timestamp", "activity", "channel"])
    sheet.append(["c9", "2024-05-01 10:00:00", "call", "phone"])
    sheet.append(["c9", "yesterday", "call", "phone"])
    book.save(tmp_path / "calls.xlsx")
    [xlsx] = ws.ingest(str(tmp_path / "calls.xlsx"))
    assert (xlsx.accepted, xlsx.quarantined) == (1, 1)
    assert [(q.file.endswith("calls.xlsx"), q.row) for q in ws.quarantine(xlsx.batch_id)] == [
        (True, 3)
    ]


def test_missing_columns_fail_the_whole_file_cleanly(ws: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "odd.csv"
    source.write_text("who,when,what\nc1,2024-01-01,x\n")
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "ingest", str(source)])
    assert result.exit_code == 1
    assert "no column 'timestamp', 'customer_id', 'activity', 'channel'" in result.stderr
    assert "(the file has: who, when, what)" in result.stderr
    assert _query(ws, "SELECT count(*) FROM batches") == [(0,)]


def test_cli_json_counts(ws: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "messy.csv"
    source.write_text(MESSY)
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "ingest", str(source), "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert {k: counts[k] for k in ("read", "accepted", "quarantined", "duplicates")} == {
        "read": 8,
        "accepted": 2,
        "quarantined": 6,
        "duplicates": 0,
    }
    export = tmp_path / "rejected.csv"
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "quarantine", "--export", str(export)])
    assert result.exit_code == 0 and "wrote 6 row(s)" in result.stdout
    assert "c5,notadate,x,webshop" in export.read_text()


def test_pseudonymised_identifiers_are_keyed_hashes(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    monkeypatch.setenv("JOURNEYLENS_PSEUDONYM_KEY", "s3cret")
    source = tmp_path / "p.csv"
    source.write_text("customer_id,timestamp,activity,channel\nC-1,2024-01-01T00:00:00Z,x,web\n")
    ws.ingest(str(source))
    expected = hashlib.sha256(b"s3cret:customer_id:C-1").hexdigest()
    assert _query(ws, "SELECT id_value FROM event_identifiers") == [(expected,)]


# -- real public logs ------------------------------------------------------------------------


def test_helpdesk_xes_and_csv_hold_the_same_21348_events_of_4580_cases(
    ws: Workspace, tmp_path: Path
) -> None:
    [xes] = ws.ingest(str(DATA / "helpdesk/helpdesk.xes.gz"))
    assert (xes.read, xes.accepted, xes.quarantined) == (21_348, 21_348, 0)
    (ws.root / "sources").mkdir()
    (ws.root / "sources/helpdesk-csv.yaml").write_text(
        f"id: helpdesk-csv\npath: {DATA / 'helpdesk/helpdesk.csv'}\ntimestamp: Complete Timestamp\n"
        "timestamp_format: '%Y/%m/%d %H:%M:%S.%g'\nactivity: Activity\nchannel: null\n"
        "identifiers: [{column: Case ID, type: case}]\n"
    )
    [csv] = ws.ingest("helpdesk-csv")
    assert (csv.read, csv.accepted, csv.quarantined) == (21_348, 21_348, 0)
    per_source = _query(
        ws,
        "SELECT source, count(*), count(DISTINCT i.id_value) FROM events e "
        "JOIN event_identifiers i USING (event_id) GROUP BY 1 ORDER BY 1",
    )
    assert per_source == [("helpdesk", 21_348, 4_580), ("helpdesk-csv", 21_348, 4_580)]
    # Independent check: both exports describe the same (case, activity, time) multiset.
    differ = _query(
        ws,
        """
        WITH x AS (SELECT i.id_value c, activity a, ts t, source s FROM events
                   JOIN event_identifiers i USING (event_id))
        SELECT count(*) FROM ((SELECT c, a, t FROM x WHERE s = 'helpdesk'
                               EXCEPT ALL SELECT c, a, t FROM x WHERE s = 'helpdesk-csv')
                              UNION ALL (SELECT c, a, t FROM x WHERE s = 'helpdesk-csv'
                               EXCEPT ALL SELECT c, a, t FROM x WHERE s = 'helpdesk'))""",
    )
    assert differ == [(0,)]


def test_receipt_xes_counts(ws: Workspace) -> None:
    [report] = ws.ingest(str(DATA / "receipt/08_receipt.xes.gz"))
    assert (report.read, report.accepted) == (8_577, 8_577)
    assert _query(ws, "SELECT count(DISTINCT id_value) FROM event_identifiers") == [(1_434,)]


def _complaints_source(ws: Workspace, encoding: str) -> None:
    (ws.root / "sources").mkdir(exist_ok=True)
    (ws.root / "sources/complaints.yaml").write_text(
        f"id: complaints\npath: {DATA / 'bpic2016_complaints/BPI2016_Complaints.csv'}\n"
        f"delimiter: ';'\nencoding: {encoding}\ntimestamp: ContactDate\n"
        "timezone: Europe/Amsterdam\nidentifiers: [{column: CustomerID, type: crm_id}]\n"
        "activity_template: 'complaint: {ComplaintTheme_EN}'\nchannel: ContactChannelID\n"
        "attributes: [ComplaintTopic_EN, AgeCategory]\n"
    )


def test_bpic2016_complaints_with_a_source_definition(ws: Workspace) -> None:
    _complaints_source(ws, "latin-1")  # the real file is Latin-1, not UTF-8
    [report] = ws.ingest("complaints")
    assert (report.read, report.accepted, report.quarantined) == (289, 289, 0)
    assert _query(ws, "SELECT count(DISTINCT id_value) FROM event_identifiers") == [(226,)]
    assert _query(ws, "SELECT count(*) FROM events WHERE activity LIKE 'complaint: %'") == [(289,)]


def test_a_wrong_encoding_quarantines_exactly_the_rows_it_breaks(ws: Workspace) -> None:
    _complaints_source(ws, "utf-8")
    [report] = ws.ingest("complaints")
    rejected = ws.quarantine()
    assert report.read == 289 and report.quarantined == len(rejected) == 10
    assert all("invalid encoding" in q.reason and q.column == "ComplaintTopic" for q in rejected)
    assert [q.row for q in rejected][:3] == [45, 46, 47]


# -- atomicity ----------------------------------------------------------------------------------


def test_a_load_killed_midway_leaves_no_partial_batch(ws: Workspace, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("w") as out:
        out.write("customer_id,timestamp,activity,channel\n")
        line = "c{0},2024-01-01T10:{1:02d}:00Z,view_{2},webshop\n"
        out.writelines(line.format(i, i % 60, i % 7) for i in range(1_500_000))
    script = (
        "import sys; from journeylens.workspace import Workspace; "
        "Workspace.open(sys.argv[1]).ingest(sys.argv[2])"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(ws.root), str(big)])
    lock = ws.root / ".journeylens/store.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
        time.sleep(0.05)
    time.sleep(1.0)  # inside the load transaction by now
    assert child.poll() is None, "the load finished before it could be killed; use a bigger file"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert _query(ws, "SELECT count(*) FROM batches") == [(0,)]
    assert _query(ws, "SELECT count(*) FROM events") == [(0,)]
    assert _query(ws, "SELECT count(*) FROM quarantine") == [(0,)]
    [report] = ws.ingest(str(big))  # and the store still works
    assert report.accepted == 1_500_000


def test_progress_reports_end_with_the_exact_row_count(tmp_path: Path) -> None:
    from journeylens.workspace import LoadProgress

    ws = Workspace.init(tmp_path / "ws")
    rows = "".join(f"c{i % 97},2024-01-01T00:00:{i % 60:02d}Z,view,web\n" for i in range(5000))
    (ws.root / "e.csv").write_text("customer_id,timestamp,activity,channel\n" + rows)
    seen: list[LoadProgress] = []
    (report,) = ws.ingest(str(ws.root / "e.csv"), progress=seen.append)
    assert seen[-1].done and seen[-1].rows == report.read == 5000
    assert all(not p.done for p in seen[:-1])
    assert [p.rows for p in seen] == sorted(p.rows for p in seen)
    # A skipped reload still ends its progress with a final, exact report.
    seen.clear()
    ws.ingest(str(ws.root / "e.csv"), progress=seen.append)
    assert len(seen) == 1 and seen[0].done


def test_row_estimates_come_from_the_file(tmp_path: Path) -> None:
    from journeylens.store.progress import estimated_rows

    csv = tmp_path / "e.csv"
    csv.write_text("a,b\n" + "x,1\n" * 9999)
    assert estimated_rows(csv, "csv") == 10_000
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": list(range(1234))}), tmp_path / "e.parquet")
    assert estimated_rows(tmp_path / "e.parquet", "parquet") == 1234
    assert estimated_rows(tmp_path / "missing.csv", "csv") is None


def test_scores_outside_their_scale_are_quarantined_with_the_scale(
    ws: Workspace, tmp_path: Path
) -> None:
    """NPS is asked 0-10: an 11 or a -1 is a broken export, kept in quarantine, not averaged."""
    (tmp_path / "nps.csv").write_text(
        "customer_id,timestamp,activity,channel,score\n"
        "c1,2024-01-01T10:00:00Z,nps_answer,email,0\n"
        "c2,2024-01-01T10:00:00Z,nps_answer,email,10\n"
        "c3,2024-01-01T10:00:00Z,nps_answer,email,11\n"
        "c4,2024-01-01T10:00:00Z,nps_answer,email,-1\n"
        "c5,2024-01-01T10:00:00Z,nps_answer,email,\n"
        "c6,2024-01-01T10:00:00Z,nps_answer,email,9.5\n"
    )
    (ws.root / "sources").mkdir(exist_ok=True)
    spec = "id: {id}\npath: {path}\nscore: score\nscore_type: {kind}\n{extra}"
    (ws.root / "sources/nps.yaml").write_text(
        spec.format(id="nps", path=tmp_path / "nps.csv", kind="nps", extra="")
    )
    [report] = ws.ingest("nps")
    assert (report.read, report.accepted, report.quarantined) == (6, 4, 2)
    assert [(q.row, q.column, q.reason) for q in ws.quarantine()] == [
        (4, "score", "score 11 is outside 0-10 (nps)"),
        (5, "score", "score -1 is outside 0-10 (nps)"),
    ]
    assert _query(ws, "SELECT list(score ORDER BY source_row) FROM events") == [
        ([0.0, 10.0, None, 9.5],)
    ]
    # A stated range replaces the type's scale: a 0-100 satisfaction score loads whole.
    (tmp_path / "pct.csv").write_text(
        "customer_id,timestamp,activity,channel,score\n"
        "d1,2024-01-02T10:00:00Z,csat_answer,email,100\n"
        "d2,2024-01-02T10:00:00Z,csat_answer,email,101\n"
    )
    (ws.root / "sources/pct.yaml").write_text(
        spec.format(
            id="pct", path=tmp_path / "pct.csv", kind="csat", extra="score_range: [0, 100]\n"
        )
    )
    [report] = ws.ingest("pct")
    assert (report.accepted, report.quarantined) == (1, 1)
    assert ws.quarantine()[-1].reason == "score 101 is outside 0-100 (csat)"
    (ws.root / "sources/bad.yaml").write_text(
        spec.format(
            id="bad", path=tmp_path / "pct.csv", kind="other", extra="score_range: [5, 1]\n"
        )
    )
    with pytest.raises(JourneylensError, match="must go from low to high"):
        ws.ingest("bad")


def test_a_language_constant_labels_every_row(ws: Workspace, tmp_path: Path) -> None:
    """An export in one language without a language column (Olist's reviews are Portuguese)."""
    (ws.root / "sources").mkdir(exist_ok=True)
    (tmp_path / "reviews.csv").write_text(
        "customer_id,timestamp,activity,channel,comment\n"
        "c1,2024-01-01T10:00:00Z,review,web,Chegou antes do prazo\n"
        "c2,2024-01-01T11:00:00Z,review,web,Produto com defeito\n"
    )
    spec = "id: reviews\npath: {path}\ntext: comment\nlanguage_constant: {tag}\n"
    (ws.root / "sources/reviews.yaml").write_text(
        spec.format(path=tmp_path / "reviews.csv", tag="pt")
    )
    [report] = ws.ingest("reviews")
    assert report.accepted == 2
    assert _query(ws, "SELECT language, count(*) FROM events GROUP BY ALL") == [("pt", 2)]
    (ws.root / "sources/reviews.yaml").write_text(
        spec.format(path=tmp_path / "reviews.csv", tag="'pt; DROP TABLE events'")
    )
    with pytest.raises(JourneylensError, match="language_constant"):
        ws.ingest("reviews")
