"""Draw a process map (directly-follows graph) as a standalone SVG.

Graphviz ``dot`` only computes the layout: we hand it boxes of the sizes our fonts need, under
generated ids, and read back positions and edge splines as JSON. The SVG is then drawn here as
an XML tree, so customer text never enters the DOT language at all (nothing to inject into, no
escaping rules to get wrong) and the serialiser escapes it for SVG. The map uses the embedded
fonts and the colours of the journey maps, and the same input gives the same bytes.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from xml.etree.ElementTree import Element, SubElement, tostring

from journeylens.errors import RenderError
from journeylens.render import fonts

if TYPE_CHECKING:  # only the types: drawing needs no engine
    from journeylens.analyses.dfg import ProcessMap

Metric = Literal["count", "customers", "median"]
METRICS: tuple[Metric, ...] = ("count", "customers", "median")

MARGIN = 28
NAME_SIZE = 13.0
SUB_SIZE = 11.0
EDGE_SIZE = 11.5
LINE = 1.3
NODE_PAD_X = 12.0
NODE_PAD_Y = 8.0
NAME_W = 190.0  # activity names wrap at this width...
NAME_LINES = 3  # ...over at most this many lines, then '…' (the full name is the tooltip)
MIN_NODE_W = 120.0
PEN_MIN, PEN_MAX = 1.2, 9.0

INK = "#1f2933"
MUTED = "#66727f"
START_FILL = "#2b8a3e"
END_FILL = "#495057"
NODE_LIGHT = (0xE7, 0xF0, 0xFF)
NODE_DARK = (0x1C, 0x3F, 0x94)
EDGE_LIGHT = (0xAD, 0xB5, 0xBD)
EDGE_DARK = (0x1F, 0x29, 0x33)
RTL_LANGUAGES = {"he", "ar", "fa", "ur", "yi"}

_WORDS = {
    "en": {
        "title": "Process map",
        "start": "Start",
        "end": "End",
        "median_word": "median",
        "count": "Arrows: how many times one step directly followed the other",
        "customers_metric": "Arrows: how many customers went directly from one step to the other",
        "median": "Arrows: median time from one step to the next",
        "width": "Thicker arrows and darker boxes are more frequent",
        "filtered": "{shown} of {total} transitions shown (the most frequent)",
        "hidden": "rare activities hidden: {n}",
    },
    "ro": {
        "title": "Harta procesului",
        "start": "Început",
        "end": "Sfârșit",
        "median_word": "median",
        "count": "Săgeți: de câte ori un pas a urmat direct după celălalt",
        "customers_metric": "Săgeți: câți clienți au trecut direct de la un pas la celălalt",
        "median": "Săgeți: timpul median de la un pas la următorul",
        "width": "Săgețile mai groase și casetele mai închise sunt mai frecvente",
        "filtered": "{shown} din {total} tranziții afișate (cele mai frecvente)",
        "hidden": "activități rare ascunse: {n}",
    },
    "ru": {
        "title": "Карта процесса",
        "start": "Начало",
        "end": "Конец",
        "median_word": "медиана",
        "count": "Стрелки: сколько раз один шаг непосредственно следовал за другим",
        "customers_metric": "Стрелки: сколько клиентов перешли от одного шага прямо к другому",
        "median": "Стрелки: медианное время от одного шага до следующего",
        "width": "Чем толще стрелка и темнее блок, тем чаще",
        "filtered": "Показано {shown} из {total} переходов (самые частые)",
        "hidden": "скрыто редких действий: {n}",
    },
    "sl": {
        "title": "Zemljevid procesa",
        "start": "Začetek",
        "end": "Konec",
        "median_word": "mediana",
        "count": "Puščice: kolikokrat je en korak neposredno sledil drugemu",
        "customers_metric": "Puščice: koliko strank je šlo neposredno z enega koraka na drugega",
        "median": "Puščice: mediani čas od enega koraka do naslednjega",
        "width": "Debelejše puščice in temnejša polja so pogostejši",
        "filtered": "Prikazanih {shown} od {total} prehodov (najpogostejši)",
        "hidden": "skritih redkih aktivnosti: {n}",
    },
    "he": {
        "title": "מפת תהליך",
        "start": "התחלה",
        "end": "סיום",
        "median_word": "חציון",
        "count": "חיצים: כמה פעמים שלב אחד בא מיד אחרי השני",
        "customers_metric": "חיצים: כמה לקוחות עברו ישירות משלב אחד לשני",
        "median": "חיצים: הזמן החציוני משלב לשלב הבא",
        "width": "חיצים עבים יותר ותיבות כהות יותר הם שכיחים יותר",
        "filtered": "מוצגים {shown} מתוך {total} מעברים (השכיחים ביותר)",
        "hidden": "פעילויות נדירות מוסתרות: {n}",
    },
}
# Counted nouns by plural category (CLDR rules below): "1 event", "2 события", "5 событий".
_NOUNS: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "events": {"one": "event", "other": "events"},
        "journeys": {"one": "journey", "other": "journeys"},
        "customers": {"one": "customer", "other": "customers"},
    },
    "ro": {
        "events": {"one": "eveniment", "few": "evenimente", "other": "de evenimente"},
        "journeys": {"one": "parcurs", "few": "parcursuri", "other": "de parcursuri"},
        "customers": {"one": "client", "few": "clienți", "other": "de clienți"},
    },
    "ru": {
        "events": {"one": "событие", "few": "события", "other": "событий"},
        "journeys": {"one": "путь", "few": "пути", "other": "путей"},
        "customers": {"one": "клиент", "few": "клиента", "other": "клиентов"},
    },
    "sl": {
        "events": {"one": "dogodek", "two": "dogodka", "few": "dogodki", "other": "dogodkov"},
        "journeys": {"one": "pot", "two": "poti", "few": "poti", "other": "poti"},
        "customers": {"one": "stranka", "two": "stranki", "few": "stranke", "other": "strank"},
    },
    "he": {
        "events": {"one": "אירוע", "other": "אירועים"},
        "journeys": {"one": "מסע", "other": "מסעות"},
        "customers": {"one": "לקוח", "other": "לקוחות"},
    },
}


def _plural(n: int, language: str) -> str:
    """The CLDR plural category of a whole number in ``language``."""
    if language == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        return "few" if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else "other"
    if language == "sl":
        return {1: "one", 2: "two", 3: "few", 4: "few"}.get(n % 100, "other")
    if language == "ro":
        if n == 1:
            return "one"
        return "few" if n == 0 or 2 <= n % 100 <= 19 else "other"
    return "one" if n == 1 else "other"


# Thousands and decimal separators, and duration units, per language (SI symbols by default).
_NUMBERS = {
    "en": (",", "."),
    "he": (",", "."),
    "ro": (".", ","),
    "sl": (".", ","),
    "ru": ("\u202f", ","),
}
_UNITS = {"ru": ("с", "мин", "ч", "дн")}
_SI_UNITS = ("s", "min", "h", "d")


def _base(language: str) -> str:
    return language.split("-")[0].lower()


def _word(key: str, language: str) -> str:
    table = _WORDS.get(language) or _WORDS.get(_base(language)) or _WORDS["en"]
    return table.get(key, _WORDS["en"][key])


def amount(value: int, noun: str, language: str = "en") -> str:
    """``4,938 events`` with the noun in the form the number takes in ``language``."""
    base = _base(language)
    forms = (_NOUNS.get(base) or _NOUNS["en"])[noun]
    return f"{format_count(value, language)} {forms.get(_plural(value, base), forms['other'])}"


def format_count(value: int, language: str = "en") -> str:
    thousands, _ = _NUMBERS.get(_base(language), (",", "."))
    return f"{value:,}".replace(",", thousands)


def format_duration(value: float | None, language: str = "en") -> str:
    """A duration as a person says it: ``42 s``, ``3 min 20 s``, ``3 h 12 min``, ``4.5 d``."""
    if value is None or math.isnan(value):
        return "–"
    _, point = _NUMBERS.get(_base(language), (",", "."))
    sec, mins, hours, days = _UNITS.get(_base(language), _SI_UNITS)

    def decimal(number: float) -> str:
        text = f"{number:.1f}"
        return (text[:-2] if text.endswith(".0") else text).replace(".", point)

    if value < 10:
        return f"{decimal(round(value, 1))} {sec}"
    whole = round(value)
    if whole < 60:
        return f"{whole} {sec}"
    if whole < 600:
        m, s = divmod(whole, 60)
        return f"{m} {mins} {s} {sec}" if s else f"{m} {mins}"
    minutes = round(value / 60)
    if minutes < 60:
        return f"{minutes} {mins}"
    if minutes < 24 * 60:
        h, m = divmod(minutes, 60)
        return f"{h} {hours} {m} {mins}" if m else f"{h} {hours}"
    in_days = value / 86_400
    if in_days < 10:
        return f"{decimal(round(in_days, 1))} {days}"
    return f"{format_count(round(in_days), language)} {days}"


def _fmt(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _safe(text: str) -> str:
    """Text XML can carry: control characters and lone surrogates become U+FFFD, tabs spaces.

    Customer data may hold anything; one stray control character would make the SVG unparsable.
    """
    out = []
    for char in text:
        code = ord(char)
        if char in "\t\r":
            out.append(" ")
        elif char == "\n":
            out.append(char)
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF) or code == 0x7F:
            out.append("\ufffd")
        else:
            out.append(char)
    return "".join(out)


def _is_rtl(text: str) -> bool:
    """Whether the first strongly directional character is right-to-left (Hebrew, Arabic)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return False
        if kind in ("R", "AL"):
            return True
    return False


def _mix(light: tuple[int, int, int], dark: tuple[int, int, int], share: float) -> str:
    return "#" + "".join(
        f"{round(a + (b - a) * share):02x}" for a, b in zip(light, dark, strict=True)
    )


def _luminance(colour: str) -> float:
    """WCAG relative luminance, to put white text only on fills dark enough to read it."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _share(value: int, largest: int) -> float:
    """Where ``value`` sits between 0 and ``largest`` on a log scale: frequencies span decades."""
    if largest <= 1 or value <= 0:
        return 1.0 if value >= largest > 0 else 0.0
    return math.log1p(value) / math.log1p(largest)


@dataclass(frozen=True)
class _Node:
    id: str
    kind: Literal["activity", "start", "end"]
    name: str  # full text, for the tooltip
    lines: tuple[str, ...]  # wrapped name
    sub: str
    width: float
    height: float
    fill: str
    ink: str


@dataclass(frozen=True)
class _Arrow:
    id: str
    kind: Literal["transition", "start", "end"]
    tail: str
    head: str
    count: int
    label: str
    tooltip: str
    pen: float
    colour: str
    label_w: float
    label_h: float


@dataclass(frozen=True)
class _Graph:
    nodes: tuple[_Node, ...]
    arrows: tuple[_Arrow, ...]
    hidden_activities: int


class _Plan:
    """What to draw and at what size, before any layout."""

    def __init__(self, pm: ProcessMap, metric: Metric, language: str) -> None:
        if metric not in METRICS:
            raise RenderError(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}")
        self.pm = pm
        self.metric = metric
        self.lang = language

    def count(self, value: int) -> str:
        return format_count(value, self.lang)

    def build(self) -> _Graph:
        pm = self.pm
        transitions = sorted(pm.edges, key=lambda e: (-e.count, e.source, e.target))
        filtered = len(transitions) < max(pm.edges_total, len(transitions))
        # When rare transitions are left out, rare starts and ends go too, by the same bar.
        bar = min((e.count for e in transitions), default=0) if filtered else 0
        starts = sorted(
            ((a, n) for a, n in pm.start.items() if n >= bar), key=lambda x: (-x[1], x[0])
        )
        ends = sorted(((a, n) for a, n in pm.end.items() if n >= bar), key=lambda x: (-x[1], x[0]))
        touched = {e.source for e in transitions} | {e.target for e in transitions}
        touched |= {a for a, _ in starts} | {a for a, _ in ends}
        activities = sorted(
            (
                (name, stats)
                for name, stats in pm.activities.items()
                if not filtered or name in touched
            ),
            key=lambda x: (-x[1].events, x[0]),
        )
        # An edge may name an activity missing from ``activities`` (a hand-built map): draw it.
        known = {name for name, _ in activities}
        extra = sorted(touched - known)
        ids = {name: f"a{index}" for index, name in enumerate([n for n, _ in activities] + extra)}

        largest_node = max((s.events for _, s in activities), default=0)
        nodes = [self.terminal("start", pm.journeys)]
        for name, stats in activities:
            nodes.append(
                self.activity(ids[name], name, stats.events, stats.customers, largest_node)
            )
        for name in extra:
            nodes.append(self.activity(ids[name], name, 0, 0, largest_node))
        nodes.append(self.terminal("end", pm.journeys))

        largest = max(
            [e.count for e in transitions] + [n for _, n in starts] + [n for _, n in ends],
            default=1,
        )
        arrows: list[_Arrow] = []
        for index, edge in enumerate(transitions):
            if self.metric == "count":
                label = self.count(edge.count)
            elif self.metric == "customers":
                label = self.count(edge.customers)
            else:
                label = format_duration(edge.median_s, self.lang)
            tooltip = (
                f"{_safe(edge.source)} → {_safe(edge.target)}: {self.count(edge.count)} × · "
                f"{amount(edge.customers, 'customers', self.lang)} · "
                f"{_word('median_word', self.lang)} {format_duration(edge.median_s, self.lang)} · "
                f"p90 {format_duration(edge.p90_s, self.lang)}"
            )
            arrows.append(
                self.arrow(
                    f"t{index}",
                    "transition",
                    ids[edge.source],
                    ids[edge.target],
                    edge.count,
                    label,
                    tooltip,
                    largest,
                )
            )
        for index, (name, n) in enumerate(starts):
            label = self.count(n) if self.metric == "count" else ""
            tooltip = (
                f"{_word('start', self.lang)} → {_safe(name)}: {amount(n, 'journeys', self.lang)}"
            )
            arrows.append(
                self.arrow(f"s{index}", "start", "start", ids[name], n, label, tooltip, largest)
            )
        for index, (name, n) in enumerate(ends):
            label = self.count(n) if self.metric == "count" else ""
            tooltip = (
                f"{_safe(name)} → {_word('end', self.lang)}: {amount(n, 'journeys', self.lang)}"
            )
            arrows.append(
                self.arrow(f"e{index}", "end", ids[name], "end", n, label, tooltip, largest)
            )
        hidden = len(pm.activities) - len(activities)
        return _Graph(tuple(nodes), tuple(arrows), hidden)

    def activity(self, node_id: str, name: str, events: int, customers: int, largest: int) -> _Node:
        shown = _safe(name)
        lines = fonts.wrap(shown, NAME_W, NAME_SIZE, bold=True, max_lines=NAME_LINES) or [""]
        if self.metric == "customers":
            sub = amount(customers, "customers", self.lang)
        else:
            sub = amount(events, "events", self.lang)
        width = max(
            [MIN_NODE_W, fonts.text_width(sub, SUB_SIZE) + 2 * NODE_PAD_X]
            + [fonts.text_width(line, NAME_SIZE, bold=True) + 2 * NODE_PAD_X for line in lines]
        )
        height = 2 * NODE_PAD_Y + NAME_SIZE * LINE * len(lines) + SUB_SIZE * LINE
        # Square root, not log: a box with 1 % of the events should look pale, not half-dark.
        share = 0.06 + 0.94 * math.sqrt(events / largest) if largest else 0.06
        fill = _mix(NODE_LIGHT, NODE_DARK, share)
        return _Node(
            node_id,
            "activity",
            shown,
            tuple(lines),
            sub,
            math.ceil(width),
            math.ceil(height),
            fill,
            "#ffffff" if _luminance(fill) < 0.3 else INK,
        )

    def terminal(self, kind: Literal["start", "end"], journeys: int) -> _Node:
        name = _word(kind, self.lang)
        sub = amount(journeys, "journeys", self.lang)
        width = (
            max(fonts.text_width(name, NAME_SIZE, bold=True), fonts.text_width(sub, SUB_SIZE))
            + 2 * NODE_PAD_X
            + 12
        )
        height = 2 * NODE_PAD_Y + NAME_SIZE * LINE + SUB_SIZE * LINE
        fill = START_FILL if kind == "start" else END_FILL
        return _Node(
            kind, kind, name, (name,), sub, math.ceil(width), math.ceil(height), fill, "#ffffff"
        )

    def arrow(
        self,
        arrow_id: str,
        kind: Literal["transition", "start", "end"],
        tail: str,
        head: str,
        count: int,
        label: str,
        tooltip: str,
        largest: int,
    ) -> _Arrow:
        share = _share(count, largest)
        pen = round(PEN_MIN + (PEN_MAX - PEN_MIN) * share**2, 1)
        light = kind != "transition"
        colour = _mix(EDGE_LIGHT, EDGE_DARK, 0.15 + 0.85 * share * (0.6 if light else 1.0))
        if light:  # starts and ends are context, not the process: keep them quieter
            pen = round(PEN_MIN + (pen - PEN_MIN) * 0.6, 1)
        # Padding on both sides keeps the number clear of its own arrow (dot centres it there).
        width = fonts.text_width(label, EDGE_SIZE, bold=True) + 16 if label else 0.0
        return _Arrow(
            arrow_id,
            kind,
            tail,
            head,
            count,
            label,
            tooltip,
            pen,
            colour,
            math.ceil(width),
            math.ceil(EDGE_SIZE * LINE) if label else 0,
        )


# -- layout by Graphviz ----------------------------------------------------------------------


def _inches(px: float) -> str:
    return f"{px / 72:.4f}"


def _flow(graph: _Graph) -> tuple[list[str], set[str]]:
    """Nodes in the order a journey meets them, and the arrows that run against that flow.

    A depth-first walk from Start that always takes the most frequent way on first: the
    arrows back to a step still on the walk are loops (rework, waiting), drawn reversed for
    ranking so the main path runs top to bottom. Graphviz would break cycles too, but by an
    order that ignores frequency, and could put the main path upside down.
    """
    outgoing: dict[str, list[_Arrow]] = {node.id: [] for node in graph.nodes}
    for arrow in graph.arrows:
        if arrow.tail != arrow.head:
            outgoing[arrow.tail].append(arrow)
    for arrows in outgoing.values():
        arrows.sort(key=lambda a: (-a.count, a.id))
    order: list[str] = []
    back: set[str] = set()
    state: dict[str, int] = {}  # 1 = on the walk, 2 = done
    roots = ["start"] + [node.id for node in graph.nodes if node.id != "start"]
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        order.append(root)
        stack = [(root, iter(outgoing[root]))]
        while stack:
            node, todo = stack[-1]
            step = next(todo, None)
            if step is None:
                state[node] = 2
                stack.pop()
                continue
            seen = state.get(step.head)
            if seen == 1:
                back.add(step.id)
            elif seen is None:
                state[step.head] = 1
                order.append(step.head)
                stack.append((step.head, iter(outgoing[step.head])))
    return order, back


def _main_path(graph: _Graph, back: set[str]) -> list[str]:
    """The nodes most journeys pass through: from Start, always the most frequent way on."""
    path = ["start"]
    while True:
        ahead = [
            a
            for a in graph.arrows
            if a.tail == path[-1] and a.id not in back and a.head not in path
        ]
        if not ahead:
            return path
        path.append(min(ahead, key=lambda a: (-a.count, a.id)).head)


def _dot_source(graph: _Graph) -> str:
    """The graph in DOT: only generated ids and numbers, never customer text."""
    lines = [
        "digraph process_map {",
        "  graph [rankdir=TB, nodesep=0.45, ranksep=0.55, splines=spline, fontsize=1, pad=0];",
        '  node [shape=box, fixedsize=true, label="", margin=0];',
        "  edge [fontsize=1];",
    ]
    sizes = {node.id: node for node in graph.nodes}
    order, back = _flow(graph)
    main = set(_main_path(graph, back))
    for node_id in order:
        node = sizes[node_id]
        # One group keeps the main path in one straight column (Graphviz's own device for it).
        group = ", group=main" if node_id in main else ""
        lines.append(
            f"  {node.id} [width={_inches(node.width)}, height={_inches(node.height)}{group}];"
        )
    lines.append("  { rank=min; start; }")
    lines.append("  { rank=max; end; }")
    position = {node_id: index for index, node_id in enumerate(order)}
    arrows = sorted(
        graph.arrows, key=lambda a: (position[a.tail], -a.count, position[a.head], a.id)
    )
    for arrow in arrows:
        # Frequent transitions pull harder, so the main path runs straight down the page.
        weight = max(1, round(1 + 9 * arrow.pen / PEN_MAX))
        attrs = [
            f"id={arrow.id}",
            f"weight={weight}",
            f"penwidth={arrow.pen}",
            f"arrowsize={_arrow_size(arrow.pen):.2f}",
        ]
        if arrow.label:
            # A fixed-size empty table reserves exactly the room our label text needs.
            attrs.append(
                'label=<<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR>'
                f'<TD FIXEDSIZE="TRUE" WIDTH="{arrow.label_w}" HEIGHT="{arrow.label_h}">'
                "</TD></TR></TABLE>>"
            )
        tail, head = arrow.tail, arrow.head
        if arrow.id in back:
            tail, head = head, tail
            attrs.append("dir=back")
        lines.append(f"  {tail} -> {head} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _arrow_size(pen: float) -> float:
    return 0.7 + 0.09 * pen


def _run_dot(source: str) -> dict[str, Any]:
    dot = shutil.which("dot")
    if dot is None:
        raise RenderError(
            "drawing a process map needs Graphviz's 'dot', which is not installed: "
            "install the Debian/Ubuntu package 'graphviz' (apt-get install graphviz), "
            "or Graphviz from https://graphviz.org/download/"
        )
    try:
        done = subprocess.run(
            [dot, "-Tjson"],
            input=source.encode(),
            capture_output=True,
            check=False,
        )
    except OSError as error:
        raise RenderError(f"could not run Graphviz 'dot' ({dot}): {error}") from error
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise RenderError(f"Graphviz 'dot' failed (exit {done.returncode}): {message}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


Point = tuple[float, float]


def _spline(text: str) -> tuple[list[Point], Point | None, Point | None]:
    """A dot ``pos``: the Bézier control points, and the arrow tips at the start ('s,x,y',
    for arrows drawn reversed) and at the end ('e,x,y')."""
    start: Point | None = None
    end: Point | None = None
    points: list[Point] = []
    for part in text.split():
        fields = part.split(",")
        if fields[0] in ("s", "e"):
            tip = (float(fields[1]), float(fields[2]))
            if fields[0] == "s":
                start = tip
            else:
                end = tip
        else:
            points.append((float(fields[0]), float(fields[1])))
    return points, start, end


# -- drawing ---------------------------------------------------------------------------------


class _Drawing:
    def __init__(
        self,
        graph: _Graph,
        layout: dict[str, Any],
        pm: ProcessMap,
        *,
        title: str,
        metric: Metric,
        language: str,
    ) -> None:
        self.graph = graph
        self.pm = pm
        self.title = _safe(title)
        self.metric = metric
        self.lang = language
        self.rtl = _base(language) in RTL_LANGUAGES
        self.seen: list[str] = []
        x0, y0, x1, y1 = (float(v) for v in layout["bb"].split(","))
        self.graph_w, self.graph_h = x1 - x0, y1 - y0
        self.flip_y = y1
        self.shift_x = -x0
        self.layout = layout

    def at(self, x: float, y: float, dx: float, dy: float) -> Point:
        return (x + self.shift_x + dx, self.flip_y - y + dy)

    def text(
        self,
        parent: Element,
        x: float,
        y: float,
        lines: Sequence[str],
        *,
        size: float,
        colour: str,
        bold: bool = False,
        align: Literal["center", "left", "right"] = "center",
        halo: bool = False,
    ) -> Element:
        """Text whose direction follows its own first strong letter (like HTML's dir=auto):
        activity names in any script sit in the same map, whatever its language."""
        rtl = _is_rtl("".join(lines))
        sides = {"center": "middle", "left": "end" if rtl else "start"}
        anchor = sides.get(align, "start" if rtl else "end")
        attrs = {
            "x": _fmt(x),
            "y": _fmt(y),
            "font-size": _fmt(size),
            "fill": colour,
            "text-anchor": anchor,
        }
        if rtl:
            attrs["direction"] = "rtl"
        if bold:
            attrs["font-weight"] = "700"
        if halo:
            attrs.update(
                {
                    "stroke": "#ffffff",
                    "stroke-width": "3.5",
                    "stroke-linejoin": "round",
                    "paint-order": "stroke",
                }
            )
        element = SubElement(parent, "text", attrs)
        for index, line in enumerate(lines):
            span = SubElement(element, "tspan", {"x": _fmt(x)})
            if index:
                span.set("dy", _fmt(size * LINE))
            span.text = line
            self.seen.append(line)
        return element

    def header(self, body: Element, width: float) -> float:
        pm = self.pm
        y = float(MARGIN)
        lines = fonts.wrap(self.title, width, 20, bold=True, max_lines=2)
        x = MARGIN + width if self.rtl else MARGIN
        align: Literal["left", "right"] = "right" if self.rtl else "left"
        self.text(body, x, y + 20, lines, size=20, colour=INK, bold=True, align=align)
        y += 20 * LINE * len(lines) + 4
        facts = " · ".join(
            [
                amount(pm.events, "events", self.lang),
                amount(pm.journeys, "journeys", self.lang),
                amount(pm.customers, "customers", self.lang),
            ]
        )
        notes = [facts]
        key = "customers_metric" if self.metric == "customers" else self.metric
        notes.append(f"{_word(key, self.lang)}. {_word('width', self.lang)}.")
        total = max(pm.edges_total, len(pm.edges))
        if len(pm.edges) < total:
            filtered = _word("filtered", self.lang).format(
                shown=format_count(len(pm.edges), self.lang),
                total=format_count(total, self.lang),
            )
            if self.graph.hidden_activities:
                hidden = _word("hidden", self.lang).format(
                    n=format_count(self.graph.hidden_activities, self.lang)
                )
                filtered = f"{filtered}; {hidden}"
            notes.append(filtered + ".")
        for note in notes:
            wrapped = fonts.wrap(note, width, 12.5)
            self.text(body, x, y + 12.5, wrapped, size=12.5, colour=MUTED, align=align)
            y += 12.5 * LINE * len(wrapped) + 2
        return y + 16

    def draw(self) -> str:
        header_w = max(self.graph_w, 560.0)
        width = header_w + 2 * MARGIN
        body = Element("g")
        top = self.header(body, header_w)
        dx = MARGIN + (header_w - self.graph_w) / 2
        graph = SubElement(body, "g", {"transform": f"translate({_fmt(dx)} {_fmt(top)})"})
        objects = {obj["name"]: obj for obj in self.layout.get("objects", [])}
        by_id = {str(edge.get("id")): edge for edge in self.layout.get("edges", [])}
        edges_layer = SubElement(graph, "g", {"class": "edges"})
        labels_layer = SubElement(graph, "g", {"class": "edge-labels"})
        nodes_layer = SubElement(graph, "g", {"class": "nodes"})
        for arrow in self.graph.arrows:
            self.draw_arrow(edges_layer, labels_layer, arrow, by_id[arrow.id])
        for node in self.graph.nodes:
            self.draw_node(nodes_layer, node, objects[node.id])
        height = top + self.graph_h + MARGIN
        return self.serialise(body, width, height)

    def draw_arrow(
        self, layer: Element, labels: Element, arrow: _Arrow, laid: dict[str, Any]
    ) -> None:
        points, start, end = _spline(laid["pos"])
        pts = [self.at(x, y, 0, 0) for x, y in points]
        group = SubElement(
            layer,
            "g",
            {"class": f"edge {arrow.kind}"},
        )
        SubElement(group, "title").text = arrow.tooltip
        path = [f"M{_fmt(pts[0][0])} {_fmt(pts[0][1])}"]
        for i in range(1, len(pts) - 2, 3):
            (ax, ay), (bx, by), (cx, cy) = pts[i], pts[i + 1], pts[i + 2]
            path.append(f"C{_fmt(ax)} {_fmt(ay)} {_fmt(bx)} {_fmt(by)} {_fmt(cx)} {_fmt(cy)}")
        attrs = {
            "d": " ".join(path),
            "fill": "none",
            "stroke": arrow.colour,
            "stroke-width": _fmt(arrow.pen),
            "stroke-linecap": "round",
        }
        if arrow.kind != "transition":
            attrs["stroke-dasharray"] = f"{_fmt(3 + arrow.pen)} {_fmt(3 + arrow.pen)}"
        SubElement(group, "path", attrs)
        if start is not None:
            self.arrowhead(group, arrow, self.at(*start, 0, 0), pts[0])
        if end is not None:
            self.arrowhead(group, arrow, self.at(*end, 0, 0), pts[-1])
        if arrow.label and "lp" in laid:
            lx, ly = (float(v) for v in laid["lp"].split(","))
            x, y = self.at(lx, ly, 0, EDGE_SIZE * 0.36)
            self.text(
                labels,
                x,
                y,
                [arrow.label],
                size=EDGE_SIZE,
                bold=True,
                colour="#343a40" if arrow.kind == "transition" else MUTED,
                halo=True,
            )

    def arrowhead(self, group: Element, arrow: _Arrow, tip: Point, base: Point) -> None:
        length = math.hypot(tip[0] - base[0], tip[1] - base[1]) or 1.0
        ux, uy = (tip[0] - base[0]) / length, (tip[1] - base[1]) / length
        half = max(3.5, length * 0.45)
        corners = [
            tip,
            (base[0] - uy * half, base[1] + ux * half),
            (base[0] + uy * half, base[1] - ux * half),
        ]
        SubElement(
            group,
            "polygon",
            {
                "points": " ".join(f"{_fmt(px)},{_fmt(py)}" for px, py in corners),
                "fill": arrow.colour,
            },
        )

    def draw_node(self, layer: Element, node: _Node, laid: dict[str, Any]) -> None:
        cx, cy = (float(v) for v in laid["pos"].split(","))
        x, y = self.at(cx, cy, -node.width / 2, -node.height / 2)
        group = SubElement(layer, "g", {"class": f"node {node.kind}"})
        SubElement(group, "title").text = f"{node.name}\n{node.sub}"
        radius = node.height / 2 if node.kind != "activity" else 8
        SubElement(
            group,
            "rect",
            {
                "x": _fmt(x),
                "y": _fmt(y),
                "width": _fmt(node.width),
                "height": _fmt(node.height),
                "rx": _fmt(radius),
                "fill": node.fill,
                "stroke": "#ffffff" if node.kind != "activity" else _mix(NODE_DARK, EDGE_DARK, 0.5),
                "stroke-width": "1" if node.kind == "activity" else "0",
            },
        )
        middle = x + node.width / 2
        top = y + NODE_PAD_Y + NAME_SIZE
        self.text(group, middle, top, node.lines, size=NAME_SIZE, bold=True, colour=node.ink)
        sub_y = y + NODE_PAD_Y + NAME_SIZE * LINE * len(node.lines) + SUB_SIZE
        self.text(
            group,
            middle,
            sub_y,
            [node.sub],
            size=SUB_SIZE,
            colour=node.ink if node.kind != "activity" or node.ink != INK else MUTED,
        )

    def serialise(self, body: Element, width: float, height: float) -> str:
        root = Element(
            "svg",
            {
                "xmlns": "http://www.w3.org/2000/svg",
                "width": _fmt(width),
                "height": _fmt(height),
                "viewBox": f"0 0 {_fmt(width)} {_fmt(height)}",
                "{http://www.w3.org/XML/1998/namespace}lang": self.lang,
                "font-family": fonts.CSS_STACK,
                "role": "img",
                "aria-label": self.title,
            },
        )
        SubElement(root, "title").text = self.title
        defs = SubElement(root, "defs")
        style = SubElement(defs, "style")
        style.text = fonts.font_face_css("".join(self.seen))
        SubElement(root, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
        root.append(body)
        return tostring(root, encoding="unicode", xml_declaration=False) + "\n"


def render_process_map(
    pm: ProcessMap,
    *,
    title: str | None = None,
    metric: Metric = "count",
    language: str = "en",
) -> str:
    """The process map as a standalone SVG document (fonts embedded), deterministic to the byte.

    ``metric`` picks the arrow labels: transitions, distinct customers, or median time between
    the two steps; arrow width and box shade always show frequency.
    """
    graph = _Plan(pm, metric, language).build()
    layout = _run_dot(_dot_source(graph))
    drawing = _Drawing(
        graph,
        layout,
        pm,
        title=title if title is not None else _word("title", language),
        metric=metric,
        language=language,
    )
    return drawing.draw()


__all__ = ["METRICS", "Metric", "format_count", "format_duration", "render_process_map"]
