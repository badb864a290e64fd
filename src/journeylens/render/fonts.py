"""Fonts shipped with journeylens: metrics for wrapping, and subsets to embed.

Maps are measured with the same font files they are drawn with (Noto Sans for Latin, Greek and
Cyrillic, Noto Sans Hebrew), and the SVG embeds a subset of exactly the glyphs it uses, so a map
looks the same on every machine and wraps where we computed it would.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from fontTools import subset
from fontTools.ttLib import TTFont

FAMILY = "JL Sans"
FAMILY_HEBREW = "JL Sans Hebrew"
CSS_STACK = f"'{FAMILY}', '{FAMILY_HEBREW}', 'Noto Sans', 'DejaVu Sans', sans-serif"
_FILES = {
    (FAMILY, False): "NotoSans-Regular.ttf",
    (FAMILY, True): "NotoSans-Bold.ttf",
    (FAMILY_HEBREW, False): "NotoSansHebrew-Regular.ttf",
    (FAMILY_HEBREW, True): "NotoSansHebrew-Bold.ttf",
}


@lru_cache(maxsize=8)
def _font_bytes(filename: str) -> bytes:
    return resources.files("journeylens.render").joinpath("fonts", filename).read_bytes()


@dataclass(frozen=True)
class _Metrics:
    advances: dict[int, int]  # code point -> advance width in font units
    units_per_em: int


@lru_cache(maxsize=8)
def _metrics(filename: str) -> _Metrics:
    font = TTFont(io.BytesIO(_font_bytes(filename)), lazy=True)
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    advances = {code: hmtx[glyph][0] for code, glyph in cmap.items()}
    return _Metrics(advances, font["head"].unitsPerEm)


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in pixels of ``text`` set at ``size`` px, with the Hebrew font as fallback."""
    main = _metrics(_FILES[FAMILY, bold])
    hebrew = _metrics(_FILES[FAMILY_HEBREW, bold])
    units = 0.0
    for char in text:
        code = ord(char)
        if code in main.advances:
            units += main.advances[code] / main.units_per_em
        elif code in hebrew.advances:
            units += hebrew.advances[code] / hebrew.units_per_em
        elif code < 0x20 or 0x200B <= code <= 0x200F:
            continue  # control and zero-width characters take no room
        else:
            units += 0.6  # a glyph we do not ship: the browser falls back; assume a wide one
    return units * size


def font_face_css(text: str) -> str:
    """``@font-face`` rules embedding just the glyphs ``text`` needs, as base64 TrueType."""
    rules = []
    for (family, bold), filename in _FILES.items():
        data = _subset(filename, "".join(sorted(set(text))))
        if data is None:
            continue
        encoded = base64.b64encode(data).decode("ascii")
        rules.append(
            f"@font-face{{font-family:'{family}';font-weight:{700 if bold else 400};"
            f"src:url(data:font/ttf;base64,{encoded}) format('truetype');}}"
        )
    return "\n".join(rules)


@lru_cache(maxsize=64)
def _subset(filename: str, chars: str) -> bytes | None:
    metrics = _metrics(filename)
    wanted = {ord(c) for c in chars} & set(metrics.advances)
    if not wanted:
        return None
    font = TTFont(io.BytesIO(_font_bytes(filename)), recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def wrap(
    text: str, width: float, size: float, *, bold: bool = False, max_lines: int = 0
) -> list[str]:
    """Greedy word wrap by measured width; over-long words break, ``max_lines`` adds '…'."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, size, bold=bold) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            while text_width(word, size, bold=bold) > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and text_width(word[:cut], size, bold=bold) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + "…", size, bold=bold) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines
