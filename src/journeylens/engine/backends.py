"""The two execution backends behind one interface: embedded DuckDB and Apache Spark.

Analyses are Ibis expressions; a backend compiles and runs them. Where the backends differ
(ordered aggregation, JSON access, ASOF joins) the engine says so with a :class:`Capability`
and analyses pick a formulation both can run, so results never differ silently.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.formats.pyarrow import PyArrowData

from journeylens.errors import JourneylensError

EngineName = Literal["duckdb", "spark"]
_materialized = itertools.count()
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")


class _DuckDBArrow(PyArrowData):  # type: ignore[misc]
    """Ibis' DuckDB result conversion (``ibis.backends.duckdb.converter``), without pandas."""

    @classmethod
    def convert_column(cls, column: pa.Array, dtype: Any) -> pa.Array:
        if dtype.is_null():
            return pa.nulls(len(column))
        return super().convert_column(column, dtype)

    @classmethod
    def convert_scalar(cls, scalar: pa.Scalar, dtype: Any) -> pa.Scalar:
        if dtype.is_null():
            return pa.scalar(None)
        return super().convert_scalar(scalar, dtype)


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


@ibis.udf.scalar.builtin(name="json_type")
def _duckdb_json_type(json: str, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB's JSON value type: VARCHAR, BIGINT, UBIGINT, DOUBLE, BOOLEAN, NULL, ..."""


@ibis.udf.scalar.builtin(name="try_parse_json")
def _spark_parse_json(json: str) -> str:  # type: ignore[empty-body]
    """Spark 4's VARIANT from JSON text (typed as text for Ibis; only passed on)."""


@ibis.udf.scalar.builtin(name="try_variant_get")
def _spark_variant_get(variant: str, path: str) -> str:  # type: ignore[empty-body]
    """The VARIANT at a path (typed as text for Ibis; only passed on)."""


@ibis.udf.scalar.builtin(name="schema_of_variant")
def _spark_variant_type(variant: str) -> str:  # type: ignore[empty-body]
    """Spark's type name of a VARIANT: STRING, BIGINT, DECIMAL(p,s), DOUBLE, BOOLEAN, ..."""


def _duckdb_kind(json: ir.StringValue, path: str) -> ir.StringValue:
    return _duckdb_json_type(json, path)


def _spark_kind(json: ir.StringValue, path: str) -> ir.StringValue:
    return _spark_variant_type(_spark_variant_get(_spark_parse_json(json), path))


_NUMBER_TYPES = ("BIGINT", "UBIGINT", "HUGEINT", "INTEGER", "INT", "DOUBLE", "FLOAT")


@ibis.udf.scalar.builtin(name="get_json_object")
def _spark_json_text(json: str, path: str) -> str:  # type: ignore[empty-body]
    """Spark's JSON path lookup (runs in the JVM; Ibis' own JSON ops need Python workers)."""


def _json_path(engine: str, key: str) -> str:
    """A path to one top-level key; quoted, so dots and spaces in keys stay part of it."""
    if engine == "duckdb":
        return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "$['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


@dataclass
class Engine:
    """A connected backend. ``con`` is the Ibis backend; only aggregates leave it."""

    name: EngineName
    con: Any
    capabilities: frozenset[Capability]
    _json: Callable[..., ir.StringValue] = field(repr=False)
    _kind: Callable[..., ir.StringValue] = field(repr=False)
    _owned: Any = field(default=None, repr=False)

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def read_parquet(self, path: Path | str) -> ir.Table:
        return self.con.read_parquet(str(path))

    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        if self.name != "duckdb":
            return self.con.to_pyarrow(expr)
        # Ibis' own DuckDB path imports pandas for its result converter (0.6 s of every
        # process that answers one question); the Arrow conversion it applies is this one.
        table = expr.as_table()
        self.con._run_pre_execute_hooks(table)  # registers in-memory tables; Ibis 12
        result = self.con.con.sql(self.con.compile(table)).to_arrow_table()
        return expr.__pyarrow_result__(result, data_mapper=_DuckDBArrow)

    def write_parquet(self, expr: ir.Table, path: Path) -> None:
        """Rows land in any order: nothing reads a file's row order (order by columns), and
        DuckDB writes in parallel when it need not keep it (10 M journeys: 10.1 s -> 9.1 s)."""
        if self.name != "duckdb":
            self.con.to_parquet(expr, str(path))
            return
        self.con.raw_sql("SET preserve_insertion_order = false")
        try:
            self.con.to_parquet(expr, str(path))
        finally:
            self.con.raw_sql("RESET preserve_insertion_order")

    @contextmanager
    def materialized(self, expr: ir.Table) -> Iterator[ir.Table]:
        """``expr`` computed once for the queries inside the block, then dropped.

        DuckDB gets a temporary table (Ibis 12's ``CachedTable.release`` emits an invalid
        ``DROP`` there); Spark a cached DataFrame, unpersisted afterwards."""
        if self.name == "spark":
            cached = expr.cache()
            try:
                yield cached
            finally:
                cached.release()
            return
        name = f"jl_materialized_{next(_materialized)}"
        table = self.con.create_table(name, expr, temp=True)
        try:
            yield table
        finally:
            self.con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')

    def json_text(self, column: ir.StringValue, key: str) -> ir.StringValue:
        """The attribute ``key`` of a JSON text column, as text (NULL when absent)."""
        return self._json(column, _json_path(self.name, key))

    def json_kind(self, column: ir.StringValue, key: str) -> ir.StringValue:
        """``text``, ``number`` or ``bool`` for the attribute ``key`` (another word or NULL
        for other JSON values), so selectors compare like with like on every engine."""
        raw = self._kind(column, _json_path(self.name, key)).upper()
        return ibis.cases(
            (raw.isin(["VARCHAR", "STRING"]), "text"),
            (raw.isin(list(_NUMBER_TYPES)) | raw.startswith("DECIMAL"), "number"),
            (raw == "BOOLEAN", "bool"),
            else_=raw.lower(),
        )

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
    # SET takes no parameters: values are checked or quoted here, never passed through raw.
    if memory_limit:
        if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", memory_limit.strip(), re.IGNORECASE):
            raise EngineError(f"memory limit {memory_limit!r}: expected a size such as 4GB")
        raw.execute(f"SET memory_limit = '{memory_limit.strip()}'")
    if threads:
        raw.execute(f"SET threads = {int(threads)}")
    if temp_directory:
        quoted = str(temp_directory).replace("'", "''")
        raw.execute(f"SET temp_directory = '{quoted}'")
    every = frozenset(Capability)
    return Engine("duckdb", con, every, _duckdb_json_text, _duckdb_kind)


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
    return Engine("spark", con, frozenset(), _spark_json_text, _spark_kind, session)


def open_engine(name: EngineName, *, database: Path | None = None, **options: Any) -> Engine:
    if name == "duckdb":
        return duckdb_engine(database, **options)
    if name == "spark":
        return spark_engine(**options)
    raise EngineError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")
