"""Conformance: do real journeys follow the designed map, and where do they leave it?

A designed map (usually the future state) is checked against actual journeys, on the engine.

Step sequence
    A journey's *step sequence* is its events that match a bound step (see :mod:`.binding`), in
    journey order. An event that matches several steps stands for the one latest in reading
    order (a repeat order matches "order placed" and "buys again": it is the repeat), so every
    event is one step here, unlike the live map's reach, which counts it at each. Consecutive
    events of one step are one visit; a *move* is a pair of consecutive visits ``a -> b``
    (``a != b``). Events matching no step are ignored.

Designed path and designed moves
    The path is the map's ``paths`` entry of kind ``happy`` (or the one named in the spec);
    without one, it is the walk from the first step along each step's first ``next`` branch
    (the following step when it has none), until a step repeats. Only bound steps count:
    ``D = d_0 ... d_n``. Designed moves are the map's ``next`` edges between bound steps (an
    unbound step in between is bridged) plus the consecutive pairs of ``D``.

Following the designed path
    A journey follows it when every visit is a step of ``D`` and every move goes from ``d_i`` to
    ``d_(i+1)``: its steps are one stretch ``d_i ... d_j`` of the path, in order, nothing
    skipped, nothing revisited, no off-path step. It may start and stop anywhere on the path.
    The unit is a journey: a customer, or with ``gap`` an episode; journeys without any step
    event are not counted.

Per step (a dict keyed by step id, ready to draw on the map)
    ``reached``: journeys visiting it. ``predecessor``: the previous step of ``D`` (for steps
    off the path: their only designed predecessor, if they have exactly one).
    ``fitness = next_in_order / predecessor_reached``: of the journeys that reached the
    predecessor, the share that moved from it straight to this step.
    ``from_undesigned``: journeys that arrived here at least once by a move that is not
    designed (its share is of ``reached``); ``entered``: journeys whose first step it is.
    ``deviations``: journeys with each kind of deviation showing at this step.

Deviations, named as a CX lead would (counted in journeys, customers and occurrences, with
example customer keys, smallest first)
    stage skipped
        a move ``a -> b`` forward over a whole stage that has bound steps (one per such stage);
        shown at ``b``.
    unexpected channel switch
        a move whose two events are on different channels although the two designed steps are
        on the same channel (a step's ``channel``, or its touchpoint's channel from
        ``touchpoint_channels``; without that, two steps naming the same touchpoint). Steps
        with no designed channel are never judged.
    repeat contact
        a contact event (on ``contact_channels``, or matching the ``contacts`` selector) of a
        step followed by another contact event of the same step by the same customer within
        ``repeat_within`` (across episodes, as in :mod:`.channels`).
    extra loop
        a move back to a step earlier in reading order (also when the map designs it as a
        branch: ``designed`` says so).
    late handoff
        a designed move taking longer (from the last event of ``a`` to the first of ``b``) than
        ``late_after``, or, without it, than the p90 of that move's durations.

Everything above is aggregated on the engine; only counts and a few example keys per deviation
come back to Python.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from journeylens.analyses.binding import BoundStep, Scope, bound_steps, scoped_events, step_events
from journeylens.analyses.common import parse_duration, plain
from journeylens.engine import Journeys, compile_text
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError
from journeylens.model.common import localize
from journeylens.model.journey_map import JourneyMap

DeviationKind = Literal[
    "stage_skipped", "channel_switch", "repeat_contact", "extra_loop", "late_handoff"
]
DEVIATION_KINDS: tuple[DeviationKind, ...] = (
    "stage_skipped",
    "channel_switch",
    "repeat_contact",
    "extra_loop",
    "late_handoff",
)
KIND_LABELS: dict[DeviationKind, str] = {
    "stage_skipped": "Stage skipped",
    "channel_switch": "Unexpected channel switch",
    "repeat_contact": "Repeat contact",
    "extra_loop": "Extra loop",
    "late_handoff": "Late handoff",
}
_KEYS = ("kind", "from_step", "step", "stage")


@dataclass(frozen=True)
class ConformanceSpec:
    """``path`` names a map path (default: the happy path); durations are seconds or text
    such as ``"7d"``; ``touchpoint_channels`` maps touchpoint ids to channel ids (the
    workspace registry) so steps naming only a touchpoint have a designed channel."""

    journey_map: JourneyMap
    scope: Scope = field(default_factory=Scope)
    gap: float | str | None = None
    path: str | None = None
    contact_channels: tuple[str, ...] = ("phone", "chat")
    contacts: str | None = None
    repeat_within: float | str = "7d"
    late_after: float | str | None = None
    touchpoint_channels: Mapping[str, str] = field(default_factory=dict)
    top: int = 10
    examples: int = 3


@dataclass(frozen=True)
class StepFitness:
    step: str
    stage: str
    on_path: bool
    reached: int
    entered: int
    predecessor: str | None
    predecessor_reached: int | None
    next_in_order: int | None
    fitness: float | None
    from_undesigned: int
    from_undesigned_share: float | None
    deviations: dict[str, int]


@dataclass(frozen=True)
class Deviation:
    """One kind of deviation on one move (``from_step -> step``; equal for repeat contacts)."""

    kind: DeviationKind
    label: str
    from_step: str | None
    step: str
    stage: str | None
    designed: bool
    journeys: int
    customers: int
    occurrences: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class DeviationTotal:
    kind: DeviationKind
    label: str
    journeys: int
    customers: int
    occurrences: int


@dataclass(frozen=True)
class Conformance:
    map_id: str
    path_id: str | None
    path: tuple[str, ...]
    journeys: int
    customers: int
    conforming: int
    conformance: float | None
    deviating: int
    steps: dict[str, StepFitness]
    deviations: tuple[Deviation, ...]
    by_kind: dict[DeviationKind, DeviationTotal]
    repeat_within_s: float
    late_after_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


# -- the design, from the map -----------------------------------------------------------------


def designed_path(
    journey_map: JourneyMap, path_id: str | None = None
) -> tuple[str | None, tuple[str, ...]]:
    """The path's id (None when walked from the map) and its bound steps, in order."""
    steps = bound_steps(journey_map)
    by_id = {s.id: s for s in steps}
    chosen = None
    if path_id is not None:
        chosen = next((p for p in journey_map.paths if p.id == path_id), None)
        if chosen is None:
            known = ", ".join(p.id for p in journey_map.paths) or "none"
            raise JourneylensError(f"map {journey_map.id} has no path {path_id!r} (paths: {known})")
    else:
        chosen = next((p for p in journey_map.paths if p.kind == "happy"), None)
    if chosen is not None:
        unknown = [s for s in chosen.steps if s not in by_id]
        if unknown:
            raise JourneylensError(f"path {chosen.id}: no step {unknown[0]!r} in the map")
        walk = list(chosen.steps)
    else:
        walk = []
        current: BoundStep | None = steps[0] if steps else None
        while current is not None and current.id not in walk:
            walk.append(current.id)
            current = by_id.get(current.next[0]) if current.next else None
    ordered: list[str] = []
    for step_id in walk:
        if by_id[step_id].match and step_id not in ordered:
            ordered.append(step_id)
    return (chosen.id if chosen else None), tuple(ordered)


def designed_moves(steps: Sequence[BoundStep]) -> set[tuple[str, str]]:
    """The map's ``next`` edges between bound steps, bridging steps without a selector."""
    by_id = {s.id: s for s in steps}
    edges: set[tuple[str, str]] = set()
    for step in steps:
        if not step.match:
            continue
        stack, seen = list(step.next), set()
        while stack:
            target = stack.pop()
            if target in seen or target not in by_id:
                continue
            seen.add(target)
            if by_id[target].match:
                edges.add((step.id, target))
            else:
                stack.extend(by_id[target].next)
    return edges


def step_sequence(journeys: Journeys, events: E.Table, steps: Sequence[BoundStep]) -> E.Table:
    """Step events with one step per event: the latest in reading order when several match."""
    se = step_events(journeys, events, steps)
    w = E.window(group_by=[se.journey, se.pos], order_by=E.desc(se.step_index))
    ranked = se.mutate(overlap_rank=E.row_number().over(w))
    return ranked.filter(ranked.overlap_rank == 0).drop("overlap_rank")


@contextmanager
def cached(journeys: Journeys, table: E.Table) -> Iterator[E.Table]:
    """A table many queries read, materialised on Spark (which would recompute it for each);
    DuckDB computes a shared subquery once, and its cache drop fails on Ibis 12 with
    sqlglot 30, so it is left alone there."""
    if journeys.engine.name != "spark":
        yield table
        return
    kept = table.cache()
    try:
        yield kept
    finally:
        kept.release()


def by_step(column: E.Value, values: Mapping[str, Any], dtype: str) -> E.Value:
    """A per-step constant from the map, as an engine expression (NULL for other steps)."""
    known = [(column == step, E.literal(value, type=dtype)) for step, value in values.items()]
    if not known:
        return E.null().cast(dtype)
    return E.cases(*known, else_=E.null().cast(dtype))


def _pair_in(t: E.Table, pairs: set[tuple[str, str]]) -> E.BooleanValue:
    """True for rows whose (``from_step``, ``step``) is one of ``pairs``."""
    sources: dict[str, list[str]] = defaultdict(list)
    for a, b in sorted(pairs):
        sources[b].append(a)
    if not sources:
        return E.literal(False)
    return E.cases(
        *((t.step == b, t.from_step.isin(a)) for b, a in sources.items()),
        else_=E.literal(False),
    ).fill_null(False)


@dataclass(frozen=True)
class _Design:
    steps: tuple[BoundStep, ...]  # bound steps only
    path_id: str | None
    path: tuple[str, ...]
    moves: set[tuple[str, str]]
    stage_order: dict[str, int]
    stage_names: dict[str, str]
    channels: dict[str, str]
    predecessor: dict[str, str | None]

    @classmethod
    def of(cls, spec: ConformanceSpec) -> _Design:
        jmap = spec.journey_map
        every = bound_steps(jmap)
        bound = tuple(s for s in every if s.match)
        if not bound:
            raise JourneylensError(f"map {jmap.id}: no step has a match selector")
        path_id, path = designed_path(jmap, spec.path)
        moves = designed_moves(every) | set(itertools.pairwise(path))
        channels: dict[str, str] = {}
        for _, designed in jmap.steps():
            tp = designed.touchpoint
            if designed.channel:
                channels[designed.id] = "channel:" + designed.channel
            elif tp is not None and tp in spec.touchpoint_channels:
                channels[designed.id] = "channel:" + spec.touchpoint_channels[tp]
            elif tp is not None:
                channels[designed.id] = "touchpoint:" + tp
        predecessor: dict[str, str | None] = {}
        for step in bound:
            if step.id in path:
                i = path.index(step.id)
                predecessor[step.id] = path[i - 1] if i else None
            else:
                into = sorted(a for a, b in moves if b == step.id and a != step.id)
                predecessor[step.id] = into[0] if len(into) == 1 else None
        return cls(
            steps=bound,
            path_id=path_id,
            path=path,
            moves=moves,
            stage_order={stage.id: i for i, stage in enumerate(jmap.stages)},
            stage_names={stage.id: localize(stage.name, jmap.language) for stage in jmap.stages},
            channels=channels,
            predecessor=predecessor,
        )

    @property
    def bound_stages(self) -> list[str]:
        seen = {s.stage for s in self.steps}
        return sorted(seen, key=self.stage_order.__getitem__)

    def same_channel_moves(self) -> set[tuple[str, str]]:
        ids = [s.id for s in self.steps if s.id in self.channels]
        return {(a, b) for a in ids for b in ids if a != b and self.channels[a] == self.channels[b]}


# -- on the engine ----------------------------------------------------------------------------


def _tally(t: E.Table, what: str, by: Sequence[str] = ()) -> E.Table:
    """Journeys, customers and rows per group, in the one shape every fact shares."""
    measures = {
        "journeys": t.journey.nunique(),
        "customers": t.customer_key.nunique(),
        "n": t.count(),
    }
    agg = t.group_by(list(by)).agg(**measures) if by else t.aggregate(**measures)
    return agg.select(
        what=E.literal(what, type="string"),
        **{k: agg[k].cast("string") if k in by else E.null().cast("string") for k in _KEYS},
        journeys=agg.journeys.cast("int64"),
        customers=agg.customers.cast("int64"),
        n=agg.n.cast("int64"),
    )


def _union(parts: Sequence[E.Table]) -> E.Table:
    table = parts[0]
    for part in parts[1:]:
        table = table.union(part, distinct=False)
    return table


class _Plan:
    """The engine expressions of one conformance check."""

    def __init__(self, journeys: Journeys, spec: ConformanceSpec, design: _Design) -> None:
        self.journeys = journeys
        self.spec = spec
        self.design = design
        self.within = parse_duration(spec.repeat_within) or 0.0
        self.late_after = parse_duration(spec.late_after)

    def sequence(self) -> E.Table:
        d = self.design
        ev = scoped_events(self.journeys, self.spec.scope, gap=parse_duration(self.spec.gap))
        seq = step_sequence(self.journeys, ev, d.steps)
        if self.spec.contacts:
            contact = compile_text(self.journeys.engine, seq, self.spec.contacts)
        else:
            contact = seq.channel.isin(list(self.spec.contact_channels))
        w = E.window(group_by=seq.journey, order_by=seq.pos)
        stage_of = {s.id: d.stage_order[s.stage] for s in d.steps}
        return seq.select(
            "journey",
            "customer_key",
            "seq",
            "pos",
            "t",
            "channel",
            "step",
            "step_index",
            contact=contact.fill_null(False),
            rank=by_step(seq.step, {s: i for i, s in enumerate(d.path)}, "int64"),
            stage_ord=by_step(seq.step, stage_of, "int64"),
            from_step=seq.step.lag().over(w),
            from_index=seq.step_index.lag().over(w),
            from_t=seq.t.lag().over(w),
            from_channel=seq.channel.lag().over(w),
        )

    def facts(self, s: E.Table) -> tuple[E.Table, E.Table]:
        """All counts in one table (``what`` says which), and the deviations' occurrences."""
        moves = s.filter(s.from_step.notnull() & (s.from_step != s.step))
        from_rank = by_step(
            moves.from_step, {p: i for i, p in enumerate(self.design.path)}, "int64"
        )
        moves = moves.mutate(
            from_rank=from_rank,
            from_stage=by_step(
                moves.from_step,
                {st.id: self.design.stage_order[st.stage] for st in self.design.steps},
                "int64",
            ),
        )
        off = (
            moves.rank.isnull() | moves.from_rank.isnull() | (moves.rank != moves.from_rank + 1)
        ).fill_null(True)
        bad_moves = moves.filter(off).select("journey").distinct()
        per_journey = s.group_by(["journey", "customer_key"]).agg(
            off_path=s.rank.isnull().cast("int64").max()
        )
        conforming = per_journey.filter(per_journey.off_path == 0).anti_join(bad_moves, "journey")
        undesigned = moves.filter(~_pair_in(moves, self.design.moves))
        deviations = self.deviations(s, moves)
        parts = [
            _tally(per_journey, "journeys"),
            _tally(conforming, "conforming"),
            _tally(s, "reached", ["step"]),
            _tally(s.filter(s.from_step.isnull()), "entered", ["step"]),
            _tally(moves, "move", ["from_step", "step"]),
            _tally(undesigned, "undesigned", ["step"]),
            _tally(deviations, "deviation", list(_KEYS)),
            _tally(deviations, "kind", ["kind"]),
            _tally(deviations, "kind_step", ["kind", "step"]),
            _tally(deviations, "deviating"),
        ]
        return _union(parts), deviations

    def deviations(self, s: E.Table, moves: E.Table) -> E.Table:
        """One row per deviation occurrence: kind, move, stage, journey and customer."""
        d = self.design

        def occurrences(
            t: E.Table, kind: DeviationKind, stage: str | None = None, *, repeat: bool = False
        ) -> E.Table:
            return t.select(
                kind=E.literal(kind, type="string"),
                from_step=t.step if repeat else t.from_step,
                step=t.step,
                stage=E.literal(stage, type="string") if stage else E.null().cast("string"),
                journey=t.journey,
                customer_key=t.customer_key,
            )

        parts = []
        for stage in d.bound_stages:
            k = d.stage_order[stage]
            skipped = moves.filter((moves.from_stage < k) & (moves.stage_ord > k))
            parts.append(occurrences(skipped, "stage_skipped", stage))
        switched = moves.filter(
            moves.channel.notnull()
            & moves.from_channel.notnull()
            & (moves.channel != moves.from_channel)
            & _pair_in(moves, d.same_channel_moves())
        )
        parts.append(occurrences(switched, "channel_switch"))
        contacts = s.filter(s.contact)
        again = contacts.t.lead().over(
            E.window(group_by=[contacts.customer_key, contacts.step], order_by=contacts.seq)
        )
        contacts = contacts.mutate(again_t=again)
        repeated = contacts.filter(
            contacts.again_t.notnull() & ((contacts.again_t - contacts.t) <= self.within)
        )
        parts.append(occurrences(repeated, "repeat_contact", repeat=True))
        parts.append(occurrences(moves.filter(moves.step_index < moves.from_index), "extra_loop"))
        designed = moves.filter(_pair_in(moves, d.moves))
        designed = designed.mutate(took=designed.t - designed.from_t)
        if self.late_after is not None:
            late = designed.filter(designed.took > self.late_after)
        else:
            p90 = designed.group_by(["from_step", "step"]).agg(p90=designed.took.quantile(0.9))
            p90 = p90.select(p_from="from_step", p_step="step", p90="p90")
            joined = designed.join(
                p90, [designed.from_step == p90.p_from, designed.step == p90.p_step]
            )
            late = joined.filter(joined.took > joined.p90)
        parts.append(occurrences(late, "late_handoff"))
        return _union(parts)

    def examples(self, deviations: E.Table) -> E.Table:
        """The first few customer keys of every deviation group."""
        keyed = deviations.select(*_KEYS, "customer_key").distinct()
        w = E.window(group_by=[keyed[k] for k in _KEYS], order_by=keyed.customer_key)
        ranked = keyed.mutate(example=E.row_number().over(w))
        return ranked.filter(ranked.example < self.spec.examples)


# -- in Python: the aggregates into a result ---------------------------------------------------


def _rate(part: int, whole: int | None) -> float | None:
    return round(part / whole, 6) if whole else None


def _label(kind: DeviationKind, key: tuple[Any, ...], design: _Design) -> str:
    _, source, target, stage = key
    if kind == "stage_skipped":
        name = design.stage_names.get(stage, stage)
        return f"Skipped the {name} stage ({source} -> {target})"
    if kind == "channel_switch":
        return f"Unexpected channel switch from {source} to {target}"
    if kind == "repeat_contact":
        return f"Repeat contact at {target}"
    if kind == "extra_loop":
        return f"Went back from {source} to {target}"
    return f"Late handoff from {source} to {target}"


def conformance(journeys: Journeys, spec: ConformanceSpec) -> Conformance:
    """Check ``spec.journey_map`` against the journeys in scope."""
    if spec.top < 0 or spec.examples < 0:
        raise JourneylensError("conformance: top and examples must not be negative")
    design = _Design.of(spec)
    plan = _Plan(journeys, spec, design)
    engine = journeys.engine
    with cached(journeys, plan.sequence()) as seq:
        facts, deviations = plan.facts(seq)
        rows = engine.to_arrow(facts).to_pylist()
        example_rows = (
            engine.to_arrow(plan.examples(deviations)).to_pylist() if spec.examples else []
        )

    by: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        by[r["what"]][tuple(r[k] for k in _KEYS)] = r
    none = (None, None, None, None)

    def count(what: str, key: tuple[Any, ...] = none, measure: str = "journeys") -> int:
        row = by[what].get(key)
        return int(row[measure] or 0) if row else 0

    examples: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for r in sorted(example_rows, key=lambda r: r["customer_key"]):
        examples[tuple(r[k] for k in _KEYS)].append(r["customer_key"])

    steps: dict[str, StepFitness] = {}
    for step in design.steps:
        pred = design.predecessor[step.id]
        reached = count("reached", (None, None, step.id, None))
        pred_reached = count("reached", (None, None, pred, None)) if pred else None
        in_order = count("move", (None, pred, step.id, None)) if pred else None
        undesigned = count("undesigned", (None, None, step.id, None))
        steps[step.id] = StepFitness(
            step=step.id,
            stage=step.stage,
            on_path=step.id in design.path,
            reached=reached,
            entered=count("entered", (None, None, step.id, None)),
            predecessor=pred,
            predecessor_reached=pred_reached,
            next_in_order=in_order,
            fitness=_rate(in_order or 0, pred_reached) if pred else None,
            from_undesigned=undesigned,
            from_undesigned_share=_rate(undesigned, reached),
            deviations={
                kind: n
                for kind in DEVIATION_KINDS
                if (n := count("kind_step", (kind, None, step.id, None)))
            },
        )

    found = []
    for key, r in by["deviation"].items():
        kind: DeviationKind = key[0]
        found.append(
            Deviation(
                kind=kind,
                label=_label(kind, key, design),
                from_step=key[1],
                step=key[2],
                stage=key[3],
                designed=(key[1], key[2]) in design.moves,
                journeys=int(r["journeys"]),
                customers=int(r["customers"]),
                occurrences=int(r["n"]),
                examples=tuple(examples.get(key, ())),
            )
        )
    kind_order = {k: i for i, k in enumerate(DEVIATION_KINDS)}
    found.sort(
        key=lambda d: (
            -d.journeys,
            -d.occurrences,
            kind_order[d.kind],
            d.from_step or "",
            d.step,
            d.stage or "",
        )
    )
    by_kind = {
        kind: DeviationTotal(
            kind=kind,
            label=KIND_LABELS[kind],
            journeys=count("kind", (kind, None, None, None)),
            customers=count("kind", (kind, None, None, None), "customers"),
            occurrences=count("kind", (kind, None, None, None), "n"),
        )
        for kind in DEVIATION_KINDS
    }
    total = count("journeys")
    conforming = count("conforming")
    return Conformance(
        map_id=spec.journey_map.id,
        path_id=design.path_id,
        path=design.path,
        journeys=total,
        customers=count("journeys", measure="customers"),
        conforming=conforming,
        conformance=_rate(conforming, total),
        deviating=count("deviating"),
        steps=steps,
        deviations=tuple(found[: spec.top]),
        by_kind=by_kind,
        repeat_within_s=plan.within,
        late_after_s=plan.late_after,
    )


__all__ = [
    "DEVIATION_KINDS",
    "KIND_LABELS",
    "Conformance",
    "ConformanceSpec",
    "Deviation",
    "DeviationKind",
    "DeviationTotal",
    "StepFitness",
    "by_step",
    "cached",
    "conformance",
    "designed_moves",
    "designed_path",
    "step_sequence",
]
