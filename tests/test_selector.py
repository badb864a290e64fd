from __future__ import annotations

import contextlib
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylens.errors import SelectorError
from journeylens.model.selector import (
    And,
    Compare,
    Field,
    In,
    Not,
    Or,
    Pattern,
    Selector,
    evaluate,
    fields_of,
    format_selector,
    parse_selector,
)

ACTIVITY = Field("activity")


def test_precedence_not_binds_tighter_than_and_than_or() -> None:
    parsed = parse_selector('activity == "a" or not channel == "b" and source == "c"')
    assert parsed == Or(
        (
            Compare(ACTIVITY, "==", "a"),
            And((Not(Compare(Field("channel"), "==", "b")), Compare(Field("source"), "==", "c"))),
        )
    )


def test_parentheses_override_precedence() -> None:
    parsed = parse_selector('(activity == "a" or activity == "b") and attr.n >= 2.5')
    assert parsed == And(
        (
            Or((Compare(ACTIVITY, "==", "a"), Compare(ACTIVITY, "==", "b"))),
            Compare(Field("attr", "n"), ">=", 2.5),
        )
    )


def test_lists_patterns_and_literals() -> None:
    assert parse_selector("channel not in [\"web\", 'app']") == In(
        Field("channel"), ("web", "app"), negated=True
    )
    assert parse_selector("attr.vip in [true, 1, -2e3]") == In(
        Field("attr", "vip"), (True, 1, -2000.0)
    )
    assert parse_selector('activity ~ "view_*"') == Pattern(ACTIVITY, "view_*", "glob")
    assert parse_selector(r"touchpoint ~ /^faq\/ret/i") == Pattern(
        Field("touchpoint"), "^faq/ret", "regex", ignore_case=True
    )


def test_keywords_inside_names_are_names() -> None:
    # 'order' starts with the keyword 'or', 'android' holds 'and': both are attribute names.
    assert parse_selector("attr.order == 1 and attr.android == true") == And(
        (
            Compare(Field("attr", "order"), "==", 1),
            Compare(Field("attr", "android"), "==", True),
        )
    )


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("activity = 'x'", 10, "unexpected character '='"),
        ('activity == "pay" and', 22, "ends too early"),
        ('customer == "x"', 1, "unknown field 'customer'"),
        ('activity == "x" and colour == "red"', 21, "unknown field 'colour'"),
        ("activity == 5", 13, "activity is text"),
        ('channel in ["web", 2]', 20, "channel is text"),
        ("attr == 1", 1, "attr needs a name"),
        ("attr.a.b == 1", 7, "unexpected ."),
        ("activity ~ /(/", 12, "invalid regular expression"),
        ('activity == "x" "y"', 17, 'unexpected "y"'),
        ("", 1, "empty"),
    ],
)
def test_errors_point_at_the_bad_token(text: str, column: int, message: str) -> None:
    with pytest.raises(SelectorError) as caught:
        parse_selector(text)
    assert caught.value.column == column
    assert message in caught.value.message
    assert caught.value.caret().splitlines()[1] == " " * (column - 1) + "^"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=string.printable + "äšщ\u05d0\x00", max_size=60))
def test_fuzz_only_selector_errors_escape(text: str) -> None:
    try:
        parse_selector(text)
    except SelectorError as exc:
        assert 1 <= exc.column <= len(text) + 1


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "activity",
                "==",
                '"a"',
                "and",
                "or",
                "not",
                "(",
                ")",
                "in",
                "[",
                "]",
                ",",
                "~",
                "1",
                "attr.x",
                "channel",
                "/r/",
                "<=",
                "true",
            ]
        ),
        max_size=14,
    )
)
def test_fuzz_token_soup_only_selector_errors_escape(tokens: list[str]) -> None:
    with contextlib.suppress(SelectorError):
        parse_selector(" ".join(tokens))


def test_deep_nesting_is_refused_cleanly() -> None:
    with pytest.raises(SelectorError):
        parse_selector("(" * 5000 + 'activity == "a"' + ")" * 5000)
    with pytest.raises(SelectorError):
        parse_selector("not " * 5000 + 'activity == "a"')


_names = st.sampled_from(["activity", "channel", "touchpoint", "source"])
_text = st.text(alphabet=string.ascii_letters + " _-'\"\\äšщ", max_size=8)
_scalars = st.one_of(
    _text,
    st.integers(-1000, 1000),
    st.booleans(),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
_attr = st.builds(
    lambda n: Field("attr", n),
    st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True).filter(
        lambda n: n not in {"and", "or", "not", "in", "true", "false"}
    ),
)
_leaf = st.one_of(
    st.builds(
        lambda f, op, v: Compare(Field(f), op, v),
        _names,
        st.sampled_from(["==", "!=", "<", ">="]),
        _text,
    ),
    st.builds(Compare, _attr, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), _scalars),
    st.builds(
        lambda f, vs, neg: In(Field(f), tuple(vs), neg),
        _names,
        st.lists(_text, max_size=3),
        st.booleans(),
    ),
    st.builds(lambda f, p: Pattern(Field(f), p, "glob"), _names, _text),
    st.builds(
        lambda f, p, i: Pattern(Field(f), p, "regex", i),
        _names,
        st.sampled_from(["^a", "b$", "a/b", r"x\d+", "[ab]c"]),
        st.booleans(),
    ),
)
selectors: st.SearchStrategy[Selector] = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.builds(lambda xs: And(tuple(xs)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda xs: Or(tuple(xs)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(Not, inner),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(selectors)
def test_format_then_parse_gives_the_same_tree(selector: Selector) -> None:
    # The formatter parenthesises every nested group, so the exact tree comes back.
    assert parse_selector(format_selector(selector)) == selector


def test_reference_semantics() -> None:
    event = {"activity": "view_product", "channel": "web", "attributes": {"n": 3, "vip": True}}
    assert evaluate(parse_selector('activity ~ "view_*" and attr.n > 2'), event)
    assert not evaluate(parse_selector('activity ~ "view"'), event)  # globs are anchored
    assert not evaluate(parse_selector('activity ~ "product"'), event)  # ...at both ends
    assert not evaluate(parse_selector('activity ~ "iew_*"'), event)
    assert evaluate(parse_selector("activity ~ /prod/"), event)  # regexes search
    assert evaluate(parse_selector('channel not in ["app"] and attr.vip == true'), event)
    # A missing attribute is like SQL NULL: neither equal nor unequal.
    assert not evaluate(parse_selector('attr.missing == "x"'), event)
    assert not evaluate(parse_selector('attr.missing != "x"'), event)
    assert evaluate(parse_selector('not (attr.missing == "x")'), event)
    # Mixed types never compare (SQL keeps booleans, numbers and text apart).
    assert not evaluate(parse_selector('attr.n < "9"'), event)
    assert not evaluate(parse_selector("attr.vip == 1"), event)
    assert not evaluate(parse_selector("attr.vip in [1]"), event)
    assert not evaluate(parse_selector('attr.n ~ "3"'), event)  # patterns match text only


def test_single_quoted_strings_take_escaped_double_quotes() -> None:
    assert parse_selector("""channel == 'say \\"hi\\" and \\'bye\\''""") == Compare(
        Field("channel"), "==", "say \"hi\" and 'bye'"
    )


def test_fields_of_lists_every_field_read() -> None:
    parsed = parse_selector('activity == "a" and (attr.x > 1 or not channel in ["w"])')
    assert fields_of(parsed) == {ACTIVITY, Field("attr", "x"), Field("channel")}
