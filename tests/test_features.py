"""Journey features: a hand-checked log with a map, a brute-force Python reference on
generated logs (DuckDB), and one small log on every engine (DuckDB and Spark)."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.analyses.features import (
    BASE_COLUMNS,
    Features,
    FeaturesSpec,
    contact_channels_of,
    features,
)
from journeylens.engine import Engine, duckdb_engine
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap, Stage, Step
from journeylens.model.workspace import Channel, WorkspaceFile, WorkspaceInfo
from tests.journeys import event, journeys_of
from tests.test_paths import Row, reference_journeys

DAY = 86_400.0


@pytest.fixture(scope="module")
def duck() -> Any:
    engine = duckdb_engine()
    yield engine
    engine.close()


def shop_map() -> JourneyMap:
    """a → b → d (the purchase, in the conversion stage, on touchpoint tp-order) → r."""
    return JourneyMap(
        id="shop",
        title="Shop",
        stages=[
            Stage(id="aware", name="Aware", lifecycle="awareness", steps=[
                Step(id="see", action="Sees", match='activity == "a"'),
            ]),
            Stage(id="consider", name="Consider", lifecycle="consideration", steps=[
                Step(id="think", action="Thinks"),
                Step(id="cart", action="Carts", match='activity == "b"'),
            ]),
            Stage(id="buy", name="Buy", lifecycle="conversion", steps=[
                Step(id="order", action="Orders", touchpoint="tp-order", match='activity == "d"'),
            ]),
            Stage(id="keep", name="Keep", lifecycle="retention", steps=[
                Step(id="again", action="Comes back", match='activity == "r"'),
            ]),
        ],
    )  # fmt: skip


# -- the reference -------------------------------------------------------------------------

#: step index (reading order) → (stage number, activity it matches)
STEPS = {0: (0, "a"), 2: (1, "b"), 3: (2, "d"), 4: (3, "r")}


def epoch(row: Row) -> float:
    return float(row["ts"].timestamp())


def reference(
    rows: list[Row],
    *,
    gap: float | None,
    before_outcome: bool,
    inactive: float,
    contact: tuple[str, ...] = ("phone", "chat"),
    attributes: tuple[str, ...] = ("segment",),
    retention: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Every feature by its definition, journey by journey, in plain Python."""
    end = max(epoch(r) for r in rows)
    last_seen: dict[str, float] = {}
    for r in rows:
        last_seen[r["customer_key"]] = max(last_seen.get(r["customer_key"], -math.inf), epoch(r))
    episodes: Counter[str] = Counter()
    found = {}
    for journey in reference_journeys(rows, gap):
        customer = journey[0]["customer_key"]
        episodes[customer] += 1
        key = customer if gap is None else f"{customer}#{episodes[customer]}"
        conv = next((i for i, e in enumerate(journey) if e["activity"] == "d"), None)
        kept = journey[:conv] if before_outcome and conv is not None else journey
        times = [epoch(e) for e in kept]
        scores = [e["score"] for e in kept if e["score"] is not None]
        devices = Counter(e["device"] for e in kept if e["device"] is not None)
        device = min(devices, key=lambda d: (-devices[d], d)) if devices else None
        reached = [i for i, (_, act) in STEPS.items() if any(e["activity"] == act for e in kept)]
        retained = any(
            e["activity"] == retention for e in journey[(conv + 1 if conv is not None else 0) :]
        )
        churned = end - last_seen[customer] > inactive or (retention is not None and not retained)
        row: dict[str, Any] = {
            "customer_key": customer,
            "events": len(kept),
            "first_t": min(times) if times else None,
            "last_t": max(times) if times else None,
            "duration_s": max(times) - min(times) if times else None,
            "active_days": len({math.floor(t / DAY) for t in times}),
            "channels": len({e["channel"] for e in kept if e["channel"] is not None}),
            "touchpoints": len({e["touchpoint"] for e in kept if e["touchpoint"] is not None}),
            "contacts": sum(e["channel"] in contact for e in kept),
            "satisfaction": sum(scores) / len(scores) if scores else None,
            "value": sum(e["value"] or 0.0 for e in kept),
            "device": device,
            "step_reached": max(reached) if reached else None,
            "stage_reached": STEPS[max(reached)][0] if reached else None,
            "converted": conv is not None,
            "converted_t": epoch(journey[conv]) if conv is not None else None,
            "last_seen_t": last_seen[customer],
            "churned": churned,
            "channel": dict(Counter(e["channel"] for e in kept if e["channel"])),
            "touchpoint": dict(Counter(e["touchpoint"] for e in kept if e["touchpoint"])),
            "attr": {},
        }
        for name in attributes:
            values = [
                json.loads(e["attributes"]).get(name) for e in kept if e["attributes"] is not None
            ]
            known = [v for v in values if v is not None]
            row["attr"][name] = known[-1] if known else None
        found[key] = row
    return found


def observed(result: Features) -> dict[str, dict[str, Any]]:
    """The table in the reference's shape: discovered columns by their source value, zero
    counts left out."""
    found = {}
    groups = {c.name: c for c in result.plan.columns}
    for row in result.table.to_pylist():
        out: dict[str, Any] = {k: row[k] for k in BASE_COLUMNS if k != "journey"}
        out["channel"], out["touchpoint"], out["attr"] = {}, {}, {}
        for name, col in groups.items():
            if col.group == "attribute":
                out["attr"][col.source] = row[name]
            elif row[name]:
                out[col.group][col.source] = row[name]
        found[row["journey"]] = out
    return found


def assert_same(got: dict[str, dict[str, Any]], want: dict[str, dict[str, Any]]) -> None:
    assert sorted(got) == sorted(want)
    for key, expected in want.items():
        for name, value in expected.items():
            actual = got[key][name]
            if isinstance(value, float):
                assert actual == pytest.approx(value, abs=1e-6), (key, name)
            else:
                assert actual == value, (key, name, actual, value)


# -- hand-checked ---------------------------------------------------------------------------

LOG = [
    event("ann", 0, "a", channel="web", device="mobile", attributes='{"segment": "new"}'),
    event("ann", 60, "b", channel="phone", device="mobile", touchpoint="tp-call", score=2.0),
    event("ann", 120, "d", channel="web", touchpoint="tp-order", device="desktop", value=80.0),
    event("ann", 2 * DAY, "r", channel="email", attributes='{"segment": "regular"}', score=4.0),
    event("bob", 0, "a", channel="web", device="desktop"),
    event("bob", 30, "b", channel="chat", device="desktop", value=0.5),
    event("cyd", 5 * DAY, "x", channel="store"),
]


def test_features_by_hand(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, LOG, tmp_path)
    spec = FeaturesSpec(journey_map=shop_map(), attributes=("segment",), inactive=2.5 * DAY)
    result = features(journeys, spec)
    rows = {r["journey"]: r for r in result.table.to_pylist()}
    ann, bob, cyd = rows["ann"], rows["bob"], rows["cyd"]
    assert result.table.column_names[: len(BASE_COLUMNS)] == list(BASE_COLUMNS)
    assert (ann["events"], ann["channels"], ann["touchpoints"], ann["contacts"]) == (4, 3, 2, 1)
    assert (ann["active_days"], ann["duration_s"], ann["value"]) == (2, 2 * DAY, 80.0)
    assert ann["satisfaction"] == 3.0 and ann["device"] == "mobile"
    assert (ann["step_reached"], ann["stage_reached"]) == (4, 3)
    assert ann["converted"] is True and ann["converted_t"] == ann["first_t"] + 120
    assert ann["attr:segment"] == "regular"
    assert (ann["channel:web"], ann["channel:phone"], ann["touchpoint:tp-order"]) == (2, 1, 1)
    assert (bob["stage_reached"], bob["converted"], bob["contacts"]) == (1, False, 1)
    assert bob["satisfaction"] is None and bob["attr:segment"] is None
    # Data end is cyd's event at day 5: ann (3 days before) and bob (5) lapsed, cyd did not.
    assert (ann["churned"], bob["churned"], cyd["churned"]) == (True, True, False)
    assert cyd["step_reached"] is None and cyd["device"] is None and cyd["value"] == 0.0
    plan = result.plan
    assert plan.outcome == 'activity == "d"' and plan.stages == ("aware", "consider", "buy", "keep")
    # Channels by journeys that used them (web 2; chat, email, phone, store 1), then by name.
    assert [c.source for c in plan.of("channel")] == ["web", "chat", "email", "phone", "store"]
    assert result.to_dict()["rows"] == 3 and "table" not in result.to_dict()


def test_before_outcome_counts_only_what_came_before_the_purchase(
    duck: Engine, tmp_path: Path
) -> None:
    journeys = journeys_of(duck, LOG, tmp_path)
    spec = FeaturesSpec(journey_map=shop_map(), before_outcome=True, retention="again")
    ann = next(r for r in features(journeys, spec).table.to_pylist() if r["journey"] == "ann")
    assert (ann["events"], ann["value"], ann["channel:email"], ann["stage_reached"]) == (
        2, 0.0, 0, 1,
    )  # fmt: skip
    assert ann["converted"] is True and ann["converted_t"] == ann["first_t"] + 120
    assert ann["churned"] is False  # came back ("r") after the purchase


def test_retention_and_options_are_checked(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, LOG, tmp_path)
    with pytest.raises(JourneylensError, match="retention step 'think' has no match"):
        features(journeys, FeaturesSpec(journey_map=shop_map(), retention="think"))
    with pytest.raises(JourneylensError, match="inactive must be positive"):
        features(journeys, FeaturesSpec(inactive=0))


def test_contact_channels_come_from_the_workspace_kinds() -> None:
    workspace = WorkspaceFile(
        workspace=WorkspaceInfo(id="w", name="W"),
        channels=[
            Channel(id="hotline", name="Hotline", kind="phone"),
            Channel(id="web", name="Web", kind="web"),
            Channel(id="messenger", name="Messenger", kind="chat"),
        ],
    )
    assert contact_channels_of(workspace) == ("hotline", "messenger")


def test_the_example_workspace_has_contact_channels() -> None:
    from ruamel.yaml import YAML

    example = Path(__file__).parents[1] / "src/journeylens/examples/running-shoes"
    data = YAML(typ="safe").load((example / "journeylens.yaml").read_text(encoding="utf-8"))
    channels = contact_channels_of(WorkspaceFile.model_validate(data))
    assert "phone" in channels and "webshop" not in channels


# -- generated logs against the reference ---------------------------------------------------


@st.composite
def logs(draw: st.DrawFn) -> list[Row]:
    rows = []
    for c in range(draw(st.integers(1, 4))):
        for _ in range(draw(st.integers(1, 7))):
            segment = draw(st.sampled_from([None, "x", "y"]))
            rows.append(
                event(
                    f"c{c}",
                    draw(st.integers(0, 300_000)),
                    draw(st.sampled_from("abdrx")),
                    channel=draw(st.sampled_from(["web", "phone", "chat", "store", None])),
                    touchpoint=draw(st.sampled_from(["tp-1", "tp-2", None])),
                    device=draw(st.sampled_from(["mobile", "desktop", None])),
                    score=draw(st.sampled_from([None, 1.0, 4.0])),
                    value=draw(st.sampled_from([None, 2.5, 10.0])),
                    attributes=None if segment is None else json.dumps({"segment": segment}),
                )
            )
    return rows


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=logs(),
    gap=st.sampled_from([None, 50_000.0]),
    before=st.booleans(),
    retention=st.sampled_from([None, "again"]),
)
def test_features_match_the_reference_on_duckdb(
    duck: Engine,
    tmp_path: Path,
    rows: list[Row],
    gap: float | None,
    before: bool,
    retention: str | None,
) -> None:
    journeys = journeys_of(duck, rows, tmp_path)
    spec = FeaturesSpec(
        journey_map=shop_map(),
        gap=gap,
        inactive=100_000.0,
        attributes=("segment",),
        before_outcome=before,
        retention=retention,
    )
    want = reference(
        rows,
        gap=gap,
        before_outcome=before,
        inactive=100_000.0,
        retention=None if retention is None else "r",
    )
    assert_same(observed(features(journeys, spec)), want)


def test_features_are_the_same_on_every_engine(engine: Engine, tmp_path: Path) -> None:
    rows = [
        *LOG,
        event("dan", 3 * DAY, "b", channel="web", device="tablet", attributes='{"segment": "x"}'),
        event("dan", 3 * DAY + 10, "d", channel="web", value=5.0, score=3.0),
    ]
    journeys = journeys_of(engine, rows, tmp_path)
    spec = FeaturesSpec(
        journey_map=shop_map(), inactive=2 * DAY, attributes=("segment",), before_outcome=True
    )
    want = reference(rows, gap=None, before_outcome=True, inactive=2 * DAY)
    assert_same(observed(features(journeys, spec)), want)
