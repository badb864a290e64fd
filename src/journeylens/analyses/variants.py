"""Variants: the distinct activity sequences journeys follow, most common first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from journeylens.analyses.common import plain, seconds
from journeylens.engine import Capability, Journeys
from journeylens.engine import expr as E

#: Joins activities into one sequence key; a control character no activity name carries.
SEPARATOR = "\x1f"


@dataclass(frozen=True)
class VariantsSpec:
    """``top`` variants (None: all); ``gap`` splits journeys at inactivity (seconds)."""

    top: int | None = 20
    gap: float | None = None


@dataclass(frozen=True)
class Variant:
    activities: tuple[str, ...]
    count: int
    share: float
    cumulative_share: float
    median_duration_s: float | None


@dataclass(frozen=True)
class Variants:
    variants: tuple[Variant, ...]
    journeys: int
    distinct: int

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


def sequences(journeys: Journeys, gap: float | None = None) -> E.Table:
    """One row per journey: ``journey``, ``customer_key``, ``variant`` (activities joined by
    :data:`SEPARATOR` in journey order), ``events``, ``duration``."""
    ev = journeys.events(gap)
    if journeys.engine.has(Capability.ORDERED_COLLECT):
        sequence = ev.activity.group_concat(SEPARATOR, order_by=ev.pos)
    else:
        # Spark cannot order a collect: collect (pos, activity) pairs and sort the array.
        pairs = E.struct({"p": ev.pos, "a": ev.activity}).collect()
        sequence = pairs.sort().map(lambda x: x.a).join(SEPARATOR)
    return ev.group_by(["journey", "customer_key"]).agg(
        variant=sequence,
        events=ev.count(),
        duration=ev.t.max() - ev.t.min(),
    )


def variants(journeys: Journeys, spec: VariantsSpec | None = None) -> Variants:
    spec = spec or VariantsSpec()
    per_journey = sequences(journeys, spec.gap)
    grouped = per_journey.group_by("variant").agg(
        count=per_journey.count(), median_duration=per_journey.duration.quantile(0.5)
    )
    ranked = grouped.order_by([E.desc("count"), "variant"])
    engine = journeys.engine
    totals = engine.to_arrow(
        grouped.agg(distinct=grouped.count(), journeys=grouped["count"].sum())
    ).to_pylist()[0]
    rows = engine.to_arrow(ranked if spec.top is None else ranked.limit(spec.top)).to_pylist()
    total = int(totals["journeys"] or 0)
    running = 0
    found = []
    for row in rows:
        running += int(row["count"])
        found.append(
            Variant(
                tuple(row["variant"].split(SEPARATOR)),
                int(row["count"]),
                round(row["count"] / total, 6),
                round(running / total, 6),
                seconds(row["median_duration"]),
            )
        )
    return Variants(tuple(found), total, int(totals["distinct"] or 0))
