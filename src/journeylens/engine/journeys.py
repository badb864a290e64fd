"""Ordered journeys: every customer's events sorted once, with their neighbours attached.

Every journey analysis needs each customer's events in time order. Peers sort the raw events
again for every question; we sort once (:func:`prepare`), number the events (``seq``), attach
the previous and next event, and write the result to Parquet, which both DuckDB and Spark read.
Process maps, variants, paths, funnels and drop-off are then plain aggregations over it.

Ties in time are broken by the events' source, row in the source file and id, so a log loaded
from one file keeps its file order (as process-mining tools do) and every run agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

from journeylens.engine.backends import Engine
from journeylens.errors import JourneylensError

#: Columns of the prepared journeys table, in order.
JOURNEY_COLUMNS = (
    "customer_key",
    "seq",
    "ts",
    "t",
    "activity",
    "channel",
    "touchpoint",
    "device",
    "source",
    "event_id",
    "value",
    "score",
    "score_type",
    "language",
    "text",
    "attributes",
    "prev_t",
    "next_t",
    "next_activity",
    "next_channel",
)
_OPTIONAL_TEXT = (
    "channel",
    "touchpoint",
    "device",
    "source",
    "event_id",
    "score_type",
    "language",
    "text",
    "attributes",
)
_OPTIONAL_NUMBER = ("value", "score")


@dataclass(frozen=True)
class EventColumns:
    """Where the journey fields are in an events table (the store's names by default).

    Optional fields that are missing come out as NULL; ``order`` breaks ties in time.
    """

    customer: str = "customer_key"
    ts: str = "ts"
    activity: str = "activity"
    order: tuple[str, ...] = ("source", "source_row", "event_id")
    rename: tuple[tuple[str, str], ...] = ()

    def field(self, name: str) -> str:
        return dict(self.rename).get(name, name)


@ibis.udf.scalar.builtin(name="epoch_ms")
def _duckdb_epoch_ms(ts: ibis.dtype("timestamp")) -> int:  # type: ignore[empty-body,valid-type]
    """Milliseconds since 1970 (DuckDB)."""


@ibis.udf.scalar.builtin(name="unix_millis")
def _spark_epoch_ms(ts: ibis.dtype("timestamp")) -> int:  # type: ignore[empty-body,valid-type]
    """Milliseconds since 1970 (Spark)."""


def epoch_seconds(engine: Engine, ts: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds since 1970 with millisecond precision, the same float on every engine."""
    fn = _duckdb_epoch_ms if engine.name == "duckdb" else _spark_epoch_ms
    return fn(ts.cast("timestamp('UTC')")).cast("float64") / 1000.0


def ordered_events(
    engine: Engine, events: ir.Table, columns: EventColumns | None = None
) -> ir.Table:
    """The journeys expression: events numbered per customer, neighbours attached."""
    cols = columns or EventColumns()
    have = set(events.columns)
    missing = [c for c in (cols.customer, cols.ts, cols.activity) if c not in have]
    if missing:
        raise JourneylensError(
            f"events need columns {', '.join(missing)} (have: {', '.join(sorted(have))})"
        )
    base: dict[str, ir.Value] = {
        "customer_key": events[cols.customer].cast("string"),
        "ts": events[cols.ts].cast("timestamp('UTC')"),
        "activity": events[cols.activity].cast("string"),
    }
    # Fields the events lack join after the window: carried through the sort as NULL columns,
    # they cost a third of the preparing time (10 M events: 14.9 s -> 9.2 s).
    absent: dict[str, ir.Value] = {}
    for name in (*_OPTIONAL_TEXT, *_OPTIONAL_NUMBER):
        kind = "float64" if name in _OPTIONAL_NUMBER else "string"
        source = cols.field(name)
        if source in have:
            base[name] = events[source].cast(kind)
        else:
            absent[name] = ibis.null().cast(kind)
    tiebreak = [events[c] for c in cols.order if c in have]
    projected = events.filter(events[cols.customer].notnull()).select(
        **base, **{f"_o{i}": expr for i, expr in enumerate(tiebreak)}
    )
    order = [projected.ts, *(projected[f"_o{i}"] for i in range(len(tiebreak)))]
    # activity last: rows equal in every order column still sort the same on every engine.
    # Every window below is this one window, so the engines sort the events once.
    w = ibis.window(group_by=projected.customer_key, order_by=[*order, projected.activity])
    t = epoch_seconds(engine, projected.ts)
    return projected.select(
        "customer_key",
        seq=ibis.row_number().over(w),
        ts=projected.ts,
        t=t,
        **{c: absent[c] if c in absent else projected[c] for c in JOURNEY_COLUMNS[4:16]},
        prev_t=t.lag().over(w),
        next_t=t.lead().over(w),
        next_activity=projected.activity.lead().over(w),
        next_channel=absent["channel"] if "channel" in absent else projected.channel.lead().over(w),
    )


@dataclass
class Journeys:
    """The ordered journeys of one data set on one engine, ready for analyses."""

    engine: Engine
    table: ir.Table

    def events(self, gap: float | None = None) -> ir.Table:
        """Events with ``journey`` and ``pos``; with ``gap`` (seconds), journeys are episodes
        split where a customer was inactive longer than ``gap``, and neighbours across the
        split are cut."""
        t = self.table
        if gap is None:
            return t.mutate(journey=t.customer_key, pos=t.seq)
        if gap <= 0:
            raise JourneylensError(f"gap must be positive, got {gap}")
        starts = (t.prev_t.isnull() | ((t.t - t.prev_t) > gap)).cast("int64")
        w = ibis.window(group_by=t.customer_key, order_by=t.seq, preceding=None, following=0)
        marked = t.mutate(episode=starts.sum().over(w))
        cut = marked.next_t.notnull() & ((marked.next_t - marked.t) > gap)
        first = ibis.window(group_by=[marked.customer_key, marked.episode], order_by=marked.seq)
        return marked.mutate(
            journey=marked.customer_key + "#" + marked.episode.cast("string"),
            pos=ibis.row_number().over(first),
            prev_t=ibis.ifelse(starts == 1, ibis.null().cast("float64"), marked.prev_t),
            next_t=ibis.ifelse(cut, ibis.null().cast("float64"), marked.next_t),
            next_activity=ibis.ifelse(cut, ibis.null().cast("string"), marked.next_activity),
            next_channel=ibis.ifelse(cut, ibis.null().cast("string"), marked.next_channel),
        ).drop("episode")


def prepare(
    engine: Engine,
    events: ir.Table,
    target: Path,
    columns: EventColumns | None = None,
) -> Journeys:
    """Sort once and write the journeys to ``target`` (a Parquet file or, on Spark, folder)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    expr = ordered_events(engine, events, columns)
    engine.write_parquet(expr, target)
    return open_prepared(engine, target)


def open_prepared(engine: Engine, target: Path) -> Journeys:
    if not target.exists():
        raise JourneylensError(f"{target}: no prepared journeys here")
    path = target / "*.parquet" if target.is_dir() else target
    return Journeys(engine, engine.read_parquet(path))
