"""The engine: selectors compiled for DuckDB and Spark agree with the reference evaluator,
journeys are ordered and split the same way everywhere, and a workspace prepares once."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from journeylens.analyses.dfg import DfgSpec, process_map
from journeylens.analyses.variants import VariantsSpec
from journeylens.engine import Engine, EventColumns, compile_selector, duckdb_engine, prepare
from journeylens.engine import expr as E
from journeylens.engine.journeys import JOURNEY_COLUMNS
from journeylens.errors import JourneylensError
from journeylens.model.selector import Selector, evaluate, format_selector, parse_selector
from journeylens.workspace import Workspace
from tests.journeys import EPOCH, event, journeys_of
from tests.test_selector import selectors

ATTRIBUTE_VALUES: list[Any] = [1, 3, -2.5, "3", "x", "a", "ab", "b", True, False, None, [1]]
ACTIVITIES = ["a", "ab", "b", "bc", "x1", "A", "view_product", "a/b", "שלום"]


def _events(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        attributes = {
            key: rng.choice(ATTRIBUTE_VALUES)
            for key in rng.sample(["n", "vip", "x", "a", "b_1"], rng.randint(0, 4))
        }
        rows.append(
            event(
                f"c{i % 3}",
                i,
                rng.choice(ACTIVITIES),
                channel=rng.choice(["web", "app", None, "3"]),
                touchpoint=rng.choice(["faq", None, "x"]),
                source=rng.choice(["weblog", "crm", "a"]),
                attributes=json.dumps(attributes) if attributes or rng.random() < 0.5 else None,
            )
        )
    return rows


def _reference(selector: Selector, rows: list[dict[str, Any]]) -> list[bool]:
    found = []
    for row in rows:
        attributes = json.loads(row["attributes"]) if row["attributes"] else {}
        found.append(evaluate(selector, {**row, "attributes": attributes}))
    return found


def _engine_answers(engine: Engine, table: E.Table, chosen: list[Selector]) -> list[list[bool]]:
    ordered = table.order_by("seq")
    columns = {f"s{i}": compile_selector(engine, ordered, s) for i, s in enumerate(chosen)}
    rows = engine.to_arrow(ordered.select(**columns)).to_pylist()
    return [[row[f"s{i}"] for row in rows] for i in range(len(chosen))]


@pytest.fixture(scope="module")
def duck_events(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    engine = duckdb_engine()
    rows = _events(random.Random(11), 60)
    journeys = journeys_of(engine, rows, tmp_path_factory.mktemp("sel"))
    return engine, journeys.table.filter(journeys.table.customer_key == "c0"), rows[::3]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(selectors)
def test_compiled_selectors_agree_with_the_reference_on_duckdb(
    duck_events: Any, selector: Selector
) -> None:
    engine, table, rows = duck_events
    [answers] = _engine_answers(engine, table, [selector])
    assert answers == _reference(selector, rows), format_selector(selector)


@pytest.mark.spark
def test_compiled_selectors_agree_with_the_reference_on_spark(
    spark_engine: Engine, tmp_path: Path
) -> None:
    rows = _events(random.Random(5), 30)
    journeys = journeys_of(spark_engine, [{**r, "customer_key": "c"} for r in rows], tmp_path)
    texts = [
        'activity ~ "a*" or activity ~ /B/i',
        'activity ~ "a/b" or activity in ["שלום", "x1"]',
        'channel not in ["web"] and channel != "app"',
        "attr.n > 2 and attr.n <= 3",
        'attr.n == "3" or attr.vip == true',
        'attr.x in [1, "x", true]',
        'attr.x not in [1, "x"]',
        'not (attr.b_1 < 0) and touchpoint == "faq"',
        'attr.missing != "x" or attr.a ~ "a*"',
    ]
    chosen = [parse_selector(t) for t in texts]
    answers = _engine_answers(spark_engine, journeys.table, chosen)
    for selector, answer in zip(chosen, answers, strict=True):
        assert answer == _reference(selector, rows), format_selector(selector)
        assert any(answer) or not all(_reference(selector, rows))


def test_journeys_are_ordered_by_time_then_file_order_and_split_at_gaps(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [
        event("c1", 100, "b"),
        event("c1", 0, "a"),
        event("c1", 100, "a2"),  # same time as "b": file order decides
        event("c1", 100 + 3600 * 5, "later"),
        event("c2", 50, "only"),
    ]
    journeys = journeys_of(engine, rows, tmp_path)
    whole = engine.to_arrow(
        journeys.events()
        .order_by(["customer_key", "pos"])
        .select("journey", "pos", "activity", "next_activity", "prev_t", "next_t")
    ).to_pylist()
    assert [(r["journey"], r["pos"], r["activity"]) for r in whole] == [
        ("c1", 0, "a"),
        ("c1", 1, "b"),
        ("c1", 2, "a2"),
        ("c1", 3, "later"),
        ("c2", 0, "only"),
    ]
    assert [r["next_activity"] for r in whole] == ["b", "a2", "later", None, None]
    split = engine.to_arrow(
        journeys.events(gap=3600)
        .order_by(["customer_key", "seq"])
        .select("journey", "pos", "activity", "next_activity", "prev_t")
    ).to_pylist()
    assert [(r["journey"], r["pos"], r["next_activity"]) for r in split] == [
        ("c1#1", 0, "b"),
        ("c1#1", 1, "a2"),
        ("c1#1", 2, None),
        ("c1#2", 0, None),
        ("c2#1", 0, None),
    ]
    assert [r["prev_t"] is None for r in split] == [True, False, False, True, True]


def test_a_bare_log_prepares_with_the_missing_fields_empty(engine: Engine, tmp_path: Path) -> None:
    """Fields the events lack are added after the sort: they come out NULL and the neighbours,
    numbering and customer counts are those of the full schema."""
    rows = [("c1", 7200, "b"), ("c1", 0, "a"), ("c2", 50, "a"), ("c1", 7200 * 3, "c")]
    table = pa.table(
        {
            "who": [r[0] for r in rows],
            "when": pa.array(
                [EPOCH + timedelta(seconds=r[1]) for r in rows], pa.timestamp("us", tz="UTC")
            ),
            "what": [r[2] for r in rows],
        }
    )
    path = tmp_path / "bare.parquet"
    pq.write_table(table, path)
    target = tmp_path / ("bare-journeys" + (".parquet" if engine.name == "duckdb" else ""))
    columns = EventColumns(customer="who", ts="when", activity="what", order=())
    journeys = prepare(engine, engine.read_parquet(path), target, columns)
    assert journeys.table.columns == JOURNEY_COLUMNS
    got = engine.to_arrow(journeys.table.order_by(["customer_key", "seq"])).to_pylist()
    assert [(r["customer_key"], r["seq"], r["activity"], r["next_activity"]) for r in got] == [
        ("c1", 0, "a", "b"),
        ("c1", 1, "b", "c"),
        ("c1", 2, "c", None),
        ("c2", 0, "a", None),
    ]
    assert all(r[c] is None for r in got for c in ("channel", "next_channel", "value", "text"))
    whole = process_map(journeys, DfgSpec())
    split = process_map(journeys, DfgSpec(gap=3600))
    assert (whole.customers, whole.journeys) == (2, 2)
    assert (split.customers, split.journeys) == (2, 4)  # c1's three events are three episodes
    assert split.edges == ()


HELPDESK = Path(__file__).parents[2] / "shared/data/helpdesk/helpdesk.xes.gz"


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("helpdesk") / "ws")
    ws.ingest(str(HELPDESK))
    ws.stitch()
    return ws


@pytest.mark.spark
def test_spark_and_duckdb_agree_on_a_real_log(helpdesk: Workspace, spark_engine: Engine) -> None:
    """Same store, both engines: process map (durations too) and variants, with and without
    an inactivity gap, must be equal to the last digit."""
    specs = [
        ("dfg", DfgSpec()),
        ("dfg", DfgSpec(gap=7 * 86_400)),
        ("variants", VariantsSpec(top=None)),
        ("variants", VariantsSpec(gap=86_400)),
    ]
    for name, spec in specs:
        on_duckdb = helpdesk.analyze(name, spec)
        on_spark = helpdesk.analyze(name, spec, engine="spark", master="local[2]")
        assert on_spark == on_duckdb, (name, spec)
    assert sorted(p.name.split("-")[0] for p in helpdesk._journeys_dir().iterdir()) == [
        "duckdb",
        "events",
        "spark",
    ]


def test_prepared_journeys_follow_the_store(helpdesk: Workspace, tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(JourneylensError, match="ingest"):
        ws.analyze("dfg")
    ws.ingest(str(HELPDESK))
    with pytest.raises(JourneylensError, match="journeylens stitch"):
        ws.analyze("dfg")
    ws.stitch()
    first = ws.analyze("dfg")
    [prepared] = ws._journeys_dir().iterdir()
    assert ws.analyze("dfg") == first
    assert [p.stat().st_mtime_ns for p in ws._journeys_dir().iterdir()] == [
        prepared.stat().st_mtime_ns
    ]  # reused, not prepared again
    ws.erase("case:Case 1")
    after = ws.analyze("dfg")
    assert after.customers == first.customers - 1
    assert [p.name for p in ws._journeys_dir().iterdir()] != [prepared.name]
