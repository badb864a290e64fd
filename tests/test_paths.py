"""Paths from an anchor: hand-counted logs on DuckDB and Spark, a brute-force reference on
generated logs, and the helpdesk log checked against its CSV export."""

from __future__ import annotations

import csv
import itertools
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.analyses.paths import DROP_OFF, MISSING, OTHER, Paths, PathsSpec, paths
from journeylens.engine import Engine, Journeys, duckdb_engine, open_prepared, prepare
from journeylens.errors import JourneylensError
from journeylens.workspace import Workspace
from tests.journeys import event, journeys_of

DATA = Path(__file__).parents[2] / "shared/data"
Row = dict[str, Any]

# -- shared by the analysis tests: reference journeys, generated logs, the helpdesk log --------


def reference_journeys(rows: list[Row], gap: float | None = None) -> list[list[Row]]:
    """Journeys by the definition: a customer's events by time, then file order; split where
    the customer was inactive longer than ``gap``. Sorted by customer, then time."""
    by_customer: dict[str, list[tuple[Any, int, Row]]] = {}
    for index, row in enumerate(rows):
        by_customer.setdefault(row["customer_key"], []).append((row["ts"], index, row))
    found = []
    for customer in sorted(by_customer):
        events = [row for _, _, row in sorted(by_customer[customer], key=lambda x: x[:2])]
        current = [events[0]]
        for before, after in itertools.pairwise(events):
            if gap is not None and (after["ts"] - before["ts"]).total_seconds() > gap:
                found.append(current)
                current = []
            current.append(after)
        found.append(current)
    return found


def random_log(
    rng: random.Random,
    customers: int,
    most: int,
    activities: str = "abcd",
    channels: tuple[str | None, ...] = ("web", "phone", "chat", None),
    spread: int = 50,
) -> list[dict[str, Any]]:
    rows = []
    for c in range(customers):
        for _ in range(rng.randint(1, most)):
            rows.append(
                event(
                    f"c{c}",
                    rng.randint(0, spread),
                    rng.choice(activities),
                    channel=rng.choice(channels),
                )
            )
    rng.shuffle(rows)
    return rows


def event_rows(draw: Callable[..., Any], spread: int = 60) -> list[dict[str, Any]]:
    """Hypothesis: a small log with ties in time, missing channels and repeated activities."""
    n = draw(st.integers(1, 5))
    rows = []
    for c in range(n):
        for _ in range(draw(st.integers(1, 7))):
            rows.append(
                event(
                    f"c{c}",
                    draw(st.integers(0, spread)),
                    draw(st.sampled_from("abcd")),
                    channel=draw(st.sampled_from(["web", "phone", "chat", None])),
                )
            )
    return draw(st.permutations(rows))  # type: ignore[no-any-return]


def helpdesk_journeys(factory: pytest.TempPathFactory, engine: Engine) -> Journeys:
    """The helpdesk XES log ingested, stitched and prepared once per test session."""
    target = factory.getbasetemp() / "helpdesk-journeys.parquet"
    if not target.exists():
        ws = Workspace.init(factory.mktemp("helpdesk"))
        ws.ingest(str(DATA / "helpdesk/helpdesk.xes.gz"))
        ws.stitch()
        store = duckdb_engine(ws.root / ".journeylens/store.duckdb")
        try:
            prepare(store, store.con.table("events"), target)
        finally:
            store.close()
    return open_prepared(engine, target)


def helpdesk_cases() -> list[list[dict[str, Any]]]:
    """The helpdesk CSV export read with the csv module, as cases of events sorted by time
    (ties in file order): an oracle that shares no code with ingest or the engine."""
    cases: dict[str, list[dict[str, Any]]] = {}
    with (DATA / "helpdesk/helpdesk.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            moment = datetime.strptime(row["Complete Timestamp"], "%Y/%m/%d %H:%M:%S.%f")
            cases.setdefault(row["Case ID"], []).append(
                {"Activity": row["Activity"], "ts": moment.replace(tzinfo=UTC)}
            )
    return [sorted(events, key=lambda e: e["ts"]) for _, events in sorted(cases.items())]


@pytest.fixture(scope="module")
def duck() -> Any:
    engine = duckdb_engine()
    yield engine
    engine.close()


# -- the reference ---------------------------------------------------------------------------

Label = tuple[str, str]  # (kind, label)


def reference_paths(
    rows: list[Row], spec: PathsSpec, anchor: Callable[[Row], bool]
) -> dict[str, Any]:
    journeys = reference_journeys(rows, spec.gap)
    sequences: list[list[tuple[str | None] | None]] = []
    anchored = 0
    for journey in journeys:
        at = [i for i, e in enumerate(journey) if anchor(e)]
        anchored += bool(at)
        for a in at[:1] if spec.occurrence == "first" else at:
            seq: list[tuple[str | None] | None] = []
            for k in range(spec.steps + 1):
                p = a + k if spec.direction == "after" else a - k
                seq.append((journey[p][spec.field],) if 0 <= p < len(journey) else None)
            sequences.append(seq)
    labels: list[dict[tuple[str | None], Label]] = []
    for k in range(spec.steps + 1):
        counts: Counter[tuple[str | None]] = Counter()
        for s in sequences:
            value = s[k]
            if value is not None:
                counts[value] += 1
        ranked = sorted(counts, key=lambda v: (-counts[v], v[0] is None, v[0] or ""))
        labels.append(
            {
                v: ("other", OTHER)
                if i >= spec.top
                else ("missing", MISSING)
                if v[0] is None
                else ("value", v[0])
                for i, v in enumerate(ranked)
            }
        )
    drop = ("drop-off", DROP_OFF[spec.direction])

    def label(k: int, v: tuple[str | None] | None) -> Label:
        return drop if v is None else labels[k][v]

    nodes = Counter((k, *label(k, s[k])) for s in sequences for k in range(spec.steps + 1))
    links = Counter(
        (k, *label(k, s[k]), *label(k + 1, s[k + 1])) for s in sequences for k in range(spec.steps)
    )
    return {
        "nodes": dict(nodes),
        "links": dict(links),
        "paths": len(sequences),
        "anchored": anchored,
        "journeys": len(journeys),
    }


def as_counts(result: Paths) -> dict[str, Any]:
    return {
        "nodes": {(n.step, n.kind, n.label): n.count for n in result.nodes},
        "links": {
            (x.step, x.source_kind, x.source, x.target_kind, x.target): x.count
            for x in result.links
        },
        "paths": result.paths,
        "anchored": result.anchored_journeys,
        "journeys": result.journeys,
    }


def assert_conserved(result: Paths) -> None:
    """Every step's nodes and every pair of steps' links add up to the number of paths."""
    for step in range(result.steps + 1):
        assert sum(n.count for n in result.nodes if n.step == step) == result.paths
    for step in range(result.steps):
        assert sum(x.count for x in result.links if x.step == step) == result.paths


# -- hand-counted ----------------------------------------------------------------------------

SHOP = [
    event("a", 0, "home", channel="web"),
    event("a", 10, "cart", channel="web"),
    event("a", 20, "pay", channel="web"),
    event("a", 30, "done"),
    event("b", 0, "cart", channel="app"),
    event("b", 5, "home", channel="app"),
    event("c", 0, "cart", channel="web"),
    event("c", 1, "pay", channel="web"),
    event("c", 2, "cart", channel="phone"),
    event("c", 3, "pay", channel="web"),
    event("d", 0, "home", channel="web"),
]


def test_paths_after_the_first_anchor_counted_by_hand(engine: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(engine, SHOP, tmp_path)
    result = paths(journeys, PathsSpec('activity == "cart"', steps=2, top=1))
    # a: cart pay done; b: cart home -; c: cart pay cart (first cart only)
    # step 1: pay 2, home 1 -> home is "other" (top 1); step 2: done 1, cart 1 (tie: "cart"
    # sorts first and stays), b dropped off.
    assert [(n.step, n.label, n.count, n.kind) for n in result.nodes] == [
        (0, "cart", 3, "value"),
        (1, "pay", 2, "value"),
        (1, OTHER, 1, "other"),
        (2, "cart", 1, "value"),
        (2, OTHER, 1, "other"),
        (2, "(drop-off)", 1, "drop-off"),
    ]
    assert [(x.step, x.source, x.target, x.count) for x in result.links] == [
        (0, "cart", "pay", 2),
        (0, "cart", OTHER, 1),
        (1, "pay", "cart", 1),
        (1, "pay", OTHER, 1),
        (1, OTHER, "(drop-off)", 1),
    ]
    assert (result.paths, result.anchored_journeys, result.journeys) == (3, 3, 4)
    before = paths(
        journeys,
        PathsSpec(
            'activity == "cart"', steps=2, direction="before", occurrence="every", field="channel"
        ),
    )
    # anchors: a@1 (web), b@0 (app), c@0 (web), c@2 (phone); one step back: a web, c@2 web;
    # two back: c@2 web (a has none).
    assert as_counts(before)["nodes"] == {
        (0, "value", "web"): 2,
        (0, "value", "app"): 1,
        (0, "value", "phone"): 1,
        (1, "value", "web"): 2,
        (1, "drop-off", "(journey start)"): 2,
        (2, "value", "web"): 1,
        (2, "drop-off", "(journey start)"): 3,
    }
    assert (before.paths, before.anchored_journeys) == (4, 3)
    assert_conserved(before)


def test_paths_missing_values_gap_and_no_anchor(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, SHOP, tmp_path)
    by_channel = paths(journeys, PathsSpec('activity == "pay"', steps=1, field="channel"))
    # a: pay(web) -> done(no channel); c: pay(web) -> cart(phone)
    assert as_counts(by_channel)["links"] == {
        (0, "value", "web", "missing", MISSING): 1,
        (0, "value", "web", "value", "phone"): 1,
    }
    split = paths(journeys, PathsSpec('activity == "cart"', steps=1, gap=7))
    # a's events are 10 s apart: four episodes, its cart alone; b (5 s) and c (1 s) stay whole.
    assert as_counts(split)["nodes"] == {
        (0, "value", "cart"): 3,
        (1, "value", "home"): 1,
        (1, "value", "pay"): 1,
        (1, "drop-off", "(drop-off)"): 1,
    }
    assert split.journeys == 7  # a: 4 episodes, b, c, d: 1 each
    none = paths(journeys, PathsSpec('activity == "nothing"', steps=3))
    assert (none.nodes, none.links, none.paths, none.anchored_journeys) == ((), (), 0, 0)


def test_paths_rejects_bad_specs(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, SHOP[:2], tmp_path)
    for spec in (
        PathsSpec("activity == 'x'", steps=0),
        PathsSpec("activity == 'x'", top=0),
        PathsSpec("activity == 'x'", field="text"),  # type: ignore[arg-type]
        PathsSpec("activity == 'x'", direction="sideways"),  # type: ignore[arg-type]
    ):
        with pytest.raises(JourneylensError):
            paths(journeys, spec)


# -- against the reference -------------------------------------------------------------------

ANCHORS: list[tuple[str, Callable[[Row], bool]]] = [
    ('activity == "a"', lambda e: e["activity"] == "a"),
    ('activity in ["b", "c"]', lambda e: e["activity"] in ("b", "c")),
    ('channel == "web"', lambda e: e["channel"] == "web"),
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    anchor=st.sampled_from(ANCHORS),
    steps=st.integers(1, 4),
    top=st.integers(1, 4),
    direction=st.sampled_from(["after", "before"]),
    occurrence=st.sampled_from(["first", "every"]),
    field=st.sampled_from(["activity", "channel"]),
    gap=st.sampled_from([None, 5.0, 20.0]),
)
def test_paths_match_the_reference_on_duckdb(
    duck: Engine,
    tmp_path: Path,
    data: st.DataObject,
    anchor: tuple[str, Callable[[Row], bool]],
    steps: int,
    top: int,
    direction: Any,
    occurrence: Any,
    field: Any,
    gap: float | None,
) -> None:
    rows = event_rows(data.draw)
    spec = PathsSpec(anchor[0], steps, direction, occurrence, field, top, gap)
    result = paths(journeys_of(duck, rows, tmp_path), spec)
    assert as_counts(result) == reference_paths(rows, spec, anchor[1])
    assert_conserved(result)


def test_paths_match_the_reference_on_a_generated_log(engine: Engine, tmp_path: Path) -> None:
    """Before, every anchor, by channel, in episodes: the options the hand-counted case on
    both engines leaves out."""
    rows = random_log(random.Random(3), 40, 9)
    spec = PathsSpec(
        'channel == "web"',
        steps=2,
        top=2,
        direction="before",
        occurrence="every",
        field="channel",
        gap=20,
    )
    expected = reference_paths(rows, spec, ANCHORS[2][1])
    assert expected["paths"] > 20 and len(expected["links"]) > 10  # the log exercises it
    assert as_counts(paths(journeys_of(engine, rows, tmp_path), spec)) == expected


# -- a real log ------------------------------------------------------------------------------


def test_paths_on_the_helpdesk_log_agree_with_its_csv_export(
    duck: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    journeys = helpdesk_journeys(tmp_path_factory, duck)
    result = paths(journeys, PathsSpec('activity == "Take in charge ticket"', steps=2, top=50))
    expected: Counter[tuple[int, str]] = Counter()
    for case in helpdesk_cases():
        names = [e["Activity"] for e in case]
        if "Take in charge ticket" not in names:
            continue
        at = names.index("Take in charge ticket")
        for k in range(3):
            expected[(k, names[at + k] if at + k < len(names) else "(drop-off)")] += 1
    assert {(n.step, n.label): n.count for n in result.nodes} == dict(expected)
    assert result.paths == 4_285 and result.journeys == 4_580
    assert expected[(1, "Resolve ticket")] == 2_990  # the figure the PNG check showed
