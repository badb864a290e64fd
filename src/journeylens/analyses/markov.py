"""What-if: a first-order absorbing Markov chain over a map's designed steps.

States
    ``(start)``, every bound step of the map, and two absorbing states: ``(conversion)``
    (the journey reached the conversion step: the spec's ``conversion`` step id, or the map's
    outcome, :func:`.binding.outcome_step`) and ``(null)`` (it ended without). The conversion
    step itself is not a transient state: reaching it is absorption.

Fitting (on the engine)
    Each journey's step sequence (as in :mod:`.conformance`: one step per event, the latest in
    reading order when several match; consecutive events of one step collapse into one visit)
    is cut at its first conversion-step event. Its moves are ``(start) -> first step``, every
    consecutive pair of visits, and ``last step -> (conversion)`` or ``-> (null)``. Journeys
    without any step event are not in the model. The transition probabilities are the move
    counts divided by each state's outgoing count (maximum likelihood).

Predicting (small dense NumPy)
    With ``Q`` the transient-to-transient and ``R`` the transient-to-absorbing probabilities,
    the absorption probabilities are ``B = (I - Q)^-1 R`` and the predicted conversion rate is
    ``B[(start), (conversion)]``. Fitted this way, it equals the observed conversion rate
    exactly (every visit to a state leaves it once, so expected and observed flows agree).

Removal effect (attribution)
    Removing a state sends every transition into it to ``(null)``; its effect is the relative
    drop of the predicted conversion, ``1 - p_without / p``, and its share is the effect over
    the sum of all effects. Touchpoints remove all steps on them at once.

What-if
    "If step X's drop-off (its transition to ``(null)``) were ``d``": X's other outgoing
    probabilities are scaled by ``(1 - d) / (1 - d_now)``, i.e. the removed mass goes to them in
    proportion. Conversions are ``journeys x rate`` (journeys are customers unless split by
    ``gap``). A lower drop-off never gives fewer conversions.

Future-state map
    Steps of the current map that the future map no longer has (by step id) are bypassed: the
    state is eliminated, ``P[i, j] += P[i, x] P[x, j] / (1 - P[x, x])``, so customers who went
    through it go on as they did after it. Elimination alone keeps the predicted conversion
    unchanged (it is exact); the designed improvements come in as drop-offs per step
    (``future_dropoffs``). Steps new in the future map have no data and are listed as
    unmeasured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from journeylens.analyses.binding import Scope, bound_steps, outcome_step, scoped_events
from journeylens.analyses.common import parse_duration, plain
from journeylens.analyses.conformance import step_sequence
from journeylens.engine import Journeys
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
ABSORBING = (CONVERSION, NULL)
Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MarkovSpec:
    """``conversion`` is a step id (default: the map's outcome step); ``future`` is a
    future-state map to predict with, and ``future_dropoffs`` its designed drop-offs per step."""

    journey_map: JourneyMap
    scope: Scope = field(default_factory=Scope)
    gap: float | str | None = None
    conversion: str | None = None
    future: JourneyMap | None = None
    future_dropoffs: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    """``count`` moves from ``source`` to ``target``, by ``journeys``; its ``probability``."""

    source: str
    target: str
    count: int
    journeys: int
    probability: float


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    probability: float


@dataclass(frozen=True)
class RemovalEffect:
    """Conversion rate without ``name`` (a step, or a touchpoint's ``steps``), its relative
    drop (``effect``) and its ``share`` of all effects."""

    name: str
    steps: tuple[str, ...]
    conversion_rate: float
    effect: float
    share: float


@dataclass(frozen=True)
class WhatIf:
    step: str
    dropoff_now: float
    dropoff: float
    journeys: int
    conversion_rate_now: float
    conversion_rate: float
    conversions_now: float
    conversions: float
    change: float
    change_rate: float

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class FutureState:
    map_id: str
    kept: tuple[str, ...]
    bypassed: tuple[str, ...]
    unmeasured: tuple[str, ...]
    dropoffs: dict[str, float]
    journeys: int
    conversion_rate_now: float
    conversion_rate: float
    conversions_now: float
    conversions: float
    change: float
    transitions: tuple[Edge, ...]

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


class Chain:
    """A row-stochastic matrix over named states; absorbing states have identity rows."""

    def __init__(self, states: Sequence[str], p: Matrix) -> None:
        self.states = list(states)
        self.p = p
        self.at = {s: i for i, s in enumerate(self.states)}

    @classmethod
    def of(cls, states: Sequence[str], counts: Mapping[tuple[str, str], int]) -> Chain:
        names = [*states, *ABSORBING]
        at = {s: i for i, s in enumerate(names)}
        n = np.zeros((len(names), len(names)))
        for (a, b), c in counts.items():
            n[at[a], at[b]] += c
        out = n.sum(axis=1, keepdims=True)
        p = np.divide(n, out, out=np.zeros_like(n), where=out > 0)
        for s in ABSORBING:
            p[at[s]] = 0.0
            p[at[s], at[s]] = 1.0
        return cls(names, p)

    def copy(self) -> Chain:
        return Chain(self.states, self.p.copy())

    def conversion(self) -> float:
        """Probability of absorption in ``(conversion)`` from ``(start)``."""
        self._check_ends()
        transient = [i for i, s in enumerate(self.states) if s not in ABSORBING]
        q = self.p[np.ix_(transient, transient)]
        r = self.p[transient, self.at[CONVERSION]]
        b = np.linalg.solve(np.eye(len(transient)) - q, r)
        return float(b[transient.index(self.at[START])])

    def _check_ends(self) -> None:
        """Every state reachable from the start must be able to end, or I - Q is singular."""
        reach = {self.at[START]}
        todo = [self.at[START]]
        while todo:
            i = todo.pop()
            for j in np.flatnonzero(self.p[i] > 0):
                if int(j) not in reach:
                    reach.add(int(j))
                    todo.append(int(j))
        ends = {self.at[s] for s in ABSORBING}
        can_end = set(ends)
        changed = True
        while changed:
            changed = False
            for i in reach - can_end:
                if any(int(j) in can_end for j in np.flatnonzero(self.p[i] > 0)):
                    can_end.add(i)
                    changed = True
        stuck = sorted(self.states[i] for i in reach - can_end)
        if stuck:
            raise JourneylensError(f"the chain never ends from {', '.join(stuck)}")

    def without(self, removed: Iterable[str]) -> Chain:
        """Transitions into the removed states go to ``(null)`` instead."""
        chain = self.copy()
        for s in removed:
            i = chain.at[s]
            chain.p[:, chain.at[NULL]] += chain.p[:, i]
            chain.p[:, i] = 0.0
        return chain

    def with_dropoff(self, step: str, dropoff: float) -> Chain:
        """``step``'s drop-off set to ``dropoff``, its other moves scaled in proportion."""
        if step not in self.at or step in ABSORBING or step == START:
            raise JourneylensError(f"what-if: {step!r} is not a step of the model")
        if not 0.0 <= dropoff <= 1.0:
            raise JourneylensError(f"what-if: drop-off must be between 0 and 1, got {dropoff}")
        chain = self.copy()
        row = chain.p[chain.at[step]]
        now = float(row[chain.at[NULL]])
        rest = 1.0 - now
        if row.sum() == 0:
            raise JourneylensError(f"what-if: no journey reached {step!r} in the data")
        if rest <= 0 and dropoff < 1.0:
            raise JourneylensError(f"what-if: every journey at {step!r} ended there")
        if rest > 0:
            row *= (1.0 - dropoff) / rest
        row[chain.at[NULL]] = dropoff
        return chain

    def bypass(self, step: str) -> Chain:
        """Eliminate ``step``: who went through it goes on to where it led."""
        chain = self.copy()
        x = chain.at[step]
        p = chain.p
        stay = p[x, x]
        if stay >= 1.0:
            raise JourneylensError(f"future state: {step!r} never leads anywhere")
        onward = p[x].copy()
        onward[x] = 0.0
        onward /= 1.0 - stay
        into = p[:, x].copy()
        into[x] = 0.0
        p += np.outer(into, onward)
        p[:, x] = 0.0
        p[x] = 0.0
        return chain

    def edges(self) -> tuple[Edge, ...]:
        found = []
        for i, s in enumerate(self.states):
            if s in ABSORBING:
                continue
            for j in np.flatnonzero(self.p[i] > 0):
                found.append(Edge(s, self.states[int(j)], round(float(self.p[i, j]), 6)))
        return tuple(found)


@dataclass(frozen=True)
class MarkovModel:
    """The fitted chain: transitions with counts, rates, drop-offs and removal effects."""

    map_id: str
    conversion_step: str
    states: tuple[str, ...]
    journeys: int
    customers: int
    conversions: int
    observed_rate: float | None
    predicted_rate: float | None
    transitions: tuple[Transition, ...]
    visits: dict[str, int]
    dropoff: dict[str, float | None]
    removal_effects: tuple[RemovalEffect, ...]
    touchpoint_removal_effects: tuple[RemovalEffect, ...]
    touchpoints: dict[str, str | None]
    future: FutureState | None = None

    def chain(self) -> Chain:
        """The chain as NumPy: for what-ifs, and to check predictions unrounded."""
        counts = {(t.source, t.target): t.count for t in self.transitions}
        return Chain.of(self.states, counts)

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


def _round(value: float) -> float:
    return round(value, 6)


def transition_counts(
    journeys: Journeys,
    journey_map: JourneyMap,
    conversion: str,
    scope: Scope | None = None,
    gap: float | None = None,
) -> E.Table:
    """Move counts per (``source``, ``target``) with their journeys, as an engine table."""
    steps = bound_steps(journey_map)
    ev = scoped_events(journeys, scope or Scope(), gap=gap)
    seq = step_sequence(journeys, ev, steps).select("journey", "customer_key", "pos", "step")
    done = E.ifelse(seq.step == conversion, seq.pos, E.null().cast("int64"))
    seq = seq.mutate(done_at=done.min().over(E.window(group_by=seq.journey)))
    cut = seq.filter(seq.done_at.isnull() | (seq.pos <= seq.done_at))
    w = E.window(group_by=cut.journey, order_by=cut.pos)
    cut = cut.mutate(before=cut.step.lag().over(w), after=cut.pos.lead().over(w))
    moved = cut.filter(cut.before.isnull() | (cut.before != cut.step))
    moves = moved.select(
        "journey",
        source=moved.before.fill_null(START),
        target=E.ifelse(moved.step == conversion, E.literal(CONVERSION), moved.step),
    )
    last = cut.filter(cut.after.isnull() & (cut.step != conversion))
    ends = last.select("journey", source=last.step, target=E.literal(NULL, type="string"))
    every = moves.union(ends, distinct=False)
    return every.group_by(["source", "target"]).agg(
        count=every.count(), journeys=every.journey.nunique()
    )


def _effects(
    chain: Chain, groups: Mapping[str, tuple[str, ...]], base: float
) -> list[RemovalEffect]:
    raw = {}
    for name, members in groups.items():
        without = chain.without(members).conversion()
        raw[name] = (without, 1.0 - without / base if base > 0 else 0.0)
    total = sum(effect for _, effect in raw.values())
    found = [
        RemovalEffect(
            name=name,
            steps=groups[name],
            conversion_rate=_round(without),
            effect=_round(effect),
            share=_round(effect / total) if total > 0 else 0.0,
        )
        for name, (without, effect) in raw.items()
    ]
    return sorted(found, key=lambda r: (-r.effect, r.name))


def markov(journeys: Journeys, spec: MarkovSpec) -> MarkovModel:
    """Fit the chain of ``spec.journey_map`` on the journeys in scope."""
    jmap = spec.journey_map
    steps = [s for s in bound_steps(jmap) if s.match]
    if spec.conversion is not None:
        if spec.conversion not in {s.id for s in steps}:
            raise JourneylensError(
                f"markov: conversion step {spec.conversion!r} is not a bound step of {jmap.id}"
            )
        conversion = spec.conversion
    else:
        outcome = outcome_step(steps)
        if outcome is None:
            raise JourneylensError(
                f"markov: map {jmap.id} has no conversion-stage step with a selector; "
                "name the conversion step"
            )
        conversion = outcome.id
    engine = journeys.engine
    gap = parse_duration(spec.gap)
    counted = transition_counts(journeys, jmap, conversion, spec.scope, gap)
    rows = engine.to_arrow(counted).to_pylist()
    ev = scoped_events(journeys, spec.scope, gap=gap)
    in_map = step_sequence(journeys, ev, bound_steps(jmap))
    customers = int(
        engine.to_arrow(in_map.aggregate(n=in_map.customer_key.nunique())).to_pylist()[0]["n"] or 0
    )

    states = (START, *(s.id for s in steps if s.id != conversion))
    counts = {(r["source"], r["target"]): int(r["count"]) for r in rows}
    reached = {(r["source"], r["target"]): int(r["journeys"]) for r in rows}
    chain = Chain.of(states, counts)
    order = {s: i for i, s in enumerate(chain.states)}
    transitions = tuple(
        Transition(a, b, n, reached[(a, b)], _round(float(chain.p[order[a], order[b]])))
        for (a, b), n in sorted(counts.items(), key=lambda kv: (order[kv[0][0]], order[kv[0][1]]))
    )
    total = sum(n for (a, _), n in counts.items() if a == START)
    conversions = sum(n for (_, b), n in counts.items() if b == CONVERSION)
    visits = {s: sum(n for (a, _), n in counts.items() if a == s) for s in states[1:]}
    predicted = chain.conversion() if total else None
    touchpoints = {s.id: s.touchpoint for s in steps if s.id != conversion}
    by_touchpoint: dict[str, tuple[str, ...]] = {}
    for step_id, tp in touchpoints.items():
        if tp is not None:
            by_touchpoint[tp] = (*by_touchpoint.get(tp, ()), step_id)
    base = predicted or 0.0
    model = MarkovModel(
        map_id=jmap.id,
        conversion_step=conversion,
        states=states,
        journeys=total,
        customers=customers,
        conversions=conversions,
        observed_rate=_round(conversions / total) if total else None,
        predicted_rate=None if predicted is None else _round(predicted),
        transitions=transitions,
        visits=visits,
        dropoff={
            s: _round(float(chain.p[order[s], order[NULL]])) if visits[s] else None
            for s in states[1:]
        },
        removal_effects=tuple(_effects(chain, {s: (s,) for s in states[1:]}, base))
        if total
        else (),
        touchpoint_removal_effects=tuple(_effects(chain, by_touchpoint, base)) if total else (),
        touchpoints=touchpoints,
    )
    if spec.future is not None:
        future = future_state(model, spec.future, spec.future_dropoffs)
        model = dataclasses.replace(model, future=future)
    return model


def _now(model: MarkovModel) -> float:
    if not model.journeys:
        raise JourneylensError("what-if: the model was fitted on no journeys")
    return model.chain().conversion()


def what_if(model: MarkovModel, step: str, dropoff: float) -> WhatIf:
    """Conversions if ``step``'s drop-off were ``dropoff`` (a probability, 0..1)."""
    now_rate = _now(model)
    chain = model.chain()
    if step not in chain.at or step in (START, *ABSORBING):
        raise JourneylensError(f"what-if: {step!r} is not a step of the model")
    dropoff_now = float(chain.p[chain.at[step], chain.at[NULL]])
    rate = chain.with_dropoff(step, dropoff).conversion()
    n = model.journeys
    return WhatIf(
        step=step,
        dropoff_now=_round(dropoff_now),
        dropoff=float(dropoff),
        journeys=n,
        conversion_rate_now=_round(now_rate),
        conversion_rate=_round(rate),
        conversions_now=round(n * now_rate, 3),
        conversions=round(n * rate, 3),
        change=round(n * (rate - now_rate), 3),
        change_rate=_round(rate - now_rate),
    )


def future_state(
    model: MarkovModel, future: JourneyMap, dropoffs: Mapping[str, float] | None = None
) -> FutureState:
    """Predict with ``future``'s steps: removed steps bypassed, ``dropoffs`` applied."""
    now_rate = _now(model)
    future_ids = {s.id for _, s in future.steps()}
    if model.conversion_step not in future_ids:
        raise JourneylensError(
            f"future state: {future.id} has no step {model.conversion_step!r} (the conversion)"
        )
    current = model.states[1:]
    bypassed = tuple(s for s in current if s not in future_ids)
    known = {*current, model.conversion_step}
    unmeasured = tuple(s.id for _, s in future.steps() if s.id not in known)
    chain = model.chain()
    for step in bypassed:
        chain = chain.bypass(step)
    for step, value in (dropoffs or {}).items():
        if step in bypassed:
            raise JourneylensError(f"future state: {step!r} is not in {future.id}")
        chain = chain.with_dropoff(step, value)
    rate = chain.conversion()
    n = model.journeys
    return FutureState(
        map_id=future.id,
        kept=tuple(s for s in current if s in future_ids),
        bypassed=bypassed,
        unmeasured=unmeasured,
        dropoffs={k: float(v) for k, v in (dropoffs or {}).items()},
        journeys=n,
        conversion_rate_now=_round(now_rate),
        conversion_rate=_round(rate),
        conversions_now=round(n * now_rate, 3),
        conversions=round(n * rate, 3),
        change=round(n * (rate - now_rate), 3),
        transitions=chain.edges(),
    )


__all__ = [
    "ABSORBING",
    "CONVERSION",
    "NULL",
    "START",
    "Chain",
    "Edge",
    "FutureState",
    "MarkovModel",
    "MarkovSpec",
    "RemovalEffect",
    "Transition",
    "WhatIf",
    "future_state",
    "markov",
    "transition_counts",
    "what_if",
]
