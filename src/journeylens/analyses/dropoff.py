"""Drop-off: where journeys that never reach the outcome stop.

A journey converts when any of its events matches the outcome selector; what happens after the
outcome does not matter (a customer who ordered and then opened a complaint still converted).
Every other journey is non-converting, and its last event is where it dropped off. With ``gap``
journeys are episodes split at inactivity, each judged on its own: an episode without an order
is a drop-off even if the customer orders in a later one.

Journeys still in progress look like drop-offs too; pick ``gap`` (or a data cut-off) that
gives them time to finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from journeylens.analyses.common import plain
from journeylens.engine import Journeys, compile_text
from journeylens.errors import JourneylensError

DropoffField = Literal["activity", "touchpoint", "channel", "device"]
DROPOFF_FIELDS: tuple[DropoffField, ...] = ("activity", "touchpoint", "channel", "device")


@dataclass(frozen=True)
class DropoffSpec:
    """``outcome`` is a selector (``activity == "order_placed"``); last events are counted by
    ``field``; ``gap`` splits journeys at inactivity (seconds)."""

    outcome: str
    field: DropoffField = "activity"
    gap: float | None = None


@dataclass(frozen=True)
class LastStep:
    """Non-converting journeys whose last event had this ``label``; ``share`` of all of them."""

    label: str | None
    journeys: int
    customers: int
    share: float


@dataclass(frozen=True)
class LastStepChannel:
    label: str | None
    channel: str | None
    journeys: int
    share: float


@dataclass(frozen=True)
class Dropoff:
    outcome: str
    field: DropoffField
    journeys: int
    converting: int
    non_converting: int
    conversion_rate: float | None
    by_last: tuple[LastStep, ...]
    by_last_channel: tuple[LastStepChannel, ...]

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


def _key(label: str | None) -> tuple[bool, str]:
    return (label is None, label or "")


def dropoff(journeys: Journeys, spec: DropoffSpec) -> Dropoff:
    if spec.field not in DROPOFF_FIELDS:
        raise JourneylensError(
            f"dropoff: field {spec.field!r} is not one of {', '.join(DROPOFF_FIELDS)}"
        )
    engine = journeys.engine
    ev = journeys.events(spec.gap)
    hit = compile_text(engine, ev, spec.outcome)
    last = ev.next_t.isnull()  # t is never NULL, so only a journey's last event has no next
    aggs = {
        "converted": hit.cast("int64").max(),
        "last": ev[spec.field].max(where=last),
        "last_channel": ev.channel.max(where=last),
    }
    # Whole histories are one per customer: one grouping key, and customers = journeys.
    keys = ["journey"] if spec.gap is None else ["journey", "customer_key"]
    per_journey = ev.group_by(keys).agg(**aggs)
    cells = per_journey.group_by(["converted", "last", "last_channel"]).agg(
        journeys=per_journey.count()
    )
    cell_rows = engine.to_arrow(cells).to_pylist()

    total = sum(int(r["journeys"]) for r in cell_rows)
    converting = sum(int(r["journeys"]) for r in cell_rows if r["converted"])
    non_converting = total - converting
    per_label: dict[str | None, int] = {}
    pairs: list[tuple[str | None, str | None, int]] = []
    for r in cell_rows:
        if r["converted"]:
            continue
        per_label[r["last"]] = per_label.get(r["last"], 0) + int(r["journeys"])
        pairs.append((r["last"], r["last_channel"], int(r["journeys"])))
    customers = per_label  # one journey per customer
    if spec.gap is not None:
        lost = per_journey.filter(per_journey.converted == 0)
        by_last = lost.group_by("last").agg(customers=lost.customer_key.nunique())
        customers = {r["last"]: int(r["customers"]) for r in engine.to_arrow(by_last).to_pylist()}

    def share(n: int) -> float:
        return round(n / non_converting, 6)

    return Dropoff(
        outcome=spec.outcome,
        field=spec.field,
        journeys=total,
        converting=converting,
        non_converting=non_converting,
        conversion_rate=round(converting / total, 6) if total else None,
        by_last=tuple(
            LastStep(label, n, customers[label], share(n))
            for label, n in sorted(per_label.items(), key=lambda kv: (-kv[1], _key(kv[0])))
        ),
        by_last_channel=tuple(
            LastStepChannel(label, channel, n, share(n))
            for label, channel, n in sorted(pairs, key=lambda p: (-p[2], _key(p[0]), _key(p[1])))
        ),
    )


__all__ = [
    "DROPOFF_FIELDS",
    "Dropoff",
    "DropoffField",
    "DropoffSpec",
    "LastStep",
    "LastStepChannel",
    "dropoff",
]
