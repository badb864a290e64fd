"""Draw paths from an anchor as a Sankey diagram: one column per step, bands between them.

Nodes are bars as tall as their count, links are curved bands as thick as theirs (on one scale
for the whole drawing, so widths compare across steps). Time runs left to right: paths *before*
an anchor end in the anchor's column on the right. The SVG is built as an XML tree, so the
serialiser escapes every label (customer data), fonts are embedded, and the same result gives
the same bytes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

from journeylens.analyses.paths import NodeKind, PathLink, PathNode, Paths
from journeylens.render import fonts

MARGIN = 28.0
NODE_W = 14.0
PAD = 20.0  # between the nodes of a column; more than a label's height, so labels never touch
LABEL_SIZE = 12.0
LABEL_GAP = 6.0
LABEL_ROOM = (80.0, 320.0)  # right of the last column, for its labels: at least, at most
HEADER_H = 104.0
MIN_PLOT_H = 320.0

INK = "#1f2933"
MUTED = "#66727f"
PALETTE = (
    "#3b5bdb",
    "#0c8599",
    "#2b8a3e",
    "#e67700",
    "#7048e8",
    "#c2255c",
    "#1098ad",
    "#5c940d",
    "#d9480f",
    "#862e9c",
)
BUCKET_COLOURS = {"other": "#adb5bd", "missing": "#ced4da", "drop-off": "#e03131"}
Key = tuple[int, NodeKind, str]


def _fmt(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _safe(text: str) -> str:
    """Text XML can carry: a control character or lone surrogate in customer data would make
    the SVG unparsable, so they become U+FFFD."""
    return "".join(
        " "
        if c in "\t\r\n"
        else "\ufffd"
        if ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF or ord(c) in (0x7F, 0xFFFE, 0xFFFF)
        else c
        for c in text
    )


def _is_rtl(text: str) -> bool:
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _share(count: int, total: int) -> str:
    if not total:
        return "0%"
    share = count / total
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _clip(text: str, width: float, size: float) -> str:
    if fonts.text_width(text, size) <= width:
        return text
    while text and fonts.text_width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


@dataclass
class _Box:
    x: float
    y: float
    h: float
    out_y: float = 0.0  # next free offset for outgoing bands
    in_y: float = 0.0  # ... and for incoming ones


def render_sankey(paths: Paths, *, width: float = 1200.0, title: str | None = None) -> str:
    """The paths as a standalone SVG document (fonts embedded), deterministic to the byte."""
    return _Sankey(paths, width, title).draw()


class _Sankey:
    def __init__(self, paths: Paths, width: float, title: str | None) -> None:
        self.paths = paths
        self.width = max(width, 480.0)
        side = "after" if paths.direction == "after" else "before"
        self.title = _safe(title or f"Paths {side} {paths.anchor}")
        self.seen: list[str] = [self.title]
        self.columns: dict[int, list[PathNode]] = {}
        for node in paths.nodes:
            self.columns.setdefault(node.step, []).append(node)
        tallest = max((len(c) for c in self.columns.values()), default=1)
        self.plot_h = max(MIN_PLOT_H, tallest * 44.0)
        self.scale = (self.plot_h - PAD * (tallest - 1)) / paths.paths if paths.paths else 0.0
        # The same value keeps its colour in every column; the most frequent get the palette
        # in order, so the big flows never share a colour.
        totals: dict[str, int] = {}
        for node in paths.nodes:
            if node.kind == "value":
                totals[node.label] = totals.get(node.label, 0) + node.count
        ranked = sorted(totals, key=lambda label: (-totals[label], label))
        self.colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(ranked)}
        last = [self.label_parts(n, 1e9) for n in self.columns.get(self._last_step(), [])]
        needed = max((self.label_width(*parts) for parts in last), default=0.0)
        self.room = min(max(needed + LABEL_GAP + 4, LABEL_ROOM[0]), LABEL_ROOM[1])
        span = self.width - 2 * MARGIN - self.room - NODE_W
        self.spacing = span / paths.steps if paths.steps else span

    def colour(self, kind: NodeKind, label: str) -> str:
        return BUCKET_COLOURS.get(kind) or self.colours.get(label, PALETTE[0])

    def label_parts(self, node: PathNode, room: float) -> tuple[str, str]:
        """The node's name, shortened with '…' to fit ``room`` beside its counts."""
        counts = f"{node.count:,} · {_share(node.count, self.paths.paths)}"
        count_w = fonts.text_width("  " + counts, 11)
        return _clip(_safe(node.label), max(room - count_w, 40.0), LABEL_SIZE), counts

    @staticmethod
    def label_width(name: str, counts: str) -> float:
        return fonts.text_width(name, LABEL_SIZE) + fonts.text_width("  " + counts, 11)

    def column_x(self, step: int) -> float:
        place = step if self.paths.direction == "after" else self.paths.steps - step
        return MARGIN + place * self.spacing

    def layout(self) -> dict[Key, _Box]:
        boxes: dict[Key, _Box] = {}
        for step, nodes in self.columns.items():
            height = sum(n.count for n in nodes) * self.scale + PAD * (len(nodes) - 1)
            y = HEADER_H + (self.plot_h - height) / 2
            for node in nodes:
                h = node.count * self.scale
                boxes[(step, node.kind, node.label)] = _Box(self.column_x(step), y, h)
                y += h + PAD
        return boxes

    def draw(self) -> str:
        body = Element("g")
        self.header(body)
        boxes = self.layout()
        links = SubElement(body, "g", {"class": "links", "fill": "none"})
        order = {key: i for i, key in enumerate(boxes)}
        # Bands leave a node in the order of their targets and enter in the order of their
        # sources, so they do not cross inside a node.
        outgoing = sorted(
            self.paths.links,
            key=lambda k: (k.step, order[self._source(k)], order[self._target(k)]),
        )
        offsets_in: dict[tuple[Key, Key], float] = {}
        for link in sorted(
            self.paths.links,
            key=lambda k: (k.step, order[self._target(k)], order[self._source(k)]),
        ):
            target = boxes[self._target(link)]
            offsets_in[(self._source(link), self._target(link))] = target.in_y
            target.in_y += link.count * self.scale
        for link in outgoing:
            self.band(links, link, boxes, offsets_in)
        nodes = SubElement(body, "g", {"class": "nodes"})
        for node in self.paths.nodes:
            self.node(nodes, node, boxes[(node.step, node.kind, node.label)])
        return self.serialise(body, HEADER_H + self.plot_h + MARGIN)

    def _source(self, link: PathLink) -> Key:
        return (link.step, link.source_kind, link.source)

    def _target(self, link: PathLink) -> Key:
        return (link.step + 1, link.target_kind, link.target)

    def header(self, body: Element) -> None:
        p = self.paths
        self.text(
            body,
            MARGIN,
            MARGIN + 16,
            _clip(self.title, self.width - 2 * MARGIN, 18),
            18,
            INK,
            bold=True,
        )
        anchored = "first anchor per journey" if p.occurrence == "first" else "every anchor"
        facts = (
            f"{p.paths:,} paths ({anchored}) in {p.anchored_journeys:,} of {p.journeys:,} "
            f"journeys · steps by {p.field} · band width = paths"
        )
        self.text(body, MARGIN, MARGIN + 38, facts, 12, MUTED)
        for step in range(p.steps + 1):
            sign = "+" if p.direction == "after" else "−"
            label = "anchor" if step == 0 else f"{sign}{step}"
            self.text(body, self.column_x(step), HEADER_H - 16, label, 11, MUTED, bold=True)

    def band(
        self,
        layer: Element,
        link: PathLink,
        boxes: dict[Key, _Box],
        offsets_in: dict[tuple[Key, Key], float],
    ) -> None:
        source, target = boxes[self._source(link)], boxes[self._target(link)]
        thick = link.count * self.scale
        y0 = source.y + source.out_y + thick / 2
        source.out_y += thick
        y1 = target.y + offsets_in[(self._source(link), self._target(link))] + thick / 2
        if self.paths.direction == "after":
            x0, x1 = source.x + NODE_W, target.x
        else:  # the band runs from the earlier step (target, on the left) into the later one
            x0, y0, x1, y1 = target.x + NODE_W, y1, source.x, y0
        mid = (x0 + x1) / 2
        # Coloured by the earlier node (on the left): where the paths came from.
        if self.paths.direction == "after":
            kind, label = link.source_kind, link.source
        else:
            kind, label = link.target_kind, link.target
        group = SubElement(layer, "g", {"class": "link"})
        SubElement(group, "title").text = _safe(
            f"{link.source} → {link.target}: {link.count:,}"
            if self.paths.direction == "after"
            else f"{link.target} → {link.source}: {link.count:,}"
        )
        SubElement(
            group,
            "path",
            {
                "class": "band",
                "d": f"M{_fmt(x0)} {_fmt(y0)} C{_fmt(mid)} {_fmt(y0)} {_fmt(mid)} {_fmt(y1)} "
                f"{_fmt(x1)} {_fmt(y1)}",
                "stroke": self.colour(kind, label),
                "stroke-opacity": "0.12" if kind == "drop-off" else "0.38",
                "stroke-width": _fmt(max(thick, 0.01)),
                "data-count": str(link.count),
            },
        )

    def node(self, layer: Element, node: PathNode, box: _Box) -> None:
        group = SubElement(layer, "g", {"class": f"node {node.kind}"})
        if node.step == self._last_step():
            room = self.room - LABEL_GAP
        else:
            room = self.spacing - NODE_W - LABEL_GAP - 8
        name, counts = self.label_parts(node, room)
        SubElement(group, "title").text = _safe(f"{node.label}: {counts}")
        SubElement(
            group,
            "rect",
            {
                "x": _fmt(box.x),
                "y": _fmt(box.y),
                "width": _fmt(NODE_W),
                "height": _fmt(max(box.h, 1.0)),
                "fill": self.colour(node.kind, node.label),
                "data-count": str(node.count),
            },
        )
        x = box.x + NODE_W + LABEL_GAP
        y = box.y + max(box.h, 1.0) / 2 + LABEL_SIZE * 0.35
        text = self.text(layer, x, y, name, LABEL_SIZE, INK, halo=True, italic=node.kind != "value")
        span = SubElement(text, "tspan", {"fill": MUTED, "font-size": "11"})
        span.text = "  " + counts
        self.seen.append(counts)

    def _last_step(self) -> int:
        return self.paths.steps if self.paths.direction == "after" else 0

    def text(
        self,
        parent: Element,
        x: float,
        y: float,
        content: str,
        size: float,
        colour: str,
        *,
        bold: bool = False,
        halo: bool = False,
        italic: bool = False,
    ) -> Element:
        attrs = {"x": _fmt(x), "y": _fmt(y), "font-size": _fmt(size), "fill": colour}
        if _is_rtl(content):
            # Right-to-left names read from their own start; 'start' stays on the left edge.
            attrs.update({"direction": "rtl", "text-anchor": "end", "unicode-bidi": "embed"})
        if bold:
            attrs["font-weight"] = "700"
        if italic:
            attrs["font-style"] = "italic"
        if halo:
            attrs.update(
                {
                    "stroke": "#ffffff",
                    "stroke-width": "3",
                    "stroke-linejoin": "round",
                    "paint-order": "stroke",
                }
            )
        element = SubElement(parent, "text", attrs)
        element.text = content
        self.seen.append(content)
        return element

    def serialise(self, body: Element, height: float) -> str:
        root = Element(
            "svg",
            {
                "xmlns": "http://www.w3.org/2000/svg",
                "width": _fmt(self.width),
                "height": _fmt(height),
                "viewBox": f"0 0 {_fmt(self.width)} {_fmt(height)}",
                "font-family": fonts.CSS_STACK,
                "role": "img",
                "aria-label": self.title,
            },
        )
        SubElement(root, "title").text = self.title
        style = SubElement(SubElement(root, "defs"), "style")
        style.text = fonts.font_face_css("".join(self.seen) + "0123456789,.·%<+−… ")
        SubElement(root, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
        root.append(body)
        return tostring(root, encoding="unicode", xml_declaration=False) + "\n"


__all__ = ["render_sankey"]
