"""Test helpers: small event logs as ordered journeys on any engine."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from journeylens.engine import Engine, Journeys, prepare

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_counter = itertools.count()

SCHEMA = pa.schema(
    [
        ("customer_key", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("activity", pa.string()),
        ("channel", pa.string()),
        ("touchpoint", pa.string()),
        ("device", pa.string()),
        ("source", pa.string()),
        ("source_row", pa.int64()),
        ("event_id", pa.string()),
        ("value", pa.float64()),
        ("score", pa.float64()),
        ("score_type", pa.string()),
        ("language", pa.string()),
        ("text", pa.string()),
        ("attributes", pa.string()),
    ]
)


def event(customer: str, seconds: float, activity: str, **fields: Any) -> dict[str, Any]:
    """One event ``seconds`` after 2026-01-01 UTC; other fields by keyword."""
    row: dict[str, Any] = dict.fromkeys(SCHEMA.names)
    row.update(customer_key=customer, ts=EPOCH + timedelta(seconds=seconds), activity=activity)
    row.update(fields)
    return row


def journeys_of(engine: Engine, rows: Iterable[Mapping[str, Any]], tmp_path: Path) -> Journeys:
    """Write rows as an events Parquet file (rows keep their order as ``source_row``) and
    prepare their journeys on ``engine``."""
    listed = [dict(r) for r in rows]
    for i, row in enumerate(listed):
        row.setdefault("source", "test")
        if row.get("source") is None:
            row["source"] = "test"
        if row.get("source_row") is None:
            row["source_row"] = i
        if row.get("event_id") is None:
            row["event_id"] = f"e{i:08d}"
    name = f"events-{next(_counter)}"
    path = tmp_path / f"{name}.parquet"
    pq.write_table(pa.Table.from_pylist(listed, schema=SCHEMA), path)
    target = tmp_path / (f"{name}-journeys" + (".parquet" if engine.name == "duckdb" else ""))
    return prepare(engine, engine.read_parquet(path), target)
