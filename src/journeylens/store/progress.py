"""Progress of a long load, for a person watching: fraction read, rows so far, rows per second.

DuckDB knows how far through a query it is; we poll that from a side thread while the load's
statements run and turn it into rows with the file's measured bytes per row (Parquet: exact
from its footer). Arrow streams (XES, XLSX, OCEL) count their rows as they pass. The last
report is exact: it carries the batch's real row count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True)
class LoadProgress:
    file: str
    fraction: float | None  # of the file read; None when the reader cannot tell
    rows: int
    seconds: float
    done: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


ProgressCallback = Callable[[LoadProgress], None]


def estimated_rows(path: Path, fmt: str) -> int | None:
    """Rows in a file, from Parquet's footer or from the line density of its first MiB."""
    try:
        if fmt == "parquet":
            return int(pq.read_metadata(path).num_rows)
        if fmt in ("csv", "tsv", "jsonl"):
            size = path.stat().st_size
            with path.open("rb") as handle:
                sample = handle.read(SAMPLE_BYTES)
            lines = sample.count(b"\n") or 1
            return max(1, round(lines * size / max(len(sample), 1)))
    except (OSError, pa.ArrowException):
        return None
    return None


class RowCounter:
    """Counts rows of an Arrow stream as DuckDB pulls them."""

    def __init__(self) -> None:
        self.rows = 0

    def wrap(self, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        def counted() -> Iterator[pa.RecordBatch]:
            for batch in reader:
                self.rows += batch.num_rows
                yield batch

        return pa.RecordBatchReader.from_batches(reader.schema, counted())


@contextmanager
def watching(
    con: duckdb.DuckDBPyConnection,
    file: str,
    callback: ProgressCallback | None,
    *,
    total_rows: int | None,
    counter: RowCounter | None = None,
    interval: float = 0.5,
) -> Iterator[None]:
    """Poll the running query's progress until the block ends."""
    if callback is None:
        yield
        return
    started = time.perf_counter()
    # DuckDB tracks progress only with its bar on; ours replaces its printing.
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    stop = threading.Event()
    best = 0.0  # the first query of a load is the read; later ones restart at 0 %

    def poll() -> None:
        nonlocal best
        while not stop.wait(interval):
            percent = con.query_progress()
            if percent >= 0:
                best = max(best, percent / 100)
            fraction = best if counter is None else None
            if counter is not None:
                rows = counter.rows
            else:
                rows = round(best * total_rows) if total_rows else 0
            callback(LoadProgress(file, fraction, rows, time.perf_counter() - started))

    thread = threading.Thread(target=poll, name="journeylens-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
