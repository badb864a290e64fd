"""What every analysis shares: duration parsing and turning results into plain data."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from journeylens.errors import JourneylensError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str | float | int | None) -> float | None:
    """``"30m"``, ``"7d"``, ``"2w"`` or plain seconds, as seconds; None stays None."""
    if text is None:
        return None
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        found = _DURATION.match(text)
        if not found:
            raise JourneylensError(
                f"duration {text!r}: expected a number and a unit (s, m, h, d, w), e.g. 30m or 7d"
            )
        seconds = float(found.group(1)) * _UNITS[found.group(2)]
    if seconds <= 0:
        raise JourneylensError(f"duration {text!r}: must be positive")
    return seconds


def plain(value: Any) -> Any:
    """A result as JSON-ready data: dataclasses to dicts, tuples to lists, NaN to None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def seconds(value: Any) -> float | None:
    """A duration from the engine, rounded to milliseconds (our timestamps' precision)."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else round(number, 3)
