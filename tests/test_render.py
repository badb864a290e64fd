from __future__ import annotations

import io
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from journeylens.model.common import localize
from journeylens.model.journey_map import JourneyMap
from journeylens.render import fonts
from journeylens.render.html import render_html
from journeylens.render.journey_map import COL_W, GAP, PAD, render_svg
from journeylens.workspace import Workspace

SVG = "{http://www.w3.org/2000/svg}"
PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _texts(svg: str) -> list[ElementTree.Element]:
    return list(ElementTree.fromstring(svg).iter(f"{SVG}text"))


def _shown(svg: str) -> str:
    """All text a reader sees, lines of a wrapped block joined, plus full-text titles."""
    parts = []
    for text in _texts(svg):
        parts.append(" ".join(span.text or "" for span in text.iter(f"{SVG}tspan")))
        parts.extend(t.text or "" for t in text.iter(f"{SVG}title"))
    return "\n".join(parts)


def test_every_stage_and_step_label_is_drawn_in_every_example_map(example: Workspace) -> None:
    settings = example.settings
    maps = example.maps()
    assert len(maps) >= 7
    for journey_map in maps:
        shown = _shown(render_svg(journey_map, settings))
        lang = journey_map.language
        for stage in journey_map.stages:
            assert localize(stage.name, lang) in shown, (journey_map.id, stage.id)
            for step in stage.steps:
                assert localize(step.action, lang) in shown, (journey_map.id, step.id)


def test_blueprint_lanes_and_lines_are_drawn(example: Workspace) -> None:
    shown = _shown(example.render_svg("current-state"))
    for lane in [
        "Frontstage",
        "Backstage",
        "Support processes",
        "Physical evidence",
        "Line of visibility",
        "Line of interaction",
        "Line of internal interaction",
        "Moment of truth · FMOT",
        "Payment gateway authorises the card",
        "Card verification fails on mobile and the cart empties",
        "How might we make paying on a phone take one tap?",
    ]:
        assert lane in shown


def test_hebrew_map_is_right_to_left_and_mirrored(example: Workspace) -> None:
    svg = example.render_svg("current-state-he")
    root = ElementTree.fromstring(svg)
    assert root.get("direction") == "rtl"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "he"
    assert all(t.get("direction") == "rtl" for t in _texts(svg))
    hebrew = example.map("current-state-he")
    first, last = localize(hebrew.stages[0].name, "he"), localize(hebrew.stages[-1].name, "he")
    x = {(t.findtext(f"{SVG}tspan") or ""): float(t.get("x", "0")) for t in _texts(svg)}
    assert x[first] > x[last], "the first stage must sit on the right in a right-to-left map"
    english = example.render_svg("current-state")
    ex = {(t.findtext(f"{SVG}tspan") or ""): float(t.get("x", "0")) for t in _texts(english)}
    assert ex["Awareness"] < ex["Loyalty"]


def test_every_line_stays_on_the_canvas_in_both_directions(example: Workspace) -> None:
    settings = example.settings
    for journey_map in example.maps():
        svg = render_svg(journey_map, settings)
        root = ElementTree.fromstring(svg)
        width = float(root.get("width", "0"))
        rtl = journey_map.text_direction == "rtl"
        for text in _texts(svg):
            size = float(text.get("font-size", "12"))
            bold = text.get("font-weight") == "700"
            middle = text.get("text-anchor") == "middle"
            for span in text.iter(f"{SVG}tspan"):
                x = float(span.get("x", "0"))
                used = fonts.text_width(span.text or "", size, bold=bold)
                left = x - used / 2 if middle else (x - used if rtl else x)
                assert left >= 0 and left + used <= width, (journey_map.id, span.text)


def test_customer_text_is_escaped_never_executed(example: Workspace) -> None:
    journey_map = example.map("current-state").model_copy(deep=True)
    journey_map.title = PAYLOAD
    step = journey_map.step("pay-online")
    assert step is not None
    step.thoughts = [PAYLOAD]
    step.action = "</text></svg><script>alert(2)</script>"
    svg = render_svg(journey_map, example.settings)
    root = ElementTree.fromstring(svg)  # still well-formed XML
    assert not list(root.iter(f"{SVG}script"))
    assert "<script" not in svg and "<img" not in svg
    assert PAYLOAD in _shown(svg) or "alert(" in _shown(svg)
    html = render_html(journey_map, svg)
    assert html.count("<script") == 1  # only our own zoom script
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_same_input_gives_the_same_bytes(example: Workspace, tmp_path: Path) -> None:
    first = [example.render("current-state-he", tmp_path / f"a.{f}") for f in ("svg", "html")]
    second = [example.render("current-state-he", tmp_path / f"b.{f}") for f in ("svg", "html")]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


def _long_map(steps: int) -> JourneyMap:
    words = (
        "Customer compares delivery options, reads the small print about returns and "
        "wonders whether the express fee is worth it before committing to anything"
    )
    return JourneyMap.model_validate(
        {
            "id": "long",
            "title": "A thirty-step journey " * 4,
            "stages": [
                {
                    "id": f"s{s}",
                    "name": f"Stage {s} " + "with a long name " * (s % 3),
                    "steps": [
                        {
                            "id": f"st-{s}-{n}",
                            "action": f"Step {s}.{n}: {words[: 20 + 7 * n]}",
                            "thoughts": [words, "Supercalifragilisticexpialidocious" * 3],
                            "emotion": ((s + n) % 5) - 2,
                            "pain_points": [{"text": words}] if n % 2 else [],
                        }
                        for n in range(6)
                    ],
                }
                for s in range(5)
            ],
        }
    )


def test_thirty_step_map_keeps_every_line_inside_its_column() -> None:
    journey_map = _long_map(30)
    svg = render_svg(journey_map)
    root = ElementTree.fromstring(svg)
    assert float(root.get("width", "0")) >= 30 * COL_W
    shown = _shown(svg)
    for _, step in journey_map.steps():
        assert str(step.action) in shown
    widest = COL_W - GAP  # a cell; its text is inset further by the padding
    texts = _texts(svg)
    # The header above the stage band and the legend below the grid run across the page.
    grid_top = next(float(t.get("y", "0")) for t in texts if t.findtext(f"{SVG}tspan") == "Stage 0")
    grid_bottom = next(
        float(t.get("y", "0")) for t in texts if t.findtext(f"{SVG}tspan") == "Legend"
    )
    checked = 0
    for text in texts:
        if not grid_top <= float(text.get("y", "0")) < grid_bottom:
            continue
        if (text.findtext(f"{SVG}tspan") or "").startswith("Stage "):
            continue  # a stage name may use the width of all its steps
        size = float(text.get("font-size", "12"))
        bold = text.get("font-weight") == "700"
        for span in text.iter(f"{SVG}tspan"):
            line = span.text or ""
            checked += 1
            assert fonts.text_width(line, size, bold=bold) <= widest - PAD, line
    assert checked > 300


def test_html_is_self_contained(example: Workspace, tmp_path: Path) -> None:
    html = example.render("current-state", tmp_path / "map.html").read_text()
    urls = set(re.findall(r"https?://[^\s\"')]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert "<link" not in html and 'src="' not in html
    assert "@font-face" in html and "data:font/ttf;base64," in html


@pytest.mark.browser
def test_png_is_drawn_and_not_blank(example: Workspace, rasterizer) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    for map_id in ("current-state", "current-state-he"):
        svg = example.render_svg(map_id)
        image = Image.open(io.BytesIO(rasterizer.png(svg))).convert("RGB")
        width = float(ElementTree.fromstring(svg).get("width", "0"))
        assert image.width == pytest.approx(width * 2, abs=2)
        small = image.resize((image.width // 8, image.height // 8))
        raw = small.tobytes()
        pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
        not_white = sum(1 for p in pixels if sum(p) < 720) / len(pixels)
        ink = sum(1 for p in pixels if sum(p) < 300) / len(pixels)  # text, icons, the curve
        assert not_white > 0.05, map_id
        assert ink > 0.003, map_id
        assert len(set(pixels)) > 200, map_id


@pytest.mark.browser
def test_pdf_holds_the_map_text_and_is_stable(example: Workspace, rasterizer) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    svg = example.render_svg("current-state-ru")
    first, second = rasterizer.pdf(svg), rasterizer.pdf(svg)
    reader = PdfReader(io.BytesIO(first))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Осведомленность" in text.replace("\n", "")
    assert first == second
