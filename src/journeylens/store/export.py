"""The store's events as XES or OCEL 2.0 JSON, for process-mining tools (issue 6).

One journey per customer: events with a customer key (stitch first), ordered by customer, time,
then source, source row and event id, so ties keep the order their files gave them and two
exports of the same store are byte-identical. DuckDB sorts (spilling under its memory limit)
and hands the rows over as Arrow batches; each batch is written and dropped, so Python never
holds more than one batch of events, whatever the store's size. The OCEL document's headers
(event types and their attribute types) come from aggregate queries run first, so events can
be written as they arrive and still be typed as the headers declare.

The file appears only once complete: it is written beside the target and renamed over it.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal
from xml.sax.saxutils import escape

import duckdb
import pyarrow as pa

from journeylens.errors import JourneylensError

EventFormat = Literal["xes", "ocel"]
BATCH_ROWS = 10_000
CUSTOMER_TYPE = "customer"  # the OCEL object type of the customers
PREFIX = "journeylens:"

_SUFFIXES: dict[str, EventFormat] = {
    ".xes": "xes",
    ".jsonocel": "ocel",
    ".ocel.json": "ocel",
    ".json": "ocel",
}
# Characters XML 1.0 cannot carry at all (C0 controls but tab, LF, CR; lone surrogates;
# U+FFFE/U+FFFF): replaced by U+FFFD, so the document always parses.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# In attribute values, parsers turn raw tab, LF and CR into spaces: written as references.
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_INT64 = (-(2**63), 2**63 - 1)

# Store columns written as journeylens:<name> attributes, with their XES/OCEL types.
_FIELDS: tuple[tuple[str, Literal["string", "float"]], ...] = (
    ("source", "string"),
    ("source_event_id", "string"),
    ("channel", "string"),
    ("touchpoint", "string"),
    ("device", "string"),
    ("value", "float"),
    ("text", "string"),
    ("score", "float"),
    ("score_type", "string"),
    ("language", "string"),
)
_COLUMNS = (
    "customer_key, activity, event_id::VARCHAR AS event_id, "
    # UTC, milliseconds unless the time has finer ones: ISO 8601 with its offset.
    "CASE WHEN microsecond(ts) % 1000 = 0 "
    "THEN strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%g') "
    "ELSE strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f') END || '+00:00' AS time, "
    + ", ".join(name for name, _ in _FIELDS)
    + ", attributes::VARCHAR AS attributes"
)
_ORDER = "customer_key, ts, source, source_row, event_id"


class ExportError(JourneylensError):
    """The export cannot be written (unknown format, nothing stitched); no file was left."""


def export_format(path: Path, explicit: str | None = None) -> EventFormat:
    """The format named, or the one the file name says (``.gz`` compresses either)."""
    if explicit is not None:
        if explicit in ("xes", "ocel"):
            return "xes" if explicit == "xes" else "ocel"
        raise ExportError(f"unknown export format {explicit!r}: use xes or ocel")
    name = path.name.lower().removesuffix(".gz")
    for suffix, fmt in _SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    raise ExportError(
        f"cannot tell the export format of {path}: name it .xes, .xes.gz, .jsonocel or "
        ".ocel.json, or give the format"
    )


def export_events(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: EventFormat,
    *,
    limit_customers: int | None = None,
) -> int:
    """Write the stitched events to ``path``; the number of events written."""
    if limit_customers is not None and limit_customers < 1:
        raise ExportError(f"limit_customers must be at least 1, not {limit_customers}")
    scope = _scope(limit_customers)
    [(events,)] = con.execute(f"SELECT count(*) FROM events WHERE {scope}").fetchall()
    if not events:
        raise ExportError("no customer events to export: load data and run journeylens stitch")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Beside the target (same file system, so the rename is atomic), readable by its owner
        # only: the file holds customer data.
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        os.close(handle)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    partial = Path(name)
    try:
        with _open(partial, name=path.name) as out:
            writer = _write_xes if fmt == "xes" else _write_ocel
            written = writer(con, scope, out)
        partial.replace(path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return written


# -- shared ------------------------------------------------------------------------------------


def _scope(limit_customers: int | None) -> str:
    """Which events: those of a customer; with a limit, of the first customers by key (keys are
    hashes, so that is a fair sample, and the same one every time)."""
    where = "customer_key IS NOT NULL"
    if limit_customers is None:
        return where
    return (
        f"{where} AND customer_key IN (SELECT DISTINCT customer_key FROM events WHERE {where} "
        f"ORDER BY customer_key LIMIT {int(limit_customers)})"
    )


@contextmanager
def _open(path: Path, *, name: str) -> Iterator[IO[str]]:
    """UTF-8 text to ``path``, gzip-compressed when ``name`` (the target's) ends in ``.gz``.

    The gzip header names the target, not the temporary file, and carries no time, so the
    same store always compresses to the same bytes."""
    with path.open("wb") as raw:
        if not name.lower().endswith(".gz"):
            with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as text:
                yield text
            return
        inner = name[: -len(".gz")]
        with (
            gzip.GzipFile(filename=inner, mode="wb", fileobj=raw, mtime=0) as packed,
            io.TextIOWrapper(packed, encoding="utf-8", newline="\n") as text,
        ):
            yield text


def _batches(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[list[dict[str, Any]]]:
    """Rows of ``sql`` a batch at a time; DuckDB streams them, nothing accumulates here."""
    reader: pa.RecordBatchReader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    try:
        for batch in reader:
            yield batch.to_pylist()
    finally:
        reader.close()


def _events(con: duckdb.DuckDBPyConnection, scope: str) -> Iterator[list[dict[str, Any]]]:
    return _batches(con, f"SELECT {_COLUMNS} FROM events WHERE {scope} ORDER BY {_ORDER}")


def _attributes(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _free_name(key: str, taken: Iterable[str]) -> str:
    """An attribute's name, moved aside (``attr:`` in front) when it would shadow a field."""
    used = set(taken)
    while key in used:
        key = f"attr:{key}"
    return key


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


# -- XES -----------------------------------------------------------------------------------------

_XES_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by journeylens: one trace per customer. -->
<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
    <string key="journeylens:source" value="__INVALID__"/>
    <id key="journeylens:event_id" value="00000000-0000-0000-0000-000000000000"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="journeylens export"/>
"""
_XES_RESERVED = (
    "concept:name",
    "time:timestamp",
    f"{PREFIX}event_id",
    *(f"{PREFIX}{name}" for name, _ in _FIELDS),
)


def _xml(text: str) -> str:
    """Text as an XML attribute value (without the quotes): escaped, and always valid."""
    return escape(_NOT_XML.sub("\ufffd", text), _ATTRIBUTE_ENTITIES)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    return repr(value)


def _xes_typed(value: object) -> tuple[str, str] | None:
    """An attribute value as its XES element and text; None for a JSON null (not written)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean", "true" if value else "false"
    if isinstance(value, int):
        # xs:long; a larger integer keeps its digits as text rather than lose them
        return ("int" if _INT64[0] <= value <= _INT64[1] else "string"), str(value)
    if isinstance(value, float):
        return "float", _float_text(value)
    if isinstance(value, str):
        return "string", value
    return "string", json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _xes_attribute(tag: str, key: str, text: str, indent: str = "      ") -> str:
    return f'{indent}<{tag} key="{_xml(key)}" value="{_xml(text)}"/>\n'


def _xes_event(row: dict[str, Any]) -> str:
    parts = [
        "    <event>\n",
        _xes_attribute("string", "concept:name", row["activity"]),
        _xes_attribute("date", "time:timestamp", row["time"]),
        _xes_attribute("id", f"{PREFIX}event_id", row["event_id"]),
    ]
    for name, kind in _FIELDS:
        value = row[name]
        if value is not None:
            text = _float_text(value) if kind == "float" else str(value)
            parts.append(_xes_attribute(kind, f"{PREFIX}{name}", text))
    for key, value in _attributes(row["attributes"]).items():
        typed = _xes_typed(value)
        if typed is not None:
            parts.append(_xes_attribute(typed[0], _free_name(key, _XES_RESERVED), typed[1]))
    parts.append("    </event>\n")
    return "".join(parts)


def _write_xes(con: duckdb.DuckDBPyConnection, scope: str, out: IO[str]) -> int:
    out.write(_XES_HEAD)
    customer: str | None = None
    written = 0
    for rows in _events(con, scope):
        chunk: list[str] = []
        for row in rows:
            if row["customer_key"] != customer:
                if customer is not None:
                    chunk.append("  </trace>\n")
                customer = row["customer_key"]
                chunk.append("  <trace>\n")
                chunk.append(_xes_attribute("string", "concept:name", str(customer), "    "))
            chunk.append(_xes_event(row))
        written += len(rows)
        out.write("".join(chunk))
    if customer is not None:
        out.write("  </trace>\n")
    out.write("</log>\n")
    return written


# -- OCEL 2.0 JSON -------------------------------------------------------------------------------

OcelType = Literal["string", "integer", "float", "boolean"]
_OCEL_RESERVED = tuple(f"{PREFIX}{name}" for name, _ in _FIELDS)


def _ocel_type(json_types: Iterable[str]) -> OcelType:
    """One type for an attribute of an event type, from the JSON types its values have."""
    found = set(json_types)
    if found == {"BOOLEAN"}:
        return "boolean"
    if found <= {"BIGINT", "UBIGINT"}:
        return "integer"
    if found <= {"BIGINT", "UBIGINT", "DOUBLE"}:
        return "float"
    return "string"


def _ocel_value(value: object, kind: OcelType) -> object:
    """The value as its declared type; when Python and DuckDB read a number differently, text."""
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return _number(float(value))
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _event_types(con: duckdb.DuckDBPyConnection, scope: str) -> dict[str, dict[str, OcelType]]:
    """Each activity's attributes (store fields first, then JSON keys) and their types."""
    counts = ", ".join(f"count({name}) > 0" for name, _ in _FIELDS)
    types: dict[str, dict[str, OcelType]] = {}
    for activity, *present in con.execute(
        f"SELECT activity, {counts} FROM events WHERE {scope} GROUP BY activity ORDER BY activity"
    ).fetchall():
        types[activity] = {
            f"{PREFIX}{name}": kind
            for (name, kind), has in zip(_FIELDS, present, strict=True)
            if has
        }
    for activity, key, json_types in con.execute(
        f"SELECT activity, j.key, list(DISTINCT j.type) FROM events, json_each(attributes) j "
        f"WHERE {scope} AND json_type(attributes) = 'OBJECT' AND j.type <> 'NULL' "
        "GROUP BY ALL ORDER BY activity, j.key"
    ).fetchall():
        types[activity][_free_name(key, _OCEL_RESERVED)] = _ocel_type(json_types)
    return types


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _ocel_event(row: dict[str, Any], declared: dict[str, OcelType]) -> dict[str, Any]:
    attributes: list[dict[str, Any]] = []
    for name, kind in _FIELDS:
        value = row[name]
        if value is not None:
            value = _number(value) if kind == "float" else value
            attributes.append({"name": f"{PREFIX}{name}", "value": value})
    for key, value in _attributes(row["attributes"]).items():
        name = _free_name(key, _OCEL_RESERVED)
        if value is not None and name in declared:
            attributes.append({"name": name, "value": _ocel_value(value, declared[name])})
    return {
        "id": row["event_id"],
        "type": row["activity"],
        "time": row["time"],
        "attributes": attributes,
        "relationships": [{"objectId": row["customer_key"], "qualifier": CUSTOMER_TYPE}],
    }


def _write_ocel(con: duckdb.DuckDBPyConnection, scope: str, out: IO[str]) -> int:
    types = _event_types(con, scope)
    event_types = [
        {"name": name, "attributes": [{"name": a, "type": t} for a, t in attributes.items()]}
        for name, attributes in types.items()
    ]
    out.write('{"objectTypes":')
    out.write(_json([{"name": CUSTOMER_TYPE, "attributes": []}]))
    out.write(',\n"eventTypes":')
    out.write(_json(event_types))
    out.write(',\n"objects":[')
    first = True
    for rows in _batches(
        con, f"SELECT DISTINCT customer_key FROM events WHERE {scope} ORDER BY customer_key"
    ):
        chunk = []
        for row in rows:
            item = {"id": row["customer_key"], "type": CUSTOMER_TYPE, "attributes": []}
            chunk.append(("\n" if first else ",\n") + _json(item))
            first = False
        out.write("".join(chunk))
    out.write('],\n"events":[')
    written = 0
    for rows in _events(con, scope):
        chunk = []
        for row in rows:
            event = _ocel_event(row, types[row["activity"]])
            chunk.append(("\n" if not written else ",\n") + _json(event))
            written += 1
        out.write("".join(chunk))
    out.write("]}\n")
    return written
