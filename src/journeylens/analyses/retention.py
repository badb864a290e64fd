"""Cohort retention and churn: do customers come back after their first purchase, and when?

A customer's cohort is the period (UTC day, ISO week from Monday, or calendar month) of their
first ``start`` event. They are retained in period ``k`` when a ``returning`` event *later in
their history* (after the start event in journey order, so the start event itself never counts)
falls ``k`` periods after the cohort's; ``k = 0`` is a return within the cohort period.

Periods are integers computed from epoch seconds with integer arithmetic only, the same on
DuckDB and Spark whatever the session's time zone (Ibis cannot bucket timestamps on Spark).
Cells for periods that begin after ``as_of`` are not known yet and are None, not 0.

Churn is inactivity: a customer whose last event of any kind is more than ``inactive`` seconds
before ``as_of`` has churned. ``as_of`` defaults to the latest event in the data; an explicit
``as_of`` also leaves out every event after it, so the analysis is the data as it was then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from journeylens.analyses.common import plain
from journeylens.engine import Journeys, compile_text
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
DAY = 86_400.0
#: 1970-01-01 was a Thursday: weeks counted from Monday 1969-12-29 start 3 days earlier.
_MONDAY = date(1969, 12, 29)


@dataclass(frozen=True)
class RetentionSpec:
    """``start`` and ``returning`` are selectors (``returning`` defaults to ``start``);
    ``periods`` is the last ``k``; ``inactive`` (seconds) is churn, None leaves churn out."""

    start: str
    returning: str | None = None
    period: Period = "month"
    periods: int = 12
    inactive: float | None = 90 * DAY
    as_of: datetime | None = None


@dataclass(frozen=True)
class Cohort:
    """``retained[k]`` customers came back in period ``k`` (None: not reached by ``as_of``)."""

    cohort: str  # first day of the cohort's period, ISO 8601
    size: int
    retained: tuple[int | None, ...]
    shares: tuple[float | None, ...]
    churned: int | None
    churn_share: float | None


@dataclass(frozen=True)
class Retention:
    period: Period
    periods: int
    as_of: str | None
    inactive_s: float | None
    cohorts: tuple[Cohort, ...]
    customers: int
    churned: int | None

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


def _check(spec: RetentionSpec) -> None:
    if spec.period not in PERIODS:
        raise JourneylensError(f"retention: period must be one of {', '.join(PERIODS)}")
    if spec.periods < 0:
        raise JourneylensError(f"retention: periods must be 0 or more, got {spec.periods}")
    if spec.inactive is not None and spec.inactive <= 0:
        raise JourneylensError(f"retention: inactive must be positive, got {spec.inactive}")


def _period_index(table: E.Table, period: Period) -> E.Value:
    """Days, weeks or months since 1970 (UTC), from epoch seconds in integer arithmetic: no
    calendar function, so a Spark session's time zone cannot move a month boundary."""
    days = (table.t / DAY).floor().cast("int64")
    if period == "day":
        return days
    if period == "week":
        return (days + 3) // 7
    # Months by H. Hinnant's days-to-civil algorithm, in eras of 400 years from 0000-03-01.
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    return (era * 400 + yoe) * 12 + (5 * doy + 2) // 153 + 2


def period_index(moment: datetime, period: Period) -> int:
    """The period a moment falls in, as :func:`_period_index` computes it in the engine."""
    moment = moment.astimezone(UTC)
    if period == "month":
        return moment.year * 12 + moment.month - 1
    day = (moment.date() - date(1970, 1, 1)).days
    return (day + 3) // 7 if period == "week" else day


def period_start(index: int, period: Period) -> date:
    if period == "month":
        return date(index // 12, index % 12 + 1, 1)
    if period == "week":
        return _MONDAY + timedelta(weeks=index)
    return date(1970, 1, 1) + timedelta(days=index)


def _given_as_of(spec: RetentionSpec) -> datetime | None:
    """``as_of`` in UTC; a naive time is read as UTC, like every time in the store."""
    if spec.as_of is None:
        return None
    return spec.as_of if spec.as_of.tzinfo else spec.as_of.replace(tzinfo=UTC)


def retention(journeys: Journeys, spec: RetentionSpec) -> Retention:
    _check(spec)
    engine = journeys.engine
    ev = journeys.table
    as_of = _given_as_of(spec)
    if as_of is not None:
        ev = ev.filter(ev.t <= as_of.timestamp())
    ev = ev.mutate(p=_period_index(ev, spec.period))
    started = compile_text(engine, ev, spec.start)
    returned = compile_text(engine, ev, spec.returning or spec.start)

    per_customer = ev.group_by("customer_key").agg(
        start_seq=ev.seq.min(where=started),
        cohort=ev.p.min(where=started),
        last_t=ev.t.max(),
    )
    members = per_customer.filter(per_customer.start_seq.notnull())
    if as_of is None:
        # The data's end, joined as a one-row table (a scalar subquery of ev.t.max() here
        # would be rewritten by Ibis into the per-customer last_t).
        members = members.cross_join(ev.agg(as_of=ev.t.max()))
    else:
        members = members.mutate(as_of=E.literal(as_of.timestamp(), type="float64"))
    as_of_t = members.as_of
    metrics: dict[str, E.Value] = {"size": members.count(), "as_of": as_of_t.max()}
    if spec.inactive is not None:
        metrics["churned"] = ((as_of_t - members.last_t) > spec.inactive).cast("int64").sum()
    sizes = members.group_by("cohort").agg(**metrics)
    back = ev.filter(returned).select(r_customer=ev.customer_key, r_seq=ev.seq, r_p=ev.p)
    later = members.join(
        back, [members.customer_key == back.r_customer, back.r_seq > members.start_seq]
    )
    k = (later.r_p - later.cohort).name("k")
    cells = (
        later.filter(k <= spec.periods)
        .group_by([later.cohort, k])
        .agg(retained=later.customer_key.nunique())
    )
    size_rows = engine.to_arrow(sizes).to_pylist()
    cell_rows = engine.to_arrow(cells).to_pylist()
    return _assemble(spec, size_rows, cell_rows)


def _assemble(
    spec: RetentionSpec, size_rows: list[dict[str, Any]], cell_rows: list[dict[str, Any]]
) -> Retention:
    as_of = _given_as_of(spec)
    if as_of is None:
        stamp = next((r["as_of"] for r in size_rows if r["as_of"] is not None), None)
        as_of = None if stamp is None else datetime.fromtimestamp(float(stamp), UTC)
    last_period = None if as_of is None else period_index(as_of, spec.period)
    retained = {(int(r["cohort"]), int(r["k"])): int(r["retained"]) for r in cell_rows}
    cohorts = []
    for row in sorted(size_rows, key=lambda r: int(r["cohort"])):
        index, size = int(row["cohort"]), int(row["size"])
        counts: list[int | None] = [
            None
            if last_period is not None and index + k > last_period
            else retained.get((index, k), 0)
            for k in range(spec.periods + 1)
        ]
        churned = None if spec.inactive is None else int(row["churned"] or 0)
        cohorts.append(
            Cohort(
                cohort=period_start(index, spec.period).isoformat(),
                size=size,
                retained=tuple(counts),
                shares=tuple(None if n is None else round(n / size, 6) for n in counts),
                churned=churned,
                churn_share=None if churned is None else round(churned / size, 6),
            )
        )
    return Retention(
        period=spec.period,
        periods=spec.periods,
        as_of=None if as_of is None else as_of.isoformat().replace("+00:00", "Z"),
        inactive_s=None if spec.inactive is None else float(spec.inactive),
        cohorts=tuple(cohorts),
        customers=sum(c.size for c in cohorts),
        churned=None if spec.inactive is None else sum(c.churned or 0 for c in cohorts),
    )


__all__ = [
    "PERIODS",
    "Cohort",
    "Period",
    "Retention",
    "RetentionSpec",
    "period_index",
    "period_start",
    "retention",
]
