"""The recipes in docs/recipes.md, replayed as written and run on real public exports.

Every count asserted on real data comes from an independent reading of the file with Python's
csv module, never from journeylens itself. The data sets live outside the repository (their
licences allow tests, not redistribution): ``DATA`` below, see its README.md.
"""

from __future__ import annotations

import csv
import json
import re
import shlex
import statistics
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from journeylens.cli import cli
from journeylens.model.sources import SourceSpec
from journeylens.store.database import store_path
from journeylens.store.loading import BatchReport
from journeylens.workspace import Workspace

DATA = Path(__file__).parents[2] / "shared/data"
RECIPES = Path(__file__).parents[1] / "docs/recipes.md"
TWEETS = DATA / "twitter_airline_sentiment/Tweets.csv"
OLIST = DATA / "olist_classified/olist_classified_public_dataset.csv"
COMPLAINTS = DATA / "bpic2016_complaints/BPI2016_Complaints.csv"
TWCS = DATA / "twcs_customer_support/twcs_first5000.csv"

BLOCK = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
SAVE_AS = re.compile(r"Save this as `([^`]+)`")


# -- helpers -------------------------------------------------------------------------------------


def _blocks() -> list[tuple[str, str, str]]:
    """Every fenced block of the recipes page: (language, body, prose just before it)."""
    text = RECIPES.read_text(encoding="utf-8")
    found, end = [], 0
    for match in BLOCK.finditer(text):
        found.append((match.group(1), match.group(2), text[end : match.start()]))
        end = match.end()
    return found


def _source_blocks() -> dict[str, tuple[str, dict[str, Any]]]:
    """The ``# sources/<id>.yaml`` blocks: file name -> (body, parsed YAML)."""
    found = {}
    for lang, body, _ in _blocks():
        first = body.splitlines()[0] if body else ""
        if lang == "yaml" and first.startswith("# sources/"):
            name = first.removeprefix("# ").strip()
            assert name not in found, f"{name} is defined twice in {RECIPES.name}"
            found[name] = (body, YAML(typ="safe").load(body))
    return found


def _recipe(source_id: str) -> dict[str, Any]:
    """The documented source definition ``source_id``, as a dict to adapt."""
    return dict(_source_blocks()[f"sources/{source_id}.yaml"][1])


def _use(ws: Workspace, spec: dict[str, Any]) -> None:
    """Write a source definition into the workspace (JSON is YAML)."""
    (ws.root / "sources").mkdir(exist_ok=True)
    (ws.root / f"sources/{spec['id']}.yaml").write_text(json.dumps(spec), encoding="utf-8")


def _query(ws: Workspace, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(store_path(ws.root)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _counts(report: BatchReport) -> tuple[int, int, int, int]:
    assert report.status == "loaded", report.messages
    assert report.read == report.accepted + report.quarantined + report.duplicates
    return report.read, report.accepted, report.quarantined, report.duplicates


def _csv_rows(path: Path, *, encoding: str = "utf-8", delimiter: str = ",") -> list[dict[str, str]]:
    """The oracle: the file as Python's csv module reads it."""
    with path.open(newline="", encoding=encoding) as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """An empty workspace: no channel or touchpoint registry, so no warnings."""
    monkeypatch.delenv("JOURNEYLENS_PSEUDONYM_KEY", raising=False)
    return Workspace.init(tmp_path / "ws")


# -- the page itself -----------------------------------------------------------------------------


def test_every_source_definition_on_the_recipes_page_is_a_valid_source_spec() -> None:
    blocks = _source_blocks()
    assert sorted(blocks) == [
        f"sources/{name}.yaml"
        for name in sorted(
            [
                "airline-tweets",
                "complaints-tickets",
                "csat-qualtrics",
                "nps-survey",
                "olist-reviews",
                "support-tweets",
                "ticket-history",
                "tickets-created",
                "tickets-solved",
                "web-events",
            ]
        )
    ]
    for name, (_, data) in blocks.items():
        spec = SourceSpec.model_validate(data)
        assert f"sources/{spec.id}.yaml" == name
        assert spec.kind == "events"


def _run_console(body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each ``$ command`` of a console block and compare with the output printed under it."""
    steps: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"output before any command: {line!r}"
            steps[-1][1].append(line)
    for command, expected_lines in steps:
        expected = "\n".join(expected_lines)
        args = shlex.split(command)
        if args[0] == "cd":
            monkeypatch.chdir(Path.cwd() / args[1])
            continue
        if args[0] != "journeylens":
            subprocess.run(command, shell=True, check=True, cwd=Path.cwd())
            assert expected == "", command
            continue
        result = CliRunner().invoke(cli, args[1:])
        assert result.exit_code == 0, f"{command}\n{result.output}"
        if "--json" in args:
            actual, wanted = json.loads(result.output), json.loads(expected)
            for report in (actual, wanted):
                report.pop("seconds", None)  # the only field that changes from run to run
            assert actual == wanted, f"{command}\n{result.output}"
        else:
            assert result.output.rstrip("\n") == expected, f"{command}\n{result.output}"


def test_the_recipes_page_replays_with_the_outputs_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOURNEYLENS_PSEUDONYM_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    ran = Counter[str]()
    for lang, body, before in _blocks():
        if lang == "console":
            _run_console(body, monkeypatch)
        elif lang == "yaml" and body.startswith("# sources/"):
            target = Path.cwd() / body.splitlines()[0].removeprefix("# ")
            target.write_text(body, encoding="utf-8")
        elif lang == "csv":
            names = SAVE_AS.findall(before)
            assert names, f"a csv block without 'Save this as `...`:' before it:\n{body[:80]}"
            (Path.cwd() / names[-1]).write_text(body, encoding="utf-8")
        else:
            continue
        ran[lang] += 1
    assert ran == {"console": 7, "yaml": 10, "csv": 6}


# -- twitter_airline_sentiment: tweets as survey-like verbatims ----------------------------------


def _airline_tweets(ws: Workspace, **changes: Any) -> BatchReport:
    spec = _recipe("airline-tweets") | {"path": str(TWEETS)} | changes
    _use(ws, spec)
    [report] = ws.ingest("airline-tweets")
    return report


def test_airline_tweets_load_as_verbatims_with_their_label_text_and_score(ws: Workspace) -> None:
    rows = _csv_rows(TWEETS)
    first: dict[str, tuple[int, dict[str, str]]] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        first.setdefault(row["tweet_id"], (number, row))
    assert (len(rows), len(first)) == (14_640, 14_485)  # the file repeats 155 tweet ids

    report = _airline_tweets(ws)
    assert _counts(report) == (14_640, 14_485, 0, 155)
    assert ws.quarantine() == []

    stored = {
        event_id.removeprefix("airline-tweets:"): rest
        for event_id, *rest in _query(
            ws,
            "SELECT source || ':' || source_event_id, source_row, ts, activity, channel, text, "
            "score, score_type, attributes->>'airline_sentiment', attributes->>'negativereason' "
            "FROM events",
        )
    }
    assert stored.keys() == first.keys()
    for tweet_id, (number, row) in first.items():
        when = datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z")
        assert stored[tweet_id] == [
            number,  # the first copy of a repeated id is the one kept
            when,
            "tweet_to_airline",
            "twitter",
            row["text"],
            float(row["airline_sentiment_confidence"]),
            "other",
            row["airline_sentiment"],
            row["negativereason"] or None,
        ], tweet_id

    # Multi-line quoted tweets and emoji (outside the BMP) are part of the comparison above.
    multiline = [r["text"] for _, r in first.values() if "\n" in r["text"]]
    emoji = [r["text"] for _, r in first.values() if any(ord(c) > 0xFFFF for c in r["text"])]
    assert len(multiline) > 100 and len(emoji) > 400
    texts = {t for (t,) in _query(ws, "SELECT text FROM events")}
    assert set(multiline[:5] + emoji[:5]) <= texts

    labels = Counter(r["airline_sentiment"] for _, r in first.values())
    assert dict(
        _query(ws, "SELECT attributes->>'airline_sentiment', count(*) FROM events GROUP BY 1")
    ) == dict(labels)
    assert _query(ws, "SELECT count(DISTINCT id_value) FROM event_identifiers") == [
        (len({r["name"] for _, r in first.values()}),)
    ]


def test_an_empty_score_is_accepted_without_a_score_and_never_quarantined(ws: Workspace) -> None:
    rows = _csv_rows(TWEETS)
    first: dict[str, dict[str, str]] = {}
    for row in rows:
        first.setdefault(row["tweet_id"], row)
    scores = [r["negativereason_confidence"] for r in first.values()]
    filled = [float(s) for s in scores if s != ""]
    assert (len(scores) - len(filled), len(filled)) == (4_069, 10_416)

    report = _airline_tweets(ws, score="negativereason_confidence")
    assert _counts(report) == (14_640, 14_485, 0, 155)
    [(no_score, with_score, total)] = _query(
        ws, "SELECT count(*) FILTER (WHERE score IS NULL), count(score), sum(score) FROM events"
    )
    assert (no_score, with_score) == (4_069, 10_416)
    assert total == pytest.approx(sum(filled), rel=1e-12)


# -- olist_classified: 1-5 review scores with Portuguese text ------------------------------------


def test_olist_reviews_load_as_ratings_with_the_mean_score_of_the_file(ws: Workspace) -> None:
    rows = _csv_rows(OLIST)
    assert len(rows) == 3_584
    assert all(r["review_answer_timestamp"] and r["review_score"] for r in rows)
    _use(ws, _recipe("olist-reviews") | {"path": str(OLIST)})
    [report] = ws.ingest("olist-reviews")
    assert _counts(report) == (3_584, 3_584, 0, 0)

    [(count, mean, total, kinds)] = _query(
        ws, "SELECT count(*), avg(score), sum(score), list(DISTINCT score_type) FROM events"
    )
    scores = [int(r["review_score"]) for r in rows]
    assert (count, total, kinds) == (3_584, sum(scores), ["rating"])
    assert mean == pytest.approx(statistics.mean(scores), rel=1e-12)
    assert dict(_query(ws, "SELECT CAST(score AS INTEGER), count(*) FROM events GROUP BY 1")) == (
        dict(Counter(scores))
    )

    stored = {
        row: (ts, text) for row, ts, text in _query(ws, "SELECT source_row, ts, text FROM events")
    }
    for number, row in enumerate(rows, start=2):
        when = datetime.fromisoformat(row["review_answer_timestamp"])
        assert stored[number] == (when, row["review_comment_message"]), number
    accented = [
        r["review_comment_message"]
        for r in rows
        if re.search("[ãçéêõ]", r["review_comment_message"])
    ]
    assert len(accented) > 500  # Portuguese text, compared above character for character


def _olist_delivered() -> dict[str, Any]:
    return {
        "id": "olist-delivered",
        "path": str(OLIST),
        "timestamp": "order_delivered_customer_date",
        "identifiers": [{"column": "id", "type": "other"}],
        "activity_template": "order_delivered",
        "channel_constant": "delivery",
    }


def test_a_milestone_without_a_timestamp_is_quarantined_at_its_row(ws: Workspace) -> None:
    rows = _csv_rows(OLIST)
    missing = [n for n, r in enumerate(rows, start=2) if not r["order_delivered_customer_date"]]
    assert len(missing) == 117  # orders not delivered (yet): shipped, canceled, invoiced...
    _use(ws, _olist_delivered())
    [report] = ws.ingest("olist-delivered")
    assert _counts(report) == (3_584, 3_584 - 117, 117, 0)
    rejected = ws.quarantine()
    assert [q.row for q in rejected] == missing
    assert {(q.column, q.reason) for q in rejected} == {
        ("order_delivered_customer_date", "missing timestamp")
    }


def test_two_sources_over_one_export_both_load(ws: Workspace) -> None:
    _use(ws, _recipe("olist-reviews") | {"path": str(OLIST)})
    _use(ws, _olist_delivered())
    [reviews] = ws.ingest("olist-reviews")
    [delivered] = ws.ingest("olist-delivered")
    assert _counts(reviews) == (3_584, 3_584, 0, 0)
    assert _counts(delivered) == (3_584, 3_584 - 117, 117, 0)
    assert _query(ws, "SELECT activity, count(*) FROM events GROUP BY 1 ORDER BY 1") == [
        ("order_delivered", 3_467),
        ("review_answered", 3_584),
    ]


# -- bpic2016_complaints: a complaints register as a help-desk ticket export ---------------------


def test_bpic2016_complaints_load_as_a_ticket_export(ws: Workspace) -> None:
    rows = _csv_rows(COMPLAINTS, encoding="latin-1", delimiter=";")
    assert len(rows) == len({r["ComplaintID"] for r in rows}) == 289
    _use(ws, _recipe("complaints-tickets") | {"path": str(COMPLAINTS)})
    [report] = ws.ingest("complaints-tickets")
    assert _counts(report) == (289, 289, 0, 0)

    stored = {
        event_id: rest
        for event_id, *rest in _query(
            ws,
            "SELECT source || ':' || source_event_id, activity, channel, "
            "attributes->>'ComplaintTopic' FROM events",
        )
    }
    for row in rows:
        assert stored[f"complaints-tickets:{row['ComplaintID']}"] == [
            f"complaint_{row['ComplaintTheme_EN']}",
            row["ContactChannelID"],
            row["ComplaintTopic"],  # Latin-1 accents intact
        ]
    assert any(not t.isascii() for t in (r["ComplaintTopic"] for r in rows))
    assert dict(_query(ws, "SELECT channel, count(*) FROM events GROUP BY 1")) == dict(
        Counter(r["ContactChannelID"] for r in rows)
    )

    customers = {r["CustomerID"] for r in rows}
    stitched = ws.stitch()
    assert (stitched.identifiers, stitched.customers, stitched.flagged) == (226, 226, 0)
    assert len(customers) == 226 and stitched.events_attributed == 289
    repeat = Counter(r["CustomerID"] for r in rows).most_common(1)[0]
    found = ws.identity(f"crm_id:{repeat[0]}")
    assert found.events == repeat[1] > 1


def test_a_date_without_a_time_is_midnight_in_the_source_timezone(ws: Workspace) -> None:
    rows = _csv_rows(COMPLAINTS, encoding="latin-1", delimiter=";")
    _use(ws, _recipe("complaints-tickets") | {"path": str(COMPLAINTS)})
    ws.ingest("complaints-tickets")
    stored = dict(_query(ws, "SELECT source || ':' || source_event_id, ts FROM events"))
    amsterdam = ZoneInfo("Europe/Amsterdam")
    for row in rows:
        midnight = datetime.fromisoformat(row["ContactDate"]).replace(tzinfo=amsterdam)
        assert stored[f"complaints-tickets:{row['ComplaintID']}"] == midnight.astimezone(UTC)


# -- twcs_customer_support: chat threads -----------------------------------------------------------


def _clean_twcs(tmp_path: Path) -> Path:
    """The documented workaround: carriage returns that do not end a line become spaces."""
    clean = tmp_path / "support-tweets.csv"
    clean.write_bytes(re.sub(rb"\r(?!\n)", b" ", TWCS.read_bytes()))
    return clean


def test_twcs_support_threads_load_with_customer_and_brand_touchpoints(
    ws: Workspace, tmp_path: Path
) -> None:
    clean = _clean_twcs(tmp_path)
    with clean.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len({r["tweet_id"] for r in rows}) == 5_000
    _use(ws, _recipe("support-tweets") | {"path": str(clean)})
    [report] = ws.ingest("support-tweets")
    assert _counts(report) == (5_000, 5_000, 0, 0)

    stored = {
        event_id.removeprefix("support-tweets:"): rest
        for event_id, *rest in _query(
            ws,
            "SELECT source || ':' || source_event_id, ts, text, touchpoint, channel, activity "
            "FROM events",
        )
    }
    assert len(stored) == 5_000
    for row in rows:
        when = datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")
        side = "customer-message" if row["inbound"] == "True" else "brand-reply"
        assert stored[row["tweet_id"]] == [when, row["text"], side, "twitter", "support_tweet"]
    assert sum("\n" in r["text"] for r in rows) > 100
    assert dict(_query(ws, "SELECT touchpoint, count(*) FROM events GROUP BY 1")) == {
        "customer-message": sum(r["inbound"] == "True" for r in rows),
        "brand-reply": sum(r["inbound"] == "False" for r in rows),
    }
    authors = Counter(r["author_id"] for r in rows)
    assert _query(
        ws, "SELECT id_type, count(DISTINCT id_value), count(*) FROM event_identifiers GROUP BY 1"
    ) == [("account", len(authors), 5_000)]
    brand, replies = next((a, n) for a, n in authors.most_common() if not a.isdigit())
    assert _query(
        ws,
        "SELECT count(*) FROM events JOIN event_identifiers USING (event_id) "
        "WHERE id_value = ? AND touchpoint = 'brand-reply'",
        [brand],
    ) == [(replies,)]


def test_twcs_as_downloaded_keeps_the_stray_carriage_returns_of_a_tweet_as_text(
    ws: Workspace,
) -> None:
    raw = TWCS.read_bytes()
    assert raw.count(b"\r") == 2 and b"\r\n" not in raw
    with TWCS.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))[1:]
    well_formed = [r for r in records if len(r) == 8]
    assert len(well_formed) == 4_999  # the csv module splits the broken tweet in three pieces
    _use(ws, _recipe("support-tweets") | {"path": str(TWCS)})
    [report] = ws.ingest("support-tweets")
    _, accepted, quarantined, duplicates = _counts(report)
    # The carriage returns are text inside an unquoted field: the tweet loads as written.
    assert (accepted, quarantined, duplicates) == (5_000, 0, 0)
    assert _query(ws, "SELECT text, source_row FROM events WHERE source_event_id = '3399'") == [
        ("@AskPayPal \r\rI just love the start of email 😁 https://t.co/8u1Pf5rJoN", 2_486)
    ]
    stored = {e for (e,) in _query(ws, "SELECT source || ':' || source_event_id FROM events")}
    assert {f"support-tweets:{r[1]}" for r in well_formed} <= stored


# -- product gaps found while writing the recipes ------------------------------------------------


def test_an_empty_template_placeholder_is_a_missing_activity(ws: Workspace, tmp_path: Path) -> None:
    export = tmp_path / "history.csv"
    export.write_text(
        "ticket,email,updated,status\n"
        "1,ana@example.com,2024-03-01T10:00:00Z,open\n"
        "1,ana@example.com,2024-03-01T11:00:00Z,\n"
    )
    _use(
        ws,
        {
            "id": "history",
            "path": str(export),
            "timestamp": "updated",
            "identifiers": [{"column": "email", "type": "ticket_requester"}],
            "activity_template": "ticket_{status}",
            "channel_constant": "help-desk",
        },
    )
    [report] = ws.ingest("history")
    assert _counts(report) == (2, 1, 1, 0)
    assert [(q.row, q.reason) for q in ws.quarantine()] == [(3, "missing activity")]


def test_nan_and_infinite_scores_are_quarantined(ws: Workspace, tmp_path: Path) -> None:
    export = tmp_path / "survey.csv"
    export.write_text(
        "id,email,submitted,score\n"
        "r1,ana@example.com,2024-03-01T10:00:00Z,9\n"
        "r2,bruno@example.com,2024-03-01T11:00:00Z,NaN\n"
        "r3,chloe@example.com,2024-03-01T12:00:00Z,inf\n"
    )
    _use(
        ws,
        {
            "id": "survey",
            "path": str(export),
            "timestamp": "submitted",
            "event_id": "id",
            "identifiers": [{"column": "email", "type": "email"}],
            "activity_template": "nps_response",
            "channel_constant": "survey",
            "score": "score",
            "score_type": "nps",
        },
    )
    [report] = ws.ingest("survey")
    assert _counts(report) == (3, 1, 2, 0)
    assert [(q.row, q.column) for q in ws.quarantine()] == [(3, "score"), (4, "score")]
    assert _query(ws, "SELECT avg(score) FROM events") == [(9.0,)]
