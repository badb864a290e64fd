"""Pain points found from data: the steps of a map where customers are hurt, ranked.

Each signal compares a step with what is *typical on this map* (the median step, or for
satisfaction all answers) and counts the customers affected beyond it, so a score reads as
"this share of all customers in scope is hurt here, more than at an ordinary step":

drop-off
    (steps before the outcome) customers who left here without buying, beyond the typical
    drop-off rate; evidence gives the breakdown (mobile vs desktop).
failure demand
    customers who contacted support within the window after the step (see :mod:`.live`),
    beyond the typical contact rate.
dissatisfaction
    the share of survey answers tied to the step that are dissatisfied, beyond the share over
    all answers, applied to the step's customers.
loops
    customers who turned back from the step to an earlier step, beyond the typical rate.
long waits
    customers whose recorded wait (``attr.wait_seconds``) was longer than the spec's limit.

A signal counts only when it is beyond chance and large enough to act on: its excess must be
at least ``min_z`` binomial standard errors (default 3) and 2% of the step's customers. The
score is the customers affected by any of the signals (their shares of the step combined as
independent, so no one counts twice), as a share of all customers in scope.
Time to the next step and channel switches are shown as evidence, not scored: what is "long"
or "switching" depends on the step's design.

Moments of truth are the steps whose reach most changes the outcome: among customers who got
as far as the step's stage, the odds of converting (steps before the outcome) or of coming
back (after it: reaching the map's last step) for those who reached the step against those who
did not, with a 95% confidence interval (Woolf, with Haldane's 0.5 correction). Before the
outcome the comparison is within the step's stage; after it, among the customers who converted.
A step everyone converting must pass (a gate) gets an unbounded ratio and says so.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from journeylens.analyses.binding import bound_steps, outcome_step, scoped_events, step_events
from journeylens.analyses.common import plain
from journeylens.analyses.live import LiveMap, LiveSpec, SentimentFn, StepLive, live_map
from journeylens.engine import Journeys
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError
from journeylens.model.common import localize

Z95 = 1.959964
#: Excess below this share of a step's customers is not a pain point, however significant.
MIN_EXCESS = 0.02


@dataclass(frozen=True)
class PainSpec:
    live: LiveSpec
    min_z: float = 3.0
    top: int = 10


@dataclass(frozen=True)
class Signal:
    """One reason a step hurts: ``value`` against ``typical``, ``affected`` customers."""

    kind: str
    value: float
    typical: float
    affected: int
    z: float
    evidence: str


@dataclass(frozen=True)
class PainPoint:
    step: str
    stage: str
    score: float
    affected: int
    customers: int
    signals: tuple[Signal, ...]
    designed: tuple[str, ...] = ()

    @property
    def evidence(self) -> list[str]:
        return [s.evidence for s in self.signals]


@dataclass(frozen=True)
class PainPoints:
    map_id: str
    customers: int
    ranked: tuple[PainPoint, ...]
    quiet: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = plain(self)
        for item, point in zip(data["ranked"], self.ranked, strict=True):
            item["evidence"] = point.evidence
        return data


def _z(observed: float, expected_rate: float, n: int) -> float:
    """Binomial z of ``observed`` successes in ``n`` against ``expected_rate``, or 0 when the
    excess is below ``MIN_EXCESS`` of ``n`` (too small to act on, however certain)."""
    if not n or observed - expected_rate * n < MIN_EXCESS * n:
        return 0.0
    rate = min(max(expected_rate, 0.01), 0.99)  # a zero baseline is not certainty
    return (observed - expected_rate * n) / math.sqrt(n * rate * (1 - rate))


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def signals_of(live: LiveMap, spec: PainSpec) -> dict[str, list[Signal]]:
    """Every step's signals beyond chance, against the map's typical step."""
    matched = [s for s in live.steps if s.matched]
    typical_drop = _median([s.dropoff for s in matched if s.dropoff is not None])
    typical_contact = _median([s.contact_rate or 0.0 for s in matched])
    typical_loop = _median([s.loop_rate or 0.0 for s in matched])
    answers = sum(s.answers for s in matched)
    unhappy = sum(s.dissatisfied for s in matched)
    typical_unhappy = unhappy / answers if answers else 0.0
    days = live.within / 86_400
    found: dict[str, list[Signal]] = {}
    for s in matched:
        n = s.customers
        out: list[Signal] = []
        if s.dropoff is not None:
            z = _z(s.dropped, typical_drop, n)
            if z >= spec.min_z:
                out.append(
                    Signal(
                        "drop-off",
                        s.dropoff,
                        typical_drop,
                        round(s.dropped - typical_drop * n),
                        round(z, 2),
                        f"{_pct(s.dropoff)} of the {n:,} customers who reached it left without "
                        f"the outcome (typical step: {_pct(typical_drop)})" + _split(s),
                    )
                )
        z = _z(s.contacting, typical_contact, n)
        if s.contact_rate is not None and z >= spec.min_z:
            reasons = ", ".join(
                f"{c.label} ({c.count:,})" for c in s.contact_reasons[:3] if c.label
            )
            out.append(
                Signal(
                    "failure demand",
                    s.contact_rate,
                    typical_contact,
                    round(s.contacting - typical_contact * n),
                    round(z, 2),
                    f"{_pct(s.contact_rate)} contacted support within {days:g} days after it "
                    f"(typical step: {_pct(typical_contact)})"
                    + (f"; contacts: {reasons}" if reasons else ""),
                )
            )
        if s.answers:
            share = s.dissatisfied / s.answers
            z = _z(s.dissatisfied, typical_unhappy, s.answers)
            if z >= spec.min_z:
                out.append(
                    Signal(
                        "dissatisfaction",
                        share,
                        typical_unhappy,
                        round((share - typical_unhappy) * n),
                        round(z, 2),
                        f"{_pct(share)} of {s.answers:,} survey answers about it are "
                        f"dissatisfied (all answers: {_pct(typical_unhappy)})"
                        + (
                            "; verbatims: " + ", ".join(str(t.label).lower() for t in s.themes)
                            if s.themes
                            else ""
                        ),
                    )
                )
        z = _z(s.looping, typical_loop, n)
        if s.loop_rate is not None and z >= spec.min_z:
            out.append(
                Signal(
                    "loops",
                    s.loop_rate,
                    typical_loop,
                    round(s.looping - typical_loop * n),
                    round(z, 2),
                    f"{_pct(s.loop_rate)} went back from it to an earlier step "
                    f"(typical step: {_pct(typical_loop)})",
                )
            )
        if s.long_waits and s.waited:
            limit = spec.live.long_wait
            out.append(
                Signal(
                    "long waits",
                    s.long_waits / s.waited,
                    0.0,
                    s.long_waits,
                    math.inf,
                    f"{_pct(s.long_waits / s.waited)} of {s.waited:,} waited over "
                    f"{limit / 60:g} minutes (median {(s.median_wait or 0) / 60:.1f} minutes)",
                )
            )
        if out:
            found[s.step] = out
    return found


def _split(s: StepLive) -> str:
    """The breakdown groups with the highest and lowest drop-off, when they differ clearly."""
    groups = [b for b in s.dropoff_by if b.rate is not None and b.customers >= 30 and b.label]
    if len(groups) < 2:
        return ""
    high = max(groups, key=lambda b: b.rate or 0.0)
    low = min(groups, key=lambda b: b.rate or 0.0)
    if (high.rate or 0.0) < 1.5 * (low.rate or 0.0) + 0.02:
        return ""
    return f"; {high.label} {_pct(high.rate or 0.0)} vs {low.label} {_pct(low.rate or 0.0)}"


def rank(live: LiveMap, spec: PainSpec) -> PainPoints:
    """Pain points from a measured map, worst first, beside the pain points the map's
    designers wrote on each step (in the map's language)."""
    journey_map = spec.live.journey_map
    designed = {
        step.id: [localize(p.text, journey_map.language) for p in step.pain_points]
        for _, step in journey_map.steps()
    }
    found = signals_of(live, spec)
    points = []
    for s in live.steps:
        if s.step not in found:
            continue
        # Signals overlap (the same caller waits, calls again and is unhappy): combine them
        # as independent shares of the step's customers, so no one is counted twice.
        spared = 1.0
        for sig in found[s.step]:
            spared *= 1 - min(max(sig.affected, 0) / s.customers, 1.0)
        affected = round((1 - spared) * s.customers)
        points.append(
            PainPoint(
                step=s.step,
                stage=s.stage,
                score=round(affected / live.customers, 6) if live.customers else 0.0,
                affected=affected,
                customers=s.customers,
                signals=tuple(sorted(found[s.step], key=lambda g: -g.affected)),
                designed=tuple(designed.get(s.step, [])),
            )
        )
    points.sort(key=lambda p: (-p.score, p.step))
    quiet = tuple(s.step for s in live.steps if s.matched and s.step not in found)
    return PainPoints(live.map_id, live.customers, tuple(points[: spec.top]), quiet)


def painpoints(
    journeys: Journeys, spec: PainSpec, *, sentiment: SentimentFn | None = None
) -> PainPoints:
    """Measure the map and rank its pain points."""
    return rank(live_map(journeys, spec.live, sentiment=sentiment), spec)


@dataclass(frozen=True)
class MomentOfTruth:
    """``odds_ratio`` of the ``outcome`` for customers who reached the step against those in
    the same stage who did not; ``significant`` when the interval excludes 1."""

    step: str
    stage: str
    outcome: str
    reached: int
    reached_rate: float
    not_reached: int
    not_reached_rate: float
    difference: float
    lift: float | None
    odds_ratio: float
    low: float
    high: float
    significant: bool
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Moments:
    map_id: str
    moments: tuple[MomentOfTruth, ...]

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


def odds_ratio(a: int, b: int, c: int, d: int) -> tuple[float, float, float]:
    """Odds ratio of a 2x2 table (a, b: exposed with/without outcome; c, d: unexposed) and
    its Woolf 95% interval, with 0.5 added to every cell when one is empty."""
    if min(a, b, c, d) == 0:
        a, b, c, d = (x + 0.5 for x in (a, b, c, d))  # type: ignore[assignment]
    ratio = (a * d) / (b * c)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return ratio, math.exp(math.log(ratio) - Z95 * se), math.exp(math.log(ratio) + Z95 * se)


def moments_of_truth(journeys: Journeys, spec: LiveSpec, *, min_support: int = 30) -> Moments:
    """Steps ranked by how much reaching them changes conversion (or, after the purchase,
    coming back), significant effects first, by the difference in outcome rates.

    Before the outcome, customers who reached the step are compared with those who reached
    its stage but not the step; after it, with the other customers who converted."""
    steps = [s for s in bound_steps(spec.journey_map) if s.match]
    outcome = outcome_step(steps)
    if outcome is None:
        raise JourneylensError("moments of truth need a step in a conversion stage (the outcome)")
    final = steps[-1] if steps[-1].index > outcome.index else None
    ev = scoped_events(journeys, spec.scope)
    reached = step_events(journeys, ev, steps).select("customer_key", "step").distinct()
    flags = reached.group_by("customer_key").agg(
        converted=(reached.step == outcome.id).cast("int64").max(),
        back=(reached.step == (final.id if final else "")).cast("int64").max(),
    )
    flags = flags.mutate(kept=flags.converted * flags.back)
    staged = reached.mutate(stage=E.cases(*[(reached.step == s.id, s.stage) for s in steps]))
    by_step = staged.join(flags, "customer_key")
    sums = {"n": by_step.count(), "conv": by_step.converted.sum(), "kept": by_step.kept.sum()}
    rows = journeys.engine.to_arrow(by_step.group_by("step").agg(**sums)).to_pylist()
    exposed = staged.select("customer_key", "stage").distinct().join(flags, "customer_key")
    stage_rows = journeys.engine.to_arrow(
        exposed.group_by("stage").agg(n=exposed.count(), conv=exposed.converted.sum())
    ).to_pylist()
    totals = journeys.engine.to_arrow(
        flags.aggregate(conv=flags.converted.sum(), kept=flags.kept.sum())
    ).to_pylist()[0]
    per_step = {r["step"]: r for r in rows}
    per_stage = {r["stage"]: r for r in stage_rows}
    found = []
    for s in steps:
        if s.id not in per_step or s.id == outcome.id or (final and s.id == final.id):
            continue
        r = per_step[s.id]
        if s.index > outcome.index:
            if final is None:
                continue
            label = "came back"
            n1, y1 = int(r["conv"] or 0), int(r["kept"] or 0)
            n0, y0 = int(totals["conv"] or 0) - n1, int(totals["kept"] or 0) - y1
        else:
            label = "converted"
            stage = per_stage[s.stage]
            n1, y1 = int(r["n"]), int(r["conv"] or 0)
            n0, y0 = int(stage["n"]) - n1, int(stage["conv"] or 0) - y1
        if n1 == 0 or n0 == 0:
            continue  # everyone (or no one) comparable reached it: nothing to compare
        found.append(_moment(s.id, s.stage, label, n1, y1, n0, y0, min_support))
    # Gates (no one converts without them) come after the steps whose experience matters.
    found.sort(
        key=lambda m: (not m.significant, m.not_reached_rate == 0, -abs(m.difference), m.step)
    )
    return Moments(spec.journey_map.id, tuple(found))


def _moment(
    step: str, stage: str, label: str, n1: int, y1: int, n0: int, y0: int, min_support: int
) -> MomentOfTruth:
    warnings = []
    if n1 < min_support or n0 < min_support:
        warnings.append(f"fewer than {min_support} customers on one side")
    overall = (y1 + y0) / (n1 + n0)
    if overall < 0.02 or overall > 0.98:
        warnings.append(f"skewed outcome: {overall:.1%} overall")
    rate1, rate0 = y1 / n1, y0 / n0
    if rate0 == 0 or rate1 == 0:
        warnings.append("no outcome on one side: the step is a gate, the ratio is unbounded")
    ratio, low, high = odds_ratio(y1, n1 - y1, y0, n0 - y0)
    return MomentOfTruth(
        step=step,
        stage=stage,
        outcome=label,
        reached=n1,
        reached_rate=round(rate1, 6),
        not_reached=n0,
        not_reached_rate=round(rate0, 6),
        difference=round(rate1 - rate0, 6),
        lift=round(rate1 / rate0, 4) if rate0 else None,
        odds_ratio=round(ratio, 4),
        low=round(low, 4),
        high=round(high, 4),
        significant=(low > 1 or high < 1) and not any(w.startswith("fewer") for w in warnings),
        warnings=tuple(warnings),
    )


__all__ = [
    "MomentOfTruth",
    "Moments",
    "PainPoint",
    "PainPoints",
    "PainSpec",
    "Signal",
    "moments_of_truth",
    "odds_ratio",
    "painpoints",
    "rank",
    "signals_of",
]
