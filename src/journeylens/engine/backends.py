"""The two execution backends behind one interface: embedded DuckDB and Apache Spark.

Analyses are Ibis expressions; a backend compiles and runs them. Where the backends differ
(ordered aggregation, JSON access, ASOF joins) the engine says so with a :class:`Capability`
and analyses pick a formulation both can run, so results never differ silently.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from journeylens.errors import JourneylensError

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")


class EngineError(JourneylensError):
    """The engine could not start or run a query."""


class Capability(StrEnum):
    """Operations one backend has and another lacks (Ibis 12 on PySpark, checked 2026-11)."""

    ORDERED_COLLECT = "ordered_collect"  # collect/group_concat with order_by
    ASOF_JOIN = "asof_join"
    TIMESTAMP_BUCKET = "timestamp_bucket"


@ibis.udf.scalar.builtin(name="json_extract_string")
def _duckdb_json_text(json: str, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB's JSON path lookup, returning text for strings and numbers alike."""


@ibis.udf.scalar.builtin(name="get_json_object")
def _spark_json_text(json: str, path: str) -> str:  # type: ignore[empty-body]
    """Spark's JSON path lookup (runs in the JVM; Ibis' own JSON ops need Python workers)."""


def _json_path(key: str) -> str:
    # Bracket form copes with dots and spaces in keys on both engines.
    return "$['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


@dataclass
class Engine:
    """A connected backend. ``con`` is the Ibis backend; only aggregates leave it."""

    name: EngineName
    con: Any
    capabilities: frozenset[Capability]
    _json: Callable[..., ir.StringValue] = field(repr=False)
    _owned: Any = field(default=None, repr=False)

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def read_parquet(self, path: Path | str) -> ir.Table:
        return self.con.read_parquet(str(path))

    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        return self.con.to_pyarrow(expr)

    def write_parquet(self, expr: ir.Table, path: Path) -> None:
        self.con.to_parquet(expr, str(path))

    def json_text(self, column: ir.StringValue, key: str) -> ir.StringValue:
        """The attribute ``key`` of a JSON text column, as text (NULL when absent)."""
        return self._json(column, _json_path(key))

    def close(self) -> None:
        if self.name == "duckdb":
            self.con.disconnect()
        # A Spark session is process-wide and slow to start: it is kept for the next query.


def duckdb_engine(
    database: Path | None = None,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    temp_directory: Path | None = None,
) -> Engine:
    """DuckDB in this process; ``database`` is opened read-only (the store's file)."""
    try:
        con = (
            ibis.duckdb.connect(str(database), read_only=True)
            if database
            else ibis.duckdb.connect()
        )
    except Exception as exc:  # duckdb raises its own IOException for a locked file
        raise EngineError(f"cannot open {database} for analysis: {exc}") from exc
    raw = con.con
    raw.execute("SET TimeZone = 'UTC'")
    raw.execute("SET enable_progress_bar = false")
    if memory_limit:
        raw.execute("SET memory_limit = ?", [memory_limit])
    if threads:
        raw.execute(f"SET threads = {int(threads)}")
    if temp_directory:
        raw.execute("SET temp_directory = ?", [str(temp_directory)])
    every = frozenset(Capability)
    return Engine("duckdb", con, every, _duckdb_json_text)


def spark_engine(
    master: str | None = None,
    *,
    remote: str | None = None,
    driver_memory: str = "4g",
    shuffle_partitions: int | None = None,
) -> Engine:
    """Spark: ``local[N]`` in tests, a cluster by master URL, or Spark Connect by ``remote``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is a declared dependency
        raise EngineError(
            "the Spark engine needs pyspark: pip install 'journeylens[spark]'"
        ) from exc
    # Python workers must be this interpreter (with its packages), not whatever `python` is.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName("journeylens")
    if remote:
        builder = builder.remote(remote)
    else:
        cores = os.cpu_count() or 2
        builder = (
            builder.master(master or f"local[{cores}]")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", driver_memory)
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions or 2 * cores))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "false")
        )
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        raise EngineError(f"Spark did not start: {exc}") from exc
    if not remote:
        session.sparkContext.setLogLevel("ERROR")
    con = ibis.pyspark.connect(session)
    # Ibis on PySpark cannot order collect/group_concat, bucket timestamps, or ASOF-join.
    return Engine("spark", con, frozenset(), _spark_json_text, session)


def open_engine(name: EngineName, *, database: Path | None = None, **options: Any) -> Engine:
    if name == "duckdb":
        return duckdb_engine(database, **options)
    if name == "spark":
        return spark_engine(**options)
    raise EngineError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")
