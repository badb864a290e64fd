"""Support demand: which self-service touchpoints (FAQ, knowledge base) prevent contacts.

A help article *deflects* when customers who read it contact support less than comparable
customers who did not. Comparable means: they reached the same stage of the map (a customer
still browsing never needed the returns article). For each self-service step the contact rate
of its readers, after they read it, is set against the rate of the other customers of the
stage, after they entered it. Deflection is ``1 - with / without``: positive when the article
helps, negative when readers call *more* (the article does not answer the question, or
sends them to the phone). The contacts per step and their reasons are in :mod:`.live`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from journeylens.analyses.binding import Scope, bound_steps, scoped_events, step_events
from journeylens.analyses.common import plain
from journeylens.analyses.painpoints import odds_ratio
from journeylens.engine import Journeys
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap


@dataclass(frozen=True)
class DeflectionSpec:
    """``self_service`` are the step ids to judge (the workspace picks the steps on channels
    of kind ``self_service``); contacts are events on ``contact_channels``."""

    journey_map: JourneyMap
    self_service: tuple[str, ...]
    scope: Scope = field(default_factory=Scope)
    contact_channels: tuple[str, ...] = ("phone", "chat")
    within: float = 7 * 86_400.0


@dataclass(frozen=True)
class Deflection:
    step: str
    stage: str
    readers: int
    readers_contacting: int
    others: int
    others_contacting: int
    rate_with: float | None
    rate_without: float | None
    deflection: float | None
    odds_ratio: float
    low: float
    high: float
    verdict: str


@dataclass(frozen=True)
class SupportDemand:
    map_id: str
    within: float
    steps: tuple[Deflection, ...]

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


def deflection(journeys: Journeys, spec: DeflectionSpec) -> SupportDemand:
    steps = [s for s in bound_steps(spec.journey_map) if s.match]
    by_id = {s.id: s for s in steps}
    unknown = [s for s in spec.self_service if s not in by_id]
    if unknown:
        raise JourneylensError(f"no bound step {', '.join(unknown)} in {spec.journey_map.id}")
    ev = scoped_events(journeys, spec.scope)
    se = step_events(journeys, ev, steps)
    contacts = ev.filter(ev.channel.isin(list(spec.contact_channels))).select(
        c_customer="customer_key", c_t="t"
    )
    found = []
    for step_id in spec.self_service:
        step = by_id[step_id]
        stage_ids = [s.id for s in steps if s.stage == step.stage]
        entered = se.filter(se.step.isin(stage_ids)).group_by("customer_key").agg(since=se.t.min())
        read = se.filter(se.step == step_id).group_by("customer_key").agg(read_t=se.t.min())
        people = entered.left_join(read, "customer_key").select("customer_key", "since", "read_t")
        start = E.ifelse(people.read_t.notnull(), people.read_t, people.since)
        people = people.mutate(start=start, reader=people.read_t.notnull().cast("int64"))
        hits = people.join(
            contacts,
            [
                people.customer_key == contacts.c_customer,
                contacts.c_t >= people.start,
                contacts.c_t - people.start <= spec.within,
            ],
        )
        contacted = hits.select("customer_key").distinct().mutate(contacted=E.literal(1))
        flagged = people.left_join(contacted, "customer_key")
        flag = flagged.contacted.fill_null(0)
        row = journeys.engine.to_arrow(
            flagged.aggregate(
                readers=flagged.reader.sum(),
                readers_contacting=(flag * flagged.reader).sum(),
                everyone=flagged.count(),
                contacting=flag.sum(),
            )
        ).to_pylist()[0]
        readers = int(row["readers"] or 0)
        readers_contacting = int(row["readers_contacting"] or 0)
        others = int(row["everyone"] or 0) - readers
        others_contacting = int(row["contacting"] or 0) - readers_contacting
        found.append(
            _judge(step_id, step.stage, readers, readers_contacting, others, others_contacting)
        )
    return SupportDemand(spec.journey_map.id, spec.within, tuple(found))


def _judge(step: str, stage: str, n1: int, y1: int, n0: int, y0: int) -> Deflection:
    rate1 = y1 / n1 if n1 else None
    rate0 = y0 / n0 if n0 else None
    ratio, low, high = odds_ratio(y1, n1 - y1, y0, n0 - y0)
    if rate1 is None or rate0 is None:
        verdict = "nothing to compare"
        share = None
    else:
        share = round(1 - rate1 / rate0, 4) if rate0 else None
        if high < 1:
            verdict = "deflects: readers contact support less"
        elif low > 1:
            verdict = "fails: readers contact support more"
        else:
            verdict = "no clear effect"
    return Deflection(
        step=step,
        stage=stage,
        readers=n1,
        readers_contacting=y1,
        others=n0,
        others_contacting=y0,
        rate_with=None if rate1 is None else round(rate1, 6),
        rate_without=None if rate0 is None else round(rate0, 6),
        deflection=share,
        odds_ratio=round(ratio, 4),
        low=round(low, 4),
        high=round(high, 4),
        verdict=verdict,
    )


__all__ = ["Deflection", "DeflectionSpec", "SupportDemand", "deflection"]
