"""Segments: planted customer groups are recovered (adjusted Rand index), the same seed gives
the same segments, descriptions name what sets a group apart, and members filter journeys."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from journeylens.analyses.segments import (
    Segments,
    SegmentsSpec,
    segment_members,
    segments,
    write_members,
)
from journeylens.engine import Engine, Journeys, duckdb_engine
from journeylens.errors import JourneylensError
from tests.journeys import event, journeys_of

DAY = 86_400
#: Measured: 1.0 for data seeds 0-4 × clustering seeds 0-2 (k chosen: 3 every time); a
#: clustering that splits one group (k = 4) scores 0.87, so the floor catches it.
ARI_FLOOR = 0.95


@pytest.fixture(scope="module")
def duck() -> Any:
    engine = duckdb_engine()
    yield engine
    engine.close()


def planted(seed: int, per_group: int = 300) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Callers (phone, many contacts, unhappy, no purchase), app buyers (mobile, short), and
    researchers (web, long journeys over weeks, big baskets)."""
    rng = random.Random(seed)
    rows, truth = [], {}
    for c in range(3 * per_group):
        group, key = c % 3, f"c{c:04d}"
        truth[key] = group
        t = rng.randint(0, 30 * DAY)
        if group == 0:
            for i in range(rng.randint(4, 8)):
                score = rng.uniform(1.0, 2.5) if i == 0 else None
                rows.append(event(key, t, "call", channel="phone", device="desktop", score=score))
                t += 3600 * rng.randint(5, 48)
        elif group == 1:
            for _ in range(rng.randint(1, 3)):
                rows.append(event(key, t, "view", channel="app", device="mobile"))
                t += 60
            value = rng.uniform(40, 80)
            rows.append(event(key, t, "order", channel="app", device="mobile", value=value))
        else:
            for _ in range(rng.randint(6, 12)):
                rows.append(event(key, t, "view", channel="web", device="desktop"))
                t += DAY * rng.randint(1, 4)
            value = rng.uniform(150, 400)
            rows.append(event(key, t, "order", channel="web", device="desktop", value=value))
    return rows, truth


def adjusted_rand(left: list[int], right: list[int]) -> float:
    """Hubert and Arabie's adjusted Rand index: 1 for the same partition, ~0 by chance."""
    n = len(left)
    pairs = Counter(zip(left, right, strict=True))
    a, b = Counter(left), Counter(right)

    def comb(x: int) -> float:
        return x * (x - 1) / 2

    index = sum(comb(v) for v in pairs.values())
    sum_a, sum_b = sum(comb(v) for v in a.values()), sum(comb(v) for v in b.values())
    expected = sum_a * sum_b / comb(n)
    best = (sum_a + sum_b) / 2
    return (index - expected) / (best - expected)


@pytest.fixture(scope="module")
def shop(duck: Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Journeys, dict[str, int]]:
    rows, truth = planted(1)
    return journeys_of(duck, rows, tmp_path_factory.mktemp("segments")), truth


def agreement(result: Segments, truth: dict[str, int]) -> float:
    keys = result.assignments.column("customer_key").to_pylist()
    found = result.assignments.column("segment").to_pylist()
    return adjusted_rand([truth[k] for k in keys], found)


def test_adjusted_rand_index_reference() -> None:
    assert adjusted_rand([0, 0, 1, 1], [5, 5, 7, 7]) == 1.0
    assert adjusted_rand([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)


def test_planted_groups_are_recovered(shop: tuple[Journeys, dict[str, int]]) -> None:
    journeys, truth = shop
    result = segments(journeys, SegmentsSpec(outcome='activity == "order"'))
    assert result.chosen_by == "silhouette" and result.k == 3
    assert [s.k for s in result.scores] == [3, 4, 5, 6, 7]
    assert max(result.scores, key=lambda s: s.silhouette).k == 3
    assert agreement(result, truth) >= ARI_FLOOR
    assert sum(s.size for s in result.segments) == result.rows == 900
    assert sum(s.share for s in result.segments) == pytest.approx(1.0, abs=1e-5)
    assert len({s.label for s in result.segments}) == 3
    callers = segment_of(result, truth, 0)
    assert "phone" in callers.description and "contacts" in callers.description
    assert "rarely convert" in callers.description.lower()
    app = segment_of(result, truth, 1)
    assert "app" in app.label and "mobile" in app.description
    researchers = segment_of(result, truth, 2)
    assert "value" in researchers.description and "longer" in researchers.description
    data = result.to_dict()
    assert "assignments" not in data
    json.dumps(data)
    trait = {t.feature: t for t in callers.profile}["contacts"]
    assert trait.ratio is not None and trait.z is not None and trait.ratio > 2 and trait.z > 0


def segment_of(result: Segments, truth: dict[str, int], group: int) -> Any:
    keys = result.assignments.column("customer_key").to_pylist()
    found = result.assignments.column("segment").to_pylist()
    votes = Counter(s for k, s in zip(keys, found, strict=True) if truth[k] == group)
    return result.segments[votes.most_common(1)[0][0]]


def test_same_seed_same_segments(shop: tuple[Journeys, dict[str, int]]) -> None:
    journeys, _ = shop
    spec = SegmentsSpec(k=4, seed=7)
    first, again = segments(journeys, spec), segments(journeys, spec)
    assert first.to_dict() == again.to_dict()
    assert first.assignments.equals(again.assignments)
    assert first.chosen_by == "fixed" and first.k == 4 and not first.scores
    sizes = [s.size for s in first.segments]
    assert sizes == sorted(sizes, reverse=True)  # numbered by size


def test_a_sample_fits_and_everyone_is_assigned(shop: tuple[Journeys, dict[str, int]]) -> None:
    journeys, truth = shop
    result = segments(journeys, SegmentsSpec(k=3, max_customers=150, silhouette_sample=100))
    assert result.sampled and result.fitted == 150 and result.assignments.num_rows == 900
    assert any("sample of 150 of 900" in w for w in result.warnings)
    assert agreement(result, truth) >= ARI_FLOOR


def test_members_filter_journeys(
    duck: Engine, shop: tuple[Journeys, dict[str, int]], tmp_path: Path
) -> None:
    journeys, truth = shop
    result = segments(journeys, SegmentsSpec(k=3))
    callers = segment_of(result, truth, 0)
    members = segment_members(result, callers.label)
    assert members.column_names == ["customer_key"]
    keys = members.column("customer_key").to_pylist()
    assert keys == sorted(keys) and len(keys) == callers.size == callers.customers
    assert segment_members(result, callers.id).equals(members)
    path = write_members(result, callers.id, tmp_path / "members" / "callers.parquet")
    assert pq.read_table(path).equals(members)
    # How a map is filtered to a segment: semi-join the journeys with the members file.
    table = journeys.table.semi_join(duck.read_parquet(path), "customer_key")
    only = Journeys(duck, table)
    counts = duck.to_arrow(only.table.group_by("channel").agg(n=only.table.count()))
    channels = set(counts.column("channel").to_pylist())
    assert channels <= {"phone", "web"} and "phone" in channels
    with pytest.raises(JourneylensError, match="no segment 'nobody'"):
        segment_members(result, "nobody")


def test_constant_inputs_are_dropped_and_errors_are_clear(duck: Engine, tmp_path: Path) -> None:
    """Everyone uses only the web and spends nothing; half have 1 event, half 6."""
    rows = [
        event(f"c{c}", i * 60, "view", channel="web")
        for c in range(60)
        for i in range(1 if c % 2 else 6)
    ]
    journeys = journeys_of(duck, rows, tmp_path)
    result = segments(journeys, SegmentsSpec(k=2))
    assert "channel:web" in result.dropped_inputs and "value" in result.dropped_inputs
    assert sorted(s.size for s in result.segments) == [30, 30]
    with pytest.raises(JourneylensError, match="too few for k"):
        segments(journeys, SegmentsSpec(k_range=(3, 5)))
    with pytest.raises(JourneylensError, match="k must be 1 or more"):
        segments(journeys, SegmentsSpec(k=0))
