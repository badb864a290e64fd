"""The what-if Markov model: a hand-solved chain on DuckDB and Spark, transition counts against
a brute-force reference on generated logs, and the chain's properties (prediction equals
observation, removal shares add up, a lower drop-off never loses conversions)."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.analyses.markov import (
    CONVERSION,
    NULL,
    START,
    MarkovModel,
    MarkovSpec,
    future_state,
    markov,
    what_if,
)
from journeylens.engine import Engine, duckdb_engine
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap
from tests.journeys import event, journeys_of
from tests.test_paths import Row, event_rows, random_log, reference_journeys


@pytest.fixture(scope="module")
def duck() -> Any:
    engine = duckdb_engine()
    yield engine
    engine.close()


def chain_map(steps: list[tuple[str, str, str | None]], map_id: str = "shop") -> JourneyMap:
    """Steps as (stage, id, touchpoint); the step id is also its activity."""
    stages: dict[str, list[dict[str, Any]]] = {}
    for stage, step, touchpoint in steps:
        stages.setdefault(stage, []).append(
            {"id": step, "action": step, "touchpoint": touchpoint,
             "match": f'activity == "{step}"'}
        )  # fmt: skip
    return JourneyMap.model_validate(
        {
            "id": map_id,
            "title": map_id,
            "stages": [
                {"id": stage, "name": stage, "lifecycle": stage, "steps": found}
                for stage, found in stages.items()
            ],
        }
    )


SHOP_MAP = chain_map(
    [
        ("awareness", "ad", None),
        ("consideration", "view", "tp-shop"),
        ("consideration", "cart", "tp-shop"),
        ("conversion", "pay", "tp-pay"),
        ("conversion", "order", "tp-email"),
    ]
)
SHOP = [
    *(event("a", t, s) for t, s in enumerate(["ad", "view", "cart", "pay", "order"])),
    *(event("b", t, s) for t, s in enumerate(["view", "cart"])),
    # c: a repeated view collapses; the view after the order is past the conversion
    *(
        event("c", t, s)
        for t, s in enumerate(
            ["view", "view", "cart", "pay", "view", "cart", "pay", "order", "view"]
        )
    ),
    event("d", 0, "ad"),
    event("e", 0, "pay"),
    event("e", 1, "order"),
    event("f", 0, "noise"),  # no step: not in the model
]
# START: ad 2/5, view 2/5, pay 1/5; ad: view 1/2, NULL 1/2; view: cart 1; cart: pay 3/4,
# NULL 1/4; pay: CONVERSION 3/4, view 1/4. Solved by hand: h(pay) = 12/13, h(view) =
# h(cart) = 9/13, h(ad) = 9/26, and from START 0.4 * 9/26 + 0.4 * 9/13 + 0.2 * 12/13 = 0.6.
EXPECTED_TRANSITIONS = [
    (START, "ad", 2, 2, 0.4),
    (START, "view", 2, 2, 0.4),
    (START, "pay", 1, 1, 0.2),
    ("ad", "view", 1, 1, 0.5),
    ("ad", NULL, 1, 1, 0.5),
    ("view", "cart", 4, 3, 1.0),
    ("cart", "pay", 3, 2, 0.75),
    ("cart", NULL, 1, 1, 0.25),
    ("pay", "view", 1, 1, 0.25),
    ("pay", CONVERSION, 3, 3, 0.75),
]


def test_markov_solved_by_hand(engine: Engine, tmp_path: Path) -> None:
    model = markov(journeys_of(engine, SHOP, tmp_path), MarkovSpec(SHOP_MAP))
    assert model.conversion_step == "order"
    assert model.states == (START, "ad", "view", "cart", "pay")
    assert (model.journeys, model.customers, model.conversions) == (5, 5, 3)
    assert model.observed_rate == model.predicted_rate == 0.6
    assert [
        (t.source, t.target, t.count, t.journeys, t.probability) for t in model.transitions
    ] == EXPECTED_TRANSITIONS
    assert model.visits == {"ad": 2, "view": 4, "cart": 4, "pay": 4}
    assert model.dropoff == {"ad": 0.5, "view": 0.0, "cart": 0.25, "pay": 0.0}
    # removing pay loses everything; view or cart leave only e (0.2 x 3/4); ad leaves 6/13
    assert [(r.name, r.conversion_rate, r.effect, r.share) for r in model.removal_effects] == [
        ("pay", 0.0, 1.0, 0.366197),  # 26/71
        ("cart", 0.15, 0.75, 0.274648),  # 39/142
        ("view", 0.15, 0.75, 0.274648),
        ("ad", 0.461538, 0.230769, 0.084507),  # 6/71
    ]
    assert [(r.name, r.steps, r.effect) for r in model.touchpoint_removal_effects] == [
        ("tp-pay", ("pay",), 1.0),
        ("tp-shop", ("view", "cart"), 0.75),
    ]
    json.dumps(model.to_dict())


def test_what_if_solved_by_hand(duck: Engine, tmp_path: Path) -> None:
    model = markov(journeys_of(duck, SHOP, tmp_path), MarkovSpec(SHOP_MAP))
    nobody_leaves = what_if(model, "cart", 0.0)
    # cart -> pay always: h(pay) = h(view) = h(cart) = 1, h(ad) = 1/2, START 0.8
    assert (nobody_leaves.dropoff_now, nobody_leaves.dropoff) == (0.25, 0.0)
    assert (nobody_leaves.conversion_rate_now, nobody_leaves.conversion_rate) == (0.6, 0.8)
    assert (nobody_leaves.conversions_now, nobody_leaves.conversions) == (3.0, 4.0)
    assert (nobody_leaves.change, nobody_leaves.change_rate) == (1.0, 0.2)
    # half leave: h(pay) = 0.75 / 0.875, START 3/7
    assert what_if(model, "cart", 0.5).conversion_rate == 0.428571
    # ad's drop-off to zero: 0.8 x 9/13 + 0.2 x 12/13
    assert what_if(model, "ad", 0.0).conversion_rate == 0.738462
    assert what_if(model, "cart", 0.25).conversion_rate == 0.6  # unchanged
    with pytest.raises(JourneylensError, match="not a step"):
        what_if(model, "order", 0.1)  # the conversion itself
    with pytest.raises(JourneylensError, match="between 0 and 1"):
        what_if(model, "cart", 1.5)


def test_future_state_bypasses_removed_steps(duck: Engine, tmp_path: Path) -> None:
    future_map = chain_map(
        [
            ("awareness", "ad", None),
            ("consideration", "view", "tp-shop"),
            ("conversion", "wallet", "tp-pay"),
            ("conversion", "pay", "tp-pay"),
            ("conversion", "order", "tp-email"),
        ],
        "future",
    )
    model = markov(journeys_of(duck, SHOP, tmp_path), MarkovSpec(SHOP_MAP))
    bypassed = future_state(model, future_map)
    assert (bypassed.kept, bypassed.bypassed, bypassed.unmeasured) == (
        ("ad", "view", "pay"),
        ("cart",),
        ("wallet",),
    )
    # eliminating cart is exact: view now goes to pay 3/4 and drops 1/4, and nothing changes
    assert {
        (e.source, e.target): e.probability for e in bypassed.transitions if e.source == "view"
    } == {
        ("view", "pay"): 0.75,
        ("view", NULL): 0.25,
    }
    assert bypassed.conversion_rate == bypassed.conversion_rate_now == 0.6
    designed = future_state(model, future_map, {"view": 0.0})
    assert (designed.conversion_rate, designed.conversions, designed.change) == (0.8, 4.0, 1.0)
    # the same through the spec
    spec = MarkovSpec(SHOP_MAP, future=future_map, future_dropoffs={"view": 0.0})
    with_future = markov(journeys_of(duck, SHOP, tmp_path), spec)
    assert with_future.future == designed
    with pytest.raises(JourneylensError, match="not in future"):
        future_state(model, future_map, {"cart": 0.1})
    without_order = chain_map([("awareness", "ad", None)], "tiny")
    with pytest.raises(JourneylensError, match="conversion"):
        future_state(model, without_order)


def test_conversion_step_and_gap(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, SHOP, tmp_path)
    at_pay = markov(journeys, MarkovSpec(SHOP_MAP, conversion="pay"))
    # a, c and e reach pay; order is now a transient state nobody reaches before converting
    assert (at_pay.journeys, at_pay.conversions, at_pay.predicted_rate) == (5, 3, 0.6)
    assert at_pay.visits["order"] == 0 and at_pay.dropoff["order"] is None
    with pytest.raises(JourneylensError, match="conversion step 'nope'"):
        markov(journeys, MarkovSpec(SHOP_MAP, conversion="nope"))
    rows = [*SHOP, event("b", 100_000, "pay"), event("b", 100_001, "order")]
    episodes = markov(journeys_of(duck, rows, tmp_path), MarkovSpec(SHOP_MAP, gap="1h"))
    # b's order a day later is a journey of its own: 6 journeys of 5 customers, 4 convert
    assert (episodes.journeys, episodes.customers, episodes.conversions) == (6, 5, 4)
    assert episodes.predicted_rate == episodes.observed_rate == 0.666667


# -- against a brute-force reference ---------------------------------------------------------

# b and c events are both "bc"; a c event is the later step, "c", when it matches both
REF_MAP = JourneyMap.model_validate(
    {
        "id": "ref",
        "title": "ref",
        "stages": [
            {"id": "one", "name": "one", "steps": [
                {"id": "a", "action": "a", "match": 'activity == "a"'},
                {"id": "bc", "action": "bc", "match": 'activity in ["b", "c"]'},
            ]},
            {"id": "two", "name": "two", "lifecycle": "conversion", "steps": [
                {"id": "c", "action": "c", "match": 'activity == "c"'},
                {"id": "d", "action": "d", "match": 'activity == "d"'},
            ]},
        ],
    }
)  # fmt: skip


def step_of(row: Row) -> str | None:
    return {"a": "a", "b": "bc", "c": "c", "d": "d"}.get(row["activity"])


def reference_counts(
    rows: list[Row], conversion: str, gap: float | None
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """Moves and the journeys making them, by walking every journey in Python."""
    counts: Counter[tuple[str, str]] = Counter()
    journeys: dict[tuple[str, str], set[int]] = {}
    for number, journey in enumerate(reference_journeys(rows, gap)):
        steps = [s for s in map(step_of, journey) if s is not None]
        visits = [s for s, _ in itertools.groupby(steps)]
        if not visits:
            continue
        path = [START]
        for visit in visits:
            if visit == conversion:
                path.append(CONVERSION)
                break
            path.append(visit)
        else:
            path.append(NULL)
        for move in itertools.pairwise(path):
            counts[move] += 1
            journeys.setdefault(move, set()).add(number)
    return dict(counts), {move: len(found) for move, found in journeys.items()}


def assert_chain_properties(model: MarkovModel) -> None:
    chain = model.chain()
    if model.journeys:
        assert chain.conversion() == pytest.approx(model.conversions / model.journeys, abs=1e-12)
        assert model.predicted_rate == pytest.approx(model.observed_rate, abs=1e-6)
    for removal in (model.removal_effects, model.touchpoint_removal_effects):
        effects = [r.effect for r in removal]
        assert all(-1e-9 <= e <= 1 + 1e-9 for e in effects)
        if sum(effects) > 1e-9:
            assert sum(r.share for r in removal) == pytest.approx(1.0, abs=1e-5)
        else:
            assert all(r.share == 0 for r in removal)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    conversion=st.sampled_from(["d", "c", "bc"]),
    gap=st.sampled_from([None, 10.0]),
)
def test_transition_counts_match_the_reference_on_duckdb(
    duck: Engine, tmp_path: Path, data: st.DataObject, conversion: str, gap: float | None
) -> None:
    rows = event_rows(data.draw, spread=30)
    model = markov(
        journeys_of(duck, rows, tmp_path), MarkovSpec(REF_MAP, gap=gap, conversion=conversion)
    )
    counts, journeys = reference_counts(rows, conversion, gap)
    assert {(t.source, t.target): t.count for t in model.transitions} == counts
    assert {(t.source, t.target): t.journeys for t in model.transitions} == journeys
    assert model.journeys == sum(n for (a, _), n in counts.items() if a == START)
    assert_chain_properties(model)


def test_transition_counts_match_the_reference_on_a_generated_log(
    engine: Engine, tmp_path: Path
) -> None:
    rows = random_log(random.Random(5), 40, 8, activities="abcde")
    counts, _ = reference_counts(rows, "d", None)
    assert len(counts) > 12 and counts[(START, "a")] > 3
    model = markov(journeys_of(engine, rows, tmp_path), MarkovSpec(REF_MAP))
    assert {(t.source, t.target): t.count for t in model.transitions} == counts
    assert_chain_properties(model)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    step=st.sampled_from(["a", "bc", "c"]),
    dropoffs=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=5),
)
def test_a_lower_dropoff_never_loses_conversions(
    duck: Engine, tmp_path: Path, seed: int, step: str, dropoffs: list[float]
) -> None:
    rows = random_log(random.Random(seed), 12, 6, activities="abcde")
    model = markov(journeys_of(duck, rows, tmp_path), MarkovSpec(REF_MAP))
    assert_chain_properties(model)
    if not model.visits[step] or model.dropoff[step] == 1.0:
        with pytest.raises(JourneylensError):
            what_if(model, step, 0.0)
        return
    ordered = [what_if(model, step, d) for d in sorted(dropoffs)]
    rates = [model.chain().with_dropoff(step, d).conversion() for d in sorted(dropoffs)]
    assert all(x >= y - 1e-12 for x, y in itertools.pairwise(rates))
    assert all(
        w.conversions == round(w.journeys * r, 3) for w, r in zip(ordered, rates, strict=True)
    )
    now = what_if(model, step, model.chain().p[model.chain().at[step], model.chain().at[NULL]])
    assert now.conversion_rate == pytest.approx(now.conversion_rate_now, abs=1e-6)
