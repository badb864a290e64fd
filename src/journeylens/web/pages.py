"""HTML pages (being built: see docs/roadmap.md, issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
