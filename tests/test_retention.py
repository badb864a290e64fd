"""Cohort retention and churn: hand-counted logs on DuckDB and Spark, a brute-force reference
with calendar arithmetic on generated logs, and the helpdesk log checked against its CSV export."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.analyses.retention import Period, Retention, RetentionSpec, retention
from journeylens.engine import Engine, duckdb_engine
from journeylens.errors import JourneylensError
from tests.journeys import EPOCH, event, journeys_of
from tests.test_paths import Row, helpdesk_cases, helpdesk_journeys, reference_journeys

DAY = 86_400


@pytest.fixture(scope="module")
def duck() -> Any:
    engine = duckdb_engine()
    yield engine
    engine.close()


# -- the reference: calendar arithmetic, not epoch arithmetic ---------------------------------


def period_start(moment: datetime, period: Period) -> date:
    day = moment.astimezone(UTC).date()
    if period == "month":
        return day.replace(day=1)
    if period == "week":
        return day - timedelta(days=day.weekday())  # Monday
    return day


def periods_between(first: date, later: date, period: Period) -> int:
    if period == "month":
        return (later.year - first.year) * 12 + later.month - first.month
    return (later - first).days // (7 if period == "week" else 1)


def reference_retention(
    rows: list[Row],
    spec: RetentionSpec,
    start: Callable[[Row], bool],
    returning: Callable[[Row], bool],
) -> dict[str, Any]:
    if spec.as_of is not None:
        rows = [r for r in rows if r["ts"] <= spec.as_of]
    if not rows:
        return {"cohorts": {}, "as_of": None}
    as_of = spec.as_of or max(r["ts"] for r in rows)
    last_period = period_start(as_of, spec.period)
    cohorts: dict[date, dict[str, Any]] = {}
    for events in reference_journeys(rows):
        first = next((i for i, e in enumerate(events) if start(e)), None)
        if first is None:
            continue
        cohort = period_start(events[first]["ts"], spec.period)
        row = cohorts.setdefault(cohort, {"size": 0, "churned": 0, "back": Counter()})
        row["size"] += 1
        quiet = (as_of - events[-1]["ts"]).total_seconds()
        row["churned"] += spec.inactive is not None and quiet > spec.inactive
        ks = {
            periods_between(cohort, period_start(e["ts"], spec.period), spec.period)
            for e in events[first + 1 :]
            if returning(e)
        }
        for k in ks:
            row["back"][k] += 1
    table = {}
    for cohort, row in cohorts.items():
        reach = periods_between(cohort, last_period, spec.period)
        table[cohort.isoformat()] = (
            row["size"],
            tuple(row["back"][k] if k <= reach else None for k in range(spec.periods + 1)),
            row["churned"] if spec.inactive is not None else None,
        )
    return {"cohorts": table, "as_of": as_of}


def as_counts(result: Retention) -> dict[str, Any]:
    return {
        "cohorts": {c.cohort: (c.size, c.retained, c.churned) for c in result.cohorts},
        "as_of": None if result.as_of is None else datetime.fromisoformat(result.as_of),
    }


# -- hand-counted ----------------------------------------------------------------------------

SHOP = [
    event("a", 0, "buy"),  # Thu 2026-01-01
    event("a", 40 * DAY, "buy"),  # Tue 2026-02-10
    event("a", 70 * DAY, "view"),  # Wed 2026-03-12
    event("b", 5 * DAY, "view"),
    event("b", 6 * DAY, "buy"),  # Wed 2026-01-07
    event("b", 6 * DAY + 1, "buy"),  # a second later: back in the cohort's own period
    event("c", 35 * DAY, "buy"),  # Thu 2026-02-05
    event("c", 100 * DAY, "view"),  # Sat 2026-04-11: the data's end
    event("d", 0, "view"),  # never bought: in no cohort
]


def test_monthly_cohorts_and_churn_counted_by_hand(engine: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(engine, SHOP, tmp_path)
    result = retention(journeys, RetentionSpec('activity == "buy"', periods=3, inactive=60 * DAY))
    assert result.as_of == "2026-04-11T00:00:00Z"
    # January: a (back in February, k=1) and b (back the same second, k=0); February: c.
    # b's last event was 94 days before the end: churned; a (30 days) and c (0) are not.
    assert [(c.cohort, c.size, c.retained, c.shares, c.churned) for c in result.cohorts] == [
        ("2026-01-01", 2, (1, 1, 0, 0), (0.5, 0.5, 0.0, 0.0), 1),
        ("2026-02-01", 1, (0, 0, 0, None), (0.0, 0.0, 0.0, None), 0),  # May is after the end
    ]
    assert (result.customers, result.churned) == (3, 1)
    weekly = retention(
        journeys,
        RetentionSpec(
            'activity == "buy"',
            returning='activity == "view"',
            period="week",
            periods=10,
            inactive=None,
            as_of=datetime(2026, 3, 12, tzinfo=UTC),
        ),
    )
    # as of Thu 12 March (c's view in April is left out). Weeks start on Monday:
    # a: Mon 2025-12-29, its view on 12 March is 10 weeks later; b: Mon 5 Jan, viewed only
    # before buying; c: Mon 2 Feb. Ten weeks after b's and c's weeks is after 12 March.
    assert [(c.cohort, c.size, c.retained[-1], c.churned) for c in weekly.cohorts] == [
        ("2025-12-29", 1, 1, None),
        ("2026-01-05", 1, None, None),
        ("2026-02-02", 1, None, None),
    ]
    assert weekly.cohorts[1].retained == (0,) * 10 + (None,)
    assert weekly.cohorts[0].retained == (0,) * 10 + (1,)
    assert weekly.as_of == "2026-03-12T00:00:00Z" and weekly.churned is None


def test_daily_cohorts_and_bad_specs(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, SHOP, tmp_path)
    daily = retention(journeys, RetentionSpec('activity == "buy"', period="day", periods=1))
    assert [(c.cohort, c.size, c.retained) for c in daily.cohorts] == [
        ("2026-01-01", 1, (0, 0)),
        ("2026-01-07", 1, (1, 0)),
        ("2026-02-05", 1, (0, 0)),
    ]
    assert [c.churned for c in daily.cohorts] == [0, 1, 0]  # 90 days by default
    empty = retention(journeys, RetentionSpec('activity == "refund"'))
    assert (empty.cohorts, empty.customers) == ((), 0)
    for spec in (
        RetentionSpec("activity == 'x'", period="year"),  # type: ignore[arg-type]
        RetentionSpec("activity == 'x'", periods=-1),
        RetentionSpec("activity == 'x'", inactive=0),
    ):
        with pytest.raises(JourneylensError):
            retention(journeys, spec)


# -- against the reference -------------------------------------------------------------------

SELECTORS: list[tuple[str, Callable[[Row], bool]]] = [
    ('activity == "a"', lambda e: e["activity"] == "a"),
    ('activity in ["a", "b"]', lambda e: e["activity"] in ("a", "b")),
    ('channel == "web"', lambda e: e["channel"] == "web"),
]


def spread_rows(draw: Callable[..., Any]) -> list[dict[str, Any]]:
    """Hypothesis: events over about four months, some at the same moment, across midnight,
    week and month boundaries."""
    rows = []
    for c in range(draw(st.integers(1, 6))):
        for _ in range(draw(st.integers(1, 6))):
            seconds = draw(
                st.one_of(st.integers(0, 120 * DAY), st.sampled_from([0, DAY - 1, DAY, 31 * DAY]))
            )
            rows.append(
                event(
                    f"c{c}",
                    seconds,
                    draw(st.sampled_from("abc")),
                    channel=draw(st.sampled_from(["web", "app", None])),
                )
            )
    return draw(st.permutations(rows))  # type: ignore[no-any-return]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    start=st.sampled_from(SELECTORS),
    returning=st.sampled_from([None, *SELECTORS]),
    period=st.sampled_from(["day", "week", "month"]),
    periods=st.integers(0, 5),
    inactive=st.sampled_from([None, 10 * DAY, 45 * DAY]),
    as_of=st.sampled_from([None, 30, 61.5]),
)
def test_retention_matches_the_reference_on_duckdb(
    duck: Engine,
    tmp_path: Path,
    data: st.DataObject,
    start: tuple[str, Callable[[Row], bool]],
    returning: tuple[str, Callable[[Row], bool]] | None,
    period: Period,
    periods: int,
    inactive: float | None,
    as_of: float | None,
) -> None:
    rows = spread_rows(data.draw)
    spec = RetentionSpec(
        start[0],
        None if returning is None else returning[0],
        period,
        periods,
        inactive,
        None if as_of is None else EPOCH + timedelta(days=as_of),
    )
    expected = reference_retention(rows, spec, start[1], (returning or start)[1])
    result = retention(journeys_of(duck, rows, tmp_path), spec)
    got = as_counts(result)
    if not expected["cohorts"]:
        assert got["cohorts"] == {}
        return
    assert got == expected
    assert result.customers == sum(c.size for c in result.cohorts)


def test_retention_matches_the_reference_on_a_generated_log(engine: Engine, tmp_path: Path) -> None:
    rng = random.Random(21)
    rows = [
        event(f"c{c}", rng.randint(0, 200 * DAY), rng.choice("abc"), channel=rng.choice("wx"))
        for c in range(50)
        for _ in range(rng.randint(1, 6))
    ]
    journeys = journeys_of(engine, rows, tmp_path)
    spec = RetentionSpec(SELECTORS[0][0], SELECTORS[1][0], "month", 6, 30 * DAY)
    expected = reference_retention(rows, spec, SELECTORS[0][1], SELECTORS[1][1])
    assert len(expected["cohorts"]) >= 5
    assert as_counts(retention(journeys, spec)) == expected


# -- a real log ------------------------------------------------------------------------------


def test_retention_on_the_helpdesk_log_agrees_with_its_csv_export(
    duck: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Cases are the customers: the month a ticket was first taken in charge, and the months
    it was resolved after that; churn is 90 days without any event before the log's end."""
    result = retention(
        helpdesk_journeys(tmp_path_factory, duck),
        RetentionSpec(
            'activity == "Take in charge ticket"',
            returning='activity == "Resolve ticket"',
            period="month",
            periods=2,
        ),
    )
    cases = helpdesk_cases()
    end = max(e["ts"] for case in cases for e in case)
    expected: dict[str, list[int]] = {}
    for case in cases:
        names = [e["Activity"] for e in case]
        if "Take in charge ticket" not in names:
            continue
        first = names.index("Take in charge ticket")
        begun = case[first]["ts"]
        row = expected.setdefault(f"{begun.year}-{begun.month:02d}-01", [0, 0, 0, 0, 0])
        row[0] += 1
        later = {
            (e["ts"].year - begun.year) * 12 + e["ts"].month - begun.month
            for e in case[first + 1 :]
            if e["Activity"] == "Resolve ticket"
        }
        for k in later & {0, 1, 2}:
            row[1 + k] += 1
        row[4] += (end - case[-1]["ts"]).total_seconds() > 90 * DAY
    got = {c.cohort: [c.size, *(n or 0 for n in c.retained), c.churned] for c in result.cohorts}
    assert got == expected
    assert result.customers == 4_285
    assert result.as_of == end.isoformat().replace("+00:00", "Z")
