"""The Sankey drawing of paths: parseable, proportional, escaped, deterministic, drawable."""

from __future__ import annotations

import io
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from journeylens.analyses.paths import OTHER, PathLink, PathNode, Paths, PathsSpec, paths
from journeylens.engine import duckdb_engine
from journeylens.render.sankey import render_sankey
from tests.journeys import event, journeys_of

SVG = "{http://www.w3.org/2000/svg}"
XSS = '<script>alert("x")</script>'
HEBREW = "תשלום"


def _paths(direction: str = "after") -> Paths:
    """Paths written by hand (no engine): 10 paths over two steps, hostile and RTL labels."""
    drop = "(drop-off)" if direction == "after" else "(journey start)"
    return Paths(
        anchor='activity == "cart" & <b>',
        direction=direction,  # type: ignore[arg-type]
        occurrence="first",
        field="activity",
        steps=2,
        nodes=(
            PathNode(0, "cart", 10),
            PathNode(1, XSS, 6),
            PathNode(1, HEBREW, 3),
            PathNode(1, drop, 1, "drop-off"),
            PathNode(2, "done\x07 & more", 5),
            PathNode(2, OTHER, 2, "other"),
            PathNode(2, drop, 3, "drop-off"),
        ),
        links=(
            PathLink(0, "cart", XSS, 6),
            PathLink(0, "cart", HEBREW, 3),
            PathLink(0, "cart", drop, 1, "value", "drop-off"),
            PathLink(1, XSS, "done\x07 & more", 5),
            PathLink(1, XSS, drop, 1, "value", "drop-off"),
            PathLink(1, HEBREW, OTHER, 2, "value", "other"),
            PathLink(1, HEBREW, drop, 1, "value", "drop-off"),
            PathLink(1, drop, drop, 1, "drop-off", "drop-off"),
        ),
        paths=10,
        anchored_journeys=10,
        journeys=12,
    )


def _bands(root: ElementTree.Element) -> list[ElementTree.Element]:
    return [p for p in root.iter(f"{SVG}path") if p.get("class") == "band"]


def test_band_widths_and_bar_heights_are_proportional_to_counts() -> None:
    root = ElementTree.fromstring(render_sankey(_paths()))
    bands = _bands(root)
    assert len(bands) == 8
    per_path = {float(b.get("stroke-width", "0")) / int(b.get("data-count", "0")) for b in bands}
    assert max(per_path) - min(per_path) < 0.01  # one scale for every band
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("data-count")]
    assert len(bars) == 7
    heights = {float(r.get("height", "0")) / int(r.get("data-count", "0")) for r in bars}
    assert max(heights) - min(heights) < 0.01
    assert min(per_path) == pytest.approx(min(heights), abs=0.01)  # bands fill their bars
    columns: dict[str, float] = {}
    for bar in bars:
        x = bar.get("x", "")
        columns[x] = columns.get(x, 0.0) + float(bar.get("height", "0"))
    assert len(columns) == 3  # one column per step, each as tall as the anchor's bar
    assert max(columns.values()) - min(columns.values()) < 0.05


def test_labels_are_escaped_and_the_svg_stays_parseable() -> None:
    svg = render_sankey(_paths())
    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg
    root = ElementTree.fromstring(svg)  # the control character did not break the XML
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert any(t.startswith(XSS) for t in texts)  # shown as text, exactly as it was
    assert any(t.startswith("done\ufffd & more") for t in texts)
    hebrew = next(t for t in root.iter(f"{SVG}text") if (t.text or "").startswith(HEBREW))
    assert hebrew.get("direction") == "rtl"
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert f"cart → {XSS}: 6" in titles
    assert root.get("aria-label") == 'Paths after activity == "cart" & <b>'


def test_the_drawing_is_deterministic_and_before_runs_into_the_anchor() -> None:
    assert render_sankey(_paths()) == render_sankey(_paths())
    after = ElementTree.fromstring(render_sankey(_paths()))
    before = ElementTree.fromstring(render_sankey(_paths("before")))

    def anchor_x(root: ElementTree.Element) -> tuple[float, float]:
        bars = [r for r in root.iter(f"{SVG}rect") if r.get("data-count")]
        anchor = float(bars[0].get("x", "0"))
        others = [float(r.get("x", "0")) for r in bars[1:]]
        return anchor, max(others)

    first, rest = anchor_x(after)
    assert first < rest  # after: the anchor is the left column
    first, rest = anchor_x(before)
    assert first > rest  # before: time still runs left to right, into the anchor
    words = " ".join("".join(t.itertext()) for t in before.iter(f"{SVG}text"))
    assert "(journey start)" in words and "−2" in words


def test_long_labels_are_shortened_with_the_full_name_in_the_tooltip() -> None:
    long = "A very long activity name that would run into the next column " * 2
    data = _paths()
    renamed = Paths(
        **{
            **data.__dict__,
            "nodes": tuple(
                PathNode(n.step, long if n.label == HEBREW else n.label, n.count, n.kind)
                for n in data.nodes
            ),
            "links": tuple(
                PathLink(
                    x.step,
                    long if x.source == HEBREW else x.source,
                    long if x.target == HEBREW else x.target,
                    x.count,
                    x.source_kind,
                    x.target_kind,
                )
                for x in data.links
            ),
        }
    )
    root = ElementTree.fromstring(render_sankey(renamed))
    shown = [t.text or "" for t in root.iter(f"{SVG}text") if (t.text or "").startswith("A very")]
    assert shown and all(t.endswith("…") and len(t) < len(long) for t in shown)
    assert any((t.text or "").startswith(long) for t in root.iter(f"{SVG}title"))


def test_paths_from_the_engine_draw_with_counts_in_the_labels(tmp_path: Path) -> None:
    engine = duckdb_engine()
    try:
        rows = [event(c, i, a) for c in "abcd" for i, a in enumerate("xyz"[: "abcd".index(c)])]
        result = paths(journeys_of(engine, rows, tmp_path), PathsSpec('activity == "x"', steps=2))
    finally:
        engine.close()
    root = ElementTree.fromstring(render_sankey(result))
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    # b: x; c: x y; d: x y z -> three paths, y twice at +1, z once at +2
    assert any(re.fullmatch(r"x\s+3 · 100%", t) for t in texts)
    assert any(re.fullmatch(r"y\s+2 · 67%", t) for t in texts)
    assert any(re.fullmatch(r"\(drop-off\)\s+2 · 67%", t) for t in texts)


@pytest.mark.browser
def test_chromium_draws_the_bands(rasterizer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    svg = render_sankey(_paths())
    image = Image.open(io.BytesIO(rasterizer.png(svg, scale=1.0))).convert("RGB")
    width = float(ElementTree.fromstring(svg).get("width", "0"))
    assert image.width == pytest.approx(width, abs=2)
    raw = image.resize((image.width // 4, image.height // 4)).tobytes()
    pixels = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    coloured = sum(1 for p in pixels if max(p) - min(p) > 40)
    assert coloured / len(pixels) > 0.05  # bars and bands, not a blank page


def test_no_paths_draw_an_empty_chart_with_its_header() -> None:
    empty = Paths('activity == "x"', "after", "every", "channel", 3, (), (), 0, 0, 7)
    root = ElementTree.fromstring(render_sankey(empty))
    assert not _bands(root) and not [r for r in root.iter(f"{SVG}rect") if r.get("data-count")]
    words = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "0 paths (every anchor) in 0 of 7 journeys" in words and "+3" in words
