"""Draw a journey map as the classic grid: stages as columns of steps, lanes as rows.

The drawing is built as an XML tree (so every piece of customer text is escaped by the
serialiser, never by hand), laid out in left-to-right coordinates and mirrored for
right-to-left languages. Text is wrapped with the metrics of the fonts the SVG embeds, so
the same input gives the same bytes and the same line breaks everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, SubElement, tostring

from journeylens.analyses.conformance import Conformance
from journeylens.analyses.live import LiveMap
from journeylens.analyses.painpoints import PainPoints
from journeylens.model.common import Text, localize
from journeylens.model.journey_map import JourneyMap, Stage, Step
from journeylens.model.workspace import WorkspaceFile
from journeylens.render import fonts
from journeylens.render.icons import ICON_NAMES, symbol
from journeylens.render.labels import label
from journeylens.render.live_lanes import MEASURED, LiveLanes

MARGIN = 28
LABEL_W = 172
COL_W = 216
GAP = 10
PAD = 9
LINE = 1.36  # line height as a multiple of the font size
EMOTION_H = 200
MAX_ITEM_LINES = 7

INK = "#1f2933"
MUTED = "#66727f"
GRID = "#dde2e8"
STAGE_COLOURS = ("#3b5bdb", "#7048e8", "#0c8599", "#2b8a3e", "#d9480f", "#c2255c", "#5c7cfa")
EMOTION_COLOURS = {-2: "#e03131", -1: "#f76707", 0: "#868e96", 1: "#74b816", 2: "#2f9e44"}
EVIDENCE_COLOURS = {"assumed": "#adb5bd", "research": "#339af0", "measured": "#37b24d"}
SEVERITY_COLOURS = {"low": "#fab005", "medium": "#fd7e14", "high": "#f03e3e", "critical": "#c92a2a"}


def _fmt(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass
class _Canvas:
    """An SVG tree in left-to-right layout coordinates, mirrored on output when ``rtl``."""

    width: float
    rtl: bool
    body: Element = field(default_factory=lambda: Element("g"))
    text_seen: list[str] = field(default_factory=list)

    def mx(self, x: float, w: float = 0.0) -> float:
        return self.width - x - w if self.rtl else x

    def rect(
        self, parent: Element | None, x: float, y: float, w: float, h: float, **attrs: str
    ) -> Element:
        return SubElement(
            parent if parent is not None else self.body,
            "rect",
            {
                "x": _fmt(self.mx(x, w)),
                "y": _fmt(y),
                "width": _fmt(w),
                "height": _fmt(h),
                **attrs,
            },
        )

    def hline(self, x: float, y: float, w: float, **attrs: str) -> None:
        SubElement(
            self.body,
            "line",
            {
                "x1": _fmt(self.mx(x)),
                "y1": _fmt(y),
                "x2": _fmt(self.mx(x + w)),
                "y2": _fmt(y),
                **attrs,
            },
        )

    def icon(self, name: str, x: float, y: float, size: float, colour: str) -> None:
        SubElement(
            self.body,
            "use",
            {
                "href": f"#icon-{name}",
                "x": _fmt(self.mx(x, size)),
                "y": _fmt(y),
                "width": _fmt(size),
                "height": _fmt(size),
                "color": colour,
            },
        )

    def text(
        self,
        x: float,
        y: float,
        w: float,
        lines: Sequence[str],
        *,
        size: float,
        bold: bool = False,
        italic: bool = False,
        colour: str = INK,
        anchor: str = "start",
        full: str | None = None,
    ) -> float:
        """Write ``lines`` in the box starting at (x, y) of width w; return the height used."""
        if not lines:
            return 0.0
        # Text starts at the box's right edge in a right-to-left drawing.
        start = self.mx(x)  # the right edge of the mirrored box in RTL
        tx = self.mx(x + w / 2) if anchor == "middle" else start
        attrs = {"x": _fmt(tx), "y": _fmt(y + size), "font-size": _fmt(size), "fill": colour}
        if bold:
            attrs["font-weight"] = "700"
        if italic:
            attrs["font-style"] = "italic"
        if anchor == "middle":
            attrs["text-anchor"] = "middle"
        element = SubElement(self.body, "text", attrs)
        if full is not None and full != " ".join(lines):
            SubElement(element, "title").text = full
        for index, line in enumerate(lines):
            span = SubElement(element, "tspan", {"x": _fmt(tx)})
            if index:
                span.set("dy", _fmt(size * LINE))
            span.text = line
            self.text_seen.append(line)
        return size * LINE * len(lines)


@dataclass
class _Column:
    stage: Stage
    stage_index: int
    step: Step | None


Lane = tuple[
    str, Callable[[Step, float], float], Callable[[Step, float, float, float, float], None]
]


def _steps_or_gap(stage: Stage) -> list[Step | None]:
    """A stage without steps still gets one (empty) column, so it stays visible."""
    return list(stage.steps) or [None]


class _MapDrawing:
    """One drawing of one map; methods are the lanes, each measuring then drawing cells."""

    def __init__(
        self,
        journey_map: JourneyMap,
        workspace: WorkspaceFile | None,
        live: LiveMap | None = None,
        pains: PainPoints | None = None,
        conformance: Conformance | None = None,
    ) -> None:
        self.map = journey_map
        self.ws = workspace
        self.lang = journey_map.language
        self.fallback = workspace.workspace.default_language if workspace else "en"
        self.columns = [
            _Column(stage, index, step)
            for index, stage in enumerate(journey_map.stages)
            for step in _steps_or_gap(stage)
        ]
        self.width = 2 * MARGIN + LABEL_W + len(self.columns) * COL_W
        self.canvas = _Canvas(self.width, journey_map.text_direction == "rtl")
        self.cell_w = COL_W - GAP
        self.inner_w = self.cell_w - 2 * PAD
        self.live = LiveLanes(self, live, pains, conformance) if live is not None else None

    # -- helpers ---------------------------------------------------------------------------
    def t(self, text: Text | None) -> str:
        return localize(text, self.lang, self.fallback)

    def l(self, key: str) -> str:  # noqa: E743 - short name reads well at call sites
        return label(key, self.lang)

    def col_x(self, index: int) -> float:
        return MARGIN + LABEL_W + index * COL_W

    def stage_colour(self, index: int) -> str:
        return STAGE_COLOURS[index % len(STAGE_COLOURS)]

    def lines(
        self,
        text: str,
        size: float,
        *,
        bold: bool = False,
        width: float | None = None,
        max_lines: int = MAX_ITEM_LINES,
    ) -> list[str]:
        return fonts.wrap(text, width or self.inner_w, size, bold=bold, max_lines=max_lines)

    # -- document ----------------------------------------------------------------------------
    def draw(self) -> str:
        y = self.header(MARGIN)
        y = self.stage_band(y + 14)
        lanes = self.lanes()
        for group_index, (group, members) in enumerate(lanes):
            if group == "blueprint":
                y += 6
            for key, measure, draw in members:
                if key.startswith("line_"):
                    y = self.separator(key, y)
                    continue
                y = self.lane(key, measure, draw, y, shaded=group_index % 2 == 1)
        y = self.legend(y + 18)
        height = y + MARGIN
        return self.serialise(height)

    def serialise(self, height: float) -> str:
        canvas = self.canvas
        root = Element(
            "svg",
            {
                "xmlns": "http://www.w3.org/2000/svg",
                "width": _fmt(self.width),
                "height": _fmt(height),
                "viewBox": f"0 0 {_fmt(self.width)} {_fmt(height)}",
                "direction": "rtl" if canvas.rtl else "ltr",
                "{http://www.w3.org/XML/1998/namespace}lang": self.lang,
                "font-family": fonts.CSS_STACK,
                "role": "img",
                "aria-label": self.t(self.map.title),
            },
        )
        SubElement(root, "title").text = self.t(self.map.title)
        defs = SubElement(root, "defs")
        style = SubElement(defs, "style")
        used = "".join(canvas.text_seen) + "0123456789+−-–·…%≥≤→ "
        style.text = fonts.font_face_css(used)
        for name in sorted(ICON_NAMES):
            defs.append(symbol(name))
        SubElement(root, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
        root.append(canvas.body)
        if canvas.rtl:
            for text in root.iter("text"):
                text.set("direction", "rtl")
        return tostring(root, encoding="unicode", xml_declaration=False) + "\n"

    def header(self, y: float) -> float:
        c = self.canvas
        full_w = self.width - 2 * MARGIN
        m = self.map
        y += c.text(
            MARGIN,
            y,
            full_w,
            fonts.wrap(self.t(m.title), full_w, 26, bold=True),
            size=26,
            bold=True,
        )
        kind = [self.l(m.type), self.l(f"status_{m.status}"), m.language]
        if m.based_on:
            kind.append(f"{self.l('based_on')}: {m.based_on}")
        y += 4 + c.text(MARGIN, y + 4, full_w, [" · ".join(kind)], size=12.5, colour=MUTED)
        if self.live is not None:
            y += 4 + c.text(
                MARGIN, y + 4, full_w, [self.live.header()], size=13, bold=True, colour=MEASURED
            )
        facts: list[tuple[str, str]] = []
        for persona_id in m.personas:
            persona = self.ws.persona(persona_id) if self.ws else None
            if persona is None:
                facts.append((self.l("persona"), persona_id))
            else:
                about = self.t(persona.description)
                name = self.t(persona.name)
                facts.append((self.l("persona"), f"{name} — {about}" if about else name))
        if m.goal:
            facts.append((self.l("goal"), self.t(m.goal)))
        if m.scenario:
            facts.append((self.l("scenario"), self.t(m.scenario)))
        if m.competitors:
            names = ", ".join(
                f"{self.t(k.name)} ({self.t(k.description)})" if k.description else self.t(k.name)
                for k in m.competitors
            )
            facts.append((self.l("competitors"), names))
        y += 8
        key_w = 150
        for key, value in facts:
            c.text(MARGIN, y, key_w, [key], size=12.5, bold=True, colour=MUTED)
            lines = fonts.wrap(value, full_w - key_w, 12.5, max_lines=3)
            y += c.text(MARGIN + key_w, y, full_w - key_w, lines, size=12.5, full=value) + 3
        return y

    def stage_band(self, y: float) -> float:
        c = self.canvas
        spans: list[tuple[int, int, Stage]] = []
        for index, column in enumerate(self.columns):
            if spans and spans[-1][2] is column.stage:
                spans[-1] = (spans[-1][0], index, column.stage)
            else:
                spans.append((index, index, column.stage))
        blocks = []
        height = 0.0
        for first, last, stage in spans:
            w = (last - first + 1) * COL_W - GAP
            name = fonts.wrap(self.t(stage.name), w - 2 * PAD, 15, bold=True, max_lines=2)
            goal = fonts.wrap(self.t(stage.goal), w - 2 * PAD, 11.5, max_lines=3)
            h = 2 * PAD + 15 * LINE * len(name) + (11.5 * LINE * len(goal) + 2 if goal else 0)
            height = max(height, h)
            blocks.append((first, w, stage, name, goal))
        for first, w, stage, name, goal in blocks:
            colour = self.stage_colour(self.map.stages.index(stage))
            x = self.col_x(first)
            c.rect(None, x, y, w, height, rx="8", fill=colour)
            used = c.text(x + PAD, y + PAD, w - 2 * PAD, name, size=15, bold=True, colour="#fff")
            c.text(
                x + PAD,
                y + PAD + used + 2,
                w - 2 * PAD,
                goal,
                size=11.5,
                colour="#eef2ff",
                full=self.t(stage.goal),
            )
        return y + height + GAP

    def lane(
        self,
        key: str,
        measure: Callable[[Step, float], float],
        draw: Callable[[Step, float, float, float, float], None],
        y: float,
        *,
        shaded: bool,
    ) -> float:
        c = self.canvas
        height = max(
            [44.0]
            + [
                measure(col.step, self.inner_w) + 2 * PAD
                for col in self.columns
                if col.step is not None
            ]
        )
        c.rect(
            None,
            MARGIN,
            y,
            self.width - 2 * MARGIN,
            height,
            fill="#f8f9fb" if shaded else "#ffffff",
            stroke=GRID,
            **{"stroke-width": "1"},
        )
        c.rect(None, MARGIN, y, LABEL_W - GAP, height, fill="#eef1f5")
        name = fonts.wrap(self.l(key), LABEL_W - GAP - 2 * PAD, 12.5, bold=True)
        c.text(MARGIN + PAD, y + PAD, LABEL_W - GAP - 2 * PAD, name, size=12.5, bold=True)
        for index, column in enumerate(self.columns):
            if column.step is not None:
                draw(column.step, self.col_x(index) + PAD, y + PAD, self.inner_w, height - 2 * PAD)
        if key == "emotion":
            self.draw_emotion(y, height)
        return y + height + 2

    def separator(self, key: str, y: float) -> float:
        c = self.canvas
        y += 9
        c.hline(
            MARGIN,
            y,
            self.width - 2 * MARGIN,
            stroke="#495057",
            **{"stroke-width": "1.4", "stroke-dasharray": "7 5"},
        )
        text = self.l(key)
        w = fonts.text_width(text, 11, bold=True) + 12
        c.rect(None, MARGIN + LABEL_W, y - 8, w, 16, fill="#fff")
        c.text(MARGIN + LABEL_W + 6, y - 8, w, [text], size=11, bold=True, colour="#495057")
        return y + 11

    # -- lanes -------------------------------------------------------------------------------
    def lanes(self) -> list[tuple[str, list[Lane]]]:
        steps = [col.step for col in self.columns if col.step is not None]

        def has(attr: str) -> bool:
            return any(getattr(step, attr) for step in steps)

        journey: list[Lane] = [
            ("steps", self.measure_step, self.draw_step),
            ("touchpoints", self.measure_touchpoint, self.draw_touchpoint),
        ]
        if has("thoughts"):
            journey.append(("thoughts", *self.items_lane("thoughts", "bubble")))
        journey.append(("emotion", lambda s, w: EMOTION_H - 2 * PAD, self.draw_nothing))
        data: list[Lane] = self.live.lanes() if self.live is not None else []
        findings: list[Lane] = []
        if any(step.pain_points for step in steps):
            findings.append(("pain_points", self.measure_pains, self.draw_pains))
        if has("gains"):
            findings.append(("gains", *self.items_lane("gains", "gain")))
        if has("opportunities"):
            findings.append(("opportunities", self.measure_opportunities, self.draw_opportunities))
        if has("kpis"):
            findings.append(("kpis", *self.items_lane("kpis", "kpi")))
        blueprint: list[Lane] = []
        if self.map.has_blueprint or has("owner"):
            if has("physical_evidence"):
                blueprint.append(
                    ("physical_evidence", *self.items_lane("physical_evidence", "plain"))
                )
            blueprint.append(("line_of_interaction", self.measure_nothing, self.draw_nothing))
            blueprint.append(("frontstage", *self.items_lane("frontstage", "plain")))
            blueprint.append(("line_of_visibility", self.measure_nothing, self.draw_nothing))
            blueprint.append(("backstage", *self.items_lane("backstage", "plain")))
            blueprint.append(
                ("line_of_internal_interaction", self.measure_nothing, self.draw_nothing)
            )
            blueprint.append(("support", *self.items_lane("support", "plain")))
            if has("owner"):
                blueprint.append(("owner", *self.items_lane("owner", "owner")))
        groups = [
            ("journey", journey),
            ("data", data),
            ("findings", findings),
            ("blueprint", blueprint),
        ]
        return [(name, members) for name, members in groups if members]

    def measure_nothing(self, step: Step, width: float) -> float:
        return 0.0

    def draw_nothing(self, step: Step, x: float, y: float, w: float, h: float) -> None:
        return None

    # Customer actions: the step card.
    def _step_parts(self, step: Step, width: float) -> tuple[list[str], list[str], list[str]]:
        badges = []
        if step.kind != "action":
            badges.append(self.l(step.kind))
        if step.moment_of_truth is not None:
            mot = self.l("moment_of_truth")
            if step.moment_of_truth.type != "custom":
                mot += f" · {step.moment_of_truth.type}"
            badges.append(mot)
        action = self.lines(self.t(step.action), 13, bold=True, width=width)
        branches = []
        for branch in step.next:
            target = self.map.step(branch.step)
            name = self.t(target.action) if target else branch.step
            text = f"→ {self.t(branch.label)}: {name}" if branch.label else f"→ {name}"
            branches.extend(self.lines(text, 11, width=width, max_lines=2))
        return badges, action, branches

    def measure_step(self, step: Step, width: float) -> float:
        badges, action, branches = self._step_parts(step, width - 8)
        h = 8 + len(badges) * 18 + 13 * LINE * len(action)
        h += (11 * LINE * len(branches) + 6) if branches else 0
        return h + (20 if step.evidence else 0)

    def draw_step(self, step: Step, x: float, y: float, w: float, h: float) -> None:
        c = self.canvas
        stage_index = next(i for i, col in enumerate(self.columns) if col.step is step)
        colour = self.stage_colour(self.columns[stage_index].stage_index)
        card = c.rect(
            None,
            x - 4,
            y - 4,
            w + 8,
            h + 8,
            rx="7",
            fill="#ffffff",
            stroke=colour,
            **{"stroke-width": "1.5"},
        )
        if step.moment_of_truth is not None:
            card.set("stroke-width", "3")
            card.set("stroke", "#f59f00")
        badges, action, branches = self._step_parts(step, w - 8)
        cy = y + 4
        for badge in badges:
            icon = "star" if badge.startswith(self.l("moment_of_truth")) else step.kind
            tint = "#f59f00" if icon == "star" else colour
            c.icon(icon, x, cy, 15, tint)
            c.text(x + 19, cy + 1, w - 19, [badge], size=11, bold=True, colour=tint)
            cy += 18
        cy += c.text(x, cy, w, action, size=13, bold=True, full=self.t(step.action))
        if branches:
            cy += 6 + c.text(x, cy + 6, w, branches, size=11, colour=MUTED)
        if step.evidence:
            self.evidence_chip(step.evidence, x, y + h - 15)

    def evidence_chip(self, evidence: str, x: float, y: float) -> None:
        c = self.canvas
        text = self.l(evidence)
        w = fonts.text_width(text, 10) + 20
        c.rect(None, x, y, w, 15, rx="7.5", fill=EVIDENCE_COLOURS[evidence], opacity="0.18")
        SubElement(
            c.body,
            "circle",
            {
                "cx": _fmt(c.mx(x + 8)),
                "cy": _fmt(y + 7.5),
                "r": "3",
                "fill": EVIDENCE_COLOURS[evidence],
            },
        )
        c.text(x + 14, y + 1, w - 14, [text], size=10, colour="#343a40")

    # Touchpoints and channels.
    def _touchpoint_parts(self, step: Step, width: float) -> tuple[str, list[str], list[str]]:
        icon, name, channel_name = "other", "", ""
        touchpoint = self.ws.touchpoint(step.touchpoint) if self.ws and step.touchpoint else None
        channel_id = step.channel or (touchpoint.channel if touchpoint else None)
        channel = self.ws.channel(channel_id) if self.ws and channel_id else None
        if touchpoint:
            name = self.t(touchpoint.name)
        elif step.touchpoint:
            name = step.touchpoint
        if channel:
            channel_name, icon = self.t(channel.name), channel.kind
        elif channel_id:
            channel_name = channel_id
        if step.competitor:
            rival = next((k for k in self.map.competitors if k.id == step.competitor), None)
            rival_name = self.t(rival.name) if rival else step.competitor
            name = f"{self.l('competitor')}: {rival_name}" + (f" — {name}" if name else "")
        main = self.lines(name, 12, bold=True, width=width - 26, max_lines=3) if name else []
        sub = self.lines(channel_name, 11, width=width - 26, max_lines=2) if channel_name else []
        return icon, main, sub

    def measure_touchpoint(self, step: Step, width: float) -> float:
        _, main, sub = self._touchpoint_parts(step, width)
        if not main and not sub:
            return 0.0
        return max(22.0, 12 * LINE * len(main) + 11 * LINE * len(sub))

    def draw_touchpoint(self, step: Step, x: float, y: float, w: float, h: float) -> None:
        icon, main, sub = self._touchpoint_parts(step, w)
        if not main and not sub:
            return
        c = self.canvas
        colour = "#c92a2a" if step.competitor else "#364fc7"
        c.icon(icon if icon in ICON_NAMES else "other", x, y, 20, colour)
        used = c.text(x + 26, y, w - 26, main, size=12, bold=True)
        c.text(x + 26, y + used, w - 26, sub, size=11, colour=MUTED)

    # Generic list lanes: thoughts, gains, KPIs and the blueprint lanes.
    def items_lane(
        self, attr: str, style: str
    ) -> tuple[Callable[[Step, float], float], Callable[..., None]]:
        size = 12.0 if style != "owner" else 12.5

        def texts(step: Step) -> list[str]:
            if attr == "kpis":
                return [self.kpi_text(k.metric, k.target) for k in step.kpis]
            if attr == "owner":
                return [self.t(step.owner)] if step.owner else []
            value = getattr(step, attr)
            return [self.t(v) for v in value]

        def wrapped(step: Step, width: float) -> list[list[str]]:
            inner = width - (16 if style in ("bubble", "gain", "plain") else 0)
            shown = [f"“{t}”" if style == "bubble" else t for t in texts(step)]
            return [self.lines(t, size, width=inner, bold=style == "owner") for t in shown]

        def measure(step: Step, width: float) -> float:
            blocks = wrapped(step, width)
            boxed = style in ("bubble", "gain", "plain")
            return sum(size * LINE * len(b) + (14 if boxed else 4) for b in blocks)

        def draw(step: Step, x: float, y: float, w: float, h: float) -> None:
            c = self.canvas
            full = texts(step)
            for block, text in zip(wrapped(step, w), full, strict=True):
                block_h = size * LINE * len(block)
                if style in ("bubble", "gain", "plain"):
                    fill, stroke = {
                        "bubble": ("#f1f3f5", "#ced4da"),
                        "gain": ("#ebfbee", "#8ce99a"),
                        "plain": ("#ffffff", "#dee2e6"),
                    }[style]
                    c.rect(
                        None,
                        x - 4,
                        y,
                        w + 8,
                        block_h + 10,
                        rx="8" if style == "bubble" else "4",
                        fill=fill,
                        stroke=stroke,
                    )
                    c.text(
                        x + 8,
                        y + 5,
                        w - 16,
                        block,
                        size=size,
                        italic=style == "bubble",
                        colour="#343a40",
                        full=text,
                    )
                    y += block_h + 14
                else:
                    c.text(x, y, w, block, size=size, bold=style == "owner", full=text)
                    y += block_h + 4

        return measure, draw

    def kpi_text(self, metric_id: str, target: float | None) -> str:
        metric = self.ws.metric(metric_id) if self.ws else None
        name = self.t(metric.name) if metric else metric_id
        goal = (
            target
            if target is not None
            else (metric.target.value if metric and metric.target else None)
        )
        if goal is None:
            return name
        sign = "≤" if metric and metric.target and metric.target.direction == "down" else "≥"
        unit = f" {metric.unit}" if metric and metric.unit else ""
        return f"{name} ({self.l('target')} {sign} {_fmt(goal)}{unit})"

    # Pain points.
    def _pain_blocks(self, step: Step, width: float) -> list[list[str]]:
        return [self.lines(self.t(p.text), 12, width=width - 30) for p in step.pain_points]

    def measure_pains(self, step: Step, width: float) -> float:
        return sum(12 * LINE * len(b) + 22 for b in self._pain_blocks(step, width))

    def draw_pains(self, step: Step, x: float, y: float, w: float, h: float) -> None:
        c = self.canvas
        for pain, block in zip(step.pain_points, self._pain_blocks(step, w), strict=True):
            block_h = 12 * LINE * len(block) + 14
            c.rect(None, x - 4, y, w + 8, block_h, rx="5", fill="#fff5f5", stroke="#ffa8a8")
            c.icon("pain", x + 6, y + 7, 16, SEVERITY_COLOURS[pain.severity])
            c.text(x + 26, y + 6, w - 30, block, size=12, colour="#862e2e", full=self.t(pain.text))
            y += block_h + 8

    # Opportunities.
    def _opportunity_blocks(self, step: Step, width: float) -> list[tuple[list[str], list[str]]]:
        blocks: list[tuple[list[str], list[str]]] = []
        for ref in step.opportunities:
            opportunity = self.ws.opportunity(ref) if self.ws else None
            if opportunity is None:
                blocks.append((self.lines(ref, 12, width=width - 30), []))
                continue
            facts = [
                f"{self.l('value')} {opportunity.customer_value}/{opportunity.business_value}",
                f"{self.l('effort')} {opportunity.effort}",
            ]
            if opportunity.evidence:
                facts.append(self.l(opportunity.evidence))
            name = self.lines(self.t(opportunity.name), 12, width=width - 30)
            blocks.append((name, self.lines(" · ".join(facts), 10, width=width - 30)))
        return blocks

    def measure_opportunities(self, step: Step, width: float) -> float:
        return sum(
            12 * LINE * len(name) + 10 * LINE * len(facts) + 22
            for name, facts in self._opportunity_blocks(step, width)
        )

    def draw_opportunities(self, step: Step, x: float, y: float, w: float, h: float) -> None:
        c = self.canvas
        for name, facts in self._opportunity_blocks(step, w):
            block_h = 12 * LINE * len(name) + 10 * LINE * len(facts) + 14
            c.rect(None, x - 4, y, w + 8, block_h, rx="5", fill="#e7f5ff", stroke="#74c0fc")
            c.icon("idea", x + 6, y + 7, 16, "#1971c2")
            used = c.text(x + 26, y + 6, w - 30, name, size=12, colour="#1c3d5a")
            c.text(x + 26, y + 7 + used, w - 30, facts, size=10, colour=MUTED)
            y += block_h + 8

    # Emotion: drawn after the lane grid exists, as a curve across all columns.
    def draw_emotion(self, y: float, height: float) -> None:
        c = self.canvas
        top, bottom = y + 40, y + height - 18

        def level(value: float) -> float:
            return top + (2 - value) / 4 * (bottom - top)

        x0 = MARGIN + LABEL_W
        for value in range(-2, 3):
            ly = level(value)
            c.hline(
                x0,
                ly,
                self.width - MARGIN - x0,
                stroke="#ced4da" if value else "#adb5bd",
                **{"stroke-width": "1", "stroke-dasharray": "" if value == 0 else "3 4"},
            )
            name = self.t(self.map.emotion_scale.labels.get(value))
            text = f"{value:+d}" if value else "0"
            if name:
                text = f"{text} {name}"
            c.text(
                MARGIN + PAD,
                ly - 7,
                LABEL_W - GAP - 2 * PAD,
                [text],
                size=10.5,
                colour=EMOTION_COLOURS[value],
                bold=True,
            )
        points = [
            (self.col_x(i) + self.cell_w / 2, level(col.step.emotion), col.step)
            for i, col in enumerate(self.columns)
            if col.step is not None and col.step.emotion is not None
        ]
        if len(points) >= 2:
            SubElement(
                c.body,
                "path",
                {
                    "d": _monotone_path([(c.mx(px), py) for px, py, _ in points]),
                    "fill": "none",
                    "stroke": "#495057",
                    "stroke-width": "2.5",
                    "stroke-linecap": "round",
                },
            )
        self.draw_measured_emotion(level)
        for px, py, step in points:
            assert step.emotion is not None
            colour = EMOTION_COLOURS[round(step.emotion)]
            SubElement(
                c.body,
                "circle",
                {
                    "cx": _fmt(c.mx(px)),
                    "cy": _fmt(py),
                    "r": "7",
                    "fill": colour,
                    "stroke": "#fff",
                    "stroke-width": "2",
                },
            )
            caption = self.t(step.emotion_label)
            if caption:
                dy = 12 if step.emotion >= 0 else -24
                c.text(
                    px - self.cell_w / 2,
                    py + dy,
                    self.cell_w,
                    [caption],
                    size=10.5,
                    colour=colour,
                    bold=True,
                    anchor="middle",
                )

    def draw_measured_emotion(self, level: Callable[[float], float]) -> None:
        """The emotion measured from survey answers and verbatims, dashed beside the designed
        curve, so the gap between the two is visible at a glance."""
        if self.live is None:
            return
        c = self.canvas
        points = [
            (self.col_x(i) + self.cell_w / 2, level(value), value)
            for i, value in self.live.measured_points()
        ]
        if len(points) >= 2:
            SubElement(
                c.body,
                "path",
                {
                    "d": _monotone_path([(c.mx(px), py) for px, py, _ in points]),
                    "fill": "none",
                    "stroke": MEASURED,
                    "stroke-width": "2.5",
                    "stroke-dasharray": "7 5",
                },
            )
        for px, py, value in points:
            c.rect(None, px - 6, py - 6, 12, 12, fill=MEASURED, stroke="#fff", rx="2")
            c.text(px + 9, py - 6, 60, [f"{value:+.1f}"], size=10.5, bold=True, colour=MEASURED)

    def legend(self, y: float) -> float:
        c = self.canvas
        x: float = MARGIN
        c.text(x, y, 120, [self.l("legend")], size=12, bold=True, colour=MUTED)
        x += fonts.text_width(self.l("legend"), 12, bold=True) + 18
        items = [
            ("star", "#f59f00", self.l("moment_of_truth")),
            ("pain", SEVERITY_COLOURS["high"], self.l("pain_points")),
            ("idea", "#1971c2", self.l("opportunities")),
            ("decision", "#495057", self.l("decision")),
            ("wait", "#495057", self.l("wait")),
        ]
        for icon, colour, text in items:
            c.icon(icon, x, y, 15, colour)
            c.text(x + 19, y + 1, 200, [text], size=11, colour=MUTED)
            x += 19 + fonts.text_width(text, 11) + 18
        for evidence in ("assumed", "research", "measured"):
            self.evidence_chip(evidence, x, y)
            x += fonts.text_width(self.l(evidence), 10) + 30
        if self.live is not None:
            for key, colour, dash in (
                ("designed_emotion", "#495057", ""),
                ("measured_emotion", MEASURED, "7 5"),
            ):
                c.hline(
                    x, y + 8, 26, stroke=colour, **{"stroke-width": "2.5", "stroke-dasharray": dash}
                )
                text = f"{self.l('emotion')}: {self.l(key)}"
                c.text(x + 32, y + 1, 220, [text], size=11, colour=MUTED)
                x += 32 + fonts.text_width(text, 11) + 18
        return y + 18


def _monotone_path(points: list[tuple[float, float]]) -> str:
    """A smooth curve through the points that never overshoots them (Fritsch–Carlson)."""
    if points[0][0] > points[-1][0]:
        points = points[::-1]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    n = len(points)
    slopes = [(ys[i + 1] - ys[i]) / ((xs[i + 1] - xs[i]) or 1e-9) for i in range(n - 1)]
    tangents = (
        [slopes[0]]
        + [
            0.0 if slopes[i - 1] * slopes[i] <= 0 else (slopes[i - 1] + slopes[i]) / 2
            for i in range(1, n - 1)
        ]
        + [slopes[-1]]
    )
    for i, slope in enumerate(slopes):
        if slope == 0:
            tangents[i] = tangents[i + 1] = 0.0
            continue
        a, b = tangents[i] / slope, tangents[i + 1] / slope
        norm = a * a + b * b
        if norm > 9:
            scale = 3 / norm**0.5
            tangents[i], tangents[i + 1] = scale * a * slope, scale * b * slope
    path = [f"M{_fmt(xs[0])} {_fmt(ys[0])}"]
    for i in range(n - 1):
        h = (xs[i + 1] - xs[i]) / 3
        path.append(
            f"C{_fmt(xs[i] + h)} {_fmt(ys[i] + tangents[i] * h)} "
            f"{_fmt(xs[i + 1] - h)} {_fmt(ys[i + 1] - tangents[i + 1] * h)} "
            f"{_fmt(xs[i + 1])} {_fmt(ys[i + 1])}"
        )
    return " ".join(path)


def render_svg(
    journey_map: JourneyMap,
    workspace: WorkspaceFile | None = None,
    *,
    live: LiveMap | None = None,
    pains: PainPoints | None = None,
    conformance: Conformance | None = None,
) -> str:
    """The map as a standalone SVG document (fonts embedded), deterministic to the byte;
    with ``live``, data lanes under the designed journey and the measured emotion curve."""
    return _MapDrawing(journey_map, workspace, live, pains, conformance).draw()
