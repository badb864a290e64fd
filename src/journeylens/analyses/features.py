"""Per-customer journey features: one row per customer (or per journey with ``gap``).

Drivers and segments model customers, not events, so they start from a small, wide table: how
much each customer did, on which channels and touchpoints, how far along the designed map they
got, whether they converted or churned, what they spent and how satisfied they were. It is
built on the engine with group-bys (the customers can be millions; the columns are few) and
only the finished table crosses into Python as Arrow.

Definitions, per journey (a customer's whole history, or an episode when ``gap`` is set):

- ``events``, ``first_t``/``last_t`` (epoch seconds), ``duration_s``, ``active_days`` (distinct
  UTC days with an event), ``channels`` and ``touchpoints`` (distinct ones used);
- ``contacts``: events on the contact channels (phone and chat by default: channel ids, see
  :func:`contact_channels_of`); ``satisfaction``: mean ``score`` (of ``score_type`` only, when
  set); ``value``: sum of ``value`` (0 when none); ``device``: the device with most events
  (ties: the first by name);
- ``step_reached``/``stage_reached``: the furthest designed step (index in reading order) and
  its stage (0-based index) matched by any event, when a map is given;
- ``converted``/``converted_t``: an event matched the outcome (``outcome``, or the map's outcome
  step) and when it first did;
- ``last_seen_t``, ``churned``: churn is the *customer's*: no event of any kind (all channels,
  not only the scope's) in the ``inactive`` seconds before ``as_of``, or, with ``retention`` (a
  step id of the map or a selector), no retention event after the first conversion;
- ``channel:<id>`` and ``touchpoint:<id>``: events per channel and touchpoint (channels and the
  most used touchpoints are discovered with one small query first), ``attr:<key>``: the last
  value of each chosen attribute.

With ``before_outcome`` every per-event figure counts only events *before* the journey's first
conversion, so a feature cannot be a consequence of converting (drivers use this).
``converted``, ``converted_t``, ``last_seen_t`` and ``churned`` always use the whole journey.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import pyarrow as pa

from journeylens.analyses.binding import (
    Scope,
    bound_steps,
    outcome_step,
    scoped_events,
    step_events,
)
from journeylens.analyses.common import plain
from journeylens.engine import Journeys, compile_text
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap
from journeylens.model.workspace import WorkspaceFile

DAY = 86_400.0
CONTACT_KINDS = ("phone", "chat")
#: Fixed columns of the features table, in order; discovered columns follow them.
BASE_COLUMNS = (
    "customer_key",
    "journey",
    "events",
    "first_t",
    "last_t",
    "duration_s",
    "active_days",
    "channels",
    "touchpoints",
    "contacts",
    "satisfaction",
    "value",
    "device",
    "step_reached",
    "stage_reached",
    "converted",
    "converted_t",
    "last_seen_t",
    "churned",
)
ColumnGroup = Literal["channel", "touchpoint", "attribute"]
_SAFE = re.compile(r"[^A-Za-z0-9_\-]")


@dataclass(frozen=True)
class FeaturesSpec:
    """What to compute. ``outcome`` (selector) defaults to the map's outcome step; ``inactive``
    (seconds) and ``retention`` define churn (None leaves that part out); ``as_of`` is the data
    end for churn (default: the latest event) and leaves out later events; ``channels`` and
    ``touchpoints`` fix the discovered columns; ``attributes`` are ``attr`` keys to carry."""

    journey_map: JourneyMap | None = None
    scope: Scope = field(default_factory=Scope)
    gap: float | None = None
    outcome: str | None = None
    inactive: float | None = 90 * DAY
    retention: str | None = None
    as_of: datetime | None = None
    contact_channels: tuple[str, ...] = CONTACT_KINDS
    attributes: tuple[str, ...] = ()
    channels: tuple[str, ...] | None = None
    touchpoints: tuple[str, ...] | None = None
    max_touchpoints: int = 30
    score_type: str | None = None
    before_outcome: bool = False


@dataclass(frozen=True)
class FeatureColumn:
    """A discovered column: ``name`` in the table, ``group`` and the ``source`` value it
    counts (the channel or touchpoint id, or the attribute key)."""

    name: str
    group: ColumnGroup
    source: str


@dataclass(frozen=True)
class FeaturePlan:
    """Everything about a features table except its rows: what the columns mean."""

    unit: Literal["customer", "journey"]
    outcome: str | None
    retention: str | None
    as_of: str | None
    inactive_s: float | None
    before_outcome: bool
    contact_channels: tuple[str, ...]
    stages: tuple[str, ...]
    columns: tuple[FeatureColumn, ...]
    touchpoints_left_out: int

    def of(self, group: ColumnGroup) -> tuple[FeatureColumn, ...]:
        return tuple(c for c in self.columns if c.group == group)


@dataclass(frozen=True)
class Features:
    """The features table (Arrow, one row per customer or journey, sorted by ``journey``)
    and what its columns mean. ``to_dict()`` leaves the rows out: they can be millions."""

    table: pa.Table
    plan: FeaturePlan

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = plain(self.plan)
        data["rows"] = self.rows
        data["schema"] = [f"{f.name}: {f.type}" for f in self.table.schema]
        return data


def contact_channels_of(
    workspace: WorkspaceFile, kinds: tuple[str, ...] = CONTACT_KINDS
) -> tuple[str, ...]:
    """The workspace's channel ids whose kind is a contact (phone, chat): events carry ids."""
    return tuple(c.id for c in workspace.channels if c.kind in kinds)


def outcome_selector(journey_map: JourneyMap | None, outcome: str | None) -> str | None:
    """The outcome selector: the given one, else the map's outcome step's ``match``."""
    if outcome:
        return outcome
    if journey_map is None:
        return None
    step = outcome_step(bound_steps(journey_map))
    return None if step is None else step.match


def retention_selector(journey_map: JourneyMap | None, retention: str | None) -> str | None:
    """``retention`` as a selector: a step id of the map stands for that step's ``match``."""
    if not retention or journey_map is None:
        return retention
    step = journey_map.step(retention)
    if step is None:
        return retention
    if not step.match:
        raise JourneylensError(f"retention step {retention!r} has no match selector")
    return step.match


def _check(spec: FeaturesSpec) -> None:
    if spec.inactive is not None and spec.inactive <= 0:
        raise JourneylensError(f"features: inactive must be positive, got {spec.inactive}")
    if spec.max_touchpoints < 0:
        raise JourneylensError("features: max_touchpoints must be 0 or more")
    for key in spec.attributes:
        if not key:
            raise JourneylensError("features: an attribute key is empty")


def _as_of(spec: FeaturesSpec) -> datetime | None:
    if spec.as_of is None:
        return None
    return spec.as_of if spec.as_of.tzinfo else spec.as_of.replace(tzinfo=UTC)


def _column_names(prefix: str, values: list[str], taken: set[str]) -> list[str]:
    """Readable, engine-safe column names; odd characters become ``_`` and clashes get a
    counter (the plan keeps the exact value)."""
    names = []
    for value in values:
        base = f"{prefix}:{_SAFE.sub('_', value)[:60]}"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}~{n}", n + 1
        taken.add(name)
        names.append(name)
    return names


def _discover(
    journeys: Journeys, events: E.Table, spec: FeaturesSpec
) -> tuple[list[str], list[str], int]:
    """The channels (all) and touchpoints (the most used) to give columns: one small query
    each, ordered by journeys that used them, then by name."""
    engine = journeys.engine
    channels = list(spec.channels) if spec.channels is not None else None
    touchpoints = list(spec.touchpoints) if spec.touchpoints is not None else None
    left_out = 0
    if channels is None:
        used = events.filter(events.channel.notnull())
        counts = used.group_by("channel").agg(n=used.journey.nunique())
        rows = engine.to_arrow(counts).to_pylist()
        channels = [r["channel"] for r in sorted(rows, key=lambda r: (-r["n"], r["channel"]))]
    if touchpoints is None:
        used = events.filter(events.touchpoint.notnull())
        counts = used.group_by("touchpoint").agg(n=used.journey.nunique())
        rows = engine.to_arrow(counts).to_pylist()
        ranked = [r["touchpoint"] for r in sorted(rows, key=lambda r: (-r["n"], r["touchpoint"]))]
        touchpoints = ranked[: spec.max_touchpoints]
        left_out = len(ranked) - len(touchpoints)
    return channels, touchpoints, left_out


def _data_end(journeys: Journeys, as_of: datetime | None) -> float | None:
    if as_of is not None:
        return as_of.timestamp()
    table = journeys.table
    rows = journeys.engine.to_arrow(table.agg(end=table.t.max())).to_pylist()
    end = rows[0]["end"] if rows else None
    return None if end is None else float(end)


def feature_expression(journeys: Journeys, spec: FeaturesSpec) -> tuple[E.Table, FeaturePlan]:
    """The features as an engine expression (not run yet), for writing straight to Parquet
    with ``engine.write_parquet`` when the table is too big to bring back."""
    _check(spec)
    engine = journeys.engine
    as_of = _as_of(spec)
    end = _data_end(journeys, as_of)
    ev = scoped_events(journeys, spec.scope, gap=spec.gap)
    if as_of is not None:
        ev = ev.filter(ev.t <= as_of.timestamp())
    outcome = outcome_selector(spec.journey_map, spec.outcome)
    retention = retention_selector(spec.journey_map, spec.retention)
    channels, touchpoints, left_out = _discover(journeys, ev, spec)

    no_int = E.null().cast("int64")
    if outcome:
        hit = compile_text(engine, ev, outcome)
        first_hit = E.ifelse(hit, ev.pos, no_int).min().over(E.window(group_by=ev.journey))
        ev = ev.mutate(_conv_pos=first_hit)
    else:
        ev = ev.mutate(_conv_pos=no_int)
    if retention:
        kept = compile_text(engine, ev, retention) & (
            ev._conv_pos.isnull() | (ev.pos > ev._conv_pos)
        )
        ev = ev.mutate(_retained=kept.cast("int64"))
    keep = (
        ev._conv_pos.isnull() | (ev.pos < ev._conv_pos)
        if spec.before_outcome
        else ev.t.notnull()  # a column, not a scalar: t is never NULL
    )
    contact = (
        ev.channel.isin(list(spec.contact_channels)).fill_null(False)
        if spec.contact_channels
        else E.literal(False)
    )
    scored = keep & ev.score.notnull()
    if spec.score_type is not None:
        scored = scored & (ev.score_type == spec.score_type).fill_null(False)

    taken = set(BASE_COLUMNS)
    channel_names = _column_names("channel", channels, taken)
    touchpoint_names = _column_names("touchpoint", touchpoints, taken)
    attribute_names = _column_names("attr", list(spec.attributes), taken)
    metrics: dict[str, E.Value] = {
        "events": keep.cast("int64").sum(),
        "first_t": ev.t.min(where=keep),
        "last_t": ev.t.max(where=keep),
        "active_days": (ev.t / DAY).floor().cast("int64").nunique(where=keep),
        "channels": ev.channel.nunique(where=keep),
        "touchpoints": ev.touchpoint.nunique(where=keep),
        "contacts": (keep & contact).cast("int64").sum(),
        "satisfaction": ev.score.mean(where=scored),
        "value": ev.value.sum(where=keep),
        "converted_t": ev.t.min(where=ev.pos == ev._conv_pos),
        "_conv": ev._conv_pos.max(),
    }
    if retention:
        metrics["_retained"] = ev._retained.max()
    for name, channel in zip(channel_names, channels, strict=True):
        metrics[name] = (keep & (ev.channel == channel).fill_null(False)).cast("int64").sum()
    for name, touchpoint in zip(touchpoint_names, touchpoints, strict=True):
        metrics[name] = (keep & (ev.touchpoint == touchpoint).fill_null(False)).cast("int64").sum()
    for name, key in zip(attribute_names, spec.attributes, strict=True):
        value = engine.json_text(ev.attributes, key)
        metrics[name] = value.argmax(ev.pos, where=keep & value.notnull())
    per = ev.group_by(["journey", "customer_key"]).agg(**metrics)

    # The main device: most events, ties by name, one window over (journey, device) counts.
    with_device = ev.filter(keep & ev.device.notnull())
    devices = with_device.group_by(["journey", "device"]).agg(_n=with_device.count())
    rank = E.window(group_by=devices.journey, order_by=[E.desc(devices._n), devices.device])
    main = (
        devices.mutate(_rank=E.row_number().over(rank))
        .filter(lambda t: t._rank == 0)
        .select(_d_journey="journey", device="device")
    )
    per = per.left_join(main, per.journey == main._d_journey).drop("_d_journey")

    stages: tuple[str, ...] = ()
    stage_of: list[tuple[int, int]] = []  # (step index, stage number) of bound steps
    if spec.journey_map is not None:
        steps = bound_steps(spec.journey_map)
        stages = tuple(stage.id for stage in spec.journey_map.stages)
        if any(s.match for s in steps):
            kept_events = ev.filter(keep) if spec.before_outcome else ev
            matched = step_events(journeys, kept_events, steps)
            furthest = matched.group_by("journey").agg(_step=matched.step_index.max())
            furthest = furthest.select(_s_journey="journey", _step="_step")
            per = per.left_join(furthest, per.journey == furthest._s_journey).drop("_s_journey")
            number = {stage_id: i for i, stage_id in enumerate(stages)}
            stage_of = [(s.index, number[s.stage]) for s in steps if s.match]

    # Churn is the customer's: their last event of any kind, whatever the scope.
    everything = journeys.table
    if as_of is not None:
        everything = everything.filter(everything.t <= as_of.timestamp())
    seen = everything.group_by("customer_key").agg(last_seen_t=everything.t.max())
    seen = seen.select(_c_key="customer_key", last_seen_t="last_seen_t")
    per = per.left_join(seen, per.customer_key == seen._c_key).drop("_c_key")
    churn_parts: list[E.BooleanValue] = []
    if spec.inactive is not None and end is not None:
        lapsed = (E.literal(end, type="float64") - per.last_seen_t) > spec.inactive
        churn_parts.append(lapsed.fill_null(False))
    if retention:
        churn_parts.append(per._retained.fill_null(0) == 0)
    churned: E.Value = E.null().cast("boolean")
    if churn_parts:
        churned = churn_parts[0]
        for part in churn_parts[1:]:
            churned = churned | part
    converted = per._conv.notnull() if outcome else E.null().cast("boolean")
    step_reached: E.Value = per._step if stage_of else no_int
    stage_reached: E.Value = (
        E.cases(*((per._step == index, stage) for index, stage in stage_of), else_=no_int)
        if stage_of
        else no_int
    )

    table = per.select(
        customer_key=per.customer_key,
        journey=per.journey,
        events=per.events,
        first_t=per.first_t,
        last_t=per.last_t,
        duration_s=(per.last_t - per.first_t),
        active_days=per.active_days.cast("int64"),
        channels=per.channels.cast("int64"),
        touchpoints=per.touchpoints.cast("int64"),
        contacts=per.contacts,
        satisfaction=per.satisfaction,
        value=per.value.fill_null(0.0),
        device=per.device,
        step_reached=step_reached.cast("int64"),
        stage_reached=stage_reached.cast("int64"),
        converted=converted,
        converted_t=per.converted_t,
        last_seen_t=per.last_seen_t,
        churned=churned,
        **{name: per[name].cast("int64") for name in (*channel_names, *touchpoint_names)},
        **{name: per[name].cast("string") for name in attribute_names},
    ).order_by("journey")

    columns = (
        *(FeatureColumn(n, "channel", v) for n, v in zip(channel_names, channels, strict=True)),
        *(
            FeatureColumn(n, "touchpoint", v)
            for n, v in zip(touchpoint_names, touchpoints, strict=True)
        ),
        *(
            FeatureColumn(n, "attribute", v)
            for n, v in zip(attribute_names, spec.attributes, strict=True)
        ),
    )
    plan = FeaturePlan(
        unit="customer" if spec.gap is None else "journey",
        outcome=outcome,
        retention=retention,
        as_of=None
        if end is None
        else datetime.fromtimestamp(end, UTC).isoformat().replace("+00:00", "Z"),
        inactive_s=None if spec.inactive is None else float(spec.inactive),
        before_outcome=spec.before_outcome,
        contact_channels=tuple(spec.contact_channels),
        stages=stages,
        columns=columns,
        touchpoints_left_out=left_out,
    )
    return table, plan


def features(journeys: Journeys, spec: FeaturesSpec) -> Features:
    """The features table, computed on the engine and brought back as Arrow."""
    expr, plan = feature_expression(journeys, spec)
    return Features(journeys.engine.to_arrow(expr), plan)


__all__ = [
    "BASE_COLUMNS",
    "CONTACT_KINDS",
    "FeatureColumn",
    "FeaturePlan",
    "Features",
    "FeaturesSpec",
    "contact_channels_of",
    "feature_expression",
    "features",
    "outcome_selector",
    "retention_selector",
]
