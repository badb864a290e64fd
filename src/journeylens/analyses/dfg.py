"""The process map: which activity directly follows which, how often, for whom, how fast.

Counts follow process mining's directly-follows graph (each consecutive pair of events in a
journey is one observation), so they can be checked against PM4Py on the same log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from journeylens.analyses.common import plain, seconds
from journeylens.engine import Journeys


@dataclass(frozen=True)
class DfgSpec:
    """``gap`` splits journeys at inactivity (seconds); edges below ``min_count`` or beyond
    the ``top`` most frequent are left out of ``edges`` (activities keep their full counts)."""

    gap: float | None = None
    min_count: int = 1
    top: int | None = None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    count: int
    customers: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class ActivityStats:
    events: int
    customers: int


@dataclass(frozen=True)
class ProcessMap:
    edges: tuple[Edge, ...]
    start: dict[str, int]
    end: dict[str, int]
    activities: dict[str, ActivityStats]
    events: int
    journeys: int
    customers: int
    edges_total: int = field(default=0)

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


def process_map(journeys: Journeys, spec: DfgSpec | None = None) -> ProcessMap:
    spec = spec or DfgSpec()
    ev = journeys.events(spec.gap)
    engine = journeys.engine
    per_activity = ev.group_by("activity").agg(
        events=ev.count(),
        customers=ev.customer_key.nunique(),
        starts=ev.prev_t.isnull().cast("int64").sum(),
        ends=ev.next_t.isnull().cast("int64").sum(),
        # Every customer has exactly one first event (seq 0), episodes or not: a count of
        # those is the distinct customer count without a second pass.
        firsts=(ev.seq == 0).cast("int64").sum(),
    )
    pairs = ev.filter(ev.next_t.notnull())
    took = pairs.next_t - pairs.t
    edges = pairs.group_by(source=pairs.activity, target=pairs.next_activity).agg(
        count=pairs.count(),
        customers=pairs.customer_key.nunique(),
        mean_s=took.mean(),
        # Both quantiles in one aggregate: one sort of each edge's durations, not two.
        quantiles=took.quantile([0.5, 0.9]),
    )
    activity_rows = engine.to_arrow(per_activity).to_pylist()
    edge_rows = engine.to_arrow(edges).to_pylist()
    edge_rows.sort(key=lambda r: (-r["count"], r["source"], r["target"]))
    kept = [r for r in edge_rows if r["count"] >= spec.min_count]
    if spec.top is not None:
        kept = kept[: spec.top]
    activity_rows.sort(key=lambda r: (-r["events"], r["activity"]))
    return ProcessMap(
        edges=tuple(
            Edge(
                r["source"],
                r["target"],
                int(r["count"]),
                int(r["customers"]),
                seconds(r["mean_s"]),
                seconds(r["quantiles"][0] if r["quantiles"] else None),
                seconds(r["quantiles"][1] if r["quantiles"] else None),
            )
            for r in kept
        ),
        start={r["activity"]: int(r["starts"]) for r in activity_rows if r["starts"]},
        end={r["activity"]: int(r["ends"]) for r in activity_rows if r["ends"]},
        activities={
            r["activity"]: ActivityStats(int(r["events"]), int(r["customers"]))
            for r in activity_rows
        },
        events=sum(int(r["events"]) for r in activity_rows),
        journeys=sum(int(r["starts"]) for r in activity_rows),
        customers=sum(int(r["firsts"]) for r in activity_rows),
        edges_total=len(edge_rows),
    )


__all__ = ["ActivityStats", "DfgSpec", "Edge", "ProcessMap", "process_map"]
