"""Channels: how journeys move between channels, and how often a contact needs another one.

The switch matrix counts consecutive events of a journey by their channel (or another
``field``): a pair whose channels differ is a switch, an equal pair a stay. Events without a
channel are skipped, not treated as a channel: web, (a back-office step), phone is one switch
from web to phone. ``gap`` splits journeys at inactivity, and no pair crosses a split.

Repeat contacts are about customers, not journeys: a contact event (``contact`` selector) is
repeated when the same customer has another contact within ``within`` seconds after it (at the
same time counts), whatever journey or episode it falls in. Contacts in the last ``within``
of the data may still be repeated later, so recent rates read low.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from journeylens.analyses.common import plain
from journeylens.engine import Journeys, compile_text
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError

ChannelField = Literal["channel", "touchpoint", "device", "activity"]
CHANNEL_FIELDS: tuple[ChannelField, ...] = ("channel", "touchpoint", "device", "activity")
DEFAULT_CONTACT = 'channel in ["phone", "chat", "email"]'


@dataclass(frozen=True)
class ChannelsSpec:
    """``contact`` is a selector for contact events; ``within`` (seconds) is the repeat window;
    ``gap`` splits journeys at inactivity (seconds) for the switch matrix."""

    field: ChannelField = "channel"
    contact: str = DEFAULT_CONTACT
    within: float = 7 * 86_400.0
    gap: float | None = None


@dataclass(frozen=True)
class Move:
    """``count`` consecutive pairs went from ``source`` to ``target``, by ``customers``."""

    source: str
    target: str
    count: int
    customers: int


@dataclass(frozen=True)
class ChannelStats:
    events: int
    customers: int


@dataclass(frozen=True)
class RepeatRate:
    """Of the ``contacts`` in ``channel``, ``repeated`` were followed by another within the
    window; ``next`` counts the channel of that next contact."""

    channel: str | None
    contacts: int
    repeated: int
    rate: float
    next: tuple[tuple[str | None, int], ...]


@dataclass(frozen=True)
class Channels:
    field: ChannelField
    channels: dict[str, ChannelStats]
    switches: tuple[Move, ...]
    stays: tuple[Move, ...]
    pairs: int
    switched: int
    switch_rate: float | None
    skipped: int
    contact: str
    within_s: float
    contacts: int
    repeated: int
    repeat_rate: float | None
    repeats: tuple[RepeatRate, ...]

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


def _moves(journeys: Journeys, spec: ChannelsSpec) -> tuple[E.Table, E.Table]:
    ev = journeys.events(spec.gap)
    value = ev[spec.field]
    known = ev.filter(value.notnull()).select(
        journey=ev.journey, customer_key=ev.customer_key, pos=ev.pos, v=value
    )
    following = known.v.lead().over(E.window(group_by=known.journey, order_by=known.pos))
    pairs = known.mutate(w=following)
    pairs = pairs.filter(pairs.w.notnull())
    moves = pairs.group_by(source=pairs.v, target=pairs.w).agg(
        count=pairs.count(), customers=pairs.customer_key.nunique()
    )
    per_value = ev.group_by(v=value).agg(events=ev.count(), customers=ev.customer_key.nunique())
    return moves, per_value


def _repeats(journeys: Journeys, spec: ChannelsSpec) -> E.Table:
    ev = journeys.table
    hit = compile_text(journeys.engine, ev, spec.contact)
    contacts = ev.filter(hit).select(
        customer_key=ev.customer_key, seq=ev.seq, t=ev.t, c=ev[spec.field]
    )
    w = E.window(group_by=contacts.customer_key, order_by=contacts.seq)
    nxt = contacts.mutate(next_t=contacts.t.lead().over(w), next_c=contacts.c.lead().over(w))
    again = (nxt.next_t.notnull() & ((nxt.next_t - nxt.t) <= spec.within)).cast("int64")
    marked = nxt.select(
        c=nxt.c, again=again, next_c=E.ifelse(again == 1, nxt.next_c, E.null().cast("string"))
    )
    return marked.group_by(["c", "again", "next_c"]).agg(n=marked.count())


def channels(journeys: Journeys, spec: ChannelsSpec | None = None) -> Channels:
    spec = spec or ChannelsSpec()
    if spec.field not in CHANNEL_FIELDS:
        raise JourneylensError(
            f"channels: field {spec.field!r} is not one of {', '.join(CHANNEL_FIELDS)}"
        )
    if spec.within <= 0:
        raise JourneylensError(f"channels: within must be positive, got {spec.within}")
    engine = journeys.engine
    moves, per_value = _moves(journeys, spec)
    move_rows = engine.to_arrow(moves).to_pylist()
    value_rows = engine.to_arrow(per_value).to_pylist()
    repeat_rows = engine.to_arrow(_repeats(journeys, spec)).to_pylist()

    listed = sorted(
        (Move(r["source"], r["target"], int(r["count"]), int(r["customers"])) for r in move_rows),
        key=lambda m: (-m.count, m.source, m.target),
    )
    switches = tuple(m for m in listed if m.source != m.target)
    pairs = sum(m.count for m in listed)
    switched = sum(m.count for m in switches)
    stats = {
        r["v"]: ChannelStats(int(r["events"]), int(r["customers"]))
        for r in sorted(value_rows, key=lambda r: (-int(r["events"]), r["v"] or ""))
        if r["v"] is not None
    }
    skipped = sum(int(r["events"]) for r in value_rows if r["v"] is None)

    per_channel: dict[str | None, dict[str, Any]] = {}
    for r in repeat_rows:
        row = per_channel.setdefault(r["c"], {"contacts": 0, "repeated": 0, "next": {}})
        row["contacts"] += int(r["n"])
        if r["again"]:
            row["repeated"] += int(r["n"])
            row["next"][r["next_c"]] = row["next"].get(r["next_c"], 0) + int(r["n"])
    repeats = tuple(
        RepeatRate(
            channel,
            row["contacts"],
            row["repeated"],
            round(row["repeated"] / row["contacts"], 6),
            tuple(sorted(row["next"].items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))),
        )
        for channel, row in sorted(
            per_channel.items(), key=lambda kv: (-kv[1]["contacts"], kv[0] is None, kv[0] or "")
        )
    )
    contacts = sum(r.contacts for r in repeats)
    repeated = sum(r.repeated for r in repeats)
    return Channels(
        field=spec.field,
        channels=stats,
        switches=switches,
        stays=tuple(m for m in listed if m.source == m.target),
        pairs=pairs,
        switched=switched,
        switch_rate=round(switched / pairs, 6) if pairs else None,
        skipped=skipped,
        contact=spec.contact,
        within_s=float(spec.within),
        contacts=contacts,
        repeated=repeated,
        repeat_rate=round(repeated / contacts, 6) if contacts else None,
        repeats=repeats,
    )


__all__ = [
    "CHANNEL_FIELDS",
    "DEFAULT_CONTACT",
    "ChannelField",
    "ChannelStats",
    "Channels",
    "ChannelsSpec",
    "Move",
    "RepeatRate",
    "channels",
]
