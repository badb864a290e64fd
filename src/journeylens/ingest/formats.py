"""Which format a file is in, and the source spec a bare file gets."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from journeylens.errors import JourneylensError
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
}
STREAMED = ("xes", "xlsx")


def detect_format(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    known = ", ".join(sorted(_SUFFIXES))
    raise JourneylensError(f"{path}: cannot tell the format from the name ({known}); give --format")


def bare_spec(path: Path, fmt: str, source_id: str) -> SourceSpec:
    """Defaults for a file given without a source definition."""
    if fmt == "xes":
        return xes_spec(source_id, str(path))
    return SourceSpec.model_validate({"id": source_id, "path": str(path), "format": fmt})


def arrow_stream(path: Path, fmt: str, spec: SourceSpec) -> pa.RecordBatchReader | None:
    """A streaming reader for formats the store cannot scan natively, else ``None``."""
    if fmt == "xes":
        return xes_reader(path, spec)
    if fmt == "xlsx":
        return xlsx_reader(path, spec)
    return None
