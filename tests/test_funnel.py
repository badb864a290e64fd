"""Funnels: the rules' named cases counted by hand, a brute-force reference on random logs
(DuckDB), and DuckDB, Spark and the reference agreeing on a fixed generated batch.

Hand-written expectations come from PostHog's funnel rules and their named cases (R-numbers,
as in :mod:`journeylens.analyses.funnel`) and the module's own rules, never from running it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.analyses.funnel import (
    Exclusion,
    FunnelError,
    FunnelResult,
    FunnelSpec,
    FunnelStep,
    FunnelTable,
    dropped,
    funnel,
)
from journeylens.engine import Engine, duckdb_engine
from tests.funnel_reference import reference_dropped, reference_funnel
from tests.journeys import EPOCH, event, journeys_of

A, B, C, D, OPT, X = (f'activity == "{a}"' for a in "abcdox")
MIN, HOUR, DAY = 60, 3600, 86_400


@pytest.fixture(scope="module")
def duck() -> Iterator[Engine]:
    engine = duckdb_engine()
    yield engine
    engine.close()


def run(
    engine: Engine, tmp_path: Path, rows: list[dict[str, Any]], steps: Sequence[Any], **kw: Any
) -> FunnelResult:
    return funnel(journeys_of(engine, rows, tmp_path), FunnelSpec(tuple(steps), **kw))


def entered(result: FunnelResult | FunnelTable) -> list[int]:
    table = result.total if isinstance(result, FunnelResult) else result
    return [s.entered for s in table.steps]


def table(result: FunnelResult, value: str) -> FunnelTable:
    return next(t for t in result.breakdown if t.value == value)


# -- R2, R3: windows and attempts ------------------------------------------------------------


def test_window_boundary_is_inclusive_and_absolute(duck: Engine, tmp_path: Path) -> None:
    rows = [
        *(event("on", 0, "a"), event("on", 300, "b")),  # exactly 5 minutes
        *(event("late", 0, "a"), event("late", 301, "b")),
    ]
    assert entered(run(duck, tmp_path, rows, [A, B], window="5m")) == [2, 1]
    rows = [*(event("p", 0, "a"), event("p", 10, "b")), *(event("q", 0, "a"), event("q", 20, "b"))]
    assert entered(run(duck, tmp_path, rows, [A, B], window=15)) == [2, 1]


def test_the_window_runs_from_step_one_not_from_the_previous_step(
    duck: Engine, tmp_path: Path
) -> None:
    # a -> b takes 40 s, b -> c 40 s: each hop fits a 60 s window, the whole chain does not.
    rows = [event("p", 0, "a"), event("p", 40, "b"), event("p", 80, "c")]
    assert entered(run(duck, tmp_path, rows, [A, B, C], window=60)) == [1, 1, 0]


def test_a_later_step_one_rescues_a_timed_out_attempt(duck: Engine, tmp_path: Path) -> None:
    # ttc_ordered_picks_latest_entry_within_window: a 13:01, a 13:35, b 13:41, 10 minutes.
    rows = [event("p", 13 * HOUR + MIN, "a"), event("p", 13 * HOUR + 35 * MIN, "a")]
    rows.append(event("p", 13 * HOUR + 41 * MIN, "b"))
    result = run(duck, tmp_path, rows, [A, B], window="10m")
    assert entered(result) == [1, 1]
    assert result.total.steps[1].median_s == 360


def test_steps_before_step_one_do_not_count(duck: Engine, tmp_path: Path) -> None:
    rows = [
        *(event("p", 0, "b"), event("p", 10, "a")),  # b came first: only step 1
        event("q", 0, "b"),  # never did step 1: not in the funnel
    ]
    result = run(duck, tmp_path, rows, [A, B])
    assert entered(result) == [1, 0]
    assert result.total.journeys == 1


def test_times_come_from_the_first_completed_attempt(duck: Engine, tmp_path: Path) -> None:
    # R11: converts in 1 h, later again in 3 h; the first conversion is the recorded one.
    rows = [event("p", 0, "a"), event("p", HOUR, "b"), event("p", 5 * HOUR, "a")]
    rows.append(event("p", 8 * HOUR, "b"))
    result = run(duck, tmp_path, rows, [A, B], window="1d")
    assert result.total.steps[1].median_s == 3600


# -- R4, R1: ties and events matching several steps ------------------------------------------


def test_events_at_one_instant_fill_consecutive_steps_in_any_order(
    duck: Engine, tmp_path: Path
) -> None:
    rows = [
        *(event("two", 5, "b"), event("two", 5, "a")),  # b listed before a
        *(event("four", 7, "d"), event("four", 7, "c"), event("four", 7, "b")),
        event("four", 7, "a"),
    ]
    result = run(duck, tmp_path, rows, [A, B, C, D])
    assert entered(result) == [2, 2, 1, 1]
    assert result.total.steps[1].median_s is None  # zero durations are left out (R14)


def test_identical_events_at_one_instant_are_separate_events(duck: Engine, tmp_path: Path) -> None:
    rows = [event("twice", 3, "a"), event("twice", 3, "a"), event("once", 3, "a")]
    assert entered(run(duck, tmp_path, rows, [A, A])) == [2, 1]


def test_one_event_fills_one_step_even_when_it_matches_two(duck: Engine, tmp_path: Path) -> None:
    a_or_b = 'activity in ["a", "b"]'
    rows = [
        event("one_b", 0, "b"),  # matches both steps, can fill only one
        *(event("two_b", 0, "b"), event("two_b", 0, "b")),
        *(event("a_then_b", 0, "a"), event("a_then_b", 9, "b")),
        *(event("b_then_a", 0, "b"), event("b_then_a", 9, "a")),  # a does not match step 2
    ]
    assert entered(run(duck, tmp_path, rows, [a_or_b, B])) == [4, 2]


# -- R6: strict ------------------------------------------------------------------------------


def test_strict_funnels_break_on_an_event_in_between(duck: Engine, tmp_path: Path) -> None:
    rows = [
        *(event("broken", 0, "a"), event("broken", 5, "z"), event("broken", 10, "b")),
        *(event("tied", 0, "a"), event("tied", 0, "z"), event("tied", 10, "b")),
        *(event("clean", 0, "a"), event("clean", 10, "b")),
    ]
    journeys = journeys_of(duck, rows, tmp_path)
    strict = funnel(journeys, FunnelSpec((A, B), order="strict"))
    ordered = funnel(journeys, FunnelSpec((A, B)))
    assert entered(strict) == [3, 2]
    assert entered(ordered) == [3, 3]


# -- R7, R8, R9: exclusions ------------------------------------------------------------------


def test_an_exclusion_removes_the_journey_from_every_step(duck: Engine, tmp_path: Path) -> None:
    rows = [
        *(event("hit", 0, "a"), event("hit", 10, "x"), event("hit", 20, "b")),
        *(event("no_end", 0, "a"), event("no_end", 10, "x")),  # person3: still dropped
        *(event("after", 0, "a"), event("after", 10, "b"), event("after", 20, "x")),
        *(event("expired", 0, "a"), event("expired", 100, "x")),  # outside a 60 s window
    ]
    result = run(duck, tmp_path, rows, [A, B], window=60, exclusions=(Exclusion(X),))
    assert entered(result) == [2, 1]
    assert (result.total.journeys, result.total.excluded) == (2, 2)


def test_a_clean_entry_after_an_excluded_one_keeps_the_journey(
    duck: Engine, tmp_path: Path
) -> None:
    rows = [
        *(event("one", 0, "a"), event("one", 10, "x"), event("one", 20, "a")),
        *(event("two", 0, "a"), event("two", 10, "x"), event("two", 20, "a")),
        event("two", 30, "x"),
    ]
    result = run(duck, tmp_path, rows, [A, B], exclusions=(Exclusion(X),))
    assert entered(result) == [1, 0]
    assert result.total.excluded == 1


def test_an_excluded_completion_beats_an_earlier_clean_partial_attempt(
    duck: Engine, tmp_path: Path
) -> None:
    # a b (clean, stops at step 2), later a b x c: hit at step 2, credited step 3 > 2.
    rows = [event("p", t, a) for t, a in ((0, "a"), (10, "b"), (100, "a"), (105, "b"))]
    rows += [event("p", 110, "x"), event("p", 115, "c")]
    result = run(duck, tmp_path, rows, [A, B, C], window=60, exclusions=(Exclusion(X),))
    assert entered(result) == [0, 0, 0]
    assert result.total.excluded == 1


def test_a_clean_later_conversion_counts_with_its_own_time(duck: Engine, tmp_path: Path) -> None:
    rows = [event("p", t, a) for t, a in ((0, "a"), (10, "x"), (20, "b"), (100, "a"), (129, "b"))]
    result = run(duck, tmp_path, rows, [A, B], window=60, exclusions=(Exclusion(X),))
    assert entered(result) == [1, 1]
    assert result.total.steps[1].median_s == 29


def test_exclusions_at_an_instant_with_a_step_event_are_ignored(
    duck: Engine, tmp_path: Path
) -> None:
    rows = [
        *(event("with_a", 0, "a"), event("with_a", 0, "x"), event("with_a", 10, "b")),
        *(event("with_b", 0, "a"), event("with_b", 10, "x"), event("with_b", 10, "b")),
    ]
    result = run(duck, tmp_path, rows, [A, B], exclusions=(Exclusion(X),))
    assert entered(result) == [2, 2]
    assert result.total.excluded == 0


def test_an_exclusion_between_two_steps_lets_the_journey_redo_the_first(
    duck: Engine, tmp_path: Path
) -> None:
    rows = [
        # x between b and c: the second b restarts the b -> c stretch after it
        *[event("redo", t, a) for t, a in ((0, "a"), (10, "b"), (20, "x"), (30, "b"), (40, "c"))],
        # x before b: outside the b -> c range
        *[event("early", t, a) for t, a in ((0, "a"), (5, "x"), (10, "b"), (20, "c"))],
    ]
    result = run(duck, tmp_path, rows, [A, B, C], exclusions=(Exclusion(X, 1, 2),))
    assert entered(result) == [2, 2, 2]
    assert result.total.excluded == 0
    # redo records b at 30 (the b at 10 cannot reach c), so a -> b takes 30 s and 10 s
    assert result.total.steps[1].mean_s == (30 + 10) / 2
    assert result.total.steps[2].mean_s == (10 + 10) / 2


def test_exclusion_ranges_are_checked(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, [event("p", 0, "a")], tmp_path)
    bad: list[tuple[tuple[str | FunnelStep, ...], Exclusion, str]] = [
        ((A, B, C), Exclusion(X, 2, 1), "must come before"),
        ((A, B, C), Exclusion(X, 1, 1), "must come before"),
        ((A, B, C), Exclusion(X, 0, 3), "is not a step"),
        ((A, B, C), Exclusion(X, "nope", 2), "not a step name"),
        ((A, B, C), Exclusion(B, 0, 2), "is step 1 itself"),
        ((A, FunnelStep(OPT, optional=True), C), Exclusion(X, 1, 2), "optional"),
    ]
    for steps, exclusion, message in bad:
        with pytest.raises(FunnelError, match=message):
            funnel(journeys, FunnelSpec(steps, exclusions=(exclusion,)))
    with pytest.raises(FunnelError, match="whole funnel"):
        funnel(journeys, FunnelSpec((A, B, C), order="any_order", exclusions=(Exclusion(X, 0, 1),)))
    # the same selector as a step outside its range is allowed; the default range ends at
    # the last required step
    assert funnel(journeys, FunnelSpec((A, B, C), exclusions=(Exclusion(A, 1, 2),))).total
    trailing = (A, B, FunnelStep(C, optional=True))
    assert funnel(journeys, FunnelSpec(trailing, exclusions=(Exclusion(X),))).total


# -- R12, R13: any order ---------------------------------------------------------------------


def test_any_order_counts_completed_steps(duck: Engine, tmp_path: Path) -> None:
    rows = [
        *(event("all", 0, "c"), event("all", 5, "b"), event("all", 9, "a")),
        *(event("no_a", 0, "b"), event("no_a", 5, "c")),  # p8: reaches 2 steps without a
        *(event("slow", 0, "a"), event("slow", 100, "b")),  # outside a 60 s window
    ]
    result = run(duck, tmp_path, rows, [A, B, C], order="any_order", window=60)
    assert entered(result) == [3, 2, 1]
    assert [s.name for s in result.total.steps] == [
        "Completed 1 step",
        "Completed 2 steps",
        "Completed 3 steps",
    ]
    # times between the instants the window had 1, 2 and 3 steps: (5, 4) and (5,)
    assert [s.mean_s for s in result.total.steps] == [None, 5, 4]


def test_any_order_exclusions_wipe_the_window_but_keep_the_journey(
    duck: Engine, tmp_path: Path
) -> None:
    rows = [
        *[event("wiped", t, a) for t, a in ((0, "a"), (1, "b"), (2, "x"), (3, "c"))],  # credited 1
        *[event("done", t, a) for t, a in ((0, "a"), (1, "b"), (2, "c"), (3, "x"))],  # kept: 3
        *(event("lost", 0, "a"), event("lost", 1, "x")),  # every window lost
    ]
    result = run(duck, tmp_path, rows, [A, B, C], order="any_order", exclusions=(Exclusion(X),))
    assert entered(result) == [2, 1, 1]
    assert (result.total.journeys, result.total.excluded) == (2, 0)


def test_any_order_repeated_steps_need_distinct_events(duck: Engine, tmp_path: Path) -> None:
    rows = [event("p", 0, "a"), event("p", 1, "b"), *(event("q", t, "a") for t in (0, 0))]
    rows.append(event("q", 2, "b"))
    assert entered(run(duck, tmp_path, rows, [A, A, B], order="any_order")) == [2, 2, 1]


def test_any_order_rejects_steps_that_may_share_an_event(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, [event("p", 0, "a")], tmp_path)
    spec = FunnelSpec((A, 'activity in ["a", "b"]'), order="any_order")
    with pytest.raises(FunnelError, match="may match the same event"):
        funnel(journeys, spec)
    # told apart by activity: accepted
    assert funnel(journeys, FunnelSpec((A, 'activity ~ "b*"'), order="any_order")).total


# -- R10, R14: counts, rates, times ----------------------------------------------------------


def test_counts_rates_and_drop_offs(duck: Engine, tmp_path: Path) -> None:
    rows = [event(f"p{i}", 0, "a") for i in range(5)]
    rows += [event(f"p{i}", 10, "b") for i in range(3)] + [event("p0", 20, "c")]
    steps = run(duck, tmp_path, rows, [A, B, C]).total.steps
    assert [s.entered for s in steps] == [5, 3, 1]
    assert [s.converted for s in steps] == [3, 1, None]
    assert [s.dropped for s in steps] == [2, 2, None]
    assert [s.conversion_from_first for s in steps] == [1.0, 0.6, 0.2]
    assert [s.conversion_from_previous for s in steps] == [None, 0.6, 0.333333]


def test_conversion_times_leave_out_zero_and_interpolate(duck: Engine, tmp_path: Path) -> None:
    rows = [event("one", 0, "a"), event("one", HOUR, "b"), event("two", 0, "a")]
    rows += [event("two", 2 * HOUR, "b"), event("tie", 0, "a"), event("tie", 0, "b")]
    step = run(duck, tmp_path, rows, [A, B]).total.steps[1]
    assert (step.entered, step.mean_s, step.median_s) == (3, 5400, 5400)
    assert step.p90_s == 3600 + 0.9 * 3600


# -- optional steps, open funnels, gaps --------------------------------------------------------


def test_optional_steps_count_when_done_and_never_block(duck: Engine, tmp_path: Path) -> None:
    rows = [
        *[event("did", t, a) for t, a in ((0, "a"), (5, "o"), (20, "b"))],
        *(event("skipped", 0, "a"), event("skipped", 20, "b")),
        *[event("before", t, a) for t, a in ((0, "o"), (5, "a"), (20, "b"))],
        *(event("no_end", 0, "a"), event("no_end", 5, "o")),  # within the window, no b
    ]
    result = run(duck, tmp_path, rows, [A, FunnelStep(OPT, optional=True), B], window=60)
    a, o, b = result.total.steps
    assert [a.entered, o.entered, b.entered] == [4, 2, 3]
    assert (o.optional, o.converted, o.dropped, o.conversion_from_previous) == (True, 1, 1, 0.5)
    assert (a.converted, b.conversion_from_previous) == (3, 0.75)  # b counts from a, not o
    assert o.mean_s == 5
    assert b.mean_s == pytest.approx((20 + 20 + 15) / 3, abs=0.001)


def test_open_funnels_count_journeys_from_their_first_step(duck: Engine, tmp_path: Path) -> None:
    rows = [
        *(event("mid", 0, "b"), event("mid", 5, "c")),
        *(event("start", 0, "a"), event("start", 5, "b")),
        event("end", 0, "c"),
        *[event("late", t, a) for t, a in ((0, "c"), (5, "a"), (9, "b"))],  # entered at c
    ]
    journeys = journeys_of(duck, rows, tmp_path)
    opened = funnel(journeys, FunnelSpec((A, B, C), entry="open"))
    assert entered(opened) == [1, 2, 3]
    _, b, c = opened.total.steps
    assert (b.conversion_from_previous, c.conversion_from_previous) == (1.0, 0.5)
    assert c.conversion_from_first == 0.0
    assert entered(funnel(journeys, FunnelSpec((A, B, C)))) == [2, 2, 0]


def test_gap_makes_each_episode_a_journey(duck: Engine, tmp_path: Path) -> None:
    rows = [event("p", t, a) for t, a in ((0, "a"), (60, "b"), (DAY, "a"), (DAY + 60, "b"))]
    journeys = journeys_of(duck, rows, tmp_path)
    split = funnel(journeys, FunnelSpec((A, B), gap="1h"))
    assert (entered(split), split.total.journeys, split.total.customers) == ([2, 2], 2, 1)
    whole = funnel(journeys, FunnelSpec((A, B)))
    assert (entered(whole), whole.total.journeys) == ([1, 1], 1)


# -- R16: breakdown ----------------------------------------------------------------------------


def test_breakdown_takes_the_first_or_last_touch_of_funnel_events(
    duck: Engine, tmp_path: Path
) -> None:
    rows = [
        event("p1", 0, "z", channel="mail"),  # matches no step: never supplies the value
        event("p1", 1, "a"),
        event("p1", 2, "a", channel="web"),
        event("p1", 3, "b", channel="app"),
        event("p2", 0, "a"),
        event("p3", 0, "a", channel="app"),
        event("p3", 1, "b"),
    ]
    journeys = journeys_of(duck, rows, tmp_path)
    first = funnel(journeys, FunnelSpec((A, B), breakdown="channel"))
    assert [t.value for t in first.breakdown] == ["", "app", "web"]
    assert [entered(table(first, v)) for v in ("", "app", "web")] == [[1, 0], [1, 1], [1, 1]]
    assert entered(first) == [3, 2]
    last = funnel(journeys, FunnelSpec((A, B), breakdown="channel", attribution="last_touch"))
    assert [(t.value, entered(t)) for t in last.breakdown] == [("", [1, 0]), ("app", [2, 2])]
    strict = funnel(journeys, FunnelSpec((A, B), order="strict", breakdown="channel"))
    assert table(strict, "mail").journeys == 1  # strict funnels see all events (R5)


def test_breakdown_by_an_attribute(duck: Engine, tmp_path: Path) -> None:
    rows = [
        event("p", 0, "a", attributes='{"segment": "gold"}'),
        event("p", 1, "b"),
        event("q", 0, "a", attributes='{"segment": "tin"}'),
    ]
    result = run(duck, tmp_path, rows, [A, B], breakdown="attr.segment")
    assert [(t.value, entered(t)) for t in result.breakdown] == [
        ("gold", [1, 1]),
        ("tin", [1, 0]),
    ]


# -- dropped customers and bad specs -----------------------------------------------------------


def test_dropped_customers_with_their_last_step(duck: Engine, tmp_path: Path) -> None:
    rows = [event(f"p{i}", 0, "a") for i in range(3)] + [event("p0", 10, "b")]
    rows += [event("p1", 10, "b"), event("p1", 20, "c")]
    journeys = journeys_of(duck, rows, tmp_path)
    spec = FunnelSpec((FunnelStep(A, "visit"), FunnelStep(B, "cart"), FunnelStep(C, "pay")))
    at_cart = duck.to_arrow(dropped(journeys, spec, "cart")).to_pylist()
    assert at_cart == [
        {
            "customer_key": "p0",
            "journey": "p0",
            "last_step": "cart",
            "last_at": EPOCH + timedelta(seconds=10),
        }
    ]
    at_visit = duck.to_arrow(dropped(journeys, spec, 0)).to_pylist()
    assert [(r["customer_key"], r["last_step"]) for r in at_visit] == [("p2", "visit")]
    with pytest.raises(FunnelError, match="last step"):
        dropped(journeys, spec, "pay")


def test_bad_specs_are_rejected_with_a_reason(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, [event("p", 0, "a")], tmp_path)
    bad = [
        (FunnelSpec((A,)), "2 to 20 steps"),
        (FunnelSpec((FunnelStep(A, optional=True), B)), "first step cannot be optional"),
        (FunnelSpec((A, FunnelStep(B, optional=True)), order="strict"), "ordered funnel"),
        (FunnelSpec((A, B), order="any_order", entry="open"), "entry must be closed"),
        (FunnelSpec((A, B), order="sideways"), "order 'sideways'"),  # type: ignore[arg-type]
        (FunnelSpec((A, B), breakdown="colour"), "breakdown 'colour'"),
        (FunnelSpec((A, B), window="-1d"), "duration"),
        (FunnelSpec((A, 'activity = "b"')), "step 1"),
    ]
    for spec, message in bad:
        with pytest.raises(FunnelError, match=message):
            funnel(journeys, spec)


def test_strict_and_any_order_funnels_counted_by_hand(duck: Engine, tmp_path: Path) -> None:
    rows = [
        *[event("p1", t, a) for t, a in ((0, "a"), (1, "b"), (2, "c"))],
        *[event("p2", t, a) for t, a in ((0, "a"), (1, "z"), (2, "b"), (3, "c"))],
        *[event("p3", t, a) for t, a in ((0, "c"), (1, "b"), (2, "a"))],
    ]
    journeys = journeys_of(duck, rows, tmp_path)
    assert entered(funnel(journeys, FunnelSpec((A, B, C), order="strict"))) == [3, 1, 1]
    assert entered(funnel(journeys, FunnelSpec((A, B, C), order="any_order"))) == [3, 3, 3]


# -- both engines, counted by hand -----------------------------------------------------------


def test_ordered_funnel_with_exclusion_optional_step_and_breakdown(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [
        *[event("p1", t, a, channel="web") for t, a in ((0, "a"), (5, "o"), (10, "b"), (20, "c"))],
        *[event("p2", t, a, channel="app") for t, a in ((0, "a"), (10, "b"))],
        *[event("p3", t, a, channel="app") for t, a in ((0, "a"), (5, "x"), (10, "b"))],
        *[event("p4", t, a) for t, a in ((0, "a"), (30, "b"), (90, "c"))],  # c out of window
    ]
    result = run(
        engine,
        tmp_path,
        rows,
        [A, FunnelStep(OPT, optional=True), B, C],
        window=60,
        exclusions=(Exclusion(X, 0, 2),),
        breakdown="channel",
    )
    assert entered(result) == [3, 1, 3, 1]
    assert (result.total.journeys, result.total.excluded) == (3, 1)
    assert [s.median_s for s in result.total.steps] == [None, 5, 10, 10]
    assert [(t.value, entered(t), t.excluded) for t in result.breakdown] == [
        ("", [1, 0, 1, 0], 0),
        ("app", [1, 0, 1, 0], 1),
        ("web", [1, 1, 1, 1], 0),
    ]


# -- the reference, on random logs -----------------------------------------------------------

SINGLE = [A, B, C]
OVERLAPPING = [*SINGLE, 'activity in ["a", "b"]', 'activity in ["b", "c"]']
OVERLAPPING.append('activity == "a" and channel == "web"')
EXCLUDED = [X, C, 'activity == "x" or activity == "b"']


@st.composite
def funnel_specs(draw: st.DrawFn) -> FunnelSpec:
    order: Any = draw(st.sampled_from(["ordered", "strict", "any_order"]))
    n = draw(st.integers(2, 4))
    pool = SINGLE if order == "any_order" else OVERLAPPING
    steps = [draw(st.sampled_from(pool)) for _ in range(n)]
    optional: set[int] = set()
    if order == "ordered" and len(steps) >= 3:
        optional = draw(st.sets(st.integers(1, len(steps) - 1), max_size=1))
    required = [i for i in range(len(steps)) if i not in optional]
    exclusions = []
    for _ in range(draw(st.integers(0, 2))):
        match = draw(st.sampled_from(EXCLUDED))
        if order == "any_order":
            exclusions.append(Exclusion(match))
        else:
            pair = draw(st.lists(st.sampled_from(required), min_size=2, max_size=2, unique=True))
            exclusions.append(Exclusion(match, min(pair), max(pair)))
    return FunnelSpec(
        tuple(FunnelStep(s, optional=i in optional) for i, s in enumerate(steps)),
        order=order,
        window=draw(st.sampled_from([10, 20, 35, 60, 1000])),
        exclusions=tuple(exclusions),
        entry="closed" if order == "any_order" else draw(st.sampled_from(["closed", "open"])),
        breakdown=draw(st.sampled_from([None, "channel"])),
        attribution=draw(st.sampled_from(["first_touch", "last_touch"])),
        gap=draw(st.sampled_from([None, None, 25])),
    )


def event_rows(
    draw: Callable[..., Any], customers: int = 3, size: int = 16
) -> list[dict[str, Any]]:
    """Few customers and activities; times on a 5 s grid, so many events tie."""
    drawn = draw(
        st.lists(
            st.tuples(
                st.integers(0, customers - 1),
                st.integers(0, 12),
                st.sampled_from("abcxz"),
                st.sampled_from([None, "web", "app"]),
            ),
            min_size=3,
            max_size=size,
        )
    )
    return [event(f"u{c}", t * 5, a, channel=ch) for c, t, a, ch in drawn]


def comparable(result: FunnelResult) -> dict[str, Any]:
    """The result in the reference's shape (no names, breakdown keyed by value)."""

    def strip(t: FunnelTable) -> dict[str, Any]:
        found = asdict(t)
        for s in found["steps"]:
            del s["name"], s["match"]
        del found["value"]
        return found

    return {
        "total": strip(result.total),
        "breakdown": {t.value: strip(t) for t in result.breakdown},
    }


def close(got: Any, want: Any) -> bool:
    """Equal, with durations within a millisecond (interpolation rounds either way)."""
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(close(got[k], want[k]) for k in got)
    if isinstance(got, list | tuple) and isinstance(want, list | tuple):
        return len(got) == len(want) and all(close(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(got, float) and isinstance(want, float):
        return abs(got - want) <= 0.0011
    return bool(got == want)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=funnel_specs(), data=st.data())
def test_funnels_match_the_reference_on_duckdb(
    duck: Engine, tmp_path: Path, spec: FunnelSpec, data: st.DataObject
) -> None:
    rows = event_rows(data.draw)
    try:
        result = funnel(journeys_of(duck, rows, tmp_path), spec)
    except FunnelError as exc:  # only a step repeated as an exclusion inside its range
        assert "itself" in str(exc)
        return
    got, want = comparable(result), reference_funnel(rows, spec)
    assert close(got, want), (got, want)


def random_log(rng: random.Random, customers: int, size: int) -> list[dict[str, Any]]:
    rows = []
    for c in range(customers):
        for _ in range(rng.randint(0, size)):
            rows.append(
                event(
                    f"c{c:03d}",
                    rng.randint(0, 40) * 5,
                    rng.choice("aabbcxz"),
                    channel=rng.choice([None, "web", "app"]),
                )
            )
    return rows


BATCH = [
    # greedy hops: overlapping steps, an optional step, a breakdown
    FunnelSpec(
        (A, FunnelStep(C, optional=True), B, 'activity in ["b", "c"]'),
        window=60,
        breakdown="channel",
    ),
    # the levels: strict, open, episodes and an exclusion
    FunnelSpec(
        (A, B, C), order="strict", window=100, entry="open", gap=30, exclusions=(Exclusion(X),)
    ),
    # any order with a repeated step and an exclusion
    FunnelSpec(
        (A, A, B), order="any_order", window=45, exclusions=(Exclusion(X),), breakdown="channel"
    ),
]


def test_engines_match_the_reference_on_a_generated_batch(engine: Engine, tmp_path: Path) -> None:
    rows = random_log(random.Random(4), 60, 9)
    journeys = journeys_of(engine, rows, tmp_path)
    for spec in BATCH:
        want = reference_funnel(rows, spec)
        assert want["total"]["journeys"] > 10  # the log exercises the spec
        got = comparable(funnel(journeys, spec))
        assert close(got, want), (spec, got, want)
    spec = BATCH[0]
    labels = [s.label if isinstance(s, FunnelStep) else s for s in spec.steps]
    found = engine.to_arrow(dropped(journeys, spec, 2)).to_pylist()
    gone = sorted(
        (r["customer_key"], labels.index(r["last_step"]), round(r["last_at"].timestamp() * 1000))
        for r in found
    )
    expected = reference_dropped(rows, spec, 2)
    assert expected  # the batch has drop-offs there
    assert gone == expected
