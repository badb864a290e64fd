"""Round-trip YAML: comments, key order and quoting survive a load and save.

People edit maps by hand and review them in pull requests, so a save must change only what
changed. ruamel.yaml's round-trip mode keeps the comments and the positions we need to point
errors at ``file:line:column``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from journeylens.errors import Issue

Loc = tuple[str | int, ...]


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def parse_yaml(text: str, *, file: str) -> tuple[Any, list[Issue]]:
    """Parse one YAML document; a syntax error becomes an :class:`Issue` at its position."""
    try:
        return _yaml().load(text), []
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        return None, [Issue(file, line, column, "", f"YAML syntax: {problem}", code="yaml")]
    except YAMLError as exc:
        return None, [Issue(file, 1, 1, "", f"YAML: {exc}", code="yaml")]


def read_yaml(path: Path, *, display: str | None = None) -> tuple[Any, list[Issue]]:
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Issue(name, 1, 1, "", f"not UTF-8 text ({exc.reason})", code="encoding")]
    return parse_yaml(text, file=name)


def dump_yaml(tree: Any) -> str:
    stream = io.StringIO()
    _yaml().dump(tree, stream)
    return stream.getvalue()


def write_text_atomic(path: Path, text: str) -> None:
    """Write atomically: a crash mid-save never leaves half a map behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def write_yaml(path: Path, tree: Any) -> None:
    write_text_atomic(path, dump_yaml(tree))


def position(tree: Any, loc: Loc, *, at_key: bool = False) -> tuple[int, int, Loc]:
    """1-based line and column of ``loc`` in ``tree``, and the part of ``loc`` that exists.

    Parts that name no node (pydantic's union tags, a missing key) are skipped, so the
    position is the deepest node that exists: a missing field points at its parent.
    """
    line, column = 0, 0
    node = tree
    found: list[str | int] = []
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            key_pos = node.lc.key(part)
            value = node[part]
            scalar = not isinstance(value, CommentedMap | CommentedSeq)
            line, column = key_pos if (at_key and last) or not scalar else node.lc.value(part)
            node = value
            found.append(part)
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line, column = node.lc.item(part)
            node = node[part]
            found.append(part)
    return line + 1, column + 1, tuple(found)


def to_plain(node: Any) -> Any:
    """Plain dicts, lists and scalars, so validation never depends on ruamel's subclasses."""
    if isinstance(node, dict):
        return {to_plain(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    for kind in (str, int, float):
        if isinstance(node, kind):
            return kind(node)
    return node


def format_loc(loc: Loc) -> str:
    """``('stages', 0, 'steps', 2)`` → ``stages[0].steps[2]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def merge_into(tree: Any, data: Any) -> Any:
    """Update a round-trip tree in place to equal ``data``, keeping comments where keys stay.

    Mappings keep their key order and comments; new keys go at the end. Lists of mappings
    with ``id`` keys are matched by id, so moving a step keeps its comments with it.
    """
    if isinstance(tree, CommentedMap) and isinstance(data, dict):
        for key in [k for k in tree if k not in data]:
            del tree[key]
        for key, value in data.items():
            if key in tree:
                tree[key] = merge_into(tree[key], value)
            else:
                tree[key] = merge_into(None, value)
        return tree
    if isinstance(tree, CommentedSeq) and isinstance(data, list):
        by_id = {
            item["id"]: item
            for item in tree
            if isinstance(item, CommentedMap) and isinstance(item.get("id"), str)
        }
        merged = []
        for position_, value in enumerate(data):
            old = None
            if isinstance(value, dict) and value.get("id") in by_id:
                old = by_id.pop(value["id"])
            elif not any(isinstance(i, CommentedMap) and "id" in i for i in tree) and (
                position_ < len(tree)
            ):
                old = tree[position_]
            merged.append(merge_into(old, value))
        del tree[:]
        tree.extend(merged)
        return tree
    if isinstance(data, dict):
        fresh = CommentedMap()
        for key, value in data.items():
            fresh[key] = merge_into(None, value)
        return fresh
    if isinstance(data, list):
        return CommentedSeq([merge_into(None, v) for v in data])
    if tree is not None and not isinstance(tree, CommentedMap | CommentedSeq) and tree == data:
        return tree  # keep the original scalar object, and with it its quoting style
    return data
