"""Load one document and report every problem in it with ``file:line:column``.

pydantic collects every field error in one pass; we translate each into an :class:`Issue`
placed on the YAML node it is about, with a message that says what was expected.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import pydantic
from pydantic_core import ErrorDetails
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from journeylens.documents.yaml_io import Loc, format_loc, position, read_yaml, to_plain
from journeylens.errors import Issue, SelectorError
from journeylens.model.common import Document
from journeylens.model.selector import parse_selector

M = TypeVar("M", bound=Document)
SELECTOR_FIELDS = frozenset({"match", "segment", "filter"})


@dataclass
class Loaded(Generic[M]):
    """A file as read: its round-trip tree (for saving), its model if valid, its issues."""

    path: Path
    display: str
    tree: Any
    model: M | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.model is not None and not any(i.severity == "error" for i in self.issues)

    def issue(self, loc: Loc, message: str, *, severity: str = "error", code: str = "ref") -> Issue:
        """An issue placed on ``loc`` in this file."""
        line, column, _ = position(self.tree, loc)
        return Issue(self.display, line, column, format_loc(loc), message, severity, code)  # type: ignore[arg-type]


def load_document(path: Path, model_type: type[M], *, display: str | None = None) -> Loaded[M]:
    name = display or str(path)
    tree, issues = read_yaml(path, display=name)
    loaded: Loaded[M] = Loaded(path, name, tree, None, issues)
    if issues:
        return loaded
    if not isinstance(tree, CommentedMap):
        what = (
            "an empty file"
            if tree is None
            else ("a list" if isinstance(tree, list) else f"a single value ({tree!r:.40})")
        )
        loaded.issues.append(Issue(name, 1, 1, "", f"expected a mapping of fields, got {what}"))
        return loaded
    try:
        loaded.model = model_type.model_validate(to_plain(tree))
    except pydantic.ValidationError as exc:
        loaded.issues.extend(_issue(name, tree, model_type, e) for e in exc.errors())
    return loaded


def _issue(file: str, tree: Any, model_type: type[Document], error: ErrorDetails) -> Issue:
    loc = tuple(error["loc"])
    kind = error["type"]
    line, column, found = position(tree, loc, at_key=kind == "extra_forbidden")
    if kind == "missing":
        name = loc[-1]
        return Issue(
            file,
            line,
            column,
            format_loc(found),
            f"missing required field '{name}'",
            code="missing",
        )
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return Issue(
            file,
            line,
            column,
            format_loc(found),
            _unknown_field(key, model_type, found),
            code="unknown-field",
        )
    if found and found[-1] in SELECTOR_FIELDS:
        selector_issue = _selector_issue(file, tree, found, line, column)
        if selector_issue is not None:
            return selector_issue
    if kind == "string_pattern_mismatch" and "A-Za-z0-9_" in str(error.get("ctx", {})):
        got = error.get("input")
        message = (
            "expected an id: letters, digits, '_', '.' or '-', starting with a letter or digit,"
            f" at most 80 characters, got {got!r:.80}"
        )
        return Issue(file, line, column, format_loc(found), message, code="id")
    message = error["msg"].removeprefix("Value error, ")
    message = message.replace("Input should be", "expected").replace("Input", "value")
    value = error.get("input")
    if kind not in {"value_error"} and isinstance(value, str | int | float | bool):
        message += f", got {value!r:.80}"
    return Issue(file, line, column, format_loc(found), message, code=kind)


def _selector_issue(file: str, tree: Any, loc: Loc, line: int, column: int) -> Issue | None:
    node: Any = tree
    for part in loc:
        node = node[part]
    try:
        parse_selector(str(node))
    except SelectorError as exc:
        quoted = isinstance(node, DoubleQuotedScalarString | SingleQuotedScalarString)
        single_line = "\n" not in str(node)
        at = column + exc.column - 1 + int(quoted) if single_line else column
        return Issue(file, line, at, format_loc(loc), f"selector: {exc.message}", code="selector")
    return None


def _unknown_field(key: str, model_type: type[Document], loc: Loc) -> str:
    owner = _model_at(model_type, loc[:-1])
    allowed = sorted(owner.model_fields) if owner else []
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field '{key}' (did you mean '{close[0]}'?)"
    if allowed:
        return f"unknown field '{key}', expected one of: {', '.join(allowed)}"
    return f"unknown field '{key}'"


def _model_at(model_type: type[Document], loc: Loc) -> type[Document] | None:
    """The document class that holds the node at ``loc``, by walking field annotations."""
    current: Any = model_type
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, Document)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _document_in(info.annotation)
    return current if isinstance(current, type) and issubclass(current, Document) else None


def _document_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, Document):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType) or origin is typing.Annotated:
        for arg in typing.get_args(annotation):
            found = _document_in(arg)
            if found is not None:
                return found
    return None
