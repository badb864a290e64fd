"""Binding a designed map to data: which events are which step, for which customers.

A step's ``match`` selector names the events that show the step happening. An event may match
several steps (a first order and a repeat order are both ``order_placed``): it then belongs to
each of them, as a CX lead would count it. Live maps, pain points, conformance and the Markov
model all start from the table built here, so they agree on what "reached a step" means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from journeylens.engine import Journeys, compile_text
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap

#: Stages whose steps lead up to the map's outcome; drop-off before it is abandonment.
PRE_OUTCOME = ("awareness", "consideration", "conversion")


@dataclass(frozen=True)
class BoundStep:
    """A designed step as the engine sees it; ``next`` are the designed successors."""

    id: str
    stage: str
    lifecycle: str | None
    index: int
    match: str | None
    touchpoint: str | None
    next: tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    """Which customers and events a live map counts.

    ``segment`` keeps customers with at least one matching event (a persona's members);
    ``members`` keeps the customers listed in a Parquet file's ``customer_key`` column (a
    saved segment, see :func:`journeylens.analyses.segments.write_members`);
    ``channel`` keeps events on those channels; ``since``/``until`` keep events in the period.
    """

    segment: str | None = None
    members: Path | None = None
    channels: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


def bound_steps(journey_map: JourneyMap) -> list[BoundStep]:
    """The map's steps in reading order; a step without branches leads to the following one."""
    flat = list(journey_map.steps())
    steps = []
    for index, (stage, step) in enumerate(flat):
        if step.next:
            successors = tuple(branch.step for branch in step.next)
        elif index + 1 < len(flat):
            successors = (flat[index + 1][1].id,)
        else:
            successors = ()
        steps.append(
            BoundStep(
                id=step.id,
                stage=stage.id,
                lifecycle=stage.lifecycle,
                index=index,
                match=step.match,
                touchpoint=step.touchpoint,
                next=successors,
            )
        )
    return steps


def outcome_step(steps: Sequence[BoundStep]) -> BoundStep | None:
    """The map's outcome: the last bound step of its conversion stages (the purchase).

    Journeys that end before it were abandoned; after it, ending is not a drop-off."""
    candidates = [s for s in steps if s.match and s.lifecycle == "conversion"]
    return candidates[-1] if candidates else None


def scoped_events(journeys: Journeys, scope: Scope, *, gap: float | None = None) -> E.Table:
    """The journeys' events narrowed to the scope (segment members, channels, period)."""
    events = journeys.events(gap)
    if scope.since is not None:
        events = events.filter(events.ts >= E.literal(scope.since, type="timestamp('UTC')"))
    if scope.until is not None:
        events = events.filter(events.ts < E.literal(scope.until, type="timestamp('UTC')"))
    if scope.channels:
        events = events.filter(events.channel.isin(list(scope.channels)))
    if scope.segment:
        members = (
            events.filter(compile_text(journeys.engine, events, scope.segment))
            .select("customer_key")
            .distinct()
        )
        events = events.semi_join(members, "customer_key")
    if scope.members is not None:
        if not scope.members.exists():
            raise JourneylensError(f"{scope.members}: no such members file")
        listed = journeys.engine.read_parquet(scope.members).select("customer_key")
        events = events.semi_join(listed, "customer_key")
    return events


def step_events(journeys: Journeys, events: E.Table, steps: Sequence[BoundStep]) -> E.Table:
    """One row per (event, step it matches): the event's columns plus ``step`` and
    ``step_index``. Steps without a selector are left out."""
    parts = []
    for step in steps:
        if not step.match:
            continue
        try:
            condition = compile_text(journeys.engine, events, step.match)
        except JourneylensError as error:
            raise JourneylensError(f"step {step.id}: {error}") from error
        parts.append(
            events.filter(condition).mutate(
                step=E.literal(step.id, type="string"),
                step_index=E.literal(step.index, type="int64"),
            )
        )
    if not parts:
        raise JourneylensError("no step of this map has a match selector: nothing to bind")
    table = parts[0]
    for part in parts[1:]:
        table = table.union(part, distinct=False)
    return table
