"""Opening the store: migrations, the single-writer lock, and session settings.

DuckDB lets one process write a database file. We take an advisory lock beside it first, so a
second writer gets a clear message instead of a low-level error, and readers open read-only.
A load is one transaction: after a crash DuckDB's write-ahead log rolls an unfinished batch
back, so readers never see half of one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import IO

import duckdb

from journeylens.errors import JourneylensError
from journeylens.errors import StoreBusyError as StoreBusyError

STORE_DIR = ".journeylens"
STORE_FILE = "store.duckdb"


def migrations() -> list[tuple[int, str]]:
    """Numbered SQL migrations shipped with the package, in order."""
    folder = resources.files("journeylens.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _configure(
    con: duckdb.DuckDBPyConnection,
    *,
    memory_limit: str,
    threads: int | None,
) -> None:
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB's own bar writes to stdout; journeylens draws its own (store/progress.py).
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{_size(memory_limit)}'")
    con.execute("SET preserve_insertion_order = true")
    if threads:
        con.execute(f"SET threads = {int(threads)}")


def _size(text: str) -> str:
    # memory_limit cannot be a parameter; accept only a plain size so nothing else gets in.
    cleaned = text.strip().upper().replace(" ", "")
    if not cleaned[:-2].replace(".", "").isdigit() or cleaned[-2:] not in ("MB", "GB", "KB"):
        raise JourneylensError(f"memory limit {text!r}: expected a size such as 512MB or 2GB")
    return cleaned


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply pending migrations in one transaction; return the schema version."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at "
        "TIMESTAMPTZ DEFAULT current_timestamp)"
    )
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    current = int(row[0]) if row else 0
    pending = [(n, sql) for n, sql in migrations() if n > current]
    if pending:
        con.execute("BEGIN TRANSACTION")
        try:
            for number, sql in pending:
                con.execute(sql)
                con.execute("INSERT INTO schema_version (version) VALUES (?)", [number])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        # Out of the write-ahead log at once: replaying an ALTER ... USING from it can need
        # functions DuckDB has not loaded yet at startup (it then tries to download them).
        con.execute("CHECKPOINT")
        current = pending[-1][0]
    return current


def store_path(root: Path) -> Path:
    return root / STORE_DIR / STORE_FILE


@contextmanager
def writer(
    root: Path, *, memory_limit: str = "1GB", threads: int | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one writing connection, migrated; raises :class:`StoreBusyError` if taken."""
    path = store_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock: IO[str] = (path.parent / "store.lock").open("a+")
    try:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreBusyError(
                f"another journeylens process is writing to {path}; try again when it is done"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            con = duckdb.connect(str(path))
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            # A reader (another process, or this one) has the file open.
            raise StoreBusyError(f"the store is being read: {exc}") from None
        try:
            _configure(con, memory_limit=memory_limit, threads=threads)
            con.execute(f"SET temp_directory = '{_quoted_path(path.parent / 'tmp')}'")
            migrate(con)
            yield con
        finally:
            con.close()
    finally:
        fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
        lock.close()


@contextmanager
def reader(root: Path, *, memory_limit: str = "1GB") -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; the store must exist."""
    path = store_path(root)
    if not path.exists():
        raise JourneylensError(f"no event store yet at {path}: load data with journeylens ingest")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise StoreBusyError(f"the store is being written to: {exc}") from None
    try:
        _configure(con, memory_limit=memory_limit, threads=None)
        yield con
    finally:
        con.close()


def _quoted_path(path: Path) -> str:
    return str(path).replace("'", "''")
