"""Drawing journey maps: SVG and self-contained HTML here, PNG and PDF through Chromium."""

from __future__ import annotations

from typing import Literal

OutputFormat = Literal["svg", "html", "png", "pdf"]
FORMATS: tuple[OutputFormat, ...] = ("svg", "html", "png", "pdf")
