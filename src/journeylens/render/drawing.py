"""Writing a finished SVG drawing as SVG, PNG or PDF, chosen by the file's suffix."""

from __future__ import annotations

from pathlib import Path

from journeylens.errors import RenderError

DRAWING_FORMATS = ("svg", "png", "pdf")


def write_drawing(svg: str, output: Path) -> Path:
    """PNG and PDF go through the headless Chromium of :mod:`journeylens.render.raster`."""
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in DRAWING_FORMATS:
        raise RenderError(
            f"{output}: cannot tell the format from {output.suffix or 'no suffix'!r}; "
            f"use one of {', '.join('.' + f for f in DRAWING_FORMATS)}"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "svg":
        output.write_text(svg, encoding="utf-8")
        return output
    from journeylens.render.raster import Rasterizer

    with Rasterizer() as raster:
        output.write_bytes(raster.png(svg) if fmt == "png" else raster.pdf(svg))
    return output
