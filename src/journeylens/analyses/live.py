"""Live maps: what really happens on every designed step of a journey map.

For each step whose ``match`` selector binds it to events (see :mod:`.binding`), computed on the
engine and counted in customers:

reach
    customers with at least one event of the step, and their share of the customers in scope.
conversion to the next step
    of those, the customers with an event of the step's main designed successor (its first
    ``next`` branch, or the following step) *after* their first event of this step; median and
    p90 time between the two.
drop-off (steps before the map's outcome only)
    customers who never reached the outcome (:func:`.binding.outcome_step`, the purchase) and
    whose last designed step of all was this one (one with a later step, say a delivery whose
    order event is missing, did not abandon). After the outcome, ending a journey is not
    abandonment, so it is not counted as drop-off there. Split by device as evidence.
contacts it causes (failure demand)
    each contact (an event on a contact channel: phone and chat by default) is attributed to
    the customer's latest designed step strictly before it, if that step happened within
    ``within`` (7 days). A contact step itself therefore collects the *repeat* contacts.
loops
    customers who turned back from the step to an earlier designed step (back-and-forth).
waits
    customers whose event of the step says how long they waited (``attr.wait_seconds``: on
    hold, in a queue), how many waited longer than ``long_wait`` (5 minutes), the median.
channel switches
    the share of the step's events whose next event is on another channel.
satisfaction
    survey answers (events with a score) tied to the step: the answer events the step's own
    selector matches, and answers whose ``about`` attribute names the step or its touchpoint.
    Scores are put on the map's emotion scale (-2..+2): CSAT and ratings 1..5 as ``score - 3``,
    NPS 0..10 as ``(score - 5) / 2.5``, CES 1..7 as ``(score - 4) / 1.5``. *Dissatisfied* are
    CSAT/rating 1-2, NPS 0-6 (detractors) and CES 1-3.
verbatims
    the texts of those answers (and of the step's own events), most frequent first, for
    sentiment (:mod:`journeylens.verbatims`, or the caller's model) and their themes.

Each step also says whether its selector matched nothing, and the map says when the data ends
("data as of").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from journeylens.analyses.binding import (
    PRE_OUTCOME,
    BoundStep,
    Scope,
    bound_steps,
    outcome_step,
    scoped_events,
    step_events,
)
from journeylens.analyses.common import plain, seconds
from journeylens.engine import Journeys, compile_text
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import EMOTION_MAX, EMOTION_MIN, JourneyMap
from journeylens.verbatims import sentiment as verbatim_sentiment
from journeylens.verbatims import themes

DAY = 86_400.0
#: Verbatims kept per step (the most frequent texts).
VERBATIM_LIMIT = 200

#: A function giving each text a sentiment in [-1, 1] (None when it cannot tell).
SentimentFn = Callable[[Sequence[str], Sequence[str | None]], Sequence[float | None]]


@dataclass(frozen=True)
class LiveSpec:
    """``contact_channels`` (or the ``contacts`` selector) say which events are contacts;
    ``within`` (seconds) is how long after a step a contact is still caused by it; a wait
    (``attr.wait_seconds``: time on hold, in a queue) over ``long_wait`` seconds is long;
    ``sentiment_model`` names a plug-in model (see :mod:`journeylens.verbatims`)."""

    journey_map: JourneyMap
    scope: Scope = field(default_factory=Scope)
    within: float = 7 * DAY
    contact_channels: tuple[str, ...] = ("phone", "chat")
    contacts: str | None = None
    breakdown: str = "device"
    long_wait: float = 300.0
    sentiment_model: str | None = None


@dataclass(frozen=True)
class Count:
    """A label with how many customers (contact reasons) or answers (themes) have it."""

    label: str | None
    count: int


@dataclass(frozen=True)
class BreakdownRate:
    """Drop-off of one group (a device, a channel) at a step."""

    label: str | None
    customers: int
    dropped: int
    rate: float | None


@dataclass(frozen=True)
class Satisfaction:
    score_type: str
    answers: int
    mean: float
    dissatisfied: int
    emotion: float | None


@dataclass(frozen=True)
class Verbatim:
    text: str
    language: str | None
    count: int
    sentiment: float | None = None


@dataclass(frozen=True)
class StepLive:
    step: str
    stage: str
    bound: bool
    customers: int = 0
    share: float | None = None
    events: int = 0
    next_step: str | None = None
    converted: int = 0
    conversion: float | None = None
    median_time_to_next: float | None = None
    p90_time_to_next: float | None = None
    counts_dropoff: bool = False
    dropped: int = 0
    dropoff: float | None = None
    dropoff_by: tuple[BreakdownRate, ...] = ()
    contacting: int = 0
    contact_rate: float | None = None
    contact_events: int = 0
    contact_reasons: tuple[Count, ...] = ()
    looping: int = 0
    loop_rate: float | None = None
    waited: int = 0
    long_waits: int = 0
    median_wait: float | None = None
    switch_rate: float | None = None
    satisfaction: tuple[Satisfaction, ...] = ()
    emotion: float | None = None
    answers: int = 0
    dissatisfied: int = 0
    sentiment: float | None = None
    verbatims: tuple[Verbatim, ...] = ()
    themes: tuple[Count, ...] = ()

    @property
    def matched(self) -> bool:
        return self.customers > 0


@dataclass(frozen=True)
class LiveMap:
    map_id: str
    customers: int
    events: int
    outcome: str | None
    converted: int
    data_as_of: datetime | None
    within: float
    long_wait: float
    steps: tuple[StepLive, ...]

    @property
    def unmatched(self) -> list[str]:
        """Bound steps whose selector matched no event in scope: a broken binding, or a
        touchpoint with no data yet."""
        return [s.step for s in self.steps if s.bound and not s.matched]

    def step(self, step_id: str) -> StepLive:
        for s in self.steps:
            if s.step == step_id:
                return s
        raise JourneylensError(f"no step {step_id!r} in map {self.map_id}")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = plain(self)
        data["data_as_of"] = self.data_as_of.isoformat() if self.data_as_of else None
        data["unmatched"] = self.unmatched
        return data


def emotion_of(score_type: E.StringValue, score: E.NumericValue) -> E.Value:
    """A score on the map's emotion scale (-2..+2); NULL for types without a known scale."""
    s = score.cast("float64")
    return E.cases(
        (score_type.isin(["csat", "rating"]), s - 3.0),
        (score_type == "nps", (s - 5.0) / 2.5),
        (score_type == "ces", (s - 4.0) / 1.5),
        else_=E.null().cast("float64"),
    )


def dissatisfied_of(score_type: E.StringValue, score: E.NumericValue) -> E.BooleanValue:
    s = score.cast("float64")
    return E.cases(
        (score_type.isin(["csat", "rating"]), s <= 2.0),
        (score_type == "nps", s <= 6.0),
        (score_type == "ces", s <= 3.0),
        else_=E.literal(False),
    )


def live_map(
    journeys: Journeys, spec: LiveSpec, *, sentiment: SentimentFn | None = None
) -> LiveMap:
    """Measure every bound step of ``spec.journey_map`` on the journeys in scope."""
    if spec.within <= 0:
        raise JourneylensError(f"within must be positive, got {spec.within}")
    if spec.breakdown not in ("device", "channel"):
        raise JourneylensError(f"breakdown {spec.breakdown!r}: expected device or channel")
    engine = journeys.engine
    steps = bound_steps(spec.journey_map)
    outcome = outcome_step(steps)
    ev = scoped_events(journeys, spec.scope)
    totals = engine.to_arrow(
        ev.aggregate(customers=ev.customer_key.nunique(), events=ev.count(), last=ev.ts.max())
    ).to_pylist()[0]
    population = int(totals["customers"] or 0)
    columns = [
        "customer_key", "seq", "t", "ts", "activity", "channel", "device", "touchpoint",
        "next_channel", "score", "score_type", "text", "language", "attributes",
        "step", "step_index",
    ]  # fmt: skip
    with engine.materialized(step_events(journeys, ev, steps).select(*columns)) as se:
        measured = _Measures(journeys, spec, steps, outcome, ev, se).run()
    converted = measured.reach.get(outcome.id, (0, 0))[0] if outcome else 0
    if sentiment is None:
        model = spec.sentiment_model

        def sentiment(
            texts: Sequence[str], languages: Sequence[str | None]
        ) -> Sequence[float | None]:
            return verbatim_sentiment(texts, languages, model=model)

    texts = _with_sentiment(measured.verbatims, sentiment)

    results = []
    for step in steps:
        if not step.match:
            results.append(StepLive(step=step.id, stage=step.stage, bound=False))
            continue
        customers, events = measured.reach.get(step.id, (0, 0))
        nxt = step.next[0] if step.next else None
        conv, median, p90 = measured.conversion.get(step.id, (0, None, None))
        counts_dropoff = outcome is not None and step.index < outcome.index
        dropped = measured.dropped.get(step.id, 0) if counts_dropoff else 0
        contacting, contact_events = measured.contacts.get(step.id, (0, 0))
        scores = measured.satisfaction.get(step.id, ())
        answers = sum(s.answers for s in scores)
        weighted = [(s.emotion, s.answers) for s in scores if s.emotion is not None]
        emotion = (
            _clamp(sum(e * n for e, n in weighted) / sum(n for _, n in weighted))
            if weighted
            else None
        )
        step_texts = texts.get(step.id, ())
        step_themes = _themes(step_texts)
        rated = [(v.sentiment, v.count) for v in step_texts if v.sentiment is not None]
        mean_sentiment = (
            round(sum(s * n for s, n in rated) / sum(n for _, n in rated), 4) if rated else None
        )
        if emotion is None and mean_sentiment is not None:
            emotion = _clamp(mean_sentiment * EMOTION_MAX)
        results.append(
            StepLive(
                step=step.id,
                stage=step.stage,
                bound=True,
                customers=customers,
                share=_rate(customers, population),
                events=events,
                next_step=nxt,
                converted=conv,
                conversion=_rate(conv, customers) if nxt else None,
                median_time_to_next=median,
                p90_time_to_next=p90,
                counts_dropoff=counts_dropoff,
                dropped=dropped,
                dropoff=_rate(dropped, customers) if counts_dropoff else None,
                dropoff_by=measured.dropoff_by.get(step.id, ()) if counts_dropoff else (),
                contacting=contacting,
                contact_rate=_rate(contacting, customers),
                contact_events=contact_events,
                contact_reasons=measured.reasons.get(step.id, ()),
                waited=measured.waits.get(step.id, (0, 0, None))[0],
                long_waits=measured.waits.get(step.id, (0, 0, None))[1],
                median_wait=measured.waits.get(step.id, (0, 0, None))[2],
                looping=measured.loops.get(step.id, 0),
                loop_rate=_rate(measured.loops.get(step.id, 0), customers),
                switch_rate=measured.switches.get(step.id),
                satisfaction=scores,
                emotion=None if emotion is None else round(emotion, 3),
                answers=answers,
                dissatisfied=sum(s.dissatisfied for s in scores),
                sentiment=mean_sentiment,
                verbatims=step_texts,
                themes=step_themes,
            )
        )
    return LiveMap(
        map_id=spec.journey_map.id,
        customers=population,
        events=int(totals["events"] or 0),
        outcome=outcome.id if outcome else None,
        converted=converted,
        data_as_of=totals["last"],
        within=spec.within,
        long_wait=spec.long_wait,
        steps=tuple(results),
    )


class _Measures:
    """The engine queries behind a live map; each fills one dictionary keyed by step id."""

    def __init__(
        self,
        journeys: Journeys,
        spec: LiveSpec,
        steps: Sequence[BoundStep],
        outcome: BoundStep | None,
        ev: E.Table,
        se: E.Table,
    ) -> None:
        self.engine = journeys.engine
        self.journeys = journeys
        self.spec = spec
        self.steps = [s for s in steps if s.match]
        self.outcome = outcome
        self.ev = ev
        self.se = se
        self.reach: dict[str, tuple[int, int]] = {}
        self.conversion: dict[str, tuple[int, float | None, float | None]] = {}
        self.dropped: dict[str, int] = {}
        self.dropoff_by: dict[str, tuple[BreakdownRate, ...]] = {}
        self.contacts: dict[str, tuple[int, int]] = {}
        self.reasons: dict[str, tuple[Count, ...]] = {}
        self.loops: dict[str, int] = {}
        self.waits: dict[str, tuple[int, int, float | None]] = {}
        self.switches: dict[str, float | None] = {}
        self.satisfaction: dict[str, tuple[Satisfaction, ...]] = {}
        self.verbatims: dict[str, tuple[Verbatim, ...]] = {}

    def rows(self, expr: E.Table) -> list[dict[str, Any]]:
        return self.engine.to_arrow(expr).to_pylist()  # type: ignore[no-any-return]

    def run(self) -> _Measures:
        self._reach_and_switches()
        self._conversion()
        if self.outcome is not None:
            self._dropoff(self.outcome)
        self._contacts()
        self._loops()
        self._waits()
        self._satisfaction()
        return self

    def _waits(self) -> None:
        se = self.se
        wait = self.engine.json_text(se.attributes, "wait_seconds").try_cast("float64")
        timed = se.mutate(wait=wait).filter(wait.notnull())
        per_customer = timed.group_by(["customer_key", "step"]).agg(wait=timed.wait.max())
        long = (per_customer.wait > self.spec.long_wait).cast("int64")
        per_step = per_customer.group_by("step").agg(
            waited=per_customer.count(),
            long=long.sum(),
            median=per_customer.wait.quantile(0.5),
        )
        for r in self.rows(per_step):
            self.waits[r["step"]] = (int(r["waited"]), int(r["long"] or 0), seconds(r["median"]))

    def _reach_and_switches(self) -> None:
        se = self.se
        moved = se.next_channel.notnull()
        switched = moved & (se.next_channel != se.channel.fill_null(""))
        per_step = se.group_by("step").agg(
            customers=se.customer_key.nunique(),
            events=se.count(),
            moved=moved.cast("int64").sum(),
            switched=switched.cast("int64").sum(),
        )
        for r in self.rows(per_step):
            self.reach[r["step"]] = (int(r["customers"]), int(r["events"]))
            self.switches[r["step"]] = _rate(int(r["switched"] or 0), int(r["moved"] or 0))

    def _firsts(self) -> E.Table:
        se = self.se
        return se.group_by(["customer_key", "step"]).agg(first_t=se.t.min(), first_seq=se.seq.min())

    def _conversion(self) -> None:
        firsts = self._firsts()
        main_next = [(firsts.step == s.id, s.next[0]) for s in self.steps if s.next]
        if not main_next:
            return
        firsts = firsts.mutate(nxt=E.cases(*main_next, else_=E.null().cast("string")))
        firsts = firsts.filter(firsts.nxt.notnull())
        later = self.se.select(
            later_customer="customer_key", later_step="step", later_t="t", later_seq="seq"
        )
        joined = firsts.join(
            later,
            [
                firsts.customer_key == later.later_customer,
                firsts.nxt == later.later_step,
                later.later_seq > firsts.first_seq,
            ],
        )
        per_customer = joined.group_by(["customer_key", "step"]).agg(
            wait=(joined.later_t.min() - joined.first_t.min())
        )
        per_step = per_customer.group_by("step").agg(
            converted=per_customer.count(),
            times=per_customer.wait.quantile([0.5, 0.9]),
        )
        for r in self.rows(per_step):
            times = r["times"] or [None, None]
            self.conversion[r["step"]] = (int(r["converted"]), seconds(times[0]), seconds(times[1]))

    def _dropoff(self, outcome: BoundStep) -> None:
        se = self.se
        done = se.filter(se.step == outcome.id).select("customer_key").distinct()
        lost = se.anti_join(done, "customer_key")
        w = E.window(
            group_by=lost.customer_key,
            order_by=[E.desc(lost.seq), E.desc(lost.step_index)],
        )
        ranked = lost.mutate(rank=E.row_number().over(w))
        # The last designed step of all; a customer who skipped the purchase but went on to a
        # later step (delivery, a call) did not abandon before it.
        last = ranked.filter((ranked.rank == 0) & (ranked.step_index < outcome.index))
        field_name = self.spec.breakdown
        for r in self.rows(last.group_by("step").agg(dropped=last.count())):
            self.dropped[r["step"]] = int(r["dropped"])
        lost_rows = self.rows(last.group_by(["step", field_name]).agg(dropped=last.count()))
        groups = se.select("customer_key", "step", label=se[field_name]).distinct()
        reached = self.rows(groups.group_by(["step", "label"]).agg(customers=groups.count()))
        lost_by = {(r["step"], r[field_name]): int(r["dropped"]) for r in lost_rows}
        by_step: dict[str, list[BreakdownRate]] = defaultdict(list)
        for r in reached:
            n = int(r["customers"])
            d = lost_by.get((r["step"], r["label"]), 0)
            by_step[r["step"]].append(BreakdownRate(r["label"], n, d, _rate(d, n)))
        for step, rates in by_step.items():
            self.dropoff_by[step] = tuple(
                sorted(rates, key=lambda b: (-b.customers, b.label is None, b.label or ""))
            )

    def _contact_events(self) -> E.Table:
        ev = self.ev
        if self.spec.contacts:
            condition = compile_text(self.engine, ev, self.spec.contacts)
        else:
            condition = ev.channel.isin(list(self.spec.contact_channels))
        reason = E.cases(
            (self.engine.json_text(ev.attributes, "reason").notnull(),
             self.engine.json_text(ev.attributes, "reason")),
            (ev.touchpoint.notnull(), ev.touchpoint),
            else_=ev.activity,
        )  # fmt: skip
        return ev.filter(condition).select(
            c_customer="customer_key", c_seq="seq", c_t="t", reason=reason
        )

    def _contacts(self) -> None:
        se, contacts = self.se, self._contact_events()
        pairs = contacts.join(
            se,
            [
                contacts.c_customer == se.customer_key,
                se.seq < contacts.c_seq,
                contacts.c_t - se.t <= self.spec.within,
            ],
        )
        latest = pairs.group_by(["c_customer", "c_seq", "reason"]).agg(at=pairs.seq.max())
        caused = self._attributed(latest)
        per_step = caused.group_by("step").agg(
            customers=caused.c_customer.nunique(), events=caused.count()
        )
        for r in self.rows(per_step):
            self.contacts[r["step"]] = (int(r["customers"]), int(r["events"]))
        reasons = caused.group_by(["step", "reason"]).agg(customers=caused.c_customer.nunique())
        by_step: dict[str, list[Count]] = defaultdict(list)
        for r in self.rows(reasons):
            by_step[r["step"]].append(Count(r["reason"], int(r["customers"])))
        for step, counts in by_step.items():
            ordered = sorted(counts, key=lambda c: (-c.count, c.label or ""))
            self.reasons[step] = tuple(ordered[:5])

    def _attributed(self, latest: E.Table) -> E.Table:
        """Each contact with the step(s) of the designed event just before it."""
        steps = self.se.select(s_customer="customer_key", s_seq="seq", step="step")
        return latest.join(steps, [latest.c_customer == steps.s_customer, latest.at == steps.s_seq])

    def _loops(self) -> None:
        """Customers who went back from the step to an earlier designed step (back-and-forth
        starts where the customer turns back, not where they return to)."""
        se = self.se
        w = E.window(group_by=se.customer_key, order_by=[se.seq, se.step_index])
        marked = se.mutate(after=se.step_index.lead().over(w))
        back = marked.filter(marked.after < marked.step_index)
        per_step = back.group_by("step").agg(customers=back.customer_key.nunique())
        for r in self.rows(per_step):
            self.loops[r["step"]] = int(r["customers"])

    def _answers(self) -> E.Table:
        """Survey answers and texts tied to each step (own events, or ``about`` it)."""
        ev, se = self.ev, self.se
        columns = ["customer_key", "seq", "score", "score_type", "text", "language"]
        own = se.filter(se.score.notnull() | se.text.notnull()).select("step", *columns)
        about = self.engine.json_text(ev.attributes, "about")
        told = ev.filter((ev.score.notnull() | ev.text.notnull()) & about.notnull()).mutate(
            about=about
        )
        parts = [own]
        for step in self.steps:
            keys = [step.id] + ([step.touchpoint] if step.touchpoint else [])
            parts.append(
                told.filter(told.about.isin(keys))
                .mutate(step=E.literal(step.id, type="string"))
                .select("step", *columns)
            )
        table = parts[0]
        for part in parts[1:]:
            table = table.union(part, distinct=False)
        return table.distinct()

    def _satisfaction(self) -> None:
        answers = self._answers()
        scored = answers.filter(answers.score.notnull())
        emotion = emotion_of(scored.score_type.fill_null("other"), scored.score)
        unhappy = dissatisfied_of(scored.score_type.fill_null("other"), scored.score)
        per_type = scored.group_by(["step", "score_type"]).agg(
            answers=scored.count(),
            mean=scored.score.mean(),
            dissatisfied=unhappy.cast("int64").sum(),
            emotion=emotion.mean(),
        )
        by_step: dict[str, list[Satisfaction]] = defaultdict(list)
        for r in self.rows(per_type):
            by_step[r["step"]].append(
                Satisfaction(
                    score_type=r["score_type"] or "other",
                    answers=int(r["answers"]),
                    mean=round(float(r["mean"]), 4),
                    dissatisfied=int(r["dissatisfied"] or 0),
                    emotion=None if r["emotion"] is None else round(float(r["emotion"]), 4),
                )
            )
        for step, scores in by_step.items():
            self.satisfaction[step] = tuple(sorted(scores, key=lambda s: s.score_type))
        texts = answers.filter(answers.text.notnull() & (answers.text.strip() != ""))
        counted = texts.group_by(["step", "text", "language"]).agg(count=texts.count())
        w = E.window(group_by=counted.step, order_by=[E.desc(counted["count"]), counted.text])
        top = counted.mutate(rank=E.row_number().over(w))
        top = top.filter(top.rank < VERBATIM_LIMIT)
        lines: dict[str, list[Verbatim]] = defaultdict(list)
        for r in self.rows(top.order_by(["step", "rank"])):
            lines[r["step"]].append(Verbatim(r["text"], r["language"], int(r["count"])))
        self.verbatims = {step: tuple(found) for step, found in lines.items()}


def _with_sentiment(
    texts: dict[str, tuple[Verbatim, ...]], sentiment: SentimentFn
) -> dict[str, tuple[Verbatim, ...]]:
    """Score every distinct text once, however many steps it is tied to."""
    distinct = sorted({(v.text, v.language) for found in texts.values() for v in found},
                      key=lambda p: (p[0], p[1] or ""))  # fmt: skip
    scores = sentiment([t for t, _ in distinct], [lang for _, lang in distinct])
    score_of = dict(zip(distinct, scores, strict=True))
    return {
        step: tuple(
            Verbatim(v.text, v.language, v.count, score_of[(v.text, v.language)]) for v in found
        )
        for step, found in texts.items()
    }


def _themes(texts: Sequence[Verbatim], top: int = 3) -> tuple[Count, ...]:
    """What the step's verbatims talk about (payment, waiting, returns...), by answers."""
    if not texts:
        return ()
    found = themes([v.text for v in texts], [v.language for v in texts], min_count=1)
    counted = [
        Count(theme.label, sum(texts[i].count for i in theme.indices))
        for theme in found
        if theme.kind == "lexicon"
    ]
    counted.sort(key=lambda c: (-c.count, c.label or ""))
    return tuple(counted[:top])


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _clamp(value: float) -> float:
    return max(float(EMOTION_MIN), min(float(EMOTION_MAX), value))


__all__ = [
    "PRE_OUTCOME",
    "BreakdownRate",
    "Count",
    "LiveMap",
    "LiveSpec",
    "Satisfaction",
    "SentimentFn",
    "StepLive",
    "Verbatim",
    "dissatisfied_of",
    "emotion_of",
    "live_map",
]
