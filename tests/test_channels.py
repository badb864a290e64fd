"""Channel switches and repeat contacts: hand-counted logs on DuckDB and Spark, a brute-force
reference on generated logs, and the helpdesk log checked against its CSV export."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.analyses.channels import Channels, ChannelsSpec, channels
from journeylens.engine import Engine, duckdb_engine
from journeylens.errors import JourneylensError
from tests.journeys import event, journeys_of
from tests.test_paths import (
    Row,
    event_rows,
    helpdesk_cases,
    helpdesk_journeys,
    random_log,
    reference_journeys,
)

DAY = 86_400


@pytest.fixture(scope="module")
def duck() -> Any:
    engine = duckdb_engine()
    yield engine
    engine.close()


def reference_channels(
    rows: list[Row], spec: ChannelsSpec, contact: Callable[[Row], bool]
) -> dict[str, Any]:
    moves: Counter[tuple[str, str]] = Counter()
    movers: dict[tuple[str, str], set[str]] = {}
    for journey in reference_journeys(rows, spec.gap):
        known = [e for e in journey if e[spec.field] is not None]
        for a, b in itertools.pairwise(known):
            pair = (a[spec.field], b[spec.field])
            moves[pair] += 1
            movers.setdefault(pair, set()).add(a["customer_key"])
    events = Counter(r[spec.field] for r in rows)
    customers: dict[str | None, set[str]] = {}
    for r in rows:
        customers.setdefault(r[spec.field], set()).add(r["customer_key"])
    repeats: dict[str | None, list[Any]] = {}
    for history in reference_journeys(rows):  # per customer, whatever the gap
        touches = [e for e in history if contact(e)]
        for i, e in enumerate(touches):
            row = repeats.setdefault(e[spec.field], [0, 0, Counter()])
            row[0] += 1
            after = touches[i + 1] if i + 1 < len(touches) else None
            if after is not None and (after["ts"] - e["ts"]).total_seconds() <= spec.within:
                row[1] += 1
                row[2][after[spec.field]] += 1
    return {
        "moves": {pair: (n, len(movers[pair])) for pair, n in moves.items()},
        "channels": {v: (n, len(customers[v])) for v, n in events.items() if v is not None},
        "skipped": events.get(None, 0),
        "repeats": {c: (n, r, dict(nxt)) for c, (n, r, nxt) in repeats.items()},
    }


def as_counts(result: Channels) -> dict[str, Any]:
    return {
        "moves": {(m.source, m.target): (m.count, m.customers) for m in result.switches}
        | {(m.source, m.target): (m.count, m.customers) for m in result.stays},
        "channels": {v: (s.events, s.customers) for v, s in result.channels.items()},
        "skipped": result.skipped,
        "repeats": {r.channel: (r.contacts, r.repeated, dict(r.next)) for r in result.repeats},
    }


# -- hand-counted ----------------------------------------------------------------------------

SUPPORT = [
    event("a", 0, "browse", channel="web"),
    event("a", 1, "backoffice"),  # no channel: skipped, web -> phone is one switch
    event("a", 2, "call", channel="phone"),
    event("a", 3, "call", channel="phone"),
    event("a", 4 * DAY, "chat", channel="chat"),
    event("a", 20 * DAY, "mail", channel="email"),
    event("b", 0, "call", channel="phone"),
    event("b", 7 * DAY, "browse", channel="web"),
]


def test_switches_and_repeat_contacts_counted_by_hand(engine: Engine, tmp_path: Path) -> None:
    result = channels(journeys_of(engine, SUPPORT, tmp_path))
    assert [(m.source, m.target, m.count, m.customers) for m in result.switches] == [
        ("chat", "email", 1, 1),
        ("phone", "chat", 1, 1),
        ("phone", "web", 1, 1),
        ("web", "phone", 1, 1),
    ]
    assert [(m.source, m.target, m.count) for m in result.stays] == [("phone", "phone", 1)]
    assert (result.pairs, result.switched, result.switch_rate, result.skipped) == (5, 4, 0.8, 1)
    assert result.channels["phone"].events == 3 and result.channels["phone"].customers == 2
    # a's contacts: phone@2s, phone@3s (1 s later: repeat), chat@4d (4 days later: repeat),
    # email@20d (16 days later: no). b's phone call is followed by no other contact.
    assert (result.contacts, result.repeated, result.repeat_rate) == (5, 2, 0.4)
    assert [(r.channel, r.contacts, r.repeated, r.next) for r in result.repeats] == [
        ("phone", 3, 2, (("chat", 1), ("phone", 1))),
        ("chat", 1, 0, ()),
        ("email", 1, 0, ()),
    ]
    split = channels(journeys_of(engine, SUPPORT, tmp_path), ChannelsSpec(gap=3600, within=3 * DAY))
    # episodes cut the phone -> chat and chat -> email pairs; the 4-day gap to chat is now
    # too long for a repeat
    assert [(m.source, m.target) for m in split.switches] == [("web", "phone")]
    assert (split.pairs, split.contacts, split.repeated) == (2, 5, 1)


def test_other_fields_and_bad_specs(duck: Engine, tmp_path: Path) -> None:
    journeys = journeys_of(duck, SUPPORT, tmp_path)
    by_activity = channels(
        journeys, ChannelsSpec(field="activity", contact='activity == "call"', within=1)
    )
    assert by_activity.skipped == 0 and by_activity.pairs == 6  # 8 events, 2 customers
    assert [(r.channel, r.contacts, r.repeated) for r in by_activity.repeats] == [("call", 3, 1)]
    none = channels(journeys, ChannelsSpec(contact='channel == "fax"'))
    assert (none.contacts, none.repeat_rate, none.repeats) == (0, None, ())
    for spec in (ChannelsSpec(field="text"), ChannelsSpec(within=0)):  # type: ignore[arg-type]
        with pytest.raises(JourneylensError):
            channels(journeys, spec)


# -- against the reference -------------------------------------------------------------------

CONTACTS: list[tuple[str, Callable[[Row], bool]]] = [
    ('channel in ["phone", "chat"]', lambda e: e["channel"] in ("phone", "chat")),
    (
        'activity == "a" or channel == "web"',
        lambda e: e["activity"] == "a" or e["channel"] == "web",
    ),
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    contact=st.sampled_from(CONTACTS),
    field=st.sampled_from(["channel", "activity"]),
    within=st.sampled_from([1.0, 10.0, 30.0]),
    gap=st.sampled_from([None, 5.0, 20.0]),
)
def test_channels_match_the_reference_on_duckdb(
    duck: Engine,
    tmp_path: Path,
    data: st.DataObject,
    contact: tuple[str, Callable[[Row], bool]],
    field: Any,
    within: float,
    gap: float | None,
) -> None:
    rows = event_rows(data.draw)
    spec = ChannelsSpec(field, contact[0], within, gap)
    result = channels(journeys_of(duck, rows, tmp_path), spec)
    assert as_counts(result) == reference_channels(rows, spec, contact[1])
    assert result.pairs == result.switched + sum(m.count for m in result.stays)


def test_channels_match_the_reference_on_a_generated_log(engine: Engine, tmp_path: Path) -> None:
    rows = random_log(random.Random(13), 50, 8)
    spec = ChannelsSpec(contact=CONTACTS[0][0], within=12, gap=25)
    expected = reference_channels(rows, spec, CONTACTS[0][1])
    assert len(expected["moves"]) == 9 and expected["skipped"] > 0
    assert as_counts(channels(journeys_of(engine, rows, tmp_path), spec)) == expected


# -- a real log ------------------------------------------------------------------------------


def test_channels_on_the_helpdesk_log_agree_with_its_csv_export(
    duck: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The helpdesk log has no channels: switches between activities, and a ticket taken in
    charge again within a day as the repeat contact."""
    journeys = helpdesk_journeys(tmp_path_factory, duck)
    assert channels(journeys).skipped == 21_348  # nothing to switch between
    result = channels(
        journeys,
        ChannelsSpec(field="activity", contact='activity == "Take in charge ticket"', within=DAY),
    )
    cases = helpdesk_cases()
    pairs = Counter(
        (a["Activity"], b["Activity"]) for case in cases for a, b in itertools.pairwise(case)
    )
    assert result.pairs == 21_348 - 4_580 == sum(pairs.values())
    assert {(m.source, m.target): m.count for m in result.switches} == {
        p: n for p, n in pairs.items() if p[0] != p[1]
    }
    taken = [[e["ts"] for e in case if e["Activity"] == "Take in charge ticket"] for case in cases]
    again = sum(
        (b - a).total_seconds() <= DAY for times in taken for a, b in itertools.pairwise(times)
    )
    assert (result.contacts, result.repeated) == (5_060, again)
    assert 0 < again < 5_060
