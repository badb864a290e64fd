"""Compile a selector AST to an Ibis boolean expression, the same on every engine.

The semantics are the reference evaluator's (:func:`journeylens.model.selector.evaluate`):
a missing field compares false, and values of different kinds (text, number, boolean) never
compare — an attribute holding the number 3 neither equals nor sorts against the text "3".
Literals become Ibis literals (bound values, never SQL text).
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

_FALSE = ibis.literal(False)


def _kind(value: Scalar) -> str:
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, int | float) else "text"


def _literal(value: Scalar) -> ir.Value:
    kind = _kind(value)
    if kind == "bool":
        return ibis.literal(value, type="boolean")
    if kind == "number":
        return ibis.literal(float(value), type="float64")
    return ibis.literal(value, type="string")


class _Compiler:
    def __init__(self, engine: Engine, table: ir.Table) -> None:
        self.engine = engine
        self.table = table

    def present(self, field: Field) -> ir.BooleanValue:
        if field.attr is None:
            return self.table[field.name].notnull()
        return self.engine.json_text(self.table.attributes, field.attr).notnull()

    def typed(self, field: Field, kind: str) -> ir.Value | None:
        """The field as ``kind``, NULL where the event holds another kind; None if never."""
        if field.attr is None:
            return self.table[field.name] if kind == "text" else None
        raw = self.engine.json_text(self.table.attributes, field.attr)
        held = self.engine.json_kind(self.table.attributes, field.attr)
        if kind == "text":
            value: ir.Value = raw
        elif kind == "number":
            value = raw.try_cast("float64")
        else:
            value = raw == "true"
        return ibis.ifelse(held == kind, value, ibis.null().cast(value.type()))

    def walk(self, node: Selector) -> ir.BooleanValue:
        if isinstance(node, And | Or):
            parts = [self.walk(item) for item in node.items]
            result = parts[0]
            for part in parts[1:]:
                result = (result & part) if isinstance(node, And) else (result | part)
            return result
        if isinstance(node, Not):
            return ~self.walk(node.item)
        if isinstance(node, Compare):
            left = self.typed(node.field, _kind(node.value))
            if left is None:
                return _FALSE
            right = _literal(node.value)
            test = {
                "==": lambda: left == right,
                "!=": lambda: left != right,
                "<": lambda: left < right,
                "<=": lambda: left <= right,
                ">": lambda: left > right,
                ">=": lambda: left >= right,
            }[node.op]()
            return test.fill_null(False)
        if isinstance(node, In):
            matches: ir.BooleanValue = _FALSE
            for value in node.values:
                left = self.typed(node.field, _kind(value))
                if left is not None:
                    matches = matches | (left == _literal(value)).fill_null(False)
            if node.negated:
                return self.present(node.field) & ~matches
            return matches
        assert isinstance(node, Pattern)
        text = self.typed(node.field, "text")
        if text is None:
            return _FALSE
        regex = node.regex().replace("\\Z", "$")
        if node.ignore_case:
            regex = "(?i)" + regex
        return text.re_search(regex).fill_null(False)


def compile_selector(engine: Engine, table: ir.Table, selector: Selector) -> ir.BooleanValue:
    """``table`` needs the selector's fields (``attributes`` as JSON text for ``attr.*``)."""
    return _Compiler(engine, table).walk(selector)


def compile_text(engine: Engine, table: ir.Table, text: str) -> ir.BooleanValue:
    """Parse and compile a selector written as text."""
    return compile_selector(engine, table, parse_selector(text))
