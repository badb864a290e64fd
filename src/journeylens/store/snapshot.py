"""What analyses read from the store: a generation key, and a Parquet copy for Spark.

Prepared journeys are derived data. The generation key changes whenever the events or the
customer keys behind them can have changed (a batch, a stitch, an erasure), so a stale copy is
never read, and an unchanged store is never prepared twice.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from journeylens.errors import JourneylensError


class NotStitchedError(JourneylensError):
    """Events are loaded but no customer keys exist yet."""


def generation(con: duckdb.DuckDBPyConnection) -> str:
    """A short key for the store's current content (raises when there is nothing to analyse)."""
    row = con.execute(
        """
        SELECT (SELECT count(*) FROM events),
               (SELECT count(customer_key) FROM events),
               (SELECT coalesce(max(batch_id), 0) FROM batches),
               (SELECT CAST(max(stitched_at) AS VARCHAR) FROM identities),
               (SELECT count(*) FROM erasures),
               (SELECT coalesce(max(version), 0) FROM schema_version)
        """
    ).fetchone()
    assert row is not None
    events, attributed = int(row[0]), int(row[1])
    if not events:
        raise JourneylensError("the store holds no events yet: load data with journeylens ingest")
    if not attributed:
        raise NotStitchedError(
            f"{events:,} events are loaded but none has a customer yet: run journeylens stitch"
        )
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:16]


def export_events(con: duckdb.DuckDBPyConnection, target: Path) -> Path:
    """Write the stitched events to one Parquet file (attributes as JSON text), atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    con.execute(
        "COPY (SELECT * REPLACE (CAST(attributes AS VARCHAR) AS attributes, "
        "CAST(event_id AS VARCHAR) AS event_id) FROM events WHERE customer_key IS NOT NULL) TO '"
        + str(partial).replace("'", "''")
        + "' (FORMAT parquet, COMPRESSION zstd)"
    )
    partial.replace(target)
    return target
