"""Which format a file is in, and the source spec a bare file gets."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from journeylens.errors import JourneylensError
from journeylens.ingest.ocel import default_spec as ocel_spec
from journeylens.ingest.ocel import ocel_json_reader, ocel_sqlite_reader
from journeylens.ingest.xes import default_spec as xes_spec
from journeylens.ingest.xes import xes_reader
from journeylens.ingest.xlsx import xlsx_reader
from journeylens.model.sources import SourceSpec

_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".xes": "xes",
    ".xes.gz": "xes",
    ".jsonocel": "ocel-json",
    ".ocel.json": "ocel-json",
    ".sqlite": "ocel-sqlite",
    ".sqlite3": "ocel-sqlite",
}
STREAMED = ("xes", "xlsx", "ocel-json", "ocel-sqlite")


def detect_format(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    known = ", ".join(sorted(_SUFFIXES))
    raise JourneylensError(f"{path}: cannot tell the format from the name ({known}); give --format")


def bare_spec(
    path: Path, fmt: str, source_id: str, *, object_type: str | None = None
) -> SourceSpec:
    """Defaults for a file given without a source definition.

    ``object_type`` only matters for OCEL: the type whose objects are the customers.
    """
    if fmt == "xes":
        return xes_spec(source_id, str(path))
    if fmt in ("ocel-json", "ocel-sqlite"):
        return ocel_spec(source_id, str(path), fmt, object_type)
    return SourceSpec.model_validate({"id": source_id, "path": str(path), "format": fmt})


def arrow_stream(path: Path, fmt: str, spec: SourceSpec) -> pa.RecordBatchReader | None:
    """A streaming reader for formats the store cannot scan natively, else ``None``."""
    if fmt == "xes":
        return xes_reader(path, spec)
    if fmt == "xlsx":
        return xlsx_reader(path, spec)
    if fmt == "ocel-json":
        return ocel_json_reader(path, spec)
    if fmt == "ocel-sqlite":
        return ocel_sqlite_reader(path, spec)
    return None
