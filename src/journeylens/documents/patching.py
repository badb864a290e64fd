"""Minimal-diff saves: change only the characters of the scalars that changed.

ruamel keeps comments on a round trip but re-flows flow-style collections, so a one-value edit
could rewrite a dozen lines of a hand-formatted map. When an edit changes scalar values only
(the usual case: an emotion, a text, a selector), we splice the new values into the original
text at the exact spans the YAML parser reports, then re-parse to prove the result.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
)

from journeylens.documents.yaml_io import Loc

_PLAIN_SAFE = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#,\[\]{}\n]*(?<!\s)$")
_KEYWORDS = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|"
    r"null|Null|NULL|~|[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|0x[0-9a-fA-F_]+|"
    r"0o[0-7_]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def scalar_spans(text: str) -> dict[Loc, tuple[int, int, str | None]]:
    """Character span and quoting style of every scalar value, keyed by its path."""
    spans: dict[Loc, tuple[int, int, str | None]] = {}
    # Each frame: [kind, path, next index or pending key, expecting_key]
    stack: list[list[Any]] = []

    def place() -> Loc | None:
        if not stack:
            return ()
        frame = stack[-1]
        if frame[0] == "seq":
            loc = (*frame[1], frame[2])
            frame[2] += 1
            return loc
        if frame[3]:  # this node is a key
            return None
        frame[3] = True
        return (*frame[1], frame[2])

    for event in YAML(typ="rt").parse(io.StringIO(text)):
        if isinstance(event, ScalarEvent):
            if stack and stack[-1][0] == "map" and stack[-1][3]:
                stack[-1][2], stack[-1][3] = event.value, False
                continue
            loc = place()
            if loc is not None:
                spans[loc] = (event.start_mark.index, event.end_mark.index, event.style)
        elif isinstance(event, MappingStartEvent | SequenceStartEvent):
            loc = place()
            kind = "map" if isinstance(event, MappingStartEvent) else "seq"
            stack.append([kind, loc if loc is not None else (), 0 if kind == "seq" else None, True])
        elif isinstance(event, CollectionEndEvent):
            stack.pop()
        elif isinstance(event, AliasEvent):
            place()
    return spans


def scalar_changes(old: Any, new: Any, loc: Loc = ()) -> list[tuple[Loc, Any]] | None:
    """Scalar values that differ, or ``None`` when the shape itself changed."""
    if isinstance(old, dict) and isinstance(new, dict):
        if set(old) != set(new):  # key order is the file's business, not the model's
            return None
        changes: list[tuple[Loc, Any]] = []
        for key in old:
            found = scalar_changes(old[key], new[key], (*loc, key))
            if found is None:
                return None
            changes.extend(found)
        return changes
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return None
        changes = []
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            found = scalar_changes(a, b, (*loc, index))
            if found is None:
                return None
            changes.extend(found)
        return changes
    if isinstance(old, dict | list) or isinstance(new, dict | list):
        return None
    if type(old) is type(new) and old == new:
        return []
    if (
        isinstance(old, int | float)
        and isinstance(new, int | float)
        and old == new
        and not isinstance(old, bool)
        and not isinstance(new, bool)
    ):
        return []
    return [(loc, new)]


def render_scalar(value: Any) -> str:
    """A scalar as YAML text that reads back as ``value`` in block and in flow context."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    if _PLAIN_SAFE.match(text) and not _KEYWORDS.match(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def patch_scalars(text: str, changes: list[tuple[Loc, Any]]) -> str | None:
    """Splice the changed scalars into ``text``; ``None`` if a change cannot be placed."""
    spans = scalar_spans(text)
    edits = []
    for loc, value in changes:
        span = spans.get(loc)
        if span is None or span[2] in ("|", ">"):
            return None  # block scalars keep their own layout: let the full dump handle them
        edits.append((span[0], span[1], render_scalar(value)))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text
