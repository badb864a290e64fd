"""The ``match`` selector language: parsed to an AST, never spliced into SQL.

A selector binds a designed map step to the events that show it happening::

    activity == "checkout" and channel in ["web", "app"] and attr.device != "tablet"
    activity ~ "view_*" or activity ~ /^faq[._]return/i

The parser is a LALR grammar (lark). The AST is made of frozen dataclasses so it can be hashed,
compared in tests and compiled by each engine to its own expression type later on.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypeAlias

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from journeylens.errors import SelectorError

#: Event fields a selector may name; ``attr.<name>`` reaches the event's attributes.
KNOWN_FIELDS: tuple[str, ...] = ("activity", "channel", "touchpoint", "source")
TEXT_FIELDS = frozenset(KNOWN_FIELDS)
MAX_SELECTOR_LENGTH = 10_000
MAX_NESTING = 100

Scalar: TypeAlias = str | int | float | bool
CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True)
class Field:
    """An event field: ``name`` is a known field, or ``attr`` with ``attr`` set to its key."""

    name: str
    attr: str | None = None

    def __str__(self) -> str:
        return f"attr.{self.attr}" if self.attr is not None else self.name


@dataclass(frozen=True)
class Compare:
    field: Field
    op: CompareOp
    value: Scalar


@dataclass(frozen=True)
class In:
    field: Field
    values: tuple[Scalar, ...]
    negated: bool = False


@dataclass(frozen=True)
class Pattern:
    """``field ~ "glob*"`` or ``field ~ /regex/flags``; globs are anchored, regexes search."""

    field: Field
    pattern: str
    kind: Literal["glob", "regex"]
    ignore_case: bool = False

    def regex(self) -> str:
        """The pattern as a regular expression every engine understands."""
        if self.kind == "glob":
            return "^" + fnmatch.translate(self.pattern)  # translate() anchors only the end
        return self.pattern


@dataclass(frozen=True)
class And:
    items: tuple[Selector, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Selector, ...]


@dataclass(frozen=True)
class Not:
    item: Selector


Selector: TypeAlias = Compare | In | Pattern | And | Or | Not

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> not_
         | atom
?atom: comparison
     | "(" or_expr ")"
comparison: field COMPARE_OP scalar          -> compare
          | field _IN list                   -> in_
          | field _NOT _IN list              -> not_in
          | field "~" (STRING | REGEX)       -> pattern
field: NAME ("." NAME)?
list: "[" [scalar ("," scalar)* ","?] "]"
?scalar: STRING -> string
       | NUMBER -> number
       | TRUE   -> true
       | FALSE  -> false

COMPARE_OP: "==" | "!=" | "<=" | ">=" | "<" | ">"
_AND: "and"
_OR: "or"
_NOT: "not"
_IN: "in"
TRUE: "true"
FALSE: "false"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /"(?:[^"\\\n]|\\.)*"/ | /'(?:[^'\\\n]|\\.)*'/
REGEX: /\/(?:[^\/\\\n]|\\.)+\/[i]?/
NUMBER: /-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?/
%import common.WS
%ignore WS
"""


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _unquote(token: Token) -> str:
    body = token[1:-1]
    if token.startswith("'"):
        body = re.sub(r'(?<!\\)"', r'\\"', body.replace("\\'", "'"))
    try:
        value = json.loads(f'"{body}"')
    except ValueError as exc:
        raise SelectorError(
            f"bad escape in string {token}", text="", column=token.column or 1
        ) from exc
    assert isinstance(value, str)
    return value


@dataclass(frozen=True)
class _Literal:
    """A literal with the column it came from, so type errors point at it."""

    value: Scalar
    column: int | None


@v_args(inline=True)
class _ToAst(Transformer[Token, Selector]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def _fail(self, message: str, column: int | None) -> SelectorError:
        return SelectorError(message, text=self.text, column=column or 1)

    def field(self, name: Token, key: Token | None = None) -> Field:
        if key is not None:
            if name != "attr":
                raise self._fail(
                    f"unknown field {name}.{key}: only attr.<name> takes a dot", name.column
                )
            return Field("attr", str(key))
        if name == "attr":
            raise self._fail("attr needs a name: attr.<name>", name.column)
        if name not in TEXT_FIELDS:
            known = ", ".join([*KNOWN_FIELDS, "attr.<name>"])
            raise self._fail(f"unknown field '{name}', expected one of {known}", name.column)
        return Field(str(name))

    def string(self, token: Token) -> _Literal:
        try:
            return _Literal(_unquote(token), token.column)
        except SelectorError as exc:
            raise self._fail(exc.message, token.column) from None

    def number(self, token: Token) -> _Literal:
        text = str(token)
        return _Literal(float(text) if any(c in text for c in ".eE") else int(text), token.column)

    def true(self, token: Token) -> _Literal:
        return _Literal(True, token.column)

    def false(self, token: Token) -> _Literal:
        return _Literal(False, token.column)

    def list(self, *values: _Literal) -> tuple[_Literal, ...]:
        return tuple(values)

    def _value(self, field: Field, literal: _Literal) -> Scalar:
        if field.attr is None and not isinstance(literal.value, str):
            raise self._fail(f"{field} is text: compare it with a quoted string", literal.column)
        return literal.value

    def compare(self, field: Field, op: Token, value: _Literal) -> Compare:
        return Compare(field, str(op), self._value(field, value))  # type: ignore[arg-type]

    def in_(self, field: Field, values: tuple[_Literal, ...] = ()) -> In:
        return In(field, tuple(self._value(field, v) for v in values))

    def not_in(self, field: Field, values: tuple[_Literal, ...] = ()) -> In:
        return In(field, tuple(self._value(field, v) for v in values), negated=True)

    def pattern(self, field: Field, token: Token) -> Pattern:
        if token.type == "STRING":
            return Pattern(field, self.string(token).value, "glob")  # type: ignore[arg-type]
        body, _, flags = str(token)[1:].rpartition("/")
        body = body.replace("\\/", "/")
        try:
            re.compile(body)
        except re.error as exc:
            raise self._fail(f"invalid regular expression: {exc}", token.column) from None
        return Pattern(field, body, "regex", ignore_case="i" in flags)

    def not_(self, item: Selector) -> Not:
        return Not(item)

    def and_expr(self, *items: Selector) -> And:
        return And(tuple(items))

    def or_expr(self, *items: Selector) -> Or:
        return Or(tuple(items))


def _describe(error: UnexpectedInput, text: str) -> SelectorError:
    column = getattr(error, "column", None) or 1
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        return SelectorError("the selector ends too early", text=text, column=len(text) + 1)
    if isinstance(error, UnexpectedToken):
        expected = sorted(_readable(name) for name in error.expected)
        return SelectorError(
            f"unexpected {error.token!s:.40}, expected {' or '.join(expected)}",
            text=text,
            column=column,
        )
    if isinstance(error, UnexpectedCharacters):
        pos = error.pos_in_stream or 0
        bad = text[pos] if pos < len(text) else "end"
        return SelectorError(f"unexpected character {bad!r}", text=text, column=column)
    return SelectorError("cannot parse the selector", text=text, column=column)


_READABLE = {
    "NAME": "a field name",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "REGEX": "a /regex/",
    "COMPARE_OP": "an operator (== != < <= > >=)",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "TILDE": "'~'",
    "DOT": "'.'",
    "_AND": "'and'",
    "_OR": "'or'",
    "_NOT": "'not'",
    "_IN": "'in'",
    "TRUE": "true",
    "FALSE": "false",
}


def _readable(terminal: str) -> str:
    return _READABLE.get(terminal, terminal.lower())


def parse_selector(text: str) -> Selector:
    """Parse a selector; the only exception it raises is :class:`SelectorError`.

    Examples
    --------
    >>> parse_selector('activity == "pay" and attr.amount > 10')
    And(items=(Compare(field=Field(name='activity', attr=None), op='==', value='pay'), \
Compare(field=Field(name='attr', attr='amount'), op='>', value=10)))
    """
    if not isinstance(text, str):
        raise SelectorError("a selector must be text", text=str(text), column=1)
    if not text.strip():
        raise SelectorError("the selector is empty", text=text, column=1)
    if len(text) > MAX_SELECTOR_LENGTH:
        raise SelectorError(
            f"the selector is longer than {MAX_SELECTOR_LENGTH} characters", text=text, column=1
        )
    if text.count("(") > MAX_NESTING:
        raise SelectorError(f"more than {MAX_NESTING} parentheses", text=text, column=1)
    try:
        tree: Tree[Token] = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _describe(exc, text) from None
    try:
        return _ToAst(text).transform(tree)
    except SelectorError:
        raise
    except Exception as exc:  # lark wraps transformer errors in VisitError
        inner = getattr(exc, "orig_exc", exc)
        if isinstance(inner, SelectorError):
            raise inner from None
        if isinstance(inner, RecursionError):
            raise SelectorError("the selector is nested too deeply", text=text, column=1) from None
        raise


def format_selector(selector: Selector) -> str:
    """Canonical text of a selector; ``parse_selector(format_selector(s)) == s``."""
    return _format(selector, parent=None)


def _literal(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _format(node: Selector, parent: str | None) -> str:
    if isinstance(node, Compare):
        return f"{node.field} {node.op} {_literal(node.value)}"
    if isinstance(node, In):
        op = "not in" if node.negated else "in"
        return f"{node.field} {op} [{', '.join(_literal(v) for v in node.values)}]"
    if isinstance(node, Pattern):
        if node.kind == "glob":
            return f"{node.field} ~ {_literal(node.pattern)}"
        body = node.pattern.replace("/", "\\/")
        return f"{node.field} ~ /{body}/{'i' if node.ignore_case else ''}"
    if isinstance(node, Not):
        return f"not ({_format(node.item, None)})"
    kind = "and" if isinstance(node, And) else "or"
    text = f" {kind} ".join(_format(item, kind) for item in node.items)
    return f"({text})" if parent is not None else text


def evaluate(selector: Selector, event: Mapping[str, object]) -> bool:
    """Reference semantics in plain Python, the oracle engine compilers are tested against.

    ``event`` holds the known fields and an ``attributes`` mapping. A missing field or
    attribute compares false (SQL's NULL), except under ``!=`` and ``not in`` where it is
    also false, as in SQL three-valued logic folded to false.
    """
    if isinstance(selector, And):
        return all(evaluate(item, event) for item in selector.items)
    if isinstance(selector, Or):
        return any(evaluate(item, event) for item in selector.items)
    if isinstance(selector, Not):
        return not evaluate(selector.item, event)
    value = _field_value(selector.field, event)
    if value is None:
        return False
    if isinstance(selector, Pattern):
        if not isinstance(value, str):
            return False
        flags = re.IGNORECASE if selector.ignore_case else 0
        return re.search(selector.regex(), value, flags) is not None
    if isinstance(selector, In):
        return any(_same_kind(value, v) and value == v for v in selector.values) != (
            selector.negated
        )
    return _compare(value, selector.op, selector.value)


def _same_kind(left: object, right: object) -> bool:
    """SQL keeps booleans, numbers and text apart; Python's True == 1 must not leak in."""

    def kind(value: object) -> str:
        if isinstance(value, bool):
            return "bool"
        return "number" if isinstance(value, int | float) else type(value).__name__

    return kind(left) == kind(right)


def _field_value(field: Field, event: Mapping[str, object]) -> object:
    if field.attr is None:
        return event.get(field.name)
    attributes = event.get("attributes")
    return attributes.get(field.attr) if isinstance(attributes, Mapping) else None


def _compare(left: object, op: CompareOp, right: Scalar) -> bool:
    if not _same_kind(left, right):
        return False  # like SQL after a failed cast: neither equal nor unequal
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    try:
        if op == "<":
            return left < right  # type: ignore[operator]
        if op == "<=":
            return left <= right  # type: ignore[operator]
        if op == ">":
            return left > right  # type: ignore[operator]
        return left >= right  # type: ignore[operator]
    except TypeError:
        return False


def fields_of(selector: Selector) -> frozenset[Field]:
    """Every field a selector reads, so engines can check their columns up front."""
    if isinstance(selector, And | Or):
        return frozenset().union(*(fields_of(item) for item in selector.items))
    if isinstance(selector, Not):
        return fields_of(selector.item)
    return frozenset({selector.field})


def check_selector(text: str) -> str:
    """Pydantic-friendly check: raise ``ValueError`` (which pydantic collects) when invalid."""
    try:
        parse_selector(text)
    except SelectorError as exc:
        raise ValueError(f"invalid selector at column {exc.column}: {exc.message}") from None
    return text
