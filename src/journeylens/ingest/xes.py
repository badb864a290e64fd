"""XES event logs (``.xes`` and ``.xes.gz``), streamed: memory stays flat whatever the size.

Each trace becomes a case: its ``concept:name`` is the ``case`` identifier of every event in
it, and trace attributes are copied onto the events as ``trace:<key>``. Event attributes keep
their XES keys (``concept:name``, ``time:timestamp``, ``org:resource``...).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import iterparse

import pyarrow as pa

from journeylens.errors import JourneylensError
from journeylens.model.sources import Identifier, SourceSpec

BATCH_ROWS = 50_000
ROW = "_ord"
_SCALARS = {"string", "date", "int", "float", "boolean", "id"}


class XesError(JourneylensError):
    """The XES file is not well-formed; raised before anything is written."""


def _open(path: Path) -> IO[bytes]:  # gzip or plain, the same reading interface
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def default_spec(source_id: str, path: str) -> SourceSpec:
    """XES needs no mapping: standard extension keys map to journeylens fields."""
    return SourceSpec(
        id=source_id,
        path=path,
        format="xes",
        timestamp="time:timestamp",
        activity="concept:name",
        channel=None,
        identifiers=[Identifier(column="trace:concept:name", type="case")],
        attributes=["org:resource", "lifecycle:transition"],
    )


def read_xes(path: Path, *, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Events as Arrow batches of text columns (``columns`` plus ``_ord``, the event's index)."""
    wanted = set(columns)
    schema = pa.schema([(ROW, pa.int64()), *[(c, pa.string()) for c in columns]])
    buffer: dict[str, list[object]] = {c: [] for c in [ROW, *columns]}
    trace: dict[str, str] = {}
    event: dict[str, str] | None = None
    depth_in_event = 0
    count = 0
    try:
        with _open(path) as stream:
            for action, element in iterparse(stream, events=("start", "end")):
                tag = _local(element.tag)
                if action == "start":
                    if tag == "trace":
                        trace = {}
                    elif tag == "event":
                        event = {}
                        depth_in_event = 0
                    elif event is not None and tag in _SCALARS | {"list", "container"}:
                        depth_in_event += 1
                    continue
                if tag == "event" and event is not None:
                    count += 1
                    row = {**{f"trace:{k}": v for k, v in trace.items()}, **event}
                    buffer[ROW].append(count)
                    for column in columns:
                        buffer[column].append(row.get(column))
                    event = None
                    if count % BATCH_ROWS == 0:
                        yield pa.RecordBatch.from_pydict(buffer, schema=schema)
                        buffer = {c: [] for c in [ROW, *columns]}
                elif tag in _SCALARS:
                    key, value = element.get("key"), element.get("value")
                    if event is not None:
                        # Only the event's own attributes; nested ones (in lists) are skipped.
                        if depth_in_event == 1 and key in wanted:
                            event[key] = value or ""
                        depth_in_event -= 1
                    elif key is not None and value is not None:
                        trace[key] = value
                elif tag in ("list", "container") and event is not None:
                    depth_in_event -= 1
                if tag in ("event", "trace"):
                    element.clear()
    except (SyntaxError, EOFError, OSError) as exc:  # ParseError subclasses SyntaxError
        raise XesError(f"{path}: not a readable XES file after event {count}: {exc}") from None
    if buffer[ROW]:
        yield pa.RecordBatch.from_pydict(buffer, schema=schema)


def xes_reader(path: Path, spec: SourceSpec) -> pa.RecordBatchReader:
    """A streaming reader the store can scan inside its load transaction."""
    columns = spec.columns()
    schema = pa.schema([(ROW, pa.int64()), *[(c, pa.string()) for c in columns]])
    return pa.RecordBatchReader.from_batches(schema, read_xes(path, columns=columns))
