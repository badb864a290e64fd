"""Drop-off: hand-counted logs on DuckDB and Spark, a brute-force reference on generated logs,
and the helpdesk log checked against its CSV export."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.analyses.dropoff import Dropoff, DropoffSpec, dropoff
from journeylens.engine import Engine, duckdb_engine
from journeylens.errors import JourneylensError
from tests.journeys import event, journeys_of
from tests.test_paths import (
    Row,
    event_rows,
    helpdesk_cases,
    helpdesk_journeys,
    random_log,
    reference_journeys,
)


@pytest.fixture(scope="module")
def duck() -> Any:
    engine = duckdb_engine()
    yield engine
    engine.close()


def reference_dropoff(
    rows: list[Row], spec: DropoffSpec, outcome: Callable[[Row], bool]
) -> dict[str, Any]:
    journeys = reference_journeys(rows, spec.gap)
    lost = [j for j in journeys if not any(outcome(e) for e in j)]
    customers: dict[str | None, set[str]] = {}
    for j in lost:
        customers.setdefault(j[-1][spec.field], set()).add(j[-1]["customer_key"])
    return {
        "journeys": len(journeys),
        "converting": len(journeys) - len(lost),
        "by_last": {
            label: (n, len(customers[label]))
            for label, n in Counter(j[-1][spec.field] for j in lost).items()
        },
        "by_pair": dict(Counter((j[-1][spec.field], j[-1]["channel"]) for j in lost)),
    }


def as_counts(result: Dropoff) -> dict[str, Any]:
    return {
        "journeys": result.journeys,
        "converting": result.converting,
        "by_last": {r.label: (r.journeys, r.customers) for r in result.by_last},
        "by_pair": {(r.label, r.channel): r.journeys for r in result.by_last_channel},
    }


def assert_shares_add_up(result: Dropoff) -> None:
    assert result.converting + result.non_converting == result.journeys
    assert sum(r.journeys for r in result.by_last) == result.non_converting
    assert sum(r.journeys for r in result.by_last_channel) == result.non_converting
    if result.non_converting:
        assert sum(r.share for r in result.by_last) == pytest.approx(1.0, abs=1e-5)


# -- hand-counted ----------------------------------------------------------------------------

SHOP = [
    event("a", 0, "view", channel="web"),
    event("a", 60, "cart", channel="web"),
    event("a", 120, "order", channel="web"),
    event("b", 0, "view", channel="web"),
    event("b", 10, "cart", channel="app"),
    event("b", 100_000, "order", channel="web"),  # a day later: another episode with a gap
    event("c", 0, "view", channel="phone"),
    event("d", 0, "order", channel="web"),
    event("d", 50, "complaint", channel="phone"),  # after the outcome: d still converted
    event("e", 0, "view", channel="web"),
    event("e", 30, "cart", channel="web"),
]


def test_dropoff_counted_by_hand(engine: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(engine, SHOP, tmp_path)
    whole = dropoff(journeys, DropoffSpec('activity == "order"'))
    # converting: a, b, d; lost: c at view (phone), e at cart (web)
    assert (whole.journeys, whole.converting, whole.non_converting) == (5, 3, 2)
    assert whole.conversion_rate == 0.6
    assert [(r.label, r.journeys, r.customers, r.share) for r in whole.by_last] == [
        ("cart", 1, 1, 0.5),
        ("view", 1, 1, 0.5),
    ]
    episodes = dropoff(journeys, DropoffSpec('activity == "order"', gap=3600))
    # b's first episode (view, cart on the app) ends without an order; its order is a day later
    assert (episodes.journeys, episodes.converting, episodes.non_converting) == (6, 3, 3)
    assert [(r.label, r.journeys, r.customers, r.share) for r in episodes.by_last] == [
        ("cart", 2, 2, 0.666667),
        ("view", 1, 1, 0.333333),
    ]
    assert [(r.label, r.channel, r.journeys) for r in episodes.by_last_channel] == [
        ("cart", "app", 1),
        ("cart", "web", 1),
        ("view", "phone", 1),
    ]


def test_dropoff_by_touchpoint_with_missing_values_and_nothing_converting(
    duck: Engine, tmp_path: Path
) -> None:
    rows = [
        event("a", 0, "view", touchpoint="faq"),
        event("b", 0, "view"),
        event("c", 0, "view", touchpoint="faq"),
        event("c", 9, "view", touchpoint="faq"),
    ]
    result = dropoff(
        journeys_of(duck, rows, tmp_path), DropoffSpec('activity == "order"', field="touchpoint")
    )
    assert (result.converting, result.conversion_rate) == (0, 0.0)
    assert [(r.label, r.journeys, r.customers) for r in result.by_last] == [
        ("faq", 2, 2),
        (None, 1, 1),
    ]
    with pytest.raises(JourneylensError):
        dropoff(journeys_of(duck, rows, tmp_path), DropoffSpec("x == 1", field="text"))  # type: ignore[arg-type]


# -- against the reference -------------------------------------------------------------------

OUTCOMES: list[tuple[str, Callable[[Row], bool]]] = [
    ('activity == "d"', lambda e: e["activity"] == "d"),
    (
        'activity == "a" and channel == "web"',
        lambda e: e["activity"] == "a" and e["channel"] == "web",
    ),
    ('channel in ["chat"]', lambda e: e["channel"] == "chat"),
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    outcome=st.sampled_from(OUTCOMES),
    field=st.sampled_from(["activity", "channel"]),
    gap=st.sampled_from([None, 5.0, 20.0]),
)
def test_dropoff_matches_the_reference_on_duckdb(
    duck: Engine,
    tmp_path: Path,
    data: st.DataObject,
    outcome: tuple[str, Callable[[Row], bool]],
    field: Any,
    gap: float | None,
) -> None:
    rows = event_rows(data.draw)
    spec = DropoffSpec(outcome[0], field, gap)
    result = dropoff(journeys_of(duck, rows, tmp_path), spec)
    assert as_counts(result) == reference_dropoff(rows, spec, outcome[1])
    assert_shares_add_up(result)


def test_dropoff_matches_the_reference_on_a_generated_log(engine: Engine, tmp_path: Path) -> None:
    rows = random_log(random.Random(8), 60, 8)
    spec = DropoffSpec(OUTCOMES[0][0], gap=15)
    expected = reference_dropoff(rows, spec, OUTCOMES[0][1])
    assert expected["converting"] > 10 and len(expected["by_pair"]) > 6
    assert as_counts(dropoff(journeys_of(engine, rows, tmp_path), spec)) == expected


# -- a real log ------------------------------------------------------------------------------


def test_dropoff_on_the_helpdesk_log_agrees_with_its_csv_export(
    duck: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    result = dropoff(helpdesk_journeys(tmp_path_factory, duck), DropoffSpec('activity == "Closed"'))
    cases = helpdesk_cases()
    open_cases = [c for c in cases if all(e["Activity"] != "Closed" for e in c)]
    expected = Counter(c[-1]["Activity"] for c in open_cases)
    assert result.journeys == len(cases) == 4_580
    assert result.non_converting == len(open_cases) > 0
    assert {r.label: r.journeys for r in result.by_last} == dict(expected)
    assert all(r.channel is None for r in result.by_last_channel)  # the log has no channels
    assert_shares_add_up(result)
