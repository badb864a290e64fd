"""OCEL 2.0 object-centric event logs (JSON and SQLite): one journey per customer object.

An OCEL event relates to many objects (a customer, an order, its items...). journeylens needs
journeys, so one object type is the customer (``object_type`` in the source, else the type named
like "customer" or "client", else the only type) and every (event, customer) pair becomes one
row: the event relates to the customer directly, or to an object (an order) that has an
object-to-object relationship with the customer, in either direction. An event of two customers
is two rows; an event of no customer (restocking an item) is no row.

Both readers stream Arrow batches of text columns, like the XES reader. OCEL JSON is one
document, read twice without ever holding it whole: a first pass checks the whole file and
indexes the objects (so a malformed file fails before any row is loaded), a second streams the
events. Both run when the store starts reading, never for a file it skips as already loaded.
Memory grows with the number of objects and object-to-object relationships, never with the
events. OCEL SQLite is read with ordered SQL queries over a cursor.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, NamedTuple

import pyarrow as pa

from journeylens.errors import JourneylensError
from journeylens.model.sources import SourceSpec

BATCH_ROWS = 50_000
ROW = "_ord"
CHUNK = 1 << 20  # characters read at a time from OCEL JSON
MAX_VALUE = 64 << 20  # a single event or object larger than this is taken as malformed

EVENT = "ocel:eid"
OBJECT = "ocel:oid"
ROW_ID = "ocel:event"
TYPE = "ocel:type"
TIME = "ocel:timestamp"
OBJECTS = "ocel:objects"
GENERATED = (EVENT, OBJECT, ROW_ID, TYPE, TIME, OBJECTS)
_CUSTOMER_WORDS = ("customer", "client")


class OcelError(JourneylensError):
    """The OCEL file is malformed or its customers cannot be told; nothing was loaded."""


def default_spec(source_id: str, path: str, fmt: str, object_type: str | None = None) -> SourceSpec:
    """OCEL needs no mapping: the reader names its columns after the standard's fields."""
    return SourceSpec.model_validate(
        {
            "id": source_id,
            "path": path,
            "format": fmt,
            "timestamp": TIME,
            "activity": TYPE,
            "channel": None,
            "event_id": ROW_ID,
            "identifiers": [{"column": OBJECT, "type": "customer_id"}],
            "attributes": [EVENT, OBJECTS],
            "object_type": object_type,
        }
    )


def customer_type(path: Path, counts: Mapping[str, int], wanted: str | None) -> str:
    """The object type whose objects are the customers, or an error that lists the choices."""
    listing = ", ".join(
        f"{name} ({n} object{'' if n == 1 else 's'})"
        for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )
    if wanted is not None:
        if wanted in counts:
            return wanted
        raise OcelError(f"{path}: no object type {wanted!r}; the log has {listing or 'none'}")
    named = [t for t in counts if any(w in t.lower() for w in _CUSTOMER_WORDS)]
    exact = [t for t in named if t.lower().rstrip("s") in _CUSTOMER_WORDS]
    if len(named) == 1:
        return named[0]
    if len(exact) == 1:
        return exact[0]
    if not named and len(counts) == 1:
        return next(iter(counts))
    if not counts:
        raise OcelError(f"{path}: the log has no objects, so no customers to follow")
    raise OcelError(
        f"{path}: cannot tell which object type is the customer; the log has {listing}. "
        "Name it with `object_type:` in the source's YAML (sources/<id>.yaml) "
        "or --object-type on the command line"
    )


# -- rows, shared by both formats ------------------------------------------------------------------


def _text(value: object) -> str | None:
    """Attribute values as text; JSON spelling for anything that is not already a string."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _timestamp(value: object, naive_offset: str | None) -> str | None:
    """ISO 8601 with an offset; unparseable text passes through so the store quarantines it."""
    text = _text(value)
    if text is None or naive_offset is None:
        return text
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if moment.tzinfo is None:
        return moment.isoformat() + naive_offset
    return moment.isoformat()


def _naive_offset(spec: SourceSpec) -> str | None:
    """The offset given to times without one, or None to leave the raw text to the store.

    A ``timestamp_format`` means the user parses the raw text; another ``timezone`` is applied
    by the store to naive times, so neither may be rewritten here.
    """
    if spec.timestamp_format:
        return None
    return "+00:00" if spec.timezone.upper() == "UTC" else ""


def _objects_text(related: Iterable[tuple[str, str | None, str | None]], customer: str) -> str:
    """The event's other objects as compact JSON, in a stable order whatever the format."""
    others = sorted((r for r in related if r[0] != customer), key=lambda r: (r[0], r[2] or ""))
    return json.dumps(
        [{"id": i, "type": t, "qualifier": q} for i, t, q in others],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _schema(columns: list[str]) -> pa.Schema:
    return pa.schema([(ROW, pa.int64()), *[(c, pa.string()) for c in columns]])


class _Batches:
    """Collects rows into Arrow batches of at most BATCH_ROWS, numbering them from 1."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.schema = _schema(columns)
        self.count = 0
        self.buffer: dict[str, list[object]] = {c: [] for c in [ROW, *columns]}

    def add(self, row: Mapping[str, str | None]) -> pa.RecordBatch | None:
        self.count += 1
        self.buffer[ROW].append(self.count)
        for column in self.columns:
            self.buffer[column].append(row.get(column))
        return self.flush() if len(self.buffer[ROW]) >= BATCH_ROWS else None

    def flush(self) -> pa.RecordBatch | None:
        if not self.buffer[ROW]:
            return None
        batch = pa.RecordBatch.from_pydict(self.buffer, schema=self.schema)
        self.buffer = {c: [] for c in [ROW, *self.columns]}
        return batch


def _check_attributes(path: Path, columns: list[str], known: Iterable[str]) -> None:
    """A mapped column that no event has is a typo in the source, not a column of nulls."""
    have = set(known)
    missing = [c for c in columns if c not in GENERATED and c not in have]
    if missing:
        offered = ", ".join([*GENERATED, *sorted(have)][:40])
        raise OcelError(
            f"{path}: no column {', '.join(repr(m) for m in missing)} (an OCEL log has: "
            f"{offered}); map columns in the source's YAML, e.g. timestamp: {TIME}"
        )


# -- OCEL JSON -------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _Cursor:
    """Reads one JSON document a value at a time, keeping only the unread text in memory."""

    def __init__(self, handle: IO[str], path: Path, skip: int = 0) -> None:
        self.handle = handle
        self.path = path
        self.text = ""
        self.pos = 0
        self.base = 0  # characters dropped before ``text``
        self.lines = 0  # newlines dropped
        self.line_start = 0  # absolute offset of the line ``text`` starts in
        self.eof = False
        while skip > 0:
            chunk = handle.read(min(skip, CHUNK))
            if not chunk:
                break
            self._drop(chunk)
            skip -= len(chunk)

    def _drop(self, gone: str) -> None:
        newline = gone.rfind("\n")
        if newline >= 0:
            self.lines += gone.count("\n")
            self.line_start = self.base + newline + 1
        self.base += len(gone)

    def _more(self, at_least: int = CHUNK) -> bool:
        if self.eof:
            return False
        if self.pos >= CHUNK:
            self._drop(self.text[: self.pos])
            self.text = self.text[self.pos :]
            self.pos = 0
        chunk = self.handle.read(max(at_least, CHUNK))
        if not chunk:
            self.eof = True
            return False
        self.text += chunk
        return True

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def fail(self, message: str, at: int | None = None) -> OcelError:
        at = self.pos if at is None else at
        newline = self.text.rfind("\n", 0, at)
        start = self.base + newline + 1 if newline >= 0 else self.line_start
        line = self.lines + self.text.count("\n", 0, at) + 1
        column = self.base + at - start + 1
        return OcelError(
            f"{self.path}: not OCEL 2.0 JSON (line {line}, column {column}): {message}"
        )

    def peek(self) -> str:
        """The next character that is not white space; empty at the end of the file."""
        while True:
            match = _WS.match(self.text, self.pos)
            assert match is not None  # the pattern matches the empty string
            self.pos = match.end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._more():
                return ""

    def punct(self, allowed: str, what: str) -> str:
        found = self.peek()
        if not found or found not in allowed:
            raise self.fail(f"expected {what}, found {repr(found) if found else 'end of file'}")
        self.pos += 1
        return found

    def value(self) -> object:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except RecursionError:
                raise self.fail("values nested too deeply") from None
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise self.fail(exc.msg, exc.pos) from None
                if len(self.text) - self.pos > MAX_VALUE:
                    raise self.fail(
                        f"{exc.msg} (or a value over {MAX_VALUE >> 20} MiB)", exc.pos
                    ) from None
                self._more(len(self.text) - self.pos)  # doubles what is held: linear overall
                continue
            if end == len(self.text) and self._more():
                continue  # a number cut by the read may go on
            self.pos = end
            return value

    def end(self) -> None:
        if self.peek():
            raise self.fail("unexpected text after the end of the document")

    def items(self) -> Iterator[object]:
        """The elements of the array starting here, one at a time."""
        self.punct("[", "an array")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            if self.punct(",]", "',' or ']'") == "]":
                return


class _Event(NamedTuple):
    id: str
    type: str | None
    time: object
    attributes: dict[str, object]
    relationships: list[tuple[str, str | None]]


def _ident(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _relationships(value: object, where: str, path: Path) -> list[tuple[str, str | None]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise OcelError(f"{path}: not OCEL 2.0 JSON: {where}: `relationships` must be a list")
    found = []
    for number, item in enumerate(value):
        target = _ident(item.get("objectId")) if isinstance(item, dict) else None
        if target is None or not isinstance(item, dict):
            raise OcelError(
                f"{path}: not OCEL 2.0 JSON: {where}: relationship {number} has no `objectId`"
            )
        found.append((target, _text(item.get("qualifier"))))
    return found


def _event(item: object, index: int, path: Path) -> _Event:
    where = f"events[{index}]"
    if not isinstance(item, dict):
        raise OcelError(f"{path}: not OCEL 2.0 JSON: {where} is not an object")
    eid = _ident(item.get("id"))
    if eid is None:
        raise OcelError(f"{path}: not OCEL 2.0 JSON: {where} has no `id`")
    where = f"{where} (id {eid!r})"
    raw = item.get("attributes")
    if raw is not None and not isinstance(raw, list):
        raise OcelError(f"{path}: not OCEL 2.0 JSON: {where}: `attributes` must be a list")
    attributes: dict[str, object] = {}
    for attribute in raw or []:
        if not isinstance(attribute, dict) or not isinstance(attribute.get("name"), str):
            raise OcelError(f"{path}: not OCEL 2.0 JSON: {where}: an attribute has no `name`")
        attributes[attribute["name"]] = attribute.get("value")
    return _Event(
        eid,
        _text(item.get("type")),
        item.get("time"),
        attributes,
        _relationships(item.get("relationships"), where, path),
    )


@dataclass
class _JsonIndex:
    """What the first pass learns: every object's type, the O2O edges, where events start."""

    types: dict[str, str] = field(default_factory=dict)
    declared: list[str] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    attributes: set[str] = field(default_factory=set)
    events_at: int | None = None
    events: int = 0

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.declared, 0)
        counts.update(Counter(self.types.values()))
        return counts

    def owners(self, customer: str) -> dict[str, list[str]]:
        """Customers of each other object, through one object-to-object hop either way."""
        owners: dict[str, list[str]] = {}
        for source, target in self.edges:
            source_type, target_type = self.types.get(source), self.types.get(target)
            if target_type == customer and source_type != customer:
                owners.setdefault(source, []).append(target)
            elif source_type == customer and target_type != customer:
                owners.setdefault(target, []).append(source)
        return owners


def _open_text(path: Path) -> IO[str]:
    return path.open(encoding="utf-8-sig", newline="")


def _index_json(path: Path) -> _JsonIndex:
    index = _JsonIndex()
    interned: dict[str, str] = {}
    try:
        with _open_text(path) as handle:
            cursor = _Cursor(handle, path)
            cursor.punct("{", "a JSON object")
            if cursor.peek() == "}":
                cursor.pos += 1
            else:
                while True:
                    key = cursor.value()
                    if not isinstance(key, str):
                        raise cursor.fail("expected a member name")
                    cursor.punct(":", "':'")
                    _index_member(cursor, key, index, interned)
                    if cursor.punct(",}", "',' or '}'") == "}":
                        break
            cursor.end()
    except UnicodeDecodeError as exc:
        raise OcelError(f"{path}: not OCEL 2.0 JSON: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise OcelError(f"{path}: cannot read: {exc}") from None
    if index.events_at is None:
        raise OcelError(f"{path}: not OCEL 2.0 JSON: no `events` array")
    return index


def _index_member(cursor: _Cursor, key: str, index: _JsonIndex, interned: dict[str, str]) -> None:
    path = cursor.path
    if key.startswith("ocel:"):
        raise cursor.fail(
            f"{key!r} is OCEL 1.0; journeylens reads OCEL 2.0 (convert the log first)"
        )
    if key == "events":
        if index.events_at is not None:
            raise cursor.fail("a second `events` member")
        cursor.peek()
        index.events_at = cursor.offset
        for number, item in enumerate(cursor.items()):
            event = _event(item, number, path)
            index.attributes.update(event.attributes)
            index.events += 1
    elif key == "objects":
        for number, item in enumerate(cursor.items()):
            oid = _ident(item.get("id")) if isinstance(item, dict) else None
            otype = item.get("type") if isinstance(item, dict) else None
            if oid is None or not isinstance(otype, str) or not isinstance(item, dict):
                raise OcelError(
                    f"{path}: not OCEL 2.0 JSON: objects[{number}] needs `id` and `type`"
                )
            index.types[oid] = interned.setdefault(otype, otype)
            where = f"objects[{number}] (id {oid!r})"
            for target, _ in _relationships(item.get("relationships"), where, path):
                index.edges.append((oid, target))
    elif key in ("objectTypes", "eventTypes"):
        declared = cursor.value()
        if not isinstance(declared, list) or not all(
            isinstance(t, dict) and isinstance(t.get("name"), str) for t in declared
        ):
            raise OcelError(f"{path}: not OCEL 2.0 JSON: `{key}` must be a list of named types")
        if key == "objectTypes":
            index.declared += [t["name"] for t in declared]
        else:
            for kind in declared:
                attributes = kind.get("attributes")
                if isinstance(attributes, list):
                    index.attributes.update(
                        a["name"]
                        for a in attributes
                        if isinstance(a, dict) and isinstance(a.get("name"), str)
                    )
    else:
        cursor.value()  # an extension the standard allows; not needed for journeys


def _json_batches(
    path: Path, spec: SourceSpec, index: _JsonIndex, customer: str
) -> Iterator[pa.RecordBatch]:
    columns = spec.columns()
    want_objects = OBJECTS in columns
    naive = _naive_offset(spec)
    owners = index.owners(customer)
    types = index.types
    batches = _Batches(columns)
    assert index.events_at is not None
    try:
        with _open_text(path) as handle:
            cursor = _Cursor(handle, path, skip=index.events_at)
            for number, item in enumerate(cursor.items()):
                event = _event(item, number, path)
                direct = [oid for oid, _ in event.relationships if types.get(oid) == customer]
                via = [
                    owner
                    for oid, _ in event.relationships
                    if types.get(oid) != customer
                    for owner in owners.get(oid, ())
                ]
                if not direct and not via:
                    continue
                related = [(oid, types.get(oid), q) for oid, q in event.relationships]
                row: dict[str, str | None] = {k: _text(v) for k, v in event.attributes.items()}
                row[EVENT] = event.id
                row[TYPE] = event.type
                row[TIME] = _timestamp(event.time, naive)
                for oid in dict.fromkeys([*direct, *via]):
                    row[OBJECT] = oid
                    row[ROW_ID] = f"{event.id}@{oid}"
                    if want_objects:
                        row[OBJECTS] = _objects_text(related, oid)
                    if (batch := batches.add(row)) is not None:
                        yield batch
    except (UnicodeDecodeError, OSError) as exc:  # the file changed since it was checked
        raise OcelError(f"{path}: cannot read: {exc}") from None
    if (batch := batches.flush()) is not None:
        yield batch


def ocel_json_reader(path: Path, spec: SourceSpec) -> pa.RecordBatchReader:
    """Rows as the store reads them, after a first pass that checks and indexes the whole file.

    Both passes run only when the store starts reading, so a file it skips as already loaded
    (same checksum) is never read at all.
    """
    columns = spec.columns()

    def batches() -> Iterator[pa.RecordBatch]:
        index = _index_json(path)
        customer = customer_type(path, index.counts(), spec.object_type)
        _check_attributes(path, columns, index.attributes)
        yield from _json_batches(path, spec, index, customer)

    return pa.RecordBatchReader.from_batches(_schema(columns), batches())


# -- OCEL SQLite -----------------------------------------------------------------------------------

_REQUIRED = {
    "event": ("ocel_id", "ocel_type"),
    "object": ("ocel_id", "ocel_type"),
    "event_object": ("ocel_event_id", "ocel_object_id"),
    "event_map_type": ("ocel_type", "ocel_type_map"),
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(path: Path) -> sqlite3.Connection:
    """Read-only: a load never changes the user's file.

    The store pulls batches from whichever of its threads is free, so the connection may not
    be tied to one thread; the pulls never overlap, which is what sqlite3's check is for.
    """
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)


@dataclass
class _Query:
    sql: str
    params: list[object]
    attributes: list[str]


def _table_columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in con.execute(f"PRAGMA table_info({_quote(table)})")]


def _plan_sqlite(path: Path, spec: SourceSpec) -> _Query:
    columns = spec.columns()
    try:
        con = _connect(path)
    except sqlite3.Error as exc:
        raise OcelError(f"{path}: cannot open as SQLite: {exc}") from None
    try:
        return _plan(con, path, spec, columns)
    except sqlite3.Error as exc:
        raise OcelError(f"{path}: not an OCEL 2.0 SQLite database: {exc}") from None
    except UnicodeDecodeError as exc:  # SQLite text must be UTF-8; a damaged file is not
        raise OcelError(
            f"{path}: not an OCEL 2.0 SQLite database: text is not UTF-8 ({exc.reason})"
        ) from None
    finally:
        con.close()


def _plan(con: sqlite3.Connection, path: Path, spec: SourceSpec, columns: list[str]) -> _Query:
    tables = {
        str(name).lower(): str(name)
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
    }
    for table, needed in _REQUIRED.items():
        if table not in tables:
            have = ", ".join(sorted(tables.values())[:20]) or "no tables"
            raise OcelError(
                f"{path}: not an OCEL 2.0 SQLite database: no table {table!r} (it has {have})"
            )
        present = {c.lower() for c in _table_columns(con, tables[table])}
        absent = [c for c in needed if c not in present]
        if absent:
            raise OcelError(
                f"{path}: not an OCEL 2.0 SQLite database: table {table!r} has no column "
                + ", ".join(repr(c) for c in absent)
            )
    counts: dict[str, int] = {}
    if "object_map_type" in tables:
        for (name,) in con.execute(f"SELECT ocel_type FROM {_quote(tables['object_map_type'])}"):
            if name is not None:
                counts[str(name)] = 0
    for name, number in con.execute("SELECT ocel_type, count(*) FROM object GROUP BY ocel_type"):
        if name is not None:
            counts[str(name)] = int(number)
    customer = customer_type(path, counts, spec.object_type)

    mapping = {
        str(t): str(m)
        for t, m in con.execute("SELECT ocel_type, ocel_type_map FROM event_map_type")
    }
    sources: list[tuple[str, str, list[str]]] = []
    for (event_type,) in con.execute(
        "SELECT DISTINCT ocel_type FROM event WHERE ocel_type IS NOT NULL"
    ):
        mapped = mapping.get(str(event_type))
        source = tables.get(f"event_{mapped}".lower()) if mapped is not None else None
        if source is None:
            raise OcelError(
                f"{path}: not an OCEL 2.0 SQLite database: no table for event type "
                f"{event_type!r} (event_map_type maps it to {mapped!r})"
            )
        table_columns = _table_columns(con, source)
        if not {"ocel_id", "ocel_time"} <= {c.lower() for c in table_columns}:
            raise OcelError(
                f"{path}: not an OCEL 2.0 SQLite database: table {source!r} needs the columns "
                "ocel_id and ocel_time"
            )
        sources.append((str(event_type), source, table_columns))
    reserved = {"ocel_id", "ocel_time"}
    _check_attributes(
        path, columns, (c for _, _, cs in sources for c in cs if c.lower() not in reserved)
    )
    attributes = [c for c in columns if c not in GENERATED]

    params: list[object] = [customer]
    object_object = tables.get("object_object")
    if object_object is not None:
        present = {c.lower() for c in _table_columns(con, object_object)}
        if not {"ocel_source_id", "ocel_target_id"} <= present:
            raise OcelError(
                f"{path}: not an OCEL 2.0 SQLite database: table 'object_object' needs the "
                "columns ocel_source_id and ocel_target_id"
            )
    qualifier = (
        "eo.ocel_qualifier"
        if "ocel_qualifier" in {c.lower() for c in _table_columns(con, tables["event_object"])}
        else "NULL"
    )
    hops = ""
    if object_object is not None:
        oo = _quote(object_object)
        for near, far in (
            ("ocel_source_id", "ocel_target_id"),
            ("ocel_target_id", "ocel_source_id"),
        ):
            hops += (
                f" UNION SELECT eo.ocel_event_id, oo.{far} FROM event_object eo "
                f"JOIN {oo} oo ON oo.{near} = eo.ocel_object_id "
                f"WHERE oo.{far} IN (SELECT oid FROM cust) "
                "AND eo.ocel_object_id NOT IN (SELECT oid FROM cust)"
            )
    branches = []
    for event_type, table, table_columns in sources:
        picked = [
            f"{_quote(a) if a in table_columns else 'NULL'} AS a{i}"
            for i, a in enumerate(attributes)
        ]
        branches.append(
            f"SELECT ? AS type, ocel_id AS eid, ocel_time AS t"
            f"{''.join(', ' + p for p in picked)} FROM {_quote(table)}"
        )
        params.append(event_type)
    if not branches:
        empty = "".join(f", NULL AS a{i}" for i in range(len(attributes)))
        branches.append(f"SELECT NULL AS type, NULL AS eid, NULL AS t{empty} WHERE 0")
    related = (
        ", related(eid, objs) AS (SELECT eo.ocel_event_id, json_group_array(json_array("
        f"eo.ocel_object_id, o.ocel_type, {qualifier})) FROM event_object eo "
        "LEFT JOIN object o ON o.ocel_id = eo.ocel_object_id GROUP BY eo.ocel_event_id)"
        if OBJECTS in columns
        else ""
    )
    sql = (
        "WITH cust(oid) AS (SELECT ocel_id FROM object WHERE ocel_type = ?), "
        "pairs(eid, oid) AS (SELECT ocel_event_id, ocel_object_id FROM event_object "
        f"WHERE ocel_object_id IN (SELECT oid FROM cust){hops}), "
        f"times AS ({' UNION ALL '.join(branches)}){related} "
        f"SELECT p.eid, p.oid, e.ocel_type, x.t, {'r.objs' if related else 'NULL'}"
        f"{''.join(f', x.a{i}' for i in range(len(attributes)))} "
        "FROM pairs p LEFT JOIN event e ON e.ocel_id = p.eid "
        "LEFT JOIN times x ON x.eid = p.eid AND x.type = e.ocel_type "
        f"{'LEFT JOIN related r ON r.eid = p.eid ' if related else ''}"
        "ORDER BY x.t, p.eid, p.oid"
    )
    return _Query(sql, params, attributes)


def _sqlite_batches(path: Path, spec: SourceSpec, query: _Query) -> Iterator[pa.RecordBatch]:
    batches = _Batches(spec.columns())
    naive = _naive_offset(spec)
    last: tuple[object, list[tuple[str, str | None, str | None]]] = (None, [])
    con = _connect(path)
    try:
        cursor = con.execute(query.sql, query.params)
        while rows := cursor.fetchmany(10_000):
            for eid_value, oid_value, event_type, time, objects, *values in rows:
                eid, oid = _text(eid_value) or "", _text(oid_value) or ""
                row = {a: _text(v) for a, v in zip(query.attributes, values, strict=True)}
                row[EVENT] = eid
                row[OBJECT] = oid
                row[ROW_ID] = f"{eid}@{oid}"
                row[TYPE] = _text(event_type)
                row[TIME] = _timestamp(time, naive)
                if objects is not None:
                    if last[0] != eid_value:  # rows of one event come together
                        last = (
                            eid_value,
                            [
                                (_text(i) or "", _text(t), _text(q))
                                for i, t, q in json.loads(objects)
                            ],
                        )
                    row[OBJECTS] = _objects_text(last[1], oid)
                if (batch := batches.add(row)) is not None:
                    yield batch
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        raise OcelError(f"{path}: cannot read the OCEL 2.0 SQLite database: {exc}") from None
    finally:
        con.close()
    if (batch := batches.flush()) is not None:
        yield batch


def ocel_sqlite_reader(path: Path, spec: SourceSpec) -> pa.RecordBatchReader:
    """Rows as the store reads them; the schema check and the choice of customers run first,
    when the store starts reading (never for a file it skips as already loaded)."""

    def batches() -> Iterator[pa.RecordBatch]:
        yield from _sqlite_batches(path, spec, _plan_sqlite(path, spec))

    return pa.RecordBatchReader.from_batches(_schema(spec.columns()), batches())
