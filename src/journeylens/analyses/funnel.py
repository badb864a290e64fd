"""Funnels: how many journeys get through a sequence of steps, where they stop, how fast.

The rules follow PostHog's funnels (R-numbers: its rules as read from its funnel code and
tests), so analysts moving from such a tool get the numbers they expect; where journeylens
departs or adds to them, it says so here.

Counting unit
    A journey: the customer's whole history, or with ``gap`` an episode split at inactivity
    (then one customer can count several times). ``customers`` is reported beside it.

Steps (R1)
    Selectors (``activity == "cart" and channel == "web"``). An event may match several steps
    but fills at most one step of an attempt.

Ordered funnels (R2, R3, R4, R11)
    A *chain* is a run of distinct events e_k0 ... e_k (event e_i matches step i) with
    non-decreasing timestamps and ``t(e_k) - t(e_k0) <= window`` (inclusive, absolute seconds).
    Events between chain events do not matter; events at one instant may fill consecutive
    steps in any order (an exact assignment: each event fills one step). For each level (last
    step reached) and end instant the *attempt* is the chain with the latest start, so a later
    step-1 event rescues a conversion a first attempt timed out on. A journey reaches the
    furthest level of its attempts; it counts at every step up to it (cumulative, R10). Its
    *recorded* attempt is the one reaching that level first, and its step times are the
    earliest ones any such chain allows (R11); durations come from it.

Strict funnels (R5, R6)
    As ordered, on all events of the journey: no event may fall strictly between two
    consecutive chain events (events at a chain event's instant do not break it).

Exclusions (R7, R8, R9)
    ``Exclusion(match, from_step, to_step)``, ``from_step < to_step`` (default: the whole
    funnel). An exclusion event at an instant with a step event is ignored (R9). A chain may not
    pass an exclusion between steps ``from_step`` and ``to_step`` (it restarts from
    ``from_step`` after it, as PostHog's per-step re-entry does). An attempt that completed
    ``from_step`` but not ``to_step`` is *hit* when an exclusion follows within its window
    (strict: as the very next event); it is credited one more step if it completes one after
    the exclusion (never in strict funnels). If the furthest credit of the journey belongs only
    to hit attempts, the journey is removed from every step (R8, R15) and counted as
    ``excluded``.

Any-order funnels (R12, R13)
    Row k is "completed k steps": the most distinct steps, each filled by a distinct event, in
    a window ``[t(e), t(e) + window]`` anchored at any step event. An exclusion (whole funnel
    only) inside a window loses it unless all steps were done before it; the journey is not
    removed. Time to row k is between the instants the window first had k-1 and k steps done
    (R14). Steps that may match the same event must then be identical (a repeated step);
    other overlaps are rejected, as the counting needs them apart.

Optional steps (journeylens)
    An optional step never blocks: attempts are built from the required steps. It counts for
    a journey whose recorded attempt reached the required step p before it, when an event
    matching it (and neither p nor the next required step q) happens between the instants of
    p and q (both included), or up to the end of the window when q was not reached. Each
    optional step is judged on its own; their order is not enforced. Time to it is from p;
    time to q is from p too. The first step cannot be optional; strict and any-order funnels
    take none.

Open funnels (journeylens)
    ``entry="open"``: a journey enters at the first step it performs (the lowest required step
    matched at the earliest instant with a step event) and is evaluated from there as a closed
    funnel over the remaining steps, so customers who arrive mid-funnel are counted from where
    they came in. Conversion "from first" and "from previous" count only journeys seen at both
    steps. Closed (default) needs step 1 (R3).

Per step
    ``entered`` (reached it), ``converted`` (of those, reached the next required step),
    ``dropped`` (= entered - converted: the last step they reached; PostHog lists the same
    people under the step they failed to reach), conversion from the first and the previous
    step, and mean, median and p90 time from the previous required step. Zero durations are
    left out as in PostHog (R14); the p90 is journeylens' own.

Breakdown (R16)
    By an event field or ``attr.<key>``: each journey takes the value of its first
    (``first_touch``) or last (``last_touch``) funnel event with a non-empty value (all events
    in strict funnels), ``""`` when none; the funnel itself is evaluated once per journey.

Out of scope
    Date ranges and global filters (R5: filter the events before preparing journeys),
    ``all_events`` and step attribution (R16), the time-to-convert histogram (R17) and funnel
    trends (R18, R19). PostHog's months of 31 days: windows take s, m, h, d, w.

How it runs
    Events matching a step or an exclusion are read once (the filter is pushed into the scan;
    strict funnels also keep events that share an instant, to know each instant's
    neighbours); events that tie are grouped into instants. Without exclusions the earliest
    next event is always right, so every step-1 instant hops greedily to the next instant
    holding the step due: one window pass for the "next instant with step i" pointers, one
    equi-join per step, one ranking. With exclusions, the latest start per level and instant
    is a dynamic programme over levels, one window pass each (partitioned by exclusion
    zones), and the recorded attempt is read back through predecessor pointers with
    equi-joins. Ties within an instant are an exact assignment (Hall's condition over the
    steps that may share an event, proved apart from their equality lists and globs). Any-
    order windows count each step's (or repeated step's) next occurrences. No ASOF joins,
    no UDFs: the same expressions on DuckDB and Spark, and only the per-step aggregates come
    back to Python.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from journeylens.analyses.common import parse_duration, plain, seconds
from journeylens.engine import Journeys, compile_text
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError
from journeylens.model.selector import And, Compare, In, Pattern, Selector, parse_selector

Order = Literal["ordered", "strict", "any_order"]
Entry = Literal["closed", "open"]
Attribution = Literal["first_touch", "last_touch"]
ORDERS: tuple[Order, ...] = ("ordered", "strict", "any_order")
ENTRIES: tuple[Entry, ...] = ("closed", "open")
ATTRIBUTIONS: tuple[Attribution, ...] = ("first_touch", "last_touch")
#: Event fields a breakdown may name besides ``attr.<key>``.
BREAKDOWN_FIELDS = ("activity", "channel", "touchpoint", "device", "source", "language")
DEFAULT_WINDOW = "14d"
MAX_STEPS = 20
#: Largest group of steps that may match the same event without being identical.
MAX_OVERLAP = 8
_NEVER = 2**62  # a time after every other, in ms


class FunnelError(JourneylensError):
    """A funnel that cannot be evaluated as specified."""


@dataclass(frozen=True)
class FunnelStep:
    """One step: a selector, a display ``name`` (default: the selector) and ``optional``."""

    match: str
    name: str | None = None
    optional: bool = False

    @property
    def label(self) -> str:
        return self.name or self.match


@dataclass(frozen=True)
class Exclusion:
    """Journeys must not do ``match`` between ``from_step`` and ``to_step`` (indices from 0 or
    step names; default the whole funnel)."""

    match: str
    from_step: int | str = 0
    to_step: int | str | None = None


@dataclass(frozen=True)
class FunnelSpec:
    """A funnel; steps may be given as plain selector text. ``window`` and ``gap`` are seconds
    or durations such as ``"30m"`` or ``"7d"``."""

    steps: tuple[FunnelStep | str, ...]
    order: Order = "ordered"
    window: float | str = DEFAULT_WINDOW
    exclusions: tuple[Exclusion, ...] = ()
    entry: Entry = "closed"
    breakdown: str | None = None
    attribution: Attribution = "first_touch"
    gap: float | str | None = None


@dataclass(frozen=True)
class StepStats:
    """One row: ``entered`` the step, ``converted`` to the next required step, ``dropped``
    (stopped here), conversion rates, and times from the previous required step (seconds,
    zero durations left out)."""

    index: int
    name: str
    match: str | None
    optional: bool
    entered: int
    converted: int | None
    dropped: int | None
    conversion_from_first: float | None
    conversion_from_previous: float | None
    mean_s: float | None
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class FunnelTable:
    """The funnel for all journeys (``value`` None) or for one breakdown value."""

    value: str | None
    journeys: int
    customers: int
    excluded: int
    steps: tuple[StepStats, ...]


@dataclass(frozen=True)
class FunnelResult:
    """The funnel over all journeys (``total``) and, with a breakdown, per value (sorted)."""

    order: Order
    entry: Entry
    window_s: float
    total: FunnelTable
    breakdown_by: str | None = None
    breakdown: tuple[FunnelTable, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


# -- the spec, checked -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    spec: FunnelSpec
    steps: tuple[FunnelStep, ...]
    required: tuple[int, ...]  # user indices of the required steps
    window_ms: int
    gap: float | None
    exclusions: tuple[tuple[str, int, int], ...]  # (match, from, to), required numbering
    components: tuple[tuple[int, ...], ...]  # required steps that may share an event
    kinds: tuple[str, ...]  # per component: single, class (identical) or general
    share: bool = False  # cache tables read several times (engines without shared CTEs)

    @property
    def m(self) -> int:
        return len(self.required)

    @property
    def strict(self) -> bool:
        return self.spec.order == "strict"

    @property
    def open(self) -> bool:
        return self.spec.entry == "open"

    def neighbours(self, step: int) -> tuple[int, int | None]:
        """Required indices of the required steps before and after an optional step."""
        before = max(r for r, i in enumerate(self.required) if i < step)
        after = [r for r, i in enumerate(self.required) if i > step]
        return before, (after[0] if after else None)


def _duration(value: float | str | None, what: str) -> float | None:
    try:
        return parse_duration(value)
    except JourneylensError as exc:
        raise FunnelError(f"{what}: {exc}") from exc


def _plan(spec: FunnelSpec, journeys: Journeys | None = None) -> _Plan:
    steps = tuple(s if isinstance(s, FunnelStep) else FunnelStep(s) for s in spec.steps)
    if spec.order not in ORDERS:
        raise FunnelError(f"order {spec.order!r}: expected one of {', '.join(ORDERS)}")
    if spec.entry not in ENTRIES:
        raise FunnelError(f"entry {spec.entry!r}: expected one of {', '.join(ENTRIES)}")
    if spec.attribution not in ATTRIBUTIONS:
        raise FunnelError(f"attribution {spec.attribution!r}: expected {' or '.join(ATTRIBUTIONS)}")
    if not 2 <= len(steps) <= MAX_STEPS:
        raise FunnelError(f"a funnel needs 2 to {MAX_STEPS} steps, got {len(steps)}")
    selectors: list[Selector] = []
    for i, step in enumerate(steps):
        try:
            selectors.append(parse_selector(step.match))
        except JourneylensError as exc:
            raise FunnelError(f"step {i} ({step.label}): {exc}") from exc
    if steps[0].optional:
        raise FunnelError("the first step cannot be optional: journeys enter the funnel there")
    if any(s.optional for s in steps) and spec.order != "ordered":
        raise FunnelError(f"optional steps need an ordered funnel, not {spec.order}")
    if spec.order == "any_order" and spec.entry == "open":
        raise FunnelError("an any-order funnel has no entry step: entry must be closed")
    window = _duration(spec.window, "window")
    if window is None:
        raise FunnelError("the conversion window is missing")
    required = tuple(i for i, s in enumerate(steps) if not s.optional)
    names = [s.label for s in steps]

    def resolve(ref: int | str | None, default: int, what: str, text: str) -> int:
        if ref is None:
            return default
        if isinstance(ref, str):
            if ref not in names:
                raise FunnelError(f"exclusion {text!r}: {what} {ref!r} is not a step name")
            return names.index(ref)
        if not 0 <= ref < len(steps):
            raise FunnelError(
                f"exclusion {text!r}: {what} {ref} is not a step (0 to {len(steps) - 1})"
            )
        return ref

    exclusions = []
    for x in spec.exclusions:
        try:
            selector = parse_selector(x.match)
        except JourneylensError as exc:
            raise FunnelError(f"exclusion {x.match!r}: {exc}") from exc
        start = resolve(x.from_step, 0, "from_step", x.match)
        end = resolve(x.to_step, required[-1], "to_step", x.match)
        if start >= end:
            raise FunnelError(
                f"exclusion {x.match!r}: from_step ({start}) must come before to_step ({end})"
            )
        for ref in (start, end):
            if steps[ref].optional:
                raise FunnelError(
                    f"exclusion {x.match!r}: step {ref} is optional; pick required steps"
                )
        if spec.order == "any_order" and (start, end) != (0, len(steps) - 1):
            raise FunnelError(
                f"exclusion {x.match!r}: any-order funnels only take exclusions over the "
                "whole funnel"
            )
        for i in range(start, end + 1):
            if selectors[i] == selector:
                raise FunnelError(
                    f"exclusion {x.match!r} is step {i} itself, inside its range {start}-{end}"
                )
        exclusions.append((x.match, required.index(start), required.index(end)))
    if spec.breakdown is not None:
        by = spec.breakdown
        if not (by in BREAKDOWN_FIELDS or (by.startswith("attr.") and len(by) > 5)):
            known = ", ".join([*BREAKDOWN_FIELDS, "attr.<key>"])
            raise FunnelError(f"breakdown {by!r}: expected one of {known}")
    components, kinds = _components([selectors[i] for i in required])
    for comp, kind in zip(components, kinds, strict=True):
        names_ = ", ".join(str(required[r]) for r in comp)
        if kind == "general" and spec.order == "any_order":
            raise FunnelError(
                f"steps {names_} may match the same event: an any-order funnel needs them "
                "identical or told apart (e.g. by activity)"
            )
        if kind == "general" and len(comp) > MAX_OVERLAP:
            raise FunnelError(f"steps {names_} may all match the same event: at most {MAX_OVERLAP}")
    return _Plan(
        spec,
        steps,
        required,
        round(window * 1000),
        _duration(spec.gap, "gap"),
        tuple(exclusions),
        components,
        kinds,
        # DuckDB computes a CTE read twice once; Spark recomputes it for every reader
        share=journeys is not None and journeys.engine.name == "spark",
    )


def _shared(t: E.Table, plan: _Plan) -> E.Table:
    """A table the funnel reads several times, cached where the engine would recompute it
    (lazily on Spark, released with the last expression holding it)."""
    return t.cache() if plan.share else t


def _literals(selector: Selector) -> tuple[dict[str, list[set[Any]]], dict[str, list[Pattern]]]:
    """Top-level equality sets and globs per field: what a selector surely requires."""
    sets: dict[str, list[set[Any]]] = {}
    globs: dict[str, list[Pattern]] = {}
    for item in selector.items if isinstance(selector, And) else (selector,):
        if isinstance(item, Compare) and item.op == "==":
            sets.setdefault(str(item.field), []).append({item.value})
        elif isinstance(item, In) and not item.negated:
            sets.setdefault(str(item.field), []).append(set(item.values))
        elif isinstance(item, Pattern) and item.kind == "glob":
            globs.setdefault(str(item.field), []).append(item)
    return sets, globs


def _kind(values: set[Any]) -> str | None:
    kinds = {"bool" if isinstance(v, bool) else type(v).__name__ for v in values}
    kinds = {"number" if k in ("int", "float") else k for k in kinds}
    return kinds.pop() if len(kinds) == 1 else None


def _disjoint(a: Selector, b: Selector) -> bool:
    """True when no event can match both (proved from equality lists and globs)."""
    sets_a, globs_a = _literals(a)
    sets_b, globs_b = _literals(b)
    for name in sets_a.keys() & sets_b.keys():
        for x in sets_a[name]:
            for y in sets_b[name]:
                if _kind(x) is not None and _kind(x) == _kind(y) and not (x & y):
                    return True
    for sets, globs in ((sets_a, globs_b), (sets_b, globs_a)):
        for name in sets.keys() & globs.keys():
            for values in sets[name]:
                for glob in globs[name]:
                    flags = re.IGNORECASE if glob.ignore_case else 0
                    if _kind(values) == "str" and not any(
                        re.search(glob.regex(), v, flags) for v in values
                    ):
                        return True
    return False


def _components(
    selectors: list[Selector],
) -> tuple[tuple[tuple[int, ...], ...], tuple[str, ...]]:
    parent = list(range(len(selectors)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(selectors)), 2):
        if not _disjoint(selectors[i], selectors[j]):
            parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(selectors)):
        groups.setdefault(root(i), []).append(i)
    components = tuple(tuple(g) for g in sorted(groups.values()))
    kinds = tuple(
        "single"
        if len(c) == 1
        else "class"
        if all(selectors[i] == selectors[c[0]] for i in c)
        else "general"
        for c in components
    )
    return components, kinds


# -- events and instants ---------------------------------------------------------------------


def _ms(seconds: E.Value) -> E.Value:
    """Epoch seconds (millisecond precision) as exact integer milliseconds."""
    return (seconds * 1000).round().cast("int64")


def _marked(journeys: Journeys, plan: _Plan) -> E.Table:
    """The events that can matter (matching a step or an exclusion), with a flag per step
    (``m<i>``) and exclusion (``x<j>``); strict funnels also get the neighbouring instants.

    The filter comes first, on the stored columns, so the engine pushes it into the scan."""
    engine = journeys.engine
    ev = journeys.events(plan.gap)
    matches = [step.match for step in plan.steps] + [x for x, _, _ in plan.exclusions]
    keep = _any([compile_text(engine, ev, text) for text in matches])
    if plan.strict:
        # Every event of an instant holding two or more stays, so each instant knows the
        # instants before and after it over all events; lone unmatched events can go.
        keep = keep | (ev.prev_t == ev.t).fill_null(False) | (ev.next_t == ev.t).fill_null(False)
    ev = ev.filter(keep)
    cols: dict[str, E.Value] = {
        "journey": ev.journey,
        "pos": ev.pos,
        "ts": ev.ts,
        "ms": _ms(ev.t),
        # alone at its instant over all events, so also among the kept ones
        "alone": (ev.prev_t.isnull() | (ev.prev_t < ev.t))
        & (ev.next_t.isnull() | (ev.next_t > ev.t)),
    }
    if plan.strict:  # the instants before and after, over all events: what adjacency needs
        cols["pin"] = _ms(ev.prev_t)
        cols["nin"] = _ms(ev.next_t)
    for i, step in enumerate(plan.steps):
        cols[f"m{i}"] = compile_text(engine, ev, step.match)
    for j, (match, _, _) in enumerate(plan.exclusions):
        cols[f"x{j}"] = compile_text(engine, ev, match)
    if plan.spec.breakdown is not None and not plan.strict:
        cols["bkv"] = _breakdown_value(journeys, ev, plan)
    return _shared(ev.select(**cols), plan)


def _flags_of(marked: E.Table, plan: _Plan) -> list[E.BooleanValue]:
    """Does the event match a step or an exclusion?"""
    flags = [marked[f"m{i}"] for i in range(len(plan.steps))]
    return flags + [marked[f"x{j}"] for j in range(len(plan.exclusions))]


def _breakdown_value(journeys: Journeys, ev: E.Table, plan: _Plan) -> E.Value:
    by = plan.spec.breakdown
    assert by is not None
    if by.startswith("attr."):
        return journeys.engine.json_text(ev.attributes, by[5:]).cast("string")
    return ev[by].cast("string")


def _touch(value: E.Value, order: E.Value, plan: _Plan) -> E.Value:
    """The first (or last) non-empty ``value`` by ``order``: R16's attribution."""
    present = value.notnull() & (value != "")
    pick = value.argmax if plan.spec.attribution == "last_touch" else value.argmin
    return pick(order, where=present)


def _strict_breakdown(journeys: Journeys, plan: _Plan) -> E.Table:
    """Strict funnels take the breakdown value from all events (R5, R16)."""
    ev = journeys.events(plan.gap)
    valued = ev.select(journey=ev.journey, pos=ev.pos, bkv=_breakdown_value(journeys, ev, plan))
    return valued.group_by(v_journey=valued.journey).agg(v_bk=_touch(valued.bkv, valued.pos, plan))


def _customer(journey: E.StringValue, plan: _Plan) -> E.StringValue:
    """The customer of a journey id (``customer#episode`` when split at a gap)."""
    return journey if plan.gap is None else journey.re_extract(r"^(.*)#[0-9]+$", 1)


def _hall(subset: tuple[int, ...]) -> str:
    return "h" + "_".join(map(str, subset))


def _general_subsets(plan: _Plan) -> list[tuple[int, ...]]:
    found = []
    for comp, kind in zip(plan.components, plan.kinds, strict=True):
        if kind == "general":
            for size in range(2, len(comp) + 1):
                found += list(itertools.combinations(comp, size))
    return found


Fold = tuple[E.Value, str]  # a per-event value and how an instant folds it: sum, min or max


def _instants(marked: E.Table, plan: _Plan, extra: dict[str, Fold]) -> E.Table:
    """One row per journey and instant: step counts, exclusion flags, breakdown value.

    Most events are alone at their instant (their neighbours over all events are earlier and
    later), so only events that tie are grouped; the others are their own instant."""
    as_int = "int64"
    folds: dict[str, Fold] = {"ts": (marked.ts, "min")}
    for r, i in enumerate(plan.required):
        folds[f"c{r}"] = (marked[f"m{i}"].cast(as_int), "sum")
    for subset in _general_subsets(plan):
        hit = _any([marked[f"m{plan.required[r]}"] for r in subset])
        folds[_hall(subset)] = (hit.cast(as_int), "sum")
    for j in range(len(plan.exclusions)):
        folds[f"xs{j}"] = (marked[f"x{j}"].cast(as_int), "max")
    if plan.exclusions:
        stepish = _any([marked[f"m{i}"] for i in range(len(plan.steps))])
        folds["stepish"] = (stepish.cast(as_int), "max")
    folds.update(extra)
    aggs: dict[str, E.Value] = {}
    rows: dict[str, E.Value] = {}
    for name, (value, how) in folds.items():
        folded = getattr(value, how)()
        aggs[name] = folded.cast(value.type()) if how == "sum" else folded
        rows[name] = value
    if "bkv" in marked.columns:
        present = marked.bkv.notnull() & (marked.bkv != "")
        aggs["bk"] = _touch(marked.bkv, marked.pos, plan)
        rows["bk"] = E.ifelse(present, marked.bkv, E.null().cast("string"))
    tied = marked.filter(~marked.alone).group_by(["journey", "ms"]).agg(**aggs)
    alone = marked.filter(marked.alone).select("journey", "ms", **rows)
    grouped = alone.cast(tied.schema()).union(tied)
    return grouped.mutate(
        **{
            f"xe{j}": (grouped[f"xs{j}"] == 1) & (grouped.stepish == 0)
            for j in range(len(plan.exclusions))
        }
    )


def _any(values: list[E.BooleanValue]) -> E.BooleanValue:
    result = values[0]
    for value in values[1:]:
        result = result | value
    return result


def _all(values: list[E.BooleanValue]) -> E.BooleanValue:
    result = values[0]
    for value in values[1:]:
        result = result & value
    return result


# -- ordered and strict ----------------------------------------------------------------------

_OFFSET = 2**46  # added to epoch ms, positive for any date a journey carries
_LEVEL = 2**47  # level * _LEVEL - (ms + _OFFSET) orders by level, then by earlier instant


def _feasible(g: E.Table, plan: _Plan, a: int, b: int) -> E.BooleanValue:
    """Can one instant fill steps a..b-1 with distinct events (Hall's condition)?"""
    block = set(range(a, b))
    conditions: list[E.BooleanValue] = []
    for comp, kind in zip(plan.components, plan.kinds, strict=True):
        inside = sorted(block & set(comp))
        if not inside:
            continue
        if kind == "single":
            conditions.append(g[f"c{inside[0]}"] >= 1)
        elif kind == "class":
            conditions.append(g[f"c{comp[0]}"] >= len(inside))
        else:
            for size in range(1, len(inside) + 1):
                for subset in itertools.combinations(inside, size):
                    name = f"c{subset[0]}" if size == 1 else _hall(subset)
                    conditions.append(g[name] >= size)
    return _all(conditions)


def _active(plan: _Plan, level: int) -> tuple[int, ...]:
    """Exclusions that hit an attempt whose last step is ``level - 1``."""
    return tuple(j for j, (_, f, t) in enumerate(plan.exclusions) if f <= level - 1 < t)


def _crossing(plan: _Plan, step: int) -> tuple[int, ...]:
    """Exclusions a chain may not pass on its way into ``step``."""
    return tuple(j for j, (_, f, t) in enumerate(plan.exclusions) if f < step <= t)


def _xe(g: E.Table, js: tuple[int, ...]) -> E.BooleanValue:
    """An effective exclusion event of any of ``js`` at this instant."""
    return _any([g[f"xe{j}"] for j in js])


def _set_name(prefix: str, js: tuple[int, ...]) -> str:
    return prefix + "_".join(map(str, js))


def _zone_name(plan: _Plan, step: int) -> str | None:
    js = _crossing(plan, step)
    return _set_name("z", js) if js else None


def _ordered(journeys: Journeys, plan: _Plan) -> E.Table:
    """Ordered and strict funnels: greedy hops without exclusions, the levels with them."""
    marked = _marked(journeys, plan)
    extra: dict[str, Fold] = {}
    for o, step in enumerate(plan.steps):
        if step.optional:
            p, q = plan.neighbours(o)
            ok = marked[f"m{o}"] & ~marked[f"m{plan.required[p]}"]
            if q is not None:
                ok = ok & ~marked[f"m{plan.required[q]}"]
            extra[f"oc{o}"] = (ok.cast("int64"), "sum")
    if plan.strict:
        extra["pin"] = (E.ifelse(marked.pin < marked.ms, marked.pin, E.null()), "min")
        extra["nin"] = (E.ifelse(marked.nin > marked.ms, marked.nin, E.null()), "max")
        extra["matters"] = (_any(_flags_of(marked, plan)), "max")
    g = _instants(marked, plan, extra)
    if plan.strict:
        g = g.filter(g.matters)
    if not plan.exclusions:
        return _ordered_outcome(_with_breakdown(_greedy(g, plan), journeys, plan), plan)
    dp = _levels(_dp_base(g, plan), plan)
    side = _side(g, plan)
    inst = dp.join(side, ["journey", "ms"])
    inst = _shared(_outcome_per_instant(inst, plan), plan)
    score = inst.kc * _LEVEL - (inst.ms + _OFFSET)
    aggs: dict[str, E.Value] = {
        "K": inst.kc.max(),
        "KE": inst.ke.max(),
        "k0": inst.k0.max(),
        "best": score.max(where=inst.kc > 0),
    }
    if "bk" in inst.columns:
        aggs["bk"] = _touch(inst.bk, inst.ms, plan)
    per_journey = inst.group_by("journey").agg(**aggs)
    per_journey = per_journey.filter((per_journey.K > 0) | (per_journey.KE > 0))
    recorded = per_journey.mutate(at=per_journey.K * _LEVEL - per_journey.best - _OFFSET)
    return _ordered_outcome(_with_breakdown(_backtrack(recorded, inst, plan), journeys, plan), plan)


def _with_breakdown(j: E.Table, journeys: Journeys, plan: _Plan) -> E.Table:
    """Strict funnels take the value from all events; the others have it already."""
    if not (plan.strict and plan.spec.breakdown is not None):
        return j
    values = _strict_breakdown(journeys, plan)
    joined = j.left_join(values, j.journey == values.v_journey)
    return joined.select(*[c for c in j.columns if c != "bk"], bk=joined.v_bk)


def _greedy(g: E.Table, plan: _Plan) -> E.Table:
    """Without exclusions the earliest next instant is always right: from every start, hop
    to the next instant holding the step due (``R<a>``: how far one instant gets from step
    a). A journey's record is the start reaching furthest, first, and latest (R3, R11)."""
    m, w = plan.m, plan.window_ms
    ordered = E.window(group_by=g.journey, order_by=g.ms)
    after = E.window(group_by=g.journey, order_by=g.ms, following=(1, None))
    onward = E.window(group_by=g.journey, order_by=g.ms, following=(0, None))
    cols: dict[str, E.Value] = {"k0": _entry_step(g, plan)}
    if plan.strict:  # only the very next instant of the journey may continue a chain
        following = g.ms.lead().over(ordered)
        cols["nx"] = E.ifelse(following == g.nin, following, E.null())
    else:
        for r in range(m):
            cols[f"nx{r}"] = E.ifelse(g[f"c{r}"] > 0, g.ms, E.null()).min().over(after)
    for a in range(m):
        cols[f"R{a}"] = E.cases(*[(_feasible(g, plan, a, b), b) for b in range(m, a, -1)], else_=a)
    optional = [(o, plan.neighbours(o)[0]) for o, s in enumerate(plan.steps) if s.optional]
    for o, _ in optional:
        cols[f"nxo{o}"] = E.ifelse(g[f"oc{o}"] > 0, g.ms, E.null()).min().over(onward)
    hop = _shared(g.select("journey", "ms", "ts", **cols), plan)

    def due(row: dict[str, E.Value], level: E.Value) -> E.Value:
        """The next instant to visit from ``row`` with step ``level`` due."""
        if plan.strict:
            return row["nx"]
        return E.cases(*[(level == r, row[f"nx{r}"]) for r in range(m)], else_=None)

    def reach(row: dict[str, E.Value], level: E.Value) -> E.Value:
        return E.cases(*[(level == a, row[f"R{a}"]) for a in range(m)], else_=level)

    first = {c: hop[c] for c in hop.columns}
    entry = hop.filter(reach(first, hop.k0) > hop.k0)  # step k0 happens at this instant
    row = {c: entry[c] for c in entry.columns}
    lv = reach(row, entry.k0)
    state: dict[str, E.Value] = {
        "journey": entry.journey,
        "k0": entry.k0,
        "start": entry.ms,
        "lv": lv,
        "next": E.ifelse(lv < m, due(row, lv), E.null()),
        "last_at": entry.ts,
        **{f"tau{r}": E.ifelse((r >= entry.k0) & (r < lv), entry.ms, E.null()) for r in range(m)},
        **{
            f"ov{o}": E.ifelse((p >= entry.k0) & (p < lv), entry[f"nxo{o}"], E.null())
            for o, p in optional
        },
    }
    cur = entry.select(**state)
    hop_table = hop.select(**{f"h_{c}": hop[c] for c in hop.columns})
    for _ in range(m - 1):
        hops = hop_table.view()  # a fresh alias per hop: Ibis rejects one twice in a chain
        joined = cur.left_join(hops, [cur.journey == hops.h_journey, cur.next == hops.h_ms])
        row = {c[2:]: joined[c] for c in hop_table.columns}
        found = joined.h_ms.notnull() & (joined.h_ms - joined.start <= w)
        # The new level once, in its own projection: inlined into every column below it made
        # the query (and Ibis' compile time, 0.9 s of a 1 M-event funnel) several times larger.
        joined = joined.mutate(_lv=E.ifelse(found, reach(row, joined.lv), joined.lv))
        row = {c[2:]: joined[c] for c in hop_table.columns}
        new_lv = joined._lv
        moved = new_lv > joined.lv
        step: dict[str, E.Value] = {
            "lv": new_lv,
            "next": E.ifelse(moved & (new_lv < m), due(row, new_lv), E.null()),
            "last_at": E.ifelse(moved, row["ts"], joined.last_at),
        }
        for r in range(m):
            here = moved & (r >= joined.lv) & (r < new_lv)
            step[f"tau{r}"] = E.ifelse(here, row["ms"], joined[f"tau{r}"])
        for o, p in optional:
            here = moved & (p >= joined.lv) & (p < new_lv)
            step[f"ov{o}"] = E.ifelse(here, row[f"nxo{o}"], joined[f"ov{o}"])
        cur = joined.select(*[c for c in cur.columns if c not in step], **step).view()
    done_at = E.cases(*[(cur.lv == b, cur[f"tau{b - 1}"]) for b in range(1, m + 1)])
    best = E.window(group_by=cur.journey, order_by=[E.desc(cur.lv), done_at, E.desc(cur.start)])
    ranked = cur.mutate(rank=E.row_number().over(best))
    chosen = ranked.filter(ranked.rank == 0)
    chosen = chosen.mutate(K=chosen.lv, KE=E.literal(0, "int64")).drop("rank", "lv", "next")
    if "bk" not in g.columns:
        return chosen
    values = g.group_by(v_journey=g.journey).agg(v_bk=_touch(g.bk, g.ms, plan))
    joined = chosen.join(values, chosen.journey == values.v_journey)
    return joined.select(*chosen.columns, bk=joined.v_bk)


def _entry_step(g: E.Table, plan: _Plan) -> E.Value:
    """Closed funnels enter at step 0; open ones at the lowest step of the first instant
    holding a step."""
    if not plan.open:
        return E.literal(0, "int64")
    low = E.cases(*[(g[f"c{r}"] > 0, r) for r in range(plan.m)], else_=None)
    key = (g.ms + _OFFSET) * 64 + low
    return E.ifelse(low.notnull(), key, E.null()).min().over(E.window(group_by=g.journey)) % 64


def _dp_base(g: E.Table, plan: _Plan) -> E.Table:
    """The narrow table the levels run on: step counts, exclusion zones, entry step."""
    m = plan.m
    cols: dict[str, E.Value] = {}
    upto = E.window(group_by=g.journey, order_by=g.ms, preceding=(None, 0))
    for step in range(1, m):
        zone = _zone_name(plan, step)
        if zone is not None and zone not in cols:
            cols[zone] = _xe(g, _crossing(plan, step)).cast("int64").sum().over(upto)
    cols["k0"] = _entry_step(g, plan)
    keep = ["journey", "ms", *[f"c{r}" for r in range(m)]]
    keep += [_hall(s) for s in _general_subsets(plan)] + (["pin"] if plan.strict else [])
    return g.select(*keep, **cols)


def _side(g: E.Table, plan: _Plan) -> E.Table:
    """What the outcome needs beside the levels: exclusion look-aheads, optional steps."""
    m = plan.m
    ordered = E.window(group_by=g.journey, order_by=g.ms)
    after = E.window(group_by=g.journey, order_by=g.ms, following=(1, None))
    onward = E.window(group_by=g.journey, order_by=g.ms, following=(0, None))
    cols: dict[str, E.Value] = {}
    for level in range(1, m + 1):
        js = _active(plan, level)
        if not js:
            continue
        if plan.strict:  # the very next instant of the journey holds the exclusion
            adjacent = g.ms.lead().over(ordered) == g.nin
            nxt = _xe(g, js).lead().over(ordered)
            cols[_set_name("nx", js)] = (adjacent & nxt).fill_null(False)
        else:
            cols[_set_name("nx", js)] = E.ifelse(_xe(g, js), g.ms, E.null()).min().over(after)
            if level < m:
                cols[f"ns{level}"] = E.ifelse(g[f"c{level}"] > 0, g.ms, E.null()).min().over(onward)
    for o, step in enumerate(plan.steps):
        if step.optional:
            cols[f"nxo{o}"] = E.ifelse(g[f"oc{o}"] > 0, g.ms, E.null()).min().over(onward)
    keep = ["ts", *(["bk"] if "bk" in g.columns else []), *(["nin"] if plan.strict else [])]
    side = g.mutate(**cols) if cols else g
    more: dict[str, E.Value] = {}
    after = E.window(group_by=side.journey, order_by=side.ms, following=(1, None))
    for level in range(1, m):
        js = _active(plan, level)
        if js and not plan.strict:
            first_after = E.ifelse(_xe(side, js), side[f"ns{level}"], E.null())
            more[f"nxs{level}"] = first_after.min().over(after)
    if more:
        side = side.mutate(**more)
    names = [n for n in side.columns if n.startswith(("nx", "nxs", "nxo"))]
    return side.select("journey", "ms", *keep, *names)


def _candidates(g: E.Table, plan: _Plan, b: int) -> list[tuple[int, E.Value]]:
    """Latest start offered to level b at this instant by each a: steps a..b-1 filled here."""
    found = []
    for a in range(b):
        if a == 0:
            cand = g.ms if not plan.open else E.ifelse(g.k0 == 0, g.ms, E.null())
        elif plan.open:
            cand = E.ifelse(g.k0 == a, g.ms, E.ifelse(g.k0 < a, g[f"M{a}"], E.null()))
        else:
            cand = g[f"M{a}"]
        found.append((a, E.ifelse(_feasible(g, plan, a, b), cand, E.null())))
    return found


def _level(g: E.Table, plan: _Plan, b: int) -> dict[str, E.Value]:
    cands = _candidates(g, plan, b)
    best = cands[0][1] if len(cands) == 1 else E.greatest(*[c for _, c in cands])
    start = E.ifelse(g.ms - best <= plan.window_ms, best, E.null())
    pred = E.cases(*[(c == start, a) for a, c in reversed(cands)], else_=None)
    return {f"A{b}": start, f"pa{b}": pred}


def _levels(base: E.Table, plan: _Plan) -> E.Table:
    """The dynamic programme over levels. A<b>: the latest start of a chain whose last step
    b-1 is at this instant; pa<b>: the level it came from; pg<b>: the instant it came from.
    M<a>: the latest start at level a before this instant (in the same exclusion zone);
    P<a>: the earliest instant holding it (where the running maximum was last raised)."""
    m = plan.m
    fixed = list(base.columns)
    g = base.mutate(**_level(base, plan, 1))
    carried = ["A1", "pa1"]
    for b in range(1, m):
        if plan.strict:  # only the previous instant of the whole journey may lead here
            ordered = E.window(group_by=g.journey, order_by=g.ms)
            adjacent = g.ms.lag().over(ordered) == g.pin
            new: dict[str, E.Value] = {
                f"M{b}": E.ifelse(adjacent, g[f"A{b}"].lag().over(ordered), E.null()),
                f"P{b}": E.ifelse(adjacent, g.ms.lag().over(ordered), E.null()),
            }
        else:
            new = {f"M{b}": g[f"A{b}"].max().over(_before(g, plan, b))}
            if b > 1:
                new[f"P{b - 1}"] = _record_rows(g, plan, b - 1)
        g = g.mutate(**new)
        carried = [c for c in carried if c != f"rec{b - 1}"] + list(new)
        step: dict[str, E.Value] = _level(g, plan, b + 1)
        if not plan.strict:
            a, m_b = g[f"A{b}"], g[f"M{b}"]
            step[f"rec{b}"] = a.notnull() & (m_b.isnull() | (a > m_b))
        g = g.select(*fixed, *carried, **step)
        carried += list(step)
    if not plan.strict and m > 1:
        g = g.mutate(**{f"P{m - 1}": _record_rows(g, plan, m - 1)})
    pointers = {
        f"pg{b}": E.cases(*[(g[f"pa{b}"] == a, g[f"P{a}"]) for a in range(1, b)], else_=None)
        if b > 1
        else E.null().cast("int64")
        for b in range(1, m + 1)
    }
    levels = [f"{p}{b}" for b in range(1, m + 1) for p in ("A", "pa")]
    return g.select("journey", "ms", "k0", *levels, **pointers)


def _before(g: E.Table, plan: _Plan, a: int) -> Any:
    """Earlier instants of the journey a chain may come from into step a (same zone)."""
    zone = _zone_name(plan, a)
    keys = [g.journey] if zone is None else [g.journey, g[zone]]
    return E.window(group_by=keys, order_by=g.ms, preceding=(None, 1))


def _record_rows(g: E.Table, plan: _Plan, a: int) -> E.Value:
    return E.ifelse(g[f"rec{a}"], g.ms, E.null()).max().over(_before(g, plan, a))


def _outcome_per_instant(g: E.Table, plan: _Plan) -> E.Table:
    """Per instant: the best clean level (kc) and the best excluded credit (ke)."""
    m, w = plan.m, plan.window_ms
    clean: dict[int, E.BooleanValue] = {}
    credits: list[E.Value] = []
    for level in range(1, m + 1):
        start = g[f"A{level}"]
        js = _active(plan, level)
        if not js:
            clean[level] = start.notnull()
            continue
        nx = g[_set_name("nx", js)]
        credit: E.Value = E.literal(level, "int64")
        if plan.strict:
            hit = start.notnull() & nx & (g.nin <= start + w)
        else:
            hit = start.notnull() & (nx <= start + w)
            if level < m:
                more = g[f"nxs{level}"] <= start + w
                credit = credit + E.ifelse(more.fill_null(False), 1, 0)
        hit = hit.fill_null(False)
        clean[level] = start.notnull() & ~hit
        credits.append(E.ifelse(hit, credit, 0))
    kc = E.cases(*[(clean[level], level) for level in range(m, 0, -1)], else_=0)
    if not credits:
        ke: E.Value = E.literal(0, "int64")
    else:
        ke = credits[0] if len(credits) == 1 else E.greatest(*credits)
    return g.mutate(kc=kc, ke=ke)


def _backtrack(j: E.Table, inst: E.Table, plan: _Plan) -> E.Table:
    """Follow the predecessor pointers of each recorded attempt to its step times: one
    equi-join on (journey, instant) per level."""
    m = plan.m
    optional = [(o, plan.neighbours(o)[0]) for o, s in enumerate(plan.steps) if s.optional]
    hop_cols = ["journey", "ms", "ts"] + [
        f"{p}{b}" for b in range(1, m + 1) for p in ["A", "pa", "pg"]
    ]
    hop_cols += [f"nxo{o}" for o, _ in optional]
    hop_table = inst.select(**{f"h_{c}": inst[c] for c in hop_cols})
    no_ms = E.null().cast("int64")
    cur = j.select(
        "journey",
        "K",
        "KE",
        "k0",
        bk=j.bk if "bk" in j.columns else E.literal(""),
        lv=j.K,
        at=j.at,
        start=no_ms,
        last_at=E.null().cast("timestamp('UTC')"),
        **{f"tau{r}": no_ms for r in range(m)},
        **{f"ov{o}": no_ms for o, _ in optional},
    )
    for hop in range(m):
        hops = hop_table.view()  # a fresh alias per hop: Ibis rejects one twice in a chain
        joined = cur.left_join(hops, [cur.journey == hops.h_journey, cur.at == hops.h_ms])
        found = joined.at.notnull()
        by_level = range(1, m + 1)
        came = E.cases(*[(joined.lv == b, joined[f"h_pa{b}"]) for b in by_level], else_=None)
        pred = E.cases(*[(joined.lv == b, joined[f"h_pg{b}"]) for b in by_level], else_=None)
        step: dict[str, E.Value] = {
            "lv": E.ifelse(found, came, joined.lv),
            "at": E.ifelse(found, pred, no_ms),
        }
        for r in range(m):
            here = found & (r >= came) & (r < joined.lv)
            step[f"tau{r}"] = E.ifelse(here, joined.h_ms, joined[f"tau{r}"])
        for o, p in optional:
            here = found & (p >= came) & (p < joined.lv)
            step[f"ov{o}"] = E.ifelse(here, joined[f"h_nxo{o}"], joined[f"ov{o}"])
        if hop == 0:
            step["start"] = E.cases(*[(joined.lv == b, joined[f"h_A{b}"]) for b in by_level])
            step["last_at"] = joined.h_ts
        keep = [c for c in cur.columns if c not in step]
        cur = joined.select(*keep, **step).view()
    return cur


def _ordered_outcome(j: E.Table, plan: _Plan) -> E.Table:
    excluded = j.KE > j.K
    inside = ~excluded & (j.K > 0)
    cols: dict[str, E.Value] = {
        "journey": j.journey,
        "customer_key": _customer(j.journey, plan),
        "bk": j.bk.fill_null("") if "bk" in j.columns else E.literal(""),
        "excluded": excluded,
        "inside": inside,
        "last_step": E.cases(*[(b == j.K, plan.required[b - 1]) for b in range(1, plan.m + 1)]),
        "last_at": j.last_at,
    }
    for r, i in enumerate(plan.required):
        counted = inside & (j.k0 <= r) & (r < j.K)
        cols[f"c{i}"] = counted
        if r == 0:
            cols[f"d{i}"] = E.null().cast("float64")
        else:
            took = (j[f"tau{r}"] - j[f"tau{r - 1}"]) / 1000.0
            cols[f"d{i}"] = E.ifelse(counted & (r > j.k0), took, E.null())
    for o, step in enumerate(plan.steps):
        if not step.optional:
            continue
        p, q = plan.neighbours(o)
        window_end = j.start + plan.window_ms
        end = window_end if q is None else E.ifelse(q < j.K, j[f"tau{q}"], window_end)
        seen = j[f"ov{o}"]
        done = inside & (j.k0 <= p) & (p < j.K) & seen.notnull() & (seen <= end)
        cols[f"c{o}"] = done.fill_null(False)
        cols[f"d{o}"] = E.ifelse(done, (seen - j[f"tau{p}"]) / 1000.0, E.null())
    return j.select(**cols)


# -- any order -------------------------------------------------------------------------------


def _any_order(journeys: Journeys, plan: _Plan) -> E.Table:
    n, w = plan.m, plan.window_ms
    marked = _marked(journeys, plan)
    # from each event of a repeated step, the time of its r-th next event
    leads: dict[str, E.Value] = {}
    for c, comp in enumerate(plan.components):
        flag = marked[f"m{plan.required[comp[0]]}"]
        order = E.window(group_by=[marked.journey, flag], order_by=[marked.ms, marked.pos])
        for r in range(2, len(comp) + 1):
            leads[f"lead{c}_{r}"] = marked.ms.lead(r - 1).over(order)
    if leads:
        marked = marked.mutate(**leads)
    extra: dict[str, Fold] = {
        f"occ{c}_{r}": (
            E.ifelse(marked[f"m{plan.required[comp[0]]}"], marked[f"lead{c}_{r}"], E.null()),
            "min",
        )
        for c, comp in enumerate(plan.components)
        for r in range(2, len(comp) + 1)
    }
    g = _instants(marked, plan, extra)
    after = E.window(group_by=g.journey, order_by=g.ms, following=(1, None))
    onward = E.window(group_by=g.journey, order_by=g.ms, following=(0, None))
    count = {c: g[f"c{comp[0]}"] for c, comp in enumerate(plan.components)}
    # o<c>_<r>: when, from this instant on, component c (a step, or a repeated step) got its
    # r-th event; the window's score counts those inside it
    cols: dict[str, E.Value] = {"anchor": _any([v > 0 for v in count.values()])}
    for c, comp in enumerate(plan.components):
        cols[f"o{c}_1"] = E.ifelse(count[c] > 0, g.ms, E.null()).min().over(onward)
        for r in range(2, len(comp) + 1):
            first = E.ifelse(count[c] > 0, g[f"occ{c}_{r}"], E.null())
            cols[f"o{c}_{r}"] = first.min().over(onward)
    if plan.exclusions:
        excl = _xe(g, tuple(range(len(plan.exclusions))))
        cols["nxx"] = E.ifelse(excl, g.ms, E.null()).min().over(after)
    g = g.select("journey", "ms", "ts", *(["bk"] if "bk" in g.columns else []), **cols)
    seen = [
        g[f"o{c}_{r}"] for c, comp in enumerate(plan.components) for r in range(1, len(comp) + 1)
    ]
    inside = [(o <= g.ms + w).fill_null(False).cast("int64") for o in seen]
    score: E.Value = sum(inside[1:], inside[0])
    region_end: E.Value = g.ms + w
    if plan.exclusions:  # an exclusion inside the window loses it unless all was done
        lost = (g.nxx <= g.ms + w).fill_null(False)
        early = [(o < g.nxx).fill_null(False).cast("int64") for o in seen]
        all_done = sum(early[1:], early[0]) == n
        score = E.ifelse(lost, E.ifelse(all_done, n, 0), score)
        region_end = E.ifelse(lost, g.nxx - 1, region_end)
    times = [E.ifelse((o <= region_end).fill_null(False), o, _NEVER) for o in seen]
    ranked = E.array(times).sort()
    g = g.mutate(
        score=E.ifelse(g.anchor, score, 0),
        **{f"T{k}": ranked[k - 1] for k in range(1, n + 1)},
    )
    g = _shared(g, plan)
    scored = g.filter(g.score > 0)
    completion = E.cases(
        *[(scored.score == k, scored[f"T{k}"]) for k in range(1, n + 1)], else_=_NEVER
    )
    best = E.window(
        group_by=scored.journey, order_by=[E.desc(scored.score), completion, E.desc(scored.ms)]
    )
    scored = scored.mutate(rank=E.row_number().over(best), done_at=completion)
    chosen = scored.filter(scored.rank == 0)
    if "bk" in g.columns:
        values = g.group_by(j_journey=g.journey).agg(j_bk=_touch(g.bk, g.ms, plan))
        chosen = chosen.join(values, chosen.journey == values.j_journey)
        bk = chosen.j_bk
    else:
        bk = E.literal("")
    stamps = g.select(s_journey=g.journey, s_ms=g.ms, s_ts=g.ts)
    joined = chosen.mutate(bk_value=bk).left_join(
        stamps, [chosen.journey == stamps.s_journey, chosen.done_at == stamps.s_ms]
    )
    cols = {
        "journey": joined.journey,
        "customer_key": _customer(joined.journey, plan),
        "bk": joined.bk_value.fill_null(""),
        "excluded": E.literal(False),
        "inside": E.literal(True),
        "last_step": joined.score - 1,
        "last_at": joined.s_ts,
    }
    for k in range(1, n + 1):
        cols[f"c{k - 1}"] = joined.score >= k
        took = (joined[f"T{k}"] - joined[f"T{k - 1}"]) / 1000.0 if k > 1 else E.null()
        cols[f"d{k - 1}"] = E.ifelse(joined.score >= k, took, E.null()).cast("float64")
    return joined.select(**cols)


# -- results ---------------------------------------------------------------------------------


def _rows(plan: _Plan) -> list[tuple[int, str, str | None, bool]]:
    if plan.spec.order == "any_order":
        return [
            (k, f"Completed {k + 1} step{'s' if k else ''}", None, False) for k in range(plan.m)
        ]
    return [(i, s.label, s.match, s.optional) for i, s in enumerate(plan.steps)]


def journey_outcomes(journeys: Journeys, spec: FunnelSpec) -> E.Table:
    """One row per journey the funnel saw: ``journey``, ``customer_key``, ``bk`` (breakdown
    value), ``excluded``, ``inside`` (counted), ``last_step`` (index), ``last_at``, and per
    result row i ``c<i>`` (counted there) and ``d<i>`` (seconds from the previous step)."""
    plan = _plan(spec, journeys)
    if plan.spec.order == "any_order":
        return _any_order(journeys, plan)
    return _ordered(journeys, plan)


def funnel(journeys: Journeys, spec: FunnelSpec) -> FunnelResult:
    plan = _plan(spec)
    outcomes = journey_outcomes(journeys, spec)
    rows = _rows(plan)
    required = [i for i, _, _, optional in rows if not optional]
    first = rows[0][0]
    o = outcomes
    by = plan.spec.breakdown is not None
    if by:
        # Each journey twice, once for the total and once for its value (an unnest rather
        # than a join with a literal table, which Ibis builds through pandas: 0.6 s to import).
        o = o.mutate(total=E.array([True, False]).unnest())
        key = E.ifelse(o.total, E.null().cast("string"), o.bk)
    aggs: dict[str, E.Value] = {
        "journeys": o.inside.cast("int64").sum(),
        "customers": o.customer_key.nunique(where=o.inside),
        "excluded": o.excluded.cast("int64").sum(),
    }
    for i, _, _, _ in rows:
        c = o[f"c{i}"]
        after = [r for r in required if r > i]
        before = [r for r in required if r < i]
        aggs[f"entered{i}"] = c.cast("int64").sum()
        if after:
            aggs[f"converted{i}"] = (c & o[f"c{after[0]}"]).cast("int64").sum()
        aggs[f"with_first{i}"] = (c & o[f"c{first}"]).cast("int64").sum()
        if before:
            aggs[f"with_prev{i}"] = (c & o[f"c{before[-1]}"]).cast("int64").sum()
        took = o[f"d{i}"]
        timed = c & took.notnull() & (took > 0)
        aggs[f"mean{i}"] = took.mean(where=timed)
        aggs[f"median{i}"] = took.quantile(0.5, where=timed)
        aggs[f"p90{i}"] = took.quantile(0.9, where=timed)
    if by:
        grouped = o.group_by([o.total, key.name("value")]).agg(**aggs)
    else:
        grouped = o.agg(**aggs).mutate(total=E.literal(True), value=E.null().cast("string"))
    found = journeys.engine.to_arrow(grouped).to_pylist()
    tables = [_table(r, rows, required) for r in found]
    total = next((t for r, t in zip(found, tables, strict=True) if r["total"]), None)
    if total is None:  # nothing at all: no rows to group
        total = _table({}, rows, required)
    breakdown = tuple(
        sorted(
            (t for r, t in zip(found, tables, strict=True) if not r["total"]),
            key=lambda t: t.value or "",
        )
    )
    return FunnelResult(
        order=plan.spec.order,
        entry=plan.spec.entry,
        window_s=plan.window_ms / 1000,
        total=total,
        breakdown_by=plan.spec.breakdown,
        breakdown=breakdown,
    )


def _count(row: dict[str, Any], name: str) -> int:
    return int(row.get(name) or 0)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _table(
    row: dict[str, Any], rows: list[tuple[int, str, str | None, bool]], required: list[int]
) -> FunnelTable:
    first = rows[0][0]
    steps = []
    for i, name, match, optional in rows:
        entered = _count(row, f"entered{i}")
        after = [r for r in required if r > i]
        before = [r for r in required if r < i]
        converted = _count(row, f"converted{i}") if after else None
        from_previous = (
            _ratio(_count(row, f"with_prev{i}"), _count(row, f"entered{before[-1]}"))
            if before
            else None
        )
        steps.append(
            StepStats(
                index=i,
                name=name,
                match=match,
                optional=optional,
                entered=entered,
                converted=converted,
                dropped=None if converted is None else entered - converted,
                conversion_from_first=_ratio(
                    _count(row, f"with_first{i}"), _count(row, f"entered{first}")
                ),
                conversion_from_previous=from_previous,
                mean_s=seconds(row.get(f"mean{i}")),
                median_s=seconds(row.get(f"median{i}")),
                p90_s=seconds(row.get(f"p90{i}")),
            )
        )
    return FunnelTable(
        value=row.get("value") if not row.get("total", True) else None,
        journeys=_count(row, "journeys"),
        customers=_count(row, "customers"),
        excluded=_count(row, "excluded"),
        steps=tuple(steps),
    )


def dropped(journeys: Journeys, spec: FunnelSpec, step: int | str) -> E.Table:
    """Journeys that reached required ``step`` (index or name; any-order: row index) and not
    the next one: ``customer_key``, ``journey``, ``last_step`` (name) and ``last_at``."""
    plan = _plan(spec)
    rows = _rows(plan)
    names = [name for _, name, _, _ in rows]
    if isinstance(step, str):
        if step not in names:
            raise FunnelError(f"no step named {step!r}: the steps are {', '.join(names)}")
        step = names.index(step)
    required = [i for i, _, _, optional in rows if not optional]
    if step not in required:
        raise FunnelError(f"step {step} is not a required step of this funnel")
    after = [r for r in required if r > step]
    if not after:
        raise FunnelError(f"step {step} is the last step: nobody drops there")
    o = journey_outcomes(journeys, spec)
    gone = o.filter(o[f"c{step}"] & ~o[f"c{after[0]}"])
    label = E.cases(*[(gone.last_step == i, name) for i, name, _, _ in rows], else_=None)
    return gone.select(
        customer_key=gone.customer_key,
        journey=gone.journey,
        last_step=label,
        last_at=gone.last_at,
    )


__all__ = [
    "Exclusion",
    "FunnelError",
    "FunnelResult",
    "FunnelSpec",
    "FunnelStep",
    "FunnelTable",
    "StepStats",
    "dropped",
    "funnel",
    "journey_outcomes",
]
