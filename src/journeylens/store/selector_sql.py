"""Compile a selector AST to a parameterised DuckDB boolean expression.

Values never enter the SQL text: every literal is a ``?`` parameter. Each comparison is wrapped
in ``coalesce(..., false)`` so that a missing field is simply false, as in the reference
evaluator (:func:`journeylens.model.selector.evaluate`), instead of SQL's three-valued NULL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from journeylens.model.selector import And, Compare, Field, In, Not, Or, Pattern, Scalar, Selector


def _field_sql(field: Field, columns: Mapping[str, str], sample: Scalar | None) -> str:
    if field.attr is None:
        return columns[field.name]
    path = "'$.\"" + field.attr.replace("'", "''").replace('"', '\\"') + "\"'"
    raw = f"json_extract_string({columns['attr']}, {path})"
    if isinstance(sample, bool):
        return f"TRY_CAST({raw} AS BOOLEAN)"
    if isinstance(sample, int | float):
        return f"TRY_CAST({raw} AS DOUBLE)"
    return raw


def _param(value: Scalar) -> tuple[str, Any]:
    if isinstance(value, bool):
        return "CAST(? AS BOOLEAN)", value
    if isinstance(value, int | float):
        return "CAST(? AS DOUBLE)", float(value)
    return "CAST(? AS VARCHAR)", value


def compile_selector(
    selector: Selector, columns: Mapping[str, str], *, source: str | None = None
) -> tuple[str, list[Any]]:
    """SQL text and its parameters, in order. ``columns`` maps field names to SQL columns;
    ``columns['source'] == '?'`` makes the source a parameter (``source``)."""
    params: list[Any] = []

    def field(node: Field, sample: Scalar | None) -> str:
        if node.attr is None and columns.get(node.name) == "?":
            params.append(source)
            return "CAST(? AS VARCHAR)"
        return _field_sql(node, columns, sample)

    def walk(node: Selector) -> str:
        if isinstance(node, And | Or):
            joiner = " AND " if isinstance(node, And) else " OR "
            return "(" + joiner.join(walk(item) for item in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {walk(node.item)})"
        if isinstance(node, Compare):
            left = field(node.field, node.value)
            placeholder, value = _param(node.value)
            params.append(value)
            return f"coalesce({left} {node.op.replace('==', '=')} {placeholder}, false)"
        if isinstance(node, In):
            if not node.values:
                return "false" if not node.negated else "true"
            kinds = {type(v) for v in node.values}
            sample = node.values[0] if len(kinds) == 1 else ""
            left = field(node.field, sample)
            holders = []
            for value in node.values:
                placeholder, bound = _param(value)
                params.append(bound)
                holders.append(placeholder)
            test = f"{left} IN ({', '.join(holders)})"
            if node.negated:
                return f"coalesce(NOT ({test}), false)"
            return f"coalesce({test}, false)"
        assert isinstance(node, Pattern)
        left = field(node.field, "")
        params.append(node.regex().replace("\\Z", "$"))
        flags = "'i'" if node.ignore_case else "''"
        return f"coalesce(regexp_matches({left}, CAST(? AS VARCHAR), {flags}), false)"

    return walk(selector), params
