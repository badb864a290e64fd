"""PNG and PDF from the very SVG we draw, through a headless Chromium.

A browser is the renderer that gets bidirectional text, font fallback and SVG right; it runs
offline. We look for Debian's ``chromium`` (or any Chrome) and drive it with Playwright's
Python package, so no browser download ever happens.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from journeylens.errors import RenderError

MAX_PIXELS = 16_000  # Chromium refuses screenshots much larger than 16k pixels a side
_CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--font-render-hinting=none",
]


def find_chromium() -> str:
    """The browser to draw with: ``$JOURNEYLENS_CHROMIUM``, else the first one on PATH."""
    configured = os.environ.get("JOURNEYLENS_CHROMIUM")
    if configured:
        if Path(configured).exists():
            return configured
        raise RenderError(f"JOURNEYLENS_CHROMIUM={configured} does not exist")
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    raise RenderError(
        "PNG and PDF output needs Chromium: install it (Debian/Ubuntu: apt-get install "
        "chromium) or point JOURNEYLENS_CHROMIUM at a Chrome or Chromium executable"
    )


class Rasterizer:
    """One browser serving many renders; use as a context manager."""

    def __init__(self) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise RenderError(
                "PNG and PDF output needs Playwright: pip install 'journeylens[raster]'"
            ) from exc
        self._manager: Any = sync_playwright()
        self._playwright: Any = None
        self._browser: Any = None

    def __enter__(self) -> Rasterizer:
        executable = find_chromium()
        self._playwright = self._manager.start()
        self._browser = self._playwright.chromium.launch(
            executable_path=executable, args=_CHROMIUM_ARGS, headless=True
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()

    @contextmanager
    def _page(self, svg: str, scale: float) -> Iterator[tuple[Any, int, int]]:
        width, height = svg_size(svg)
        context = self._browser.new_context(
            viewport={"width": width, "height": height}, device_scale_factor=scale
        )
        try:
            page = context.new_page()
            page.set_content(
                "<!doctype html><html><head><meta charset='utf-8'><style>html,body{margin:0;"
                "padding:0;background:#fff}svg{display:block}</style></head><body>"
                f"{svg}</body></html>",
                wait_until="load",
            )
            page.evaluate("document.fonts.ready.then(() => true)")
            yield page, width, height
        finally:
            context.close()

    def png(self, svg: str, *, scale: float = 2.0) -> bytes:
        width, height = svg_size(svg)
        scale = min(scale, MAX_PIXELS / max(width, height))
        with self._page(svg, scale) as (page, _, _):
            data: bytes = page.screenshot(full_page=True, type="png")
        return data

    def pdf(self, svg: str) -> bytes:
        with self._page(svg, 1.0) as (page, width, height):
            data: bytes = page.pdf(
                width=f"{width}px",
                height=f"{height + 1}px",
                print_background=True,
                margin={"top": "0", "right": "0", "bottom": "0", "left": "0"},
            )
        return _stable_pdf(data)


def svg_size(svg: str) -> tuple[int, int]:
    match = re.search(r'<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', svg)
    if not match:
        raise RenderError("the SVG has no width and height")
    return int(float(match.group(1)) + 0.999), int(float(match.group(2)) + 0.999)


_PDF_DATES = re.compile(rb"/(CreationDate|ModDate) \(D:[0-9]{14}[^)]*\)")


def _stable_pdf(data: bytes) -> bytes:
    """Blank the timestamps Chromium stamps in, keeping byte lengths so offsets stay valid."""

    def blank(match: re.Match[bytes]) -> bytes:
        text = match.group(0)
        prefix = text[: text.index(b"(D:") + 3]
        return prefix + b"20000101000000" + b"Z" * (len(text) - len(prefix) - 15) + b")"

    return _PDF_DATES.sub(blank, data)
