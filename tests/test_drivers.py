"""Drivers: planted effects must be found with the right sign and an interval that holds the
true odds ratio; null and length-confounded features must not; guard rails must say what
they dropped. All on DuckDB with seeded generated logs (the engine part is the features
table, tested on both engines in test_features)."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from journeylens.analyses.drivers import Driver, Drivers, DriversSpec, drivers
from journeylens.engine import Engine, Journeys, duckdb_engine
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap, Stage, Step
from tests.journeys import event, journeys_of

ORDER = 'activity == "order"'


@pytest.fixture(scope="module")
def duck() -> Any:
    engine = duckdb_engine()
    yield engine
    engine.close()


def odds(p: float) -> float:
    return p / (1 - p)


def planted(seed: int, customers: int = 4000) -> list[dict[str, Any]]:
    """Customers who call (channel phone, 30% of them) convert with probability 0.2, the
    others 0.6; the app (50%) and the device have no effect. Journey length (1–5 events
    before the order) is independent of both. After the order comes a confirmation e-mail,
    which must not count as a driver."""
    rng = random.Random(seed)
    rows = []
    for c in range(customers):
        key = f"c{c:05d}"
        length = rng.randint(1, 5)
        calls = rng.random() < 0.3
        channels = ["web"] * length
        if calls:
            channels[rng.randrange(length)] = "phone"
        if rng.random() < 0.5:
            channels.append("app")
        device = rng.choice(["mobile", "desktop"])
        t = rng.randint(0, 10_000)
        for channel in channels:
            rows.append(event(key, t, "view", channel=channel, device=device))
            t += 60
        if rng.random() < (0.2 if calls else 0.6):
            rows.append(event(key, t, "order", channel="web", touchpoint="tp-order"))
            rows.append(event(key, t + 60, "confirmation", channel="email"))
    return rows


@pytest.fixture(scope="module")
def shop(duck: Engine, tmp_path_factory: pytest.TempPathFactory) -> Journeys:
    return journeys_of(duck, planted(11), tmp_path_factory.mktemp("drivers"))


def by_feature(result: Drivers) -> dict[str, Driver]:
    return {d.feature: d for d in result.drivers}


@pytest.mark.parametrize("adjust", ["length", "all"])
def test_the_planted_driver_is_found_and_the_null_one_is_not(shop: Journeys, adjust: str) -> None:
    result = drivers(shop, DriversSpec(outcome=ORDER, adjust=adjust))  # type: ignore[arg-type]
    found = by_feature(result)
    phone, app = found["channel:phone"], found["channel:app"]
    true_ratio = odds(0.2) / odds(0.6)  # 1/6
    assert phone.effect == "lowers"
    assert phone.ci_low is not None and phone.ci_high is not None
    assert phone.ci_low <= true_ratio <= phone.ci_high
    assert phone.p_value is not None and phone.p_value < 1e-6
    assert phone.q_value is not None and phone.q_value >= phone.p_value
    assert phone.rate_with == pytest.approx(0.2, abs=0.04)
    assert phone.rate_without == pytest.approx(0.6, abs=0.04)
    assert app.effect == "unclear" and app.ci_low is not None and app.ci_high is not None
    assert app.ci_low < 1.0 < app.ci_high
    assert result.drivers[0].feature == "channel:phone"  # the strongest comes first
    assert phone.sentence.startswith("Customers who used channel “phone” have 0.")
    assert "× the odds of converting (95% CI" in phone.sentence
    assert "controlling for journey length" in phone.sentence
    assert result.population == result.fitted == 4000 and not result.sampled


def test_post_purchase_events_and_the_outcome_touchpoint_are_not_drivers(shop: Journeys) -> None:
    result = drivers(shop, DriversSpec(outcome=ORDER + ' and touchpoint == "tp-order"'))
    assert result.before_outcome
    # The confirmation e-mail comes after the order: before it, nobody used e-mail.
    assert ("channel:email", "constant") in {(d.feature, d.reason) for d in result.dropped}
    # The order's own touchpoint is named by the outcome: it would explain it trivially.
    assert [(d.feature, d.reason) for d in result.excluded] == [
        ("touchpoint:tp-order", "implies the outcome")
    ]
    assert "channel:email" not in by_feature(result)


def test_the_maps_outcome_step_and_its_touchpoint_define_conversion(shop: Journeys) -> None:
    journey_map = JourneyMap(
        id="m",
        title="M",
        stages=[
            Stage(id="look", name="Look", lifecycle="consideration", steps=[
                Step(id="view", action="Views", match='activity == "view"'),
            ]),
            Stage(id="buy", name="Buy", lifecycle="conversion", steps=[
                Step(id="order", action="Orders", touchpoint="tp-order", match=ORDER),
            ]),
        ],
    )  # fmt: skip
    result = drivers(shop, DriversSpec(journey_map=journey_map))
    assert result.outcome == ORDER
    assert [d.feature for d in result.excluded] == ["touchpoint:tp-order"]
    assert by_feature(result)["channel:phone"].effect == "lowers"


def test_length_confounding_is_controlled(duck: Engine, tmp_path: Path) -> None:
    """Longer journeys convert more and, having more events, use the forum more: the forum
    looks good raw, but given length it does nothing."""
    rng = random.Random(5)
    rows = []
    for c in range(4000):
        key = f"c{c:05d}"
        length = rng.randint(1, 12)
        for i in range(length):
            channel = "forum" if rng.random() < 0.12 else "web"
            rows.append(event(key, i * 60, "view", channel=channel))
        if rng.random() < 1 / (1 + math.exp(-(-2.0 + 1.2 * math.log1p(length)))):
            rows.append(event(key, length * 60, "order", channel="web"))
    result = drivers(journeys_of(duck, rows, tmp_path), DriversSpec(outcome=ORDER))
    forum = by_feature(result)["channel:forum"]
    assert forum.rate_with > forum.rate_without + 0.08  # raw: forum users convert more
    assert forum.ci_low is not None and forum.ci_high is not None
    assert forum.ci_low < 1.0 < forum.ci_high  # adjusted: no effect
    assert forum.effect == "unclear"


def test_one_event_each_gives_the_exact_two_by_two_odds_ratio(duck: Engine, tmp_path: Path) -> None:
    """With every journey one event long there is nothing to adjust for, and the maximum
    likelihood odds ratio is the table's cross product, with Woolf's interval."""
    cells = {("phone", True): 30, ("phone", False): 70, ("web", True): 90, ("web", False): 60}
    rows = []
    for (channel, converts), count in cells.items():
        for i in range(count):
            key = f"{channel}{converts}{i}"
            rows.append(event(key, 0, "view", channel=channel))
            if converts:
                rows.append(event(key, 10, "order"))
    result = drivers(journeys_of(duck, rows, tmp_path), DriversSpec(outcome=ORDER))
    web = by_feature(result)["channel:web"]  # the more used channel comes first
    a, b, c, d = 90, 60, 30, 70
    ratio = (a * d) / (b * c)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert web.odds_ratio == pytest.approx(ratio, rel=1e-5)
    assert web.ci_low == pytest.approx(ratio * math.exp(-1.959964 * se), rel=1e-4)
    assert web.ci_high == pytest.approx(ratio * math.exp(1.959964 * se), rel=1e-4)
    assert "nothing to control for" in " ".join(result.warnings)
    assert "controlling" not in web.sentence
    # phone is web's complement here: the same information, inverted
    assert {d.feature: d.reason for d in result.dropped}["channel:phone"] == (
        "complement of channel:web"
    )


def test_separation_duplicates_and_small_support_are_reported(duck: Engine, tmp_path: Path) -> None:
    rng = random.Random(2)
    rows = []
    for c in range(600):
        key = f"c{c:04d}"
        converts = rng.random() < 0.5
        vip = converts and rng.random() < 0.3  # every VIP-page visitor converts
        twins = rng.random() < 0.4  # SMS and push always together
        rows.append(event(key, 0, "view", channel="web"))
        rows.append(event(key, 5, "view", channel="web"))
        if vip:
            rows.append(event(key, 10, "view", channel="vip"))
        if twins:
            rows.append(event(key, 20, "view", channel="sms"))
            rows.append(event(key, 30, "view", channel="push"))
        if c < 5:
            rows.append(event(key, 40, "view", channel="fax"))
        if converts:
            rows.append(event(key, 50, "order", channel="web"))
    result = drivers(journeys_of(duck, rows, tmp_path), DriversSpec(outcome=ORDER))
    vip_driver = by_feature(result)["channel:vip"]
    assert vip_driver.flags == ("separation",) and vip_driver.odds_ratio is None
    assert vip_driver.rate_with == 1.0 and "cannot be estimated" in vip_driver.sentence
    assert any("separation" in w and "channel:vip" in w for w in result.warnings)
    reasons = {d.feature: d.reason for d in result.dropped}
    kept_twin = "channel:sms" if "channel:sms" in by_feature(result) else "channel:push"
    other_twin = "channel:push" if kept_twin == "channel:sms" else "channel:sms"
    assert reasons[other_twin] == f"same customers as {kept_twin}"
    assert reasons["channel:fax"].startswith("support 5 of 600")
    assert reasons["channel:web"] == "constant"


def test_large_populations_are_subsampled_with_a_seed(shop: Journeys) -> None:
    spec = DriversSpec(outcome=ORDER, max_customers=1000, seed=3)
    first, again = drivers(shop, spec), drivers(shop, spec)
    assert first.to_dict() == again.to_dict()
    assert first.sampled and first.fitted == 1000 and first.population == 4000
    assert any("sample of 1000 of 4000" in w for w in first.warnings)
    other = drivers(shop, DriversSpec(outcome=ORDER, max_customers=1000, seed=4))
    assert other.to_dict() != first.to_dict()
    assert by_feature(first)["channel:phone"].effect == "lowers"


def test_churn_drivers(duck: Engine, tmp_path: Path) -> None:
    """Customers who used chat lapse (no event in the last 30 days) far more often."""
    rng = random.Random(9)
    day = 86_400
    rows = [event("anchor", 200 * day, "view", channel="web")]  # the data's end
    for c in range(1500):
        key = f"c{c:05d}"
        chat = rng.random() < 0.4
        rows.append(event(key, 0, "view", channel="chat" if chat else "web"))
        lapses = rng.random() < (0.7 if chat else 0.3)
        rows.append(event(key, (100 if lapses else 190) * day, "view", channel="web"))
    result = drivers(
        journeys_of(duck, rows, tmp_path),
        DriversSpec(target="churned", inactive=30 * day, kinds=("channel",)),
    )
    chat = by_feature(result)["channel:chat"]
    true_ratio = odds(0.7) / odds(0.3)
    assert chat.effect == "raises" and not result.before_outcome
    assert chat.ci_low is not None and chat.ci_high is not None
    assert chat.ci_low <= true_ratio <= chat.ci_high
    assert "odds of churning" in chat.sentence
    json.dumps(result.to_dict())  # plain data all the way down


def test_errors(shop: Journeys) -> None:
    with pytest.raises(JourneylensError, match="needs an outcome selector"):
        drivers(shop, DriversSpec())
    with pytest.raises(JourneylensError, match="churn needs inactive"):
        drivers(shop, DriversSpec(target="churned", inactive=None))
    with pytest.raises(JourneylensError, match="unknown kinds"):
        drivers(shop, DriversSpec(outcome=ORDER, kinds=("colour",)))  # type: ignore[arg-type]
