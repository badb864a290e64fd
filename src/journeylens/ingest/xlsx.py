"""Excel workbooks (``.xlsx``), read row by row in openpyxl's read-only mode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pyarrow as pa

from journeylens.errors import JourneylensError
from journeylens.model.sources import SourceSpec

BATCH_ROWS = 50_000
ROW = "_ord"


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_reader(path: Path, spec: SourceSpec, *, sheet: str | None = None) -> pa.RecordBatchReader:
    """The first sheet (or ``sheet``) as Arrow batches; the header row names the columns."""
    try:
        from openpyxl import load_workbook
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise JourneylensError("reading .xlsx needs openpyxl") from exc
    workbook = load_workbook(path, read_only=True, data_only=True)
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    rows = worksheet.iter_rows(values_only=True)
    header = [(_text(v) or f"column{i + 1}") for i, v in enumerate(next(rows, ()))]
    schema = pa.schema([(ROW, pa.int64()), *[(c, pa.string()) for c in header]])

    def batches() -> Iterator[pa.RecordBatch]:
        buffer: dict[str, list[object]] = {c: [] for c in [ROW, *header]}
        for number, values in enumerate(rows, start=2):
            if all(v is None for v in values):
                continue
            buffer[ROW].append(number)
            for index, column in enumerate(header):
                buffer[column].append(_text(values[index]) if index < len(values) else None)
            if len(buffer[ROW]) >= BATCH_ROWS:
                yield pa.RecordBatch.from_pydict(buffer, schema=schema)
                buffer = {c: [] for c in [ROW, *header]}
        if buffer[ROW]:
            yield pa.RecordBatch.from_pydict(buffer, schema=schema)
        workbook.close()

    return pa.RecordBatchReader.from_batches(schema, batches())
