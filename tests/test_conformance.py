"""Conformance: a hand-counted shop on DuckDB and Spark, the design read from maps, and the
bundled future-state map against a few journeys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from journeylens.analyses.binding import Scope, bound_steps
from journeylens.analyses.conformance import (
    Conformance,
    ConformanceSpec,
    conformance,
    designed_moves,
    designed_path,
)
from journeylens.documents.loading import load_document
from journeylens.engine import Engine, duckdb_engine
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap
from tests.journeys import event, journeys_of

DAY = 86_400.0
EXAMPLE = Path(__file__).parents[1] / "src/journeylens/examples/running-shoes/maps"


@pytest.fixture(scope="module")
def duck() -> Any:
    engine = duckdb_engine()
    yield engine
    engine.close()


def shop_map(**extra: Any) -> JourneyMap:
    return JourneyMap.model_validate(
        {
            "id": "shop",
            "title": "Shop",
            "stages": [
                {
                    "id": "aw",
                    "name": "Awareness",
                    "steps": [
                        {"id": "ad", "action": "Sees an ad", "channel": "instagram",
                         "match": 'activity == "ad"'},
                    ],
                },
                {
                    "id": "co",
                    "name": {"en": "Consideration", "ro": "Considerare"},
                    "steps": [
                        {"id": "view", "action": "Views", "touchpoint": "tp-page",
                         "match": 'activity == "view"'},
                        {"id": "cart", "action": "Adds to cart", "touchpoint": "tp-cart",
                         "match": 'activity == "cart"'},
                    ],
                },
                {
                    "id": "cv",
                    "name": "Conversion",
                    "lifecycle": "conversion",
                    "steps": [
                        {"id": "pay", "action": "Pays", "kind": "decision",
                         "touchpoint": "tp-pay", "match": 'activity == "pay"',
                         "next": [{"step": "confirm"}, {"step": "view"}]},
                        {"id": "confirm", "action": "Gets the confirmation",
                         "touchpoint": "tp-email", "match": 'activity == "order"'},
                    ],
                },
                {
                    "id": "su",
                    "name": "Support",
                    "steps": [
                        {"id": "call", "action": "Calls", "channel": "phone",
                         "match": 'activity == "call"'},
                    ],
                },
            ],
            "paths": [
                {"id": "happy", "name": "Buys", "kind": "happy",
                 "steps": ["ad", "view", "cart", "pay", "confirm"]},
            ],
            **extra,
        }
    )  # fmt: skip


TP_CHANNELS = {"tp-page": "web", "tp-cart": "web", "tp-pay": "web", "tp-email": "email"}


def web(customer: str, seconds: float, activity: str, **fields: Any) -> dict[str, Any]:
    return event(customer, seconds, activity, **{"channel": "web", **fields})


SHOP = [
    # a: the whole happy path (ad on Instagram, confirmation by e-mail): conforms
    event("a", 0, "ad", channel="instagram"),
    web("a", 10, "view"),
    web("a", 20, "cart"),
    web("a", 25, "noise"),  # matches no step: ignored
    web("a", 30, "pay"),
    event("a", 40, "order", channel="email"),
    # b: starts mid-path and stops at pay: conforms
    web("b", 0, "view"),
    web("b", 5, "view"),  # a repeated view is one visit
    web("b", 10, "cart"),
    web("b", 20, "pay"),
    # c: skips view (ad -> cart): out of order, undesigned arrival at cart
    event("c", 0, "ad", channel="instagram"),
    web("c", 10, "cart"),
    # d: jumps from the ad to paying: skips the whole consideration stage
    event("d", 0, "ad", channel="instagram"),
    web("d", 10, "pay"),
    event("d", 20, "order", channel="email"),
    # e: in order, but adds to cart in the app: an unexpected channel switch (still conforms)
    web("e", 0, "view"),
    event("e", 10, "cart", channel="app"),
    # f: goes back from paying to the product page once (a designed branch, still a loop)
    web("f", 0, "view"),
    web("f", 10, "cart"),
    web("f", 20, "pay"),
    web("f", 30, "view"),
    web("f", 40, "cart"),
    web("f", 50, "pay"),
    event("f", 60, "order", channel="email"),
    # g: calls three times; the second call is within 7 days of the first, the third is not
    event("g", 0, "call", channel="phone"),
    event("g", 2 * DAY, "call", channel="phone"),
    event("g", 20 * DAY, "call", channel="phone"),
    # h: adds to cart more than a day after viewing: a late handoff (conforms)
    web("h", 0, "view"),
    web("h", 100_000, "cart"),
]


def summary(result: Conformance) -> dict[str, Any]:
    return {
        "journeys": (result.journeys, result.customers, result.conforming, result.conformance),
        "deviating": result.deviating,
        "steps": {
            s.step: (
                s.reached,
                s.entered,
                s.predecessor,
                s.predecessor_reached,
                s.next_in_order,
                s.fitness,
                s.from_undesigned,
                s.deviations,
            )
            for s in result.steps.values()
        },
        "deviations": [
            (
                d.kind,
                d.from_step,
                d.step,
                d.stage,
                d.designed,
                d.journeys,
                d.occurrences,
                d.examples,
            )
            for d in result.deviations
        ],
        "by_kind": {k: (t.journeys, t.customers, t.occurrences) for k, t in result.by_kind.items()},
    }


EXPECTED_STEPS = {
    # reached, entered, predecessor, its reach, straight from it, fitness, undesigned, deviations
    "ad": (3, 3, None, None, None, None, 0, {}),
    "view": (5, 4, "ad", 3, 1, 0.333333, 0, {"extra_loop": 1}),
    "cart": (6, 0, "view", 5, 5, 1.0, 1, {"channel_switch": 1, "late_handoff": 1}),
    "pay": (4, 0, "cart", 6, 3, 0.5, 1, {"stage_skipped": 1}),
    "confirm": (3, 0, "pay", 4, 3, 0.75, 0, {}),
    # off the happy path; its only designed predecessor is the step before it
    "call": (1, 1, "confirm", 3, 0, 0.0, 0, {"repeat_contact": 1}),
}
EXPECTED_DEVIATIONS = [
    ("stage_skipped", "ad", "pay", "co", False, 1, 1, ("d",)),
    ("channel_switch", "view", "cart", None, True, 1, 1, ("e",)),
    ("repeat_contact", "call", "call", None, False, 1, 1, ("g",)),
    ("extra_loop", "pay", "view", None, True, 1, 1, ("f",)),
    ("late_handoff", "view", "cart", None, True, 1, 1, ("h",)),
]


def test_conformance_counted_by_hand(engine: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(engine, SHOP, tmp_path)
    # late handoffs by the p90 of each move: view -> cart took 10 s five times and 100 000 s
    # once, so its p90 (50 005 s) flags only h
    spec = ConformanceSpec(shop_map(), touchpoint_channels=TP_CHANNELS)
    result = conformance(journeys, spec)
    assert (result.path_id, result.path) == ("happy", ("ad", "view", "cart", "pay", "confirm"))
    assert summary(result) == {
        "journeys": (8, 8, 4, 0.5),  # a, b, e and h conform
        "deviating": 5,  # d, e, f, g, h
        "steps": EXPECTED_STEPS,
        "deviations": EXPECTED_DEVIATIONS,
        "by_kind": {
            "stage_skipped": (1, 1, 1),
            "channel_switch": (1, 1, 1),
            "repeat_contact": (1, 1, 1),
            "extra_loop": (1, 1, 1),
            "late_handoff": (1, 1, 1),
        },
    }
    assert result.deviations[0].label == "Skipped the Consideration stage (ad -> pay)"
    assert result.repeat_within_s == 7 * DAY and result.late_after_s is None
    data = result.to_dict()
    assert data["steps"]["cart"]["fitness"] == 1.0
    assert data["by_kind"]["late_handoff"]["label"] == "Late handoff"


def test_late_handoff_by_a_threshold(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, SHOP, tmp_path)
    spec = ConformanceSpec(shop_map(), touchpoint_channels=TP_CHANNELS, late_after="1d")
    result = conformance(journeys, spec)
    assert result.late_after_s == DAY
    assert summary(result)["deviations"] == EXPECTED_DEVIATIONS
    # designed moves over 5 s: a 4, b 1 (its cart is 5 s after its last view), d 1, e 1,
    # f 6 (pay -> view is a designed branch) and h 1; c's ad -> cart is not designed
    quick = conformance(journeys, ConformanceSpec(shop_map(), late_after=5))
    late = quick.by_kind["late_handoff"]
    assert (late.journeys, late.occurrences) == (6, 14)


def test_episodes_repeat_window_and_limits(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, SHOP, tmp_path)
    spec = ConformanceSpec(
        shop_map(), touchpoint_channels=TP_CHANNELS, gap="1h", late_after=60, top=2, examples=0
    )
    result = conformance(journeys, spec)
    # h splits in two one-step episodes (both conform, no late handoff any more); g in three
    # single calls (off the path), and the repeat call still counts across episodes
    assert (result.journeys, result.customers, result.conforming) == (11, 8, 5)
    assert result.by_kind["late_handoff"].journeys == 0
    assert result.by_kind["repeat_contact"].occurrences == 1
    assert [(d.kind, d.examples) for d in result.deviations] == [
        ("stage_skipped", ()),
        ("channel_switch", ()),
    ]
    # a shorter repeat window misses g's second call (2 days later)
    short = conformance(
        journeys,
        ConformanceSpec(shop_map(), touchpoint_channels=TP_CHANNELS, repeat_within="1d"),
    )
    assert short.by_kind["repeat_contact"].occurrences == 0


def test_designed_channels_need_the_touchpoints_registry(duck: Engine, tmp_path: Path) -> None:
    # without the registry, view (tp-page) and cart (tp-cart) are not known to share a channel
    result = conformance(journeys_of(duck, SHOP, tmp_path), ConformanceSpec(shop_map()))
    assert result.by_kind["channel_switch"].journeys == 0
    # chat counted as the only contact channel: g's phone calls are no contacts
    chats = conformance(
        journeys_of(duck, SHOP, tmp_path),
        ConformanceSpec(shop_map(), contact_channels=("chat",)),
    )
    assert chats.by_kind["repeat_contact"].journeys == 0
    by_selector = conformance(
        journeys_of(duck, SHOP, tmp_path),
        ConformanceSpec(shop_map(), contacts='activity == "call"'),
    )
    assert by_selector.by_kind["repeat_contact"].journeys == 1


def test_scope_and_overlapping_steps(duck: Engine, tmp_path: Path) -> None:
    rows = [
        *SHOP,
        # an order that is also a repeat order stands for the later step, not a loop back
        event("a", 50, "order", channel="email", attributes='{"repeat": true}'),
    ]
    jmap = shop_map()
    stages = [s.model_dump() for s in jmap.stages]
    stages.append(
        {"id": "lo", "name": "Loyalty", "steps": [
            {"id": "again", "action": "Buys again",
             "match": 'activity == "order" and attr.repeat == true'},
        ]}
    )  # fmt: skip
    with_loyalty = JourneyMap.model_validate({**jmap.model_dump(), "stages": stages})
    result = conformance(journeys_of(duck, rows, tmp_path), ConformanceSpec(with_loyalty))
    assert result.steps["again"].reached == 1
    assert result.steps["confirm"].reached == 3
    assert result.by_kind["extra_loop"].journeys == 1  # only f
    # a skips the support stage on its way from confirm to again
    assert [
        (d.from_step, d.step, d.stage) for d in result.deviations if d.kind == "stage_skipped"
    ] == [
        ("ad", "pay", "co"),
        ("confirm", "again", "su"),
    ]
    web_only = conformance(
        journeys_of(duck, rows, tmp_path),
        ConformanceSpec(with_loyalty, scope=Scope(channels=("web",))),
    )
    assert web_only.steps["ad"].reached == 0 and web_only.steps["call"].reached == 0


# -- the design ----------------------------------------------------------------------------


def test_designed_path_walks_the_first_branches_without_a_happy_path() -> None:
    jmap = shop_map()
    walked = JourneyMap.model_validate({**jmap.model_dump(), "paths": []})
    # reading order, but pay's first branch is confirm; then on to call
    assert designed_path(walked) == (None, ("ad", "view", "cart", "pay", "confirm", "call"))
    assert designed_path(jmap, "happy")[1] == ("ad", "view", "cart", "pay", "confirm")
    with pytest.raises(JourneylensError, match="no path 'nope'"):
        designed_path(jmap, "nope")


def test_designed_moves_bridge_unbound_steps() -> None:
    jmap = shop_map()
    data = jmap.model_dump()
    data["stages"][1]["steps"].insert(1, {"id": "think", "action": "Thinks it over", "match": None})
    bridged = JourneyMap.model_validate(data)
    moves = designed_moves(bound_steps(bridged))
    assert ("view", "cart") in moves and ("view", "think") not in moves
    assert ("pay", "view") in moves and ("pay", "cart") not in moves


def test_the_future_state_map_against_a_few_journeys(duck: Engine, tmp_path: Path) -> None:
    future = load_document(EXAMPLE / "future-state.yaml", JourneyMap).model
    assert future is not None
    rows = [
        event("ana", 0, "product_view", channel="webshop"),
        event("ana", 60, "add_to_cart", channel="webshop"),
        event("ana", 120, "checkout_start", channel="webshop"),
        event("ana", 180, "order_placed", channel="email"),
        event("ben", 0, "product_view", channel="webshop"),
        event("ben", 60, "checkout_start", channel="webshop"),
        event("ben", 70, "call", channel="phone"),  # no step in the future map
    ]
    result = conformance(journeys_of(duck, rows, tmp_path), ConformanceSpec(future))
    assert result.path_id == "happy-online" and "track-parcel" in result.path
    assert (result.journeys, result.conforming) == (2, 1)
    assert result.steps["add-to-cart"].fitness == 0.5
    assert result.steps["pay-online"].from_undesigned == 1
    assert set(result.steps) == {s.id for _, s in future.steps() if s.match}


def test_bad_options_are_errors(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, SHOP, tmp_path)
    with pytest.raises(JourneylensError):
        conformance(journeys, ConformanceSpec(shop_map(), top=-1))
    with pytest.raises(JourneylensError):
        conformance(journeys, ConformanceSpec(shop_map(), repeat_within="soon"))
