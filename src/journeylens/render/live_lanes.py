"""The data lanes of a live map: what really happens on every step, under the designed map.

A CX lead reads a live map column by column: how many customers reach the step, how many go
on or leave, how many then call support, what they say, and whether the data flags the step
as a pain point. Each lane here measures and draws one of those cells; the designed map's
drawing (:mod:`.journey_map`) places them and draws the measured emotion curve beside the
designed one. All customer text goes through the drawing's XML tree, so it is escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from journeylens.analyses.conformance import Conformance
from journeylens.analyses.live import LiveMap, StepLive
from journeylens.analyses.painpoints import PainPoint, PainPoints
from journeylens.model.journey_map import Step

if TYPE_CHECKING:
    from journeylens.render.journey_map import Lane, _MapDrawing

LINE = 1.36
MUTED = "#66727f"
BAR = "#4263eb"
GOOD = "#2b8a3e"
BAD = "#c92a2a"
WARN = "#e8590c"
MEASURED = "#1c7ed6"

#: A cell's content: lines of (text, font size, bold, colour).
Line = tuple[str, float, bool, str]


def number(value: int, language: str) -> str:
    """Thousands grouped as the language writes them (a comma in English, a space or dot
    elsewhere)."""
    text = f"{value:,}"
    if language in ("ro", "sl"):
        return text.replace(",", ".")
    if language == "ru":
        return text.replace(",", " ")
    return text


def percent(value: float | None) -> str:
    if value is None:
        return "–"
    share = value * 100
    return f"{share:.0f}%" if share >= 1 or share == 0 else f"{share:.1f}%"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


class LiveLanes:
    """Measure-and-draw pairs for the data lanes of one drawing."""

    def __init__(
        self,
        drawing: _MapDrawing,
        live: LiveMap,
        pains: PainPoints | None,
        conformance: Conformance | None = None,
    ) -> None:
        self.d = drawing
        self.live = live
        self.conformance = conformance
        self.by_step = {s.step: s for s in live.steps}
        self.pains: dict[str, tuple[int, PainPoint]] = {
            p.step: (rank, p) for rank, p in enumerate(pains.ranked if pains else (), start=1)
        }
        matched = [s.customers for s in live.steps if s.matched]
        self.most = max(matched) if matched else 0

    def l(self, key: str, **values: object) -> str:  # noqa: E743 - as in the drawing
        return self.d.l(key).format(**values)

    def n(self, value: int) -> str:
        return number(value, self.d.lang)

    def lanes(self) -> list[Lane]:
        lanes: list[Lane] = [
            ("live_reach", *self._cell(self._reach)),
            ("live_flow", *self._cell(self._flow)),
            ("live_contacts", *self._cell(self._contacts)),
            ("live_satisfaction", *self._cell(self._satisfaction)),
        ]
        if self.conformance is not None:
            lanes.append(("live_conformance", *self._cell(self._fitness)))
        if self.pains:
            lanes.append(("live_pains", *self._cell(self._pain)))
        return lanes

    def header(self) -> str:
        as_of = self.live.data_as_of.date().isoformat() if self.live.data_as_of else "–"
        parts = [
            f"{self.l('data_as_of')} {as_of}",
            f"{self.n(self.live.customers)} {self.l('customers')}",
        ]
        if self.live.outcome:
            share = self.live.converted / self.live.customers if self.live.customers else None
            parts.append(f"{self.n(self.live.converted)} {self.l('converted')} ({percent(share)})")
        if self.conformance is not None and self.conformance.conformance is not None:
            parts.append(f"{percent(self.conformance.conformance)} {self.l('follow_path')}")
        return " · ".join(parts)

    def _cell(
        self, content: Callable[[Step, StepLive | None], list[Line]]
    ) -> tuple[Callable[[Step, float], float], Callable[[Step, float, float, float, float], None]]:
        def wrapped(step: Step, width: float) -> list[tuple[list[str], float, bool, str]]:
            out = []
            for text, size, bold, colour in content(step, self.by_step.get(step.id)):
                lines = self.d.lines(text, size, bold=bold, width=width, max_lines=4)
                out.append((lines, size, bold, colour))
            return out

        def measure(step: Step, width: float) -> float:
            extra = 16.0 if self._bar(step) is not None else 0.0
            return extra + sum(size * LINE * len(ls) + 2 for ls, size, _, _ in wrapped(step, width))

        def draw(step: Step, x: float, y: float, w: float, h: float) -> None:
            c = self.d.canvas
            if content == self._reach and (fill := self._bar(step)) is not None:
                c.rect(None, x, y + 2, w, 9, rx="4.5", fill="#e9ecef")
                if fill > 0:
                    c.rect(None, x, y + 2, max(w * fill, 9.0), 9, rx="4.5", fill=BAR)
                y += 16
            for lines, size, bold, colour in wrapped(step, w):
                y += c.text(x, y, w, lines, size=size, bold=bold, colour=colour) + 2

        return measure, draw

    def _bar(self, step: Step) -> float | None:
        s = self.by_step.get(step.id)
        if s is None or not s.bound or not s.matched or not self.most:
            return None
        return s.customers / self.most

    def _reach(self, step: Step, s: StepLive | None) -> list[Line]:
        if s is None or not s.bound:
            return [(self.l("not_bound"), 11, False, MUTED)]
        if not s.matched:
            return [(f"⚠ {self.l('no_events')}", 11.5, True, WARN)]
        return [
            (f"{self.n(s.customers)} {self.l('customers')}", 13, True, "#1f2933"),
            (f"{percent(s.share)} · {self.n(s.events)} events", 10.5, False, MUTED),
        ]

    def _flagged(self, step_id: str, kind: str) -> bool:
        found = self.pains.get(step_id)
        return found is not None and any(sig.kind == kind for sig in found[1].signals)

    def _flow(self, step: Step, s: StepLive | None) -> list[Line]:
        if s is None or not s.matched:
            return []
        lines: list[Line] = []
        if s.conversion is not None:
            lines.append((f"→ {percent(s.conversion)} {self.l('to_next')}", 12, True, GOOD))
            if s.median_time_to_next is not None:
                lines.append(
                    (f"{self.l('median')} {duration(s.median_time_to_next)}", 10.5, False, MUTED)
                )
        if s.dropoff is not None:
            bad = self._flagged(s.step, "drop-off")
            lines.append(
                (f"{self.l('dropoff')} {percent(s.dropoff)}", 12, True, BAD if bad else MUTED)
            )
            split = [b for b in s.dropoff_by if b.label and b.customers >= 30]
            if bad and len(split) > 1:
                text = " · ".join(f"{b.label} {percent(b.rate)}" for b in split[:3])
                lines.append((text, 10.5, False, BAD))
        if s.loop_rate and self._flagged(s.step, "loops"):
            lines.append((f"↺ {percent(s.loop_rate)} {self.l('loops')}", 11, True, BAD))
        return lines

    def _contacts(self, step: Step, s: StepLive | None) -> list[Line]:
        if s is None or not s.matched:
            return []
        lines: list[Line] = []
        days = f"{self.live.within / 86_400:g}"
        if s.contacting:
            bad = self._flagged(s.step, "failure demand")
            lines.append(
                (
                    f"{percent(s.contact_rate)} {self.l('contacted')} "
                    + self.l("within_days", days=days),
                    12,
                    True,
                    BAD if bad else "#1f2933",
                )
            )
            top = s.contact_reasons[0] if s.contact_reasons else None
            if top and top.label:
                lines.append((f"{self._name(top.label)} ({self.n(top.count)})", 10.5, False, MUTED))
        else:
            lines.append((f"0% {self.l('contacted')}", 10.5, False, MUTED))
        if s.long_waits and s.waited:
            minutes = f"{self.live.long_wait / 60:g}"
            lines.append(
                (
                    f"{percent(s.long_waits / s.waited)} {self.l('waited', minutes=minutes)}"
                    f" ({self.l('median')} {duration(s.median_wait)})",
                    11,
                    True,
                    BAD,
                )
            )
        return lines

    def _name(self, ref: str) -> str:
        """A touchpoint or channel id as its name, when the workspace knows it."""
        ws = self.d.ws
        if ws is not None:
            touchpoint = ws.touchpoint(ref)
            if touchpoint is not None:
                return self.d.t(touchpoint.name)
            channel = ws.channel(ref)
            if channel is not None:
                return self.d.t(channel.name)
        return ref

    def _satisfaction(self, step: Step, s: StepLive | None) -> list[Line]:
        if s is None or not s.matched:
            return []
        lines: list[Line] = []
        if not s.answers and not s.verbatims:
            return [(self.l("no_answers"), 10.5, False, MUTED)]
        for score in s.satisfaction:
            scale = {"csat": "/5", "rating": "/5", "nps": "/10", "ces": "/7"}.get(
                score.score_type, ""
            )
            unhappy = score.dissatisfied / score.answers if score.answers else 0.0
            colour = BAD if self._flagged(s.step, "dissatisfaction") else "#1f2933"
            lines.append(
                (f"{score.score_type.upper()} {score.mean:.1f}{scale}", 12.5, True, colour)
            )
            lines.append(
                (
                    f"{self.n(score.answers)} {self.l('answers')} · {percent(unhappy)} "
                    f"{self.l('dissatisfied')}",
                    10.5,
                    False,
                    MUTED,
                )
            )
        quote = self._quote(s)
        if quote:
            lines.append((quote, 11, False, "#495057"))
        if s.themes:
            text = " · ".join(f"{t.label} ({self.n(t.count)})" for t in s.themes if t.label)
            lines.append((text, 10.5, False, MUTED))
        return lines

    @staticmethod
    def _quote(s: StepLive) -> str | None:
        """The verbatim that says most about the step: the most negative when sentiment is
        known, else the most frequent."""
        if not s.verbatims:
            return None
        rated = [v for v in s.verbatims if v.sentiment is not None]
        chosen = min(rated, key=lambda v: (v.sentiment, -v.count)) if rated else s.verbatims[0]
        tag = f" ({chosen.language})" if chosen.language else ""
        return f"“{chosen.text}”{tag}"

    def _fitness(self, step: Step, s: StepLive | None) -> list[Line]:
        """How many follow the design into this step, how many arrive off it, and the
        step's most frequent deviation."""
        assert self.conformance is not None
        fit = self.conformance.steps.get(step.id)
        if fit is None or not fit.reached:
            return []
        lines: list[Line] = []
        if fit.fitness is not None and fit.predecessor:
            source = self.d.map.step(fit.predecessor)
            name = self.d.t(source.action) if source else fit.predecessor
            lines.append((f"{percent(fit.fitness)} {self.l('fitness')}", 12, True, "#1f2933"))
            lines.append((name, 10.5, False, MUTED))
        if fit.from_undesigned_share:
            colour = WARN if fit.from_undesigned_share >= 0.25 else MUTED
            lines.append(
                (f"{percent(fit.from_undesigned_share)} {self.l('off_design')}", 11, True, colour)
            )
        if fit.deviations:
            kind, count = max(fit.deviations.items(), key=lambda kv: (kv[1], kv[0]))
            total = self.conformance.by_kind.get(kind)  # type: ignore[call-overload]
            label = total.label if total is not None else kind
            lines.append((f"{label}: {self.n(count)}", 10.5, False, MUTED))
        return lines

    def _pain(self, step: Step, s: StepLive | None) -> list[Line]:
        found = self.pains.get(step.id)
        if found is None:
            return []
        rank, point = found
        lines: list[Line] = [
            (f"⚠ #{rank} · {percent(point.score)} {self.l('affected')}", 12, True, BAD)
        ]
        for signal in point.signals[:2]:
            lines.append((signal.evidence, 10.5, False, "#862e2e"))
        return lines

    def measured_points(self) -> list[tuple[int, float]]:
        """(column index, measured emotion) for steps whose emotion data measured."""
        out = []
        for index, column in enumerate(self.d.columns):
            if column.step is None:
                continue
            s = self.by_step.get(column.step.id)
            if s is not None and s.emotion is not None:
                out.append((index, s.emotion))
        return out
