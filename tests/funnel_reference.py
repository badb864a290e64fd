"""A brute-force funnel, written from the rules' wording: the oracle for the engine's funnel.

Nothing here shares code or formulation with :mod:`journeylens.analyses.funnel` except the
spec it reads and the reference selector evaluator. Ordered and strict funnels enumerate every
chain of events per journey; any-order funnels compute a maximum matching per anchored window
by augmenting paths. It is exponential and meant for logs of a handful of events per customer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from journeylens.analyses.common import parse_duration
from journeylens.analyses.funnel import FunnelSpec, FunnelStep
from journeylens.model.selector import evaluate, parse_selector


@dataclass
class Event:
    pos: int
    ms: int
    row: dict[str, Any]
    view: dict[str, Any]


@dataclass
class Outcome:
    """One journey's result: which user-facing steps it counts at, and the step durations."""

    journey: str
    customer: str
    value: str
    excluded: bool = False
    counted: dict[int, bool] = field(default_factory=dict)
    duration_ms: dict[int, int] = field(default_factory=dict)
    last_step: int | None = None
    last_ms: int | None = None


def _ms(ts: datetime) -> int:
    return round(ts.timestamp() * 1000)


def _view(row: Mapping[str, Any]) -> dict[str, Any]:
    attributes = json.loads(row["attributes"]) if row.get("attributes") else {}
    view = {k: row.get(k) for k in ("activity", "channel", "touchpoint", "source")}
    view["attributes"] = attributes
    return view


def journeys_from(rows: Iterable[Mapping[str, Any]], gap: float | None) -> dict[str, list[Event]]:
    """Rows in file order -> journeys of events sorted by time, ties in file order."""
    by_customer: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
    for i, row in enumerate(rows):
        by_customer.setdefault(row["customer_key"], []).append((_ms(row["ts"]), i, dict(row)))
    journeys: dict[str, list[Event]] = {}
    for customer, items in by_customer.items():
        items.sort(key=lambda x: (x[0], x[1]))
        episode = 0
        previous: int | None = None
        for ms, _, row in items:
            if previous is None or (gap is not None and (ms - previous) / 1000 > gap):
                episode += 1
            previous = ms
            key = customer if gap is None else f"{customer}#{episode}"
            bucket = journeys.setdefault(key, [])
            bucket.append(Event(len(bucket), ms, row, _view(row)))
    return journeys


def max_matching(steps: list[int], events: list[Event], matches: dict[int, set[int]]) -> int:
    """Largest number of steps filled by distinct events (Kuhn's augmenting paths)."""
    owner: dict[int, int] = {}

    def augment(step: int, seen: set[int]) -> bool:
        for e in events:
            if e.pos in matches[step] and e.pos not in seen:
                seen.add(e.pos)
                if e.pos not in owner or augment(owner[e.pos], seen):
                    owner[e.pos] = step
                    return True
        return False

    return sum(1 for s in steps if augment(s, set()))


class Reference:
    def __init__(self, spec: FunnelSpec) -> None:
        self.spec = spec
        self.steps: list[FunnelStep] = [
            s if isinstance(s, FunnelStep) else FunnelStep(s) for s in spec.steps
        ]
        self.selectors = [parse_selector(s.match) for s in self.steps]
        self.required = [i for i, s in enumerate(self.steps) if not s.optional]
        self.m = len(self.required)
        window = parse_duration(spec.window)
        assert window is not None
        self.window = round(window * 1000)
        self.exclusions = []
        last = len(self.steps) - 1
        for x in spec.exclusions:
            f = x.from_step if isinstance(x.from_step, int) else self._index(x.from_step)
            t = last if x.to_step is None else x.to_step
            t = t if isinstance(t, int) else self._index(t)
            # ranges in required-step numbering
            self.exclusions.append(
                (parse_selector(x.match), self.required.index(f), self.required.index(t))
            )

    def _index(self, name: str) -> int:
        return [s.name or s.match for s in self.steps].index(name)

    # -- per journey ---------------------------------------------------------------------

    def matching(self, events: list[Event]) -> tuple[list[set[int]], dict[int, set[int]]]:
        """Per user step the events matching it; per required index the same (by pos)."""
        user = [{e.pos for e in events if evaluate(sel, e.view)} for sel in self.selectors]
        return user, {r: user[i] for r, i in enumerate(self.required)}

    def effective_exclusions(self, events: list[Event], user: list[set[int]]) -> list[set[int]]:
        """Per exclusion, the instants where it happened with no step event at that instant."""
        stepish = set().union(*user) if user else set()
        busy = {e.ms for e in events if e.pos in stepish}
        found = []
        for sel, _, _ in self.exclusions:
            found.append({e.ms for e in events if evaluate(sel, e.view) and e.ms not in busy})
        return found

    def funnel_events(self, events: list[Event], user: list[set[int]]) -> list[Event]:
        if self.spec.order == "strict":
            return events
        stepish = set().union(*user) if user else set()
        excl = {e.pos for e in events for sel, _, _ in self.exclusions if evaluate(sel, e.view)}
        return [e for e in events if e.pos in stepish or e.pos in excl]

    def breakdown_value(self, events: list[Event], user: list[set[int]]) -> str:
        by = self.spec.breakdown
        if by is None:
            return ""
        candidates = self.funnel_events(events, user)
        if self.spec.attribution == "last_touch":
            candidates = list(reversed(candidates))
        for e in candidates:
            if by.startswith("attr."):
                raw = e.view["attributes"].get(by[5:])
                value = None if raw is None else str(raw)
            else:
                value = e.row.get(by)
            if value not in (None, ""):
                return str(value)
        return ""

    def ordered(self, key: str, events: list[Event]) -> Outcome | None:
        strict = self.spec.order == "strict"
        user, req = self.matching(events)
        effx = self.effective_exclusions(events, user)
        by_pos = {e.pos: e for e in events}
        W, m = self.window, self.m
        if self.spec.entry == "open":
            firsts = sorted(e.ms for e in events if any(e.pos in req[r] for r in range(m)))
            if not firsts:
                return None
            k0 = min(r for r in range(m) for e in events if e.ms == firsts[0] and e.pos in req[r])
        else:
            k0 = 0
        instants = sorted({e.ms for e in events})

        chains: list[list[Event]] = []

        def extend(chain: list[Event]) -> None:
            chains.append(chain)
            r = k0 + len(chain)
            if r >= m:
                return
            last, start = chain[-1], chain[0]
            for e in events:
                if e in chain or e.pos not in req[r] or e.ms < last.ms or e.ms - start.ms > W:
                    continue
                if strict and any(last.ms < u < e.ms for u in instants):
                    continue
                crossed = any(
                    f < r <= t and any(last.ms < x < e.ms for x in effx[j])
                    for j, (_, f, t) in enumerate(self.exclusions)
                )
                if not crossed:
                    extend([*chain, e])

        for e in events:
            if e.pos in req[k0]:
                extend([e])
        if not chains:
            return None
        # attempts: (level, end instant) -> the latest start
        attempts: dict[tuple[int, int], int] = {}
        for chain in chains:
            level = k0 + len(chain)
            k = (level, chain[-1].ms)
            attempts[k] = max(attempts.get(k, chain[0].ms), chain[0].ms)
        clean: list[tuple[int, int, int]] = []
        credits = [0]
        for (level, end), start in attempts.items():
            active = [j for j, (_, f, t) in enumerate(self.exclusions) if f <= level - 1 < t]
            if strict:
                later = [u for u in instants if u > end]
                nxt = later[0] if later else None
                hit = nxt is not None and nxt <= start + W and any(nxt in effx[j] for j in active)
                credit = level
            else:
                xs = [x for j in active for x in effx[j] if end < x <= start + W]
                hit = bool(xs)
                credit = level
                if hit and level < m:
                    xhit = min(xs)
                    if any(xhit < by_pos[p].ms <= start + W for p in req[level]):
                        credit = level + 1
            if hit:
                credits.append(credit)
            else:
                clean.append((level, end, start))
        outcome = Outcome(key, events[0].row["customer_key"], self.breakdown_value(events, user))
        k_clean = max((c[0] for c in clean), default=0)
        if k_clean == 0 or max(credits) > k_clean:
            outcome.excluded = max(credits) > k_clean
            return outcome
        end = min(c[1] for c in clean if c[0] == k_clean)
        start = attempts[(k_clean, end)]
        recorded = [
            c for c in chains if k0 + len(c) == k_clean and c[0].ms == start and c[-1].ms == end
        ]
        tau = {k0 + i: min(c[i].ms for c in recorded) for i in range(k_clean - k0)}
        for r in range(k0, k_clean):
            i = self.required[r]
            outcome.counted[i] = True
            if r > k0:
                outcome.duration_ms[i] = tau[r] - tau[r - 1]
        outcome.last_step = self.required[k_clean - 1]
        outcome.last_ms = end
        for o, step in enumerate(self.steps):
            if not step.optional:
                continue
            p = max(i for i in self.required if i < o)
            later = [i for i in self.required if i > o]
            q = later[0] if later else None
            rp = self.required.index(p)
            if not k0 <= rp < k_clean:
                continue
            rq = None if q is None else self.required.index(q)
            until = tau[rq] if rq is not None and rq < k_clean else start + W
            times = [
                e.ms
                for e in events
                if e.pos in user[o]
                and e.pos not in user[p]
                and (q is None or e.pos not in user[q])
                and tau[rp] <= e.ms <= until
            ]
            if times:
                outcome.counted[o] = True
                outcome.duration_ms[o] = min(times) - tau[rp]
        return outcome

    def any_order(self, key: str, events: list[Event]) -> Outcome | None:
        user, req = self.matching(events)
        effx = set().union(*self.effective_exclusions(events, user)) if self.exclusions else set()
        W, n = self.window, self.m
        steps = list(range(n))
        anchors = sorted({e.ms for e in events if any(e.pos in req[r] for r in steps)})
        best: tuple[int, int, int] | None = None  # (score, -completion, anchor)
        best_times: list[int] = []
        for a in anchors:
            xs = [x for x in effx if a < x <= a + W]
            if xs:
                region = [e for e in events if a <= e.ms < min(xs)]
                score = n if max_matching(steps, region, req) == n else 0
            else:
                region = [e for e in events if a <= e.ms <= a + W]
                score = max_matching(steps, region, req)
            if score == 0:
                continue
            times = []
            for k in range(1, score + 1):
                times.append(
                    min(
                        u
                        for u in sorted({e.ms for e in region})
                        if max_matching(steps, [e for e in region if e.ms <= u], req) >= k
                    )
                )
            candidate = (score, -times[-1], a)
            if best is None or candidate > best:
                best, best_times = candidate, times
        outcome = Outcome(key, events[0].row["customer_key"], self.breakdown_value(events, user))
        if best is None:
            return None
        for k in range(best[0]):
            outcome.counted[k] = True
            if k > 0:
                outcome.duration_ms[k] = best_times[k] - best_times[k - 1]
        outcome.last_step = best[0] - 1
        outcome.last_ms = best_times[-1]
        return outcome

    # -- whole log -----------------------------------------------------------------------

    def outcomes(self, rows: Iterable[Mapping[str, Any]]) -> list[Outcome]:
        gap = parse_duration(self.spec.gap)
        found = []
        for key, events in journeys_from(rows, gap).items():
            run = self.any_order if self.spec.order == "any_order" else self.ordered
            outcome = run(key, events)
            if outcome is not None:
                found.append(outcome)
        return found

    def rows(self) -> list[tuple[int, bool]]:
        """(index, optional) of the result's rows."""
        if self.spec.order == "any_order":
            return [(k, False) for k in range(self.m)]
        return [(i, s.optional) for i, s in enumerate(self.steps)]

    def table(self, outcomes: list[Outcome]) -> dict[str, Any]:
        counted = [o for o in outcomes if not o.excluded and o.counted]
        rows = self.rows()
        required = [i for i, opt in rows if not opt]
        first = rows[0][0]
        steps = []
        for i, optional in rows:
            entered = sum(1 for o in counted if o.counted.get(i))
            after = [r for r in required if r > i]
            before = [r for r in required if r < i]
            converted = (
                sum(1 for o in counted if o.counted.get(i) and o.counted.get(after[0]))
                if after
                else None
            )
            base = sum(1 for o in counted if o.counted.get(first))
            both_first = sum(1 for o in counted if o.counted.get(first) and o.counted.get(i))
            prev = before[-1] if before else None
            if prev is None:
                from_previous = None
            else:
                at_prev = sum(1 for o in counted if o.counted.get(prev))
                both = sum(1 for o in counted if o.counted.get(prev) and o.counted.get(i))
                from_previous = round(both / at_prev, 6) if at_prev else None
            durations = sorted(
                o.duration_ms[i] / 1000
                for o in counted
                if o.counted.get(i) and o.duration_ms.get(i, 0) > 0
            )
            steps.append(
                {
                    "index": i,
                    "optional": optional,
                    "entered": entered,
                    "converted": converted,
                    "dropped": None if converted is None else entered - converted,
                    "conversion_from_first": round(both_first / base, 6) if base else None,
                    "conversion_from_previous": from_previous,
                    "mean_s": round(sum(durations) / len(durations), 3) if durations else None,
                    "median_s": quantile(durations, 0.5),
                    "p90_s": quantile(durations, 0.9),
                }
            )
        return {
            "journeys": len(counted),
            "customers": len({o.customer for o in counted}),
            "excluded": sum(1 for o in outcomes if o.excluded),
            "steps": steps,
        }

    def result(self, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        outcomes = self.outcomes(rows)
        found = {"total": self.table(outcomes), "breakdown": {}}
        if self.spec.breakdown is not None:
            values = sorted({o.value for o in outcomes})
            found["breakdown"] = {
                v: self.table([o for o in outcomes if o.value == v]) for v in values
            }
        return found


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (QUANTILE_CONT, Spark's percentile)."""
    if not values:
        return None
    position = q * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (position - low), 3)


def reference_funnel(rows: Iterable[Mapping[str, Any]], spec: FunnelSpec) -> dict[str, Any]:
    return Reference(spec).result(list(rows))


def reference_dropped(
    rows: Iterable[Mapping[str, Any]], spec: FunnelSpec, step: int
) -> list[tuple[str, int, int]]:
    """(customer, last step reached, its epoch ms) of journeys that reached required ``step``
    and not the next required step, sorted."""
    ref = Reference(spec)
    rows_ = ref.rows()
    required = [i for i, opt in rows_ if not opt]
    nxt = [r for r in required if r > step]
    found = []
    for o in ref.outcomes(list(rows)):
        if o.excluded or not o.counted.get(step) or o.counted.get(nxt[0]):
            continue
        assert o.last_step is not None and o.last_ms is not None
        found.append((o.customer, o.last_step, o.last_ms))
    return sorted(found)
