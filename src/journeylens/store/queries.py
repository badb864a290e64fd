"""Read-side queries over the store that return small typed results."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Batch:
    batch_id: int
    source: str
    file: str
    format: str
    read: int
    accepted: int
    quarantined: int
    duplicates: int
    warnings: int
    finished_at: str
    status: str


@dataclass(frozen=True)
class QuarantinedRow:
    batch_id: int
    file: str
    row: int
    column: str | None
    reason: str
    raw: str | None

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" + (f": {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


def list_batches(con: duckdb.DuckDBPyConnection) -> list[Batch]:
    rows = con.execute(
        "SELECT batch_id, source, file, format, rows_read, accepted, quarantined, duplicates, "
        "warnings, strftime(finished_at, '%Y-%m-%d %H:%M:%S'), status FROM batches "
        "ORDER BY batch_id"
    ).fetchall()
    return [Batch(*row) for row in rows]


def list_quarantine(
    con: duckdb.DuckDBPyConnection, *, batch: int | None = None, limit: int | None = None
) -> list[QuarantinedRow]:
    sql = (
        "SELECT batch_id, file, row_number, column_name, reason, raw FROM quarantine "
        "WHERE (CAST(? AS INTEGER) IS NULL OR batch_id = CAST(? AS INTEGER)) "
        "ORDER BY batch_id, row_number"
    )
    params: list[object] = [batch, batch]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [QuarantinedRow(*row) for row in con.execute(sql, params).fetchall()]


def known_identifiers(con: duckdb.DuckDBPyConnection, id_type: str, limit: int) -> list[str]:
    """Identifiers of stitched customers (``type:value``), for examples and demos."""
    rows = con.execute(
        "SELECT id_type || ':' || id_value FROM identities WHERE id_type = ? AND NOT flagged "
        "AND customer_key IS NOT NULL ORDER BY customer_key, id_value LIMIT ?",
        [id_type, limit],
    ).fetchall()
    return [str(r[0]) for r in rows]
