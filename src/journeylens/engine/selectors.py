"""Compile a selector AST to an Ibis boolean expression, the same on every engine.

Literals become Ibis literals (bound values, never SQL text). Every comparison is folded to
false when a field is missing, as in the reference evaluator
(:func:`journeylens.model.selector.evaluate`), instead of SQL's three-valued NULL.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from journeylens.engine.backends import Engine
from journeylens.model.selector import (
    And,
    Compare,
    Field,
    In,
    Not,
    Or,
    Pattern,
    Scalar,
    Selector,
    parse_selector,
)


def _field(engine: Engine, table: ir.Table, field: Field, sample: Scalar | None) -> ir.Value:
    if field.attr is None:
        return table[field.name]
    raw = engine.json_text(table.attributes, field.attr)
    if isinstance(sample, bool):
        return raw.lower().try_cast("boolean")
    if isinstance(sample, int | float):
        return raw.try_cast("float64")
    return raw


def _literal(value: Scalar) -> ir.Value:
    if isinstance(value, bool):
        return ibis.literal(value, type="boolean")
    if isinstance(value, int | float):
        return ibis.literal(float(value), type="float64")
    return ibis.literal(value, type="string")


def compile_selector(engine: Engine, table: ir.Table, selector: Selector) -> ir.BooleanValue:
    """``table`` needs the selector's fields (``attributes`` as JSON text for ``attr.*``)."""

    def walk(node: Selector) -> ir.BooleanValue:
        if isinstance(node, And):
            result = walk(node.items[0])
            for item in node.items[1:]:
                result = result & walk(item)
            return result
        if isinstance(node, Or):
            result = walk(node.items[0])
            for item in node.items[1:]:
                result = result | walk(item)
            return result
        if isinstance(node, Not):
            return ~walk(node.item)
        if isinstance(node, Compare):
            left = _field(engine, table, node.field, node.value)
            right = _literal(node.value)
            ops = {
                "==": left == right,
                "!=": left != right,
                "<": left < right,
                "<=": left <= right,
                ">": left > right,
                ">=": left >= right,
            }
            return ops[node.op].fill_null(False)
        if isinstance(node, In):
            if not node.values:
                return ibis.literal(node.negated)
            kinds = {type(v) for v in node.values}
            sample = node.values[0] if len(kinds) == 1 else ""
            left = _field(engine, table, node.field, sample)
            test = left.isin([_literal(v) for v in node.values])
            return (~test if node.negated else test).fill_null(False)
        assert isinstance(node, Pattern)
        left = _field(engine, table, node.field, "")
        regex = node.regex().replace("\\Z", "$")
        if node.ignore_case:
            regex = "(?i)" + regex
        return left.re_search(regex).fill_null(False)

    return walk(selector)


def compile_text(engine: Engine, table: ir.Table, text: str) -> ir.BooleanValue:
    """Parse and compile a selector written as text."""
    return compile_selector(engine, table, parse_selector(text))
