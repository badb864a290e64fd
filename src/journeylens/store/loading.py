"""Loading one file into the store as one atomic, idempotent, reconciled batch.

The whole load is set-based SQL compiled from the :class:`SourceSpec`: DuckDB reads the file
(CSV, Parquet, JSON Lines natively; anything else as a stream of Arrow batches), one query types
and validates every row and says why a row is rejected, and two inserts add the new events and
their identifiers. Column names are quoted identifiers and every user value is a bound parameter.

Counts always reconcile: rows read = accepted + quarantined + duplicates.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from journeylens.errors import JourneylensError
from journeylens.model.selector import parse_selector
from journeylens.model.sources import SourceSpec
from journeylens.store.progress import (
    LoadProgress,
    ProgressCallback,
    RowCounter,
    estimated_rows,
    watching,
)
from journeylens.store.selector_sql import compile_selector


class LoadError(JourneylensError):
    """The file cannot be loaded at all (missing columns, unreadable); nothing was written."""


@dataclass
class BatchReport:
    """What one load did, in the words of ``journeylens ingest --json``."""

    file: str
    source: str
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    warnings: int = 0
    batch_id: int | None = None
    status: str = "loaded"
    seconds: float = 0.0
    checksum: str = ""
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ident(name: str) -> str:
    """A quoted SQL identifier: any column name, never SQL."""
    return '"' + name.replace('"', '""') + '"'


def pseudonym_key_from_env() -> str | None:
    """The keyed-hash secret for identifiers, when the deployment sets one."""
    return os.environ.get("JOURNEYLENS_PSEUDONYM_KEY") or None


def file_checksum(path: Path) -> str:
    return _read_whole(path, crs=False)[0]


def _read_whole(path: Path, *, crs: bool) -> tuple[str, bool]:
    """The file's SHA-256 and, if ``crs``, whether it has a bare carriage return in a file
    whose lines end in line feeds: one read for both."""
    digest = hashlib.sha256()
    bare = line_feeds = held = False  # held: the previous chunk ended in \r
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
            if not crs:
                continue
            line_feeds = line_feeds or b"\n" in chunk
            if held and not chunk.startswith(b"\n"):
                bare = True
            held = chunk.endswith(b"\r")
            if not bare and (returns := chunk.count(b"\r")):
                bare = returns - chunk.count(b"\r\n") - held > 0
    return digest.hexdigest(), bare and line_feeds


#: Bytes that stand in for a bare carriage return in a CSV copy (the first one the file lacks).
_CR_MARKERS = (b"\x1e", b"\x1d", b"\x1c", b"\x1f")


def _without_bare_crs(path: Path, folder: Path) -> tuple[Path, str] | None:
    """A copy of a CSV whose bare carriage returns are replaced by a byte it does not contain.

    DuckDB takes a carriage return for the end of a line wherever it is, so one inside an
    unquoted field fails the whole file (or splits the row). Exports written on Unix keep
    them in text fields (a tweet's "\\r\\r"); in the copy they are ordinary bytes, and the
    load puts them back into the values. ``None`` when every candidate byte occurs already.
    """
    present: set[bytes] = set()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            present.update(m for m in _CR_MARKERS if m in chunk)
    marker = next((m for m in _CR_MARKERS if m not in present), None)
    if marker is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    bare = re.compile(rb"\r(?!\n)")
    with tempfile.NamedTemporaryFile("wb", dir=folder, suffix=".csv", delete=False) as out:
        held = b""
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 22):
                chunk = held + chunk
                held = b"\r" if chunk.endswith(b"\r") else b""  # its \n may come next
                out.write(bare.sub(marker, chunk[: len(chunk) - len(held)]))
        out.write(held)
    return Path(out.name), marker.decode("ascii")


@dataclass
class _Raw:
    """The raw relation of a file: SQL for it, and how to read a column of it as text."""

    sql: str
    params: list[Any]
    kind: str  # csv | parquet | jsonl | arrow
    header_rows: int = 0
    # Whether the relation numbers its rows (_ord). CSV and Parquet do not: a window over the
    # reader would run the whole load on one thread, and the staged table's rowids, consecutive
    # and in file order since insertion order is preserved, number them for free.
    ordinal: bool = True
    first_rowid: int = 0  # of the staged table; a table made in a transaction starts high
    cr_marker: str | None = None  # read from a copy with bare carriage returns replaced

    def restored(self, text: str) -> str:
        """SQL for raw text with the copy's bare carriage returns put back."""
        if self.cr_marker is None:
            return text
        return f"replace({text}, {_sql_string(self.cr_marker)}, chr(13))"

    def ord(self, alias: str = "") -> str:
        """SQL for a staged row's 1-based position among the rows the reader returned."""
        prefix = f"{alias}." if alias else ""
        if self.ordinal:
            return f"{prefix}_ord"
        return f"({prefix}rowid - {self.first_rowid - 1})"

    def numbered(self) -> str:
        """The relation with an _ord column, for queries that need one before staging."""
        if self.ordinal:
            return self.sql
        return f"SELECT row_number() OVER () AS _ord, * FROM ({self.sql})"

    def column(self, name: str) -> str:
        if self.kind == "jsonl":
            path = "$." + '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
            # Guarded: a malformed line is quarantined, not an error for the whole file.
            return (
                "CASE WHEN json_valid(_line) THEN json_extract_string(_line, "
                + _sql_string(path)
                + ") END"
            )
        if self.kind == "parquet":
            return f"CAST({ident(name)} AS VARCHAR)"
        return self.restored(ident(name))

    def attribute(self, name: str) -> str:
        """A column as an attribute value: typed where the format has types (Parquet,
        JSON Lines), so ``attr.repeat == true`` matches a boolean; text from CSV and XLSX."""
        if self.kind == "jsonl":
            path = "$." + '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
            return (
                "CASE WHEN json_valid(_line) THEN nullif(json_extract(_line, "
                + _sql_string(path)
                + "), 'null'::JSON) END"
            )
        if self.kind == "parquet":
            return ident(name)
        return f"nullif({self.column(name)}, '')"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _raw_relation(spec: SourceSpec, path: Path, fmt: str) -> _Raw:
    location = str(path)
    if fmt in ("csv", "tsv"):
        delimiter = spec.delimiter or ("\t" if fmt == "tsv" else ",")
        return _Raw(
            "SELECT * FROM read_csv(?, all_varchar = true, "
            "header = ?, delim = ?, encoding = ?, store_rejects = true, "
            "rejects_table = 'jl_reject_errors', rejects_scan = 'jl_reject_scans', "
            "null_padding = false, strict_mode = true)",
            [location, spec.header, delimiter, spec.encoding.lower()],
            "csv",
            header_rows=1 if spec.header else 0,
            ordinal=False,
        )
    if fmt == "parquet":
        return _Raw("SELECT * FROM read_parquet(?)", [location], "parquet", ordinal=False)
    if fmt == "jsonl":
        return _Raw(
            "SELECT _line FROM read_csv(?, columns = "
            "{'_line': 'VARCHAR'}, header = false, delim = chr(30), quote = '', escape = '', "
            "auto_detect = false, encoding = ?, store_rejects = true, "
            "rejects_table = 'jl_reject_errors', rejects_scan = 'jl_reject_scans')",
            [location, spec.encoding.lower()],
            "jsonl",
            ordinal=False,
        )
    return _Raw("SELECT * FROM jl_arrow", [], "arrow")


def _timestamp_sql(spec: SourceSpec, raw: str) -> tuple[str, list[Any]]:
    if spec.timestamp_format:
        if "%z" in spec.timestamp_format or "%Z" in spec.timestamp_format:
            return f"try_strptime({raw}, CAST(? AS VARCHAR))::TIMESTAMPTZ", [spec.timestamp_format]
        return (
            f"timezone(CAST(? AS VARCHAR), try_strptime({raw}, CAST(? AS VARCHAR)))",
            [spec.timezone, spec.timestamp_format],
        )
    if spec.timezone.upper() == "UTC":
        # Offsets are honoured and times without one are UTC: one cast, no pattern test.
        return f"TRY_CAST({raw} AS TIMESTAMPTZ)", []
    return (
        # An offset only counts after a time: the "-12" of a bare date 2016-01-12 is no offset.
        f"CASE WHEN regexp_matches({raw}, "
        f"'[0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}([.,][0-9]+)?)?\\s*"
        f"([Zz]|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$') "
        f"THEN TRY_CAST({raw} AS TIMESTAMPTZ) "
        f"ELSE timezone(CAST(? AS VARCHAR), TRY_CAST({raw} AS TIMESTAMP)) END",
        [spec.timezone],
    )


def normalise_identifier(id_type: str, value: str, *, country_code: str | None) -> str:
    """SQL normalising one identifier column: e-mail case and spaces, phones to E.164."""
    cleaned = f"nullif(trim({value}), '')"
    if id_type in ("email", "ticket_requester"):
        return f"nullif(regexp_replace(lower({cleaned}), '\\s+', '', 'g'), '')"
    if id_type == "phone":
        digits = f"regexp_replace({cleaned}, '[^0-9+]', '', 'g')"
        local = f"ltrim(regexp_replace({digits}, '^[+]', ''), '0')"
        with_country = f"'+{country_code}' || {local}" if country_code else f"'+' || {local}"
        return (
            f"CASE WHEN {digits} IS NULL OR {digits} = '' THEN NULL "
            f"WHEN {digits} LIKE '+%' THEN '+' || regexp_replace({digits}, '[^0-9]', '', 'g') "
            f"WHEN {digits} LIKE '00%' THEN '+' || substr({digits}, 3) "
            f"ELSE {with_country} END"
        )
    return cleaned


def normalised_value(id_type: str, value: str, *, country_code: str | None = None) -> str | None:
    """One identifier normalised in Python exactly as :func:`normalise_identifier` does in SQL
    (for identifiers that arrive one at a time, such as a survey link's)."""
    cleaned = value.strip(" ") or None
    if cleaned is None:
        return None
    if id_type in ("email", "ticket_requester"):
        return re.sub(r"[\t\n\f\r\v ]+", "", cleaned.lower()) or None
    if id_type == "phone":
        digits = re.sub(r"[^0-9+]", "", cleaned)
        if not digits:
            return None
        if digits.startswith("+"):
            return "+" + re.sub(r"[^0-9]", "", digits)
        if digits.startswith("00"):
            return "+" + digits[2:]
        local = digits.removeprefix("+").lstrip("0")
        return f"+{country_code}{local}" if country_code else f"+{local}"
    return cleaned


def _columns_of(con: duckdb.DuckDBPyConnection, raw: _Raw) -> list[str]:
    if raw.kind == "jsonl":
        return []
    described = con.execute(f"DESCRIBE SELECT * FROM ({raw.sql}) LIMIT 0", raw.params).fetchall()
    return [str(row[0]) for row in described]


def load_file(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    path: Path,
    *,
    fmt: str,
    arrow: pa.RecordBatchReader | None = None,
    display: str | None = None,
    known_channels: Sequence[str] = (),
    known_touchpoints: Sequence[str] = (),
    pseudonym_key: str | None = None,
    country_code: str | None = None,
    progress: ProgressCallback | None = None,
) -> BatchReport:
    """Load one file as one batch. Nothing is written unless everything succeeds."""
    started = time.perf_counter()
    report = BatchReport(file=display or str(path), source=spec.id)
    report.checksum, bare_crs = _read_whole(
        path, crs=fmt in ("csv", "tsv") and not spec.encoding.lower().startswith("utf-16")
    )
    done = con.execute(
        "SELECT batch_id FROM batches WHERE checksum = ? AND source = ? AND status = 'loaded' "
        "LIMIT 1",
        [report.checksum, spec.id],
    ).fetchone()
    if done is not None:
        report.status = "skipped"
        report.batch_id = int(done[0])
        report.messages.append(f"identical to batch {done[0]}: nothing to add")
        _finished(report, progress, started)
        return report

    copy = None
    if bare_crs:
        row = con.execute("SELECT current_setting('temp_directory')").fetchone()
        folder = Path(str(row[0])) if row and row[0] else Path(tempfile.gettempdir())
        copy = _without_bare_crs(path, folder)
    raw = _raw_relation(spec, copy[0] if copy else path, fmt)
    raw.cr_marker = copy[1] if copy else None
    con.execute("DROP TABLE IF EXISTS jl_reject_errors")
    con.execute("DROP TABLE IF EXISTS jl_reject_scans")
    counter = None
    stream = _StreamErrors()
    if arrow is not None:
        arrow = stream.wrap(arrow)
        if progress is not None:
            counter = RowCounter()
            arrow = counter.wrap(arrow)
        con.register("jl_arrow", arrow)
    con.execute("BEGIN TRANSACTION")
    try:
        with watching(
            con,
            report.file,
            progress,
            total_rows=None if counter else estimated_rows(path, fmt),
            counter=counter,
        ):
            _load(
                con,
                spec,
                raw,
                report,
                known_channels,
                known_touchpoints,
                pseudonym_key,
                country_code,
                fmt,
            )
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        if stream.error is not None:  # the reader's own words, not DuckDB's wrapping of them
            raise stream.error from None
        raise LoadError(f"{report.file}: {exc}") from None
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        if arrow is not None:
            con.unregister("jl_arrow")
        if copy is not None:
            copy[0].unlink(missing_ok=True)
    _finished(report, progress, started)
    return report


class _StreamErrors:
    """Keeps an error raised inside an Arrow stream while DuckDB reads it.

    DuckDB reports it as an "Invalid Input Error" quoting a Python exception; the load
    re-raises the reader's own error (a malformed XES or OCEL file) instead.
    """

    def __init__(self) -> None:
        self.error: JourneylensError | None = None

    def wrap(self, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        def batches() -> Iterator[pa.RecordBatch]:
            try:
                yield from reader
            except JourneylensError as exc:
                self.error = exc
                raise

        return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _finished(report: BatchReport, progress: ProgressCallback | None, started: float) -> None:
    report.seconds = round(time.perf_counter() - started, 3)
    if progress is not None:
        progress(LoadProgress(report.file, 1.0, report.read, report.seconds, done=True))


def event_id_sql(key: str) -> str:
    """SQL for the id of an event with this text key: its MD5 as a UUID.

    16 bytes rather than 32 hex characters: every event's id is written twice (events and
    event_identifiers), and an incompressible string costs more to write than a CSV row costs
    to read. Printed without dashes it is the MD5 in hex, the id's form before migration 003.
    """
    return f"CAST(unhex(md5({key})) AS UUID)"


@dataclass
class _Staging:
    """The query that types and validates every row of a file, and what the later steps need."""

    sql: str
    params: list[Any]
    fields: list[str]  # event columns it provides, besides ts, activity and the identifiers
    content: str  # SQL over the staged row: the text that content ids hash


def _staging(
    spec: SourceSpec,
    raw: _Raw,
    columns: list[str],
    pseudonym_key: str | None,
    country_code: str | None,
) -> _Staging:
    """One pass over the file: typed fields, the reason a row is rejected, the event id.

    Three layers: the reader's row typed (its raw columns passed along untouched), then
    touchpoint rules and the reason, then what is kept. Only rejected rows get their raw text,
    and only mapped fields are kept, so the staged table stays narrow at 10 M rows.
    """
    col = raw.column

    def text(name: str | None) -> str:
        return f"nullif({col(name)}, '')" if name else "NULL"

    # Layer 1: typed fields. Raw columns pass through as _r<n> for the rejected rows' text.
    typed: list[str] = ["_ord"] if raw.ordinal else []
    typed_params: list[Any] = []
    if raw.kind == "jsonl":
        typed.append("_line AS _r0")
        raw_line = "_r0"
        # Blank lines are no rows, but they count for the line numbers: staged, then dropped.
        typed.append("_line IS NULL OR trim(_line) = '' AS _blank")
        typed.append(
            # CASE, not AND: DuckDB may evaluate both sides of AND on a malformed line.
            "CASE WHEN json_valid(_line) THEN json_type(_line) = 'OBJECT' "
            "ELSE false END AS _json_ok"
        )
    else:
        raw_cols = [c for c in columns if c != "_ord" and not c.startswith("file_row_number")]
        typed += [f"{ident(c)} AS _r{i}" for i, c in enumerate(raw_cols)]
        raw_line = raw.restored(
            f"concat_ws({_sql_string(',')}, "
            + ", ".join(f"coalesce(CAST(_r{i} AS VARCHAR), '')" for i in range(len(raw_cols)))
            + ")"
        )
        typed.append("true AS _json_ok")
    ts_sql, ts_params = _timestamp_sql(spec, text(spec.timestamp))
    typed += [f"{text(spec.timestamp)} AS _ts_raw", f"{ts_sql} AS ts"]
    typed_params += ts_params
    if spec.activity_template:
        pieces = []
        rest = spec.activity_template
        for name in spec.template_columns():
            before, _, rest = rest.partition("{" + name + "}")
            pieces += [_sql_string(before), f"coalesce({col(name)}, '')"]
        pieces.append(_sql_string(rest))
        # A template with an empty column would make a partial name: the row has no activity.
        complete = (
            " AND ".join(f"nullif(trim({col(n)}), '') IS NOT NULL" for n in spec.template_columns())
            or "true"
        )
        typed.append(
            f"CASE WHEN {complete} THEN nullif(concat({', '.join(pieces)}), '') END AS activity"
        )
    else:
        typed.append(f"{text(spec.activity)} AS activity")
    fields: list[str] = []
    if spec.channel_constant is not None:
        typed.append("CAST(? AS VARCHAR) AS channel")
        typed_params.append(spec.channel_constant)
    else:
        typed.append(f"{text(spec.channel)} AS channel")
    fields.append("channel")
    for name, source_column in (
        ("touchpoint", spec.touchpoint),
        ("device", spec.device),
        ("text", spec.text),
        ("language", spec.language),
    ):
        if name == "language" and spec.language_constant is not None:
            typed.append("CAST(? AS VARCHAR) AS language")
            typed_params.append(spec.language_constant)
            fields.append(name)
            continue
        typed.append(f"{text(source_column)} AS {name}")
        if source_column or (name == "touchpoint" and spec.touchpoint_rules):
            fields.append(name)
    for name, source_column in (("value", spec.value), ("score", spec.score)):
        if source_column:
            typed.append(f"{text(source_column)} AS _{name}_raw")
            # NaN and infinity parse as doubles but are no measurement: quarantined as such.
            number = f"TRY_CAST({text(source_column)} AS DOUBLE)"
            typed.append(f"CASE WHEN isfinite({number}) THEN {number} END AS {name}")
            fields.append(name)
        else:
            typed += [f"NULL AS _{name}_raw", f"NULL::DOUBLE AS {name}"]
    if spec.attributes:
        pairs = ", ".join(f"{_sql_string(a)}, {raw.attribute(a)}" for a in spec.attributes)
        typed.append(f"json_object({pairs}) AS attributes")
        fields.append("attributes")
    else:
        typed.append("NULL::JSON AS attributes")
    id_sql, id_params = _identifier_sql(spec, raw, pseudonym_key, country_code)
    id_values = [f"_id{index}" for index in range(len(id_sql))]
    typed += [f"{sql} AS {name}" for sql, name in zip(id_sql, id_values, strict=True)]
    typed_params += id_params
    if spec.event_id:
        typed.append(f"{text(spec.event_id)} AS source_event_id")
        fields.append("source_event_id")

    # Layer 2: touchpoint rules, compiled to parameterised SQL over the typed row; the reason.
    touchpoint = "touchpoint"
    rule_params: list[Any] = []
    if spec.touchpoint_rules:
        cases = []
        for rule in spec.touchpoint_rules:
            condition, condition_params = compile_selector(
                parse_selector(rule.when),
                {
                    "activity": "activity",
                    "channel": "channel",
                    "touchpoint": "touchpoint",
                    "source": "?",
                    "attr": "attributes",
                },
                source=spec.id,
            )
            cases.append(f"WHEN {condition} THEN ?")
            rule_params += [*condition_params, rule.touchpoint]
        touchpoint = f"coalesce(touchpoint, CASE {' '.join(cases)} END)"
    any_id = " OR ".join(f"{v} IS NOT NULL" for v in id_values)
    id_names = ", ".join(f"{i.column} ({i.type})" for i in spec.identifiers)
    tolerance = f"INTERVAL {float(spec.future_tolerance_hours) * 3600:.0f} SECOND"
    reasons = [
        ("NOT _json_ok", "NULL", "'not a JSON object'"),
        ("_ts_raw IS NULL", _sql_string(spec.timestamp), "'missing timestamp'"),
        (
            "ts IS NULL",
            _sql_string(spec.timestamp),
            f"'cannot parse timestamp ' || _ts_raw || ' (expected "
            f"{(spec.timestamp_format or 'ISO 8601').replace(chr(39), chr(39) * 2)})'",
        ),
        (
            f"ts > now() + {tolerance}",
            _sql_string(spec.timestamp),
            "'timestamp ' || _ts_raw || ' is in the future'",
        ),
        ("activity IS NULL", _sql_string(spec.activity or "activity"), "'missing activity'"),
        (
            f"NOT ({any_id})",
            _sql_string(spec.identifiers[0].column),
            _sql_string(f"no customer identifier (expected one of: {id_names})"),
        ),
        (
            "_value_raw IS NOT NULL AND value IS NULL",
            _sql_string(spec.value or "value"),
            "'not a number: ' || _value_raw",
        ),
        (
            "_score_raw IS NOT NULL AND score IS NULL",
            _sql_string(spec.score or "score"),
            "'not a number: ' || _score_raw",
        ),
    ]
    accepted = spec.accepted_scores() if spec.score else None
    if accepted is not None:
        low, high = (float(bound) for bound in accepted)  # validated finite numbers
        scale = f"{low:g}-{high:g}" + (f" ({spec.score_type})" if spec.score_type else "")
        reasons.append(
            (
                f"score < {low!r} OR score > {high!r}",
                _sql_string(spec.score or "score"),
                f"'score ' || _score_raw || {_sql_string(' is outside ' + scale)}",
            )
        )
    if raw.kind == "jsonl":
        reasons.insert(0, ("_blank", "NULL", "NULL"))
    reason_sql = "CASE " + " ".join(f"WHEN {c} THEN {m}" for c, _, m in reasons) + " END"
    column_sql = "CASE " + " ".join(f"WHEN {c} THEN {n}" for c, n, _ in reasons) + " END"

    # Layer 3: what is kept. Without an id column an event is "the k-th row with this
    # content"; here every row is the first, and _number_repeats renumbers the few repeats.
    content = content_sql(["attributes"] if spec.attributes else [], len(id_values))
    event_id = event_id_sql(f"{content} || chr(31) || '1'")
    if spec.event_id:
        event_id = (
            f"CASE WHEN source_event_id IS NOT NULL THEN "
            f"{event_id_sql('CAST(? AS VARCHAR) || chr(58) || source_event_id')} "
            f"ELSE {event_id} END"
        )
    kept = [
        *(["_ord"] if raw.ordinal else []),
        *(["_blank"] if raw.kind == "jsonl" else []),
        "ts",
        "activity",
        *fields,
        *id_values,
    ]
    sql = (
        f"SELECT {', '.join(kept)}, CASE WHEN _reason IS NULL THEN {event_id} END AS event_id, "
        "CASE WHEN _reason IS NOT NULL THEN CAST(json_object('column', _column, 'reason', "
        f"_reason, 'raw', {raw_line}) AS VARCHAR) END AS _reject FROM ("
        f"SELECT * EXCLUDE (touchpoint), {touchpoint} AS touchpoint, {reason_sql} AS _reason, "
        f"{column_sql} AS _column FROM ("
        f"SELECT {', '.join(typed)} FROM ({raw.sql})))"
    )
    # Parameters in the textual order of the nested SELECTs: outer, middle, inner, reader.
    outer_params: list[Any] = [spec.id] if spec.event_id else []
    return _Staging(sql, [*outer_params, *rule_params, *typed_params, *raw.params], fields, content)


def content_sql(optional: Sequence[str], identifiers: int) -> str:
    """The text a content id hashes: time, activity, channel, attributes and identifiers."""
    parts = [
        "CAST(ts AS VARCHAR)",
        "activity",
        "coalesce(channel, '')",
        "coalesce(CAST(attributes AS VARCHAR), '')" if "attributes" in optional else "''",
        *[f"coalesce(_id{i}, '')" for i in range(identifiers)],
    ]
    return f"concat_ws(chr(31), {', '.join(parts)})"


def _load(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    raw: _Raw,
    report: BatchReport,
    known_channels: Sequence[str],
    known_touchpoints: Sequence[str],
    pseudonym_key: str | None,
    country_code: str | None,
    fmt: str,
) -> None:
    columns = _columns_of(con, raw)
    _check_columns(spec, columns, report)
    if spec.kind == "links":
        _load_links(con, spec, raw, report, pseudonym_key, country_code, fmt)
        return
    staging = _staging(spec, raw, columns, pseudonym_key, country_code)
    con.execute(f"CREATE OR REPLACE TEMP TABLE jl_staged AS {staging.sql}", staging.params)
    blank = "count(*) FILTER (WHERE _blank)" if raw.kind == "jsonl" else "0"
    counts = con.execute(
        f"SELECT count(*), count(_reject), min(rowid), max(rowid), {blank} FROM jl_staged"
    ).fetchone()
    assert counts is not None
    staged, invalid, blanks = int(counts[0]), int(counts[1]), int(counts[4])
    if not raw.ordinal and staged:
        if int(counts[3]) - int(counts[2]) + 1 != staged:  # never seen; row numbers need it
            raise LoadError(f"{report.file}: staged rows are not numbered consecutively")
        raw.first_rowid = int(counts[2])
    if blanks:
        con.execute("DELETE FROM jl_staged WHERE _blank")
        staged -= blanks

    batch_row = con.execute("SELECT nextval('batch_ids')").fetchone()
    assert batch_row is not None
    batch_id = int(batch_row[0])
    report.batch_id = batch_id
    reject_count = 0
    if raw.kind in ("csv", "jsonl"):
        reject_count = _quarantine_rejects(con, batch_id, report.file, raw)
    row_sql = _file_row_sql(raw, reject_count)
    if invalid:
        _quarantine_invalid(con, batch_id, report.file, row_sql)
        con.execute("DELETE FROM jl_staged WHERE _reject IS NOT NULL")
    _number_repeats(con, staging, raw)
    known = con.execute("SELECT EXISTS (SELECT 1 FROM events)").fetchone()
    if known and known[0]:
        con.execute("DELETE FROM jl_staged WHERE event_id IN (SELECT event_id FROM events)")
    fields = ", ".join(["ts", "activity", *staging.fields])
    with _any_order(con):
        inserted = con.execute(
            f"INSERT INTO events (event_id, batch_id, source, source_row, score_type, {fields}) "
            f"SELECT event_id, ?, ?, {row_sql}, ?, {fields} FROM jl_staged s",
            [batch_id, spec.id, spec.score_type],
        ).fetchone()
        for index, identifier in enumerate(spec.identifiers):
            con.execute(
                f"INSERT INTO event_identifiers SELECT event_id, ?, _id{index} FROM jl_staged "
                f"WHERE _id{index} IS NOT NULL",
                [identifier.type],
            )
    report.read = staged + reject_count
    report.quarantined = invalid + reject_count
    report.accepted = int(inserted[0]) if inserted else 0
    report.duplicates = staged - invalid - report.accepted
    report.warnings = _warnings(con, report, known_channels, known_touchpoints, staging.fields)
    con.execute(
        "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), now(), 'loaded', ?)",
        [
            batch_id,
            spec.id,
            report.file,
            report.checksum,
            fmt,
            report.read,
            report.accepted,
            report.quarantined,
            report.duplicates,
            report.warnings,
            "; ".join(report.messages) or None,
        ],
    )


@contextmanager
def _any_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Inserts that may store rows in any order (every reader sorts by what it needs).

    Kept in order, a parallel insert leaves part-filled row groups that the checkpoint on
    close then rewrites: at 2 M rows on two threads that took longer than the insert itself.
    """
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute("SET preserve_insertion_order = true")  # staging relies on it


def _number_repeats(con: duckdb.DuckDBPyConnection, staging: _Staging, raw: _Raw) -> None:
    """Rows of the file that share an id: the k-th copy of a content gets id (content, k);
    a repeated id from the source is one event, so its later copies are dropped.

    Repeats are rare, so they are found with one GROUP BY and only they are numbered, instead
    of a window over every row.
    """
    explicit = "source_event_id IS NOT NULL" if "source_event_id" in staging.fields else "false"
    position = raw.ord("jl_staged")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE jl_repeats AS SELECT _position, _explicit, "
        f"CASE WHEN NOT _explicit THEN {event_id_sql(staging.content + ' || chr(31) || k')} "
        f"END AS renumbered FROM (SELECT *, {position} AS _position, {explicit} AS _explicit, "
        f"row_number() OVER (PARTITION BY event_id ORDER BY {position}) AS k FROM jl_staged "
        "WHERE event_id IN (SELECT event_id FROM jl_staged GROUP BY event_id "
        "HAVING count(*) > 1)) WHERE k > 1"
    )
    found = con.execute(
        "SELECT count(*) FILTER (WHERE _explicit), count(*) FILTER (WHERE NOT _explicit) "
        "FROM jl_repeats"
    ).fetchone()
    assert found is not None
    if found[0]:
        con.execute(
            f"DELETE FROM jl_staged WHERE {position} IN "
            "(SELECT _position FROM jl_repeats WHERE _explicit)"
        )
    if found[1]:
        con.execute(
            "UPDATE jl_staged SET event_id = r.renumbered FROM jl_repeats r "
            f"WHERE {position} = r._position AND NOT r._explicit"
        )


def _check_columns(spec: SourceSpec, columns: list[str], report: BatchReport) -> None:
    missing = [c for c in spec.columns() if c not in columns] if columns else []
    if missing:
        raise LoadError(
            f"{report.file}: no column {', '.join(repr(m) for m in missing)} "
            f"(the file has: {', '.join([c for c in columns if c != '_ord'][:30])}); "
            f"map columns in sources/{spec.id}.yaml"
        )


def _identifier_sql(
    spec: SourceSpec, raw: _Raw, pseudonym_key: str | None, country_code: str | None
) -> tuple[list[str], list[Any]]:
    """Normalised (and maybe pseudonymised) SQL for each identifier column, with parameters."""
    expressions: list[str] = []
    params: list[Any] = []
    for identifier in spec.identifiers:
        norm = normalise_identifier(
            identifier.type, raw.column(identifier.column), country_code=country_code
        )
        if pseudonym_key is not None:
            norm = (
                f"CASE WHEN {norm} IS NULL THEN NULL ELSE sha256(CAST(? AS VARCHAR) || {norm}) END"
            )
            params.append(f"{pseudonym_key}:{identifier.type}:")
        expressions.append(norm)
    return expressions, params


def _load_links(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    raw: _Raw,
    report: BatchReport,
    pseudonym_key: str | None,
    country_code: str | None,
    fmt: str,
) -> None:
    """A link table (a CRM export): each row says its identifiers are one customer.

    A row becomes star edges from its first identifier to each other one. A row needs two
    identifiers to say anything; one whose edges are all known already is a duplicate.
    """
    raw = replace(raw, sql=raw.numbered(), ordinal=True)  # links are few: number them here
    expressions, id_params = _identifier_sql(spec, raw, pseudonym_key, country_code)
    ids = ", ".join(f"{e} AS _id{i}" for i, e in enumerate(expressions))
    raw_cols = [c for c in _columns_of(con, raw) if c != "_ord" and c != "file_row_number"]
    raw_line = (
        "_line"
        if raw.kind == "jsonl"
        else raw.restored(
            "concat_ws(',', "
            + ", ".join(f"coalesce(CAST({ident(c)} AS VARCHAR), '')" for c in raw_cols)
            + ")"
        )
    )
    # Non-null identifiers of the row as a list of {type, value}, in the spec's order.
    entries = ", ".join(
        f"CASE WHEN _id{i} IS NOT NULL THEN {{'t': {_sql_string(x.type)}, 'v': _id{i}}} END"
        for i, x in enumerate(spec.identifiers)
    )
    names = ", ".join(f"{i.column} ({i.type})" for i in spec.identifiers)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE jl_links AS SELECT _ord, _raw_line, ids, "
        "CASE WHEN len(ids) < 2 THEN "
        + _sql_string(f"a link needs at least two identifiers (expected: {names})")
        + " END AS reason FROM (SELECT _ord, "
        + raw_line
        + " AS _raw_line, list_sort(list_distinct(list_filter(["
        + entries
        + "], lambda x: x IS NOT NULL))) AS ids FROM (SELECT _ord, "
        + ids
        + ", * EXCLUDE (_ord) FROM ("
        + raw.sql
        + ") WHERE "
        + _not_blank(raw)
        + "))",
        [*id_params, *raw.params],
    )
    batch_row = con.execute("SELECT nextval('batch_ids')").fetchone()
    assert batch_row is not None
    batch_id = int(batch_row[0])
    report.batch_id = batch_id
    reject_count = _quarantine_rejects(con, batch_id, report.file, raw) if raw.kind == "csv" else 0
    row_sql = _file_row_sql(raw, reject_count)
    con.execute(
        f"INSERT INTO quarantine SELECT ?, ?, {row_sql}, ?, reason, _raw_line "
        "FROM jl_links s WHERE reason IS NOT NULL",
        [batch_id, report.file, spec.identifiers[0].column],
    )
    # Star edges of each row; the first row that brings an unknown edge records it.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE jl_link_edges AS SELECT _ord, "
        f"{row_sql} AS _file_row, ids[1].t AS ta, ids[1].v AS va, "
        "unnest(ids[2:]).t AS tb, unnest(ids[2:]).v AS vb FROM jl_links s WHERE reason IS NULL"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE jl_new_links AS SELECT * FROM ("
        "SELECT *, row_number() OVER (PARTITION BY ta, va, tb, vb ORDER BY _ord) AS _copy "
        "FROM jl_link_edges) n WHERE _copy = 1 AND NOT EXISTS (SELECT 1 FROM identity_links l "
        "WHERE (l.id_type_a, l.id_value_a, l.id_type_b, l.id_value_b) = (n.ta, n.va, n.tb, n.vb) "
        "OR (l.id_type_a, l.id_value_a, l.id_type_b, l.id_value_b) = (n.tb, n.vb, n.ta, n.va))"
    )
    con.execute(
        "INSERT INTO identity_links (id_type_a, id_value_a, id_type_b, id_value_b, batch_id, "
        "source, source_row) SELECT ta, va, tb, vb, ?, ?, _file_row FROM jl_new_links",
        [batch_id, spec.id],
    )
    counts = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE reason IS NOT NULL), "
        "(SELECT count(DISTINCT _ord) FROM jl_new_links) FROM jl_links"
    ).fetchone()
    assert counts is not None
    staged, invalid, accepted = (int(v) for v in counts)
    report.read = staged + reject_count
    report.quarantined = invalid + reject_count
    report.accepted = accepted
    report.duplicates = staged - invalid - accepted
    con.execute(
        "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, now(), now(), 'loaded', ?)",
        [
            batch_id,
            spec.id,
            report.file,
            report.checksum,
            fmt,
            report.read,
            report.accepted,
            report.quarantined,
            report.duplicates,
            "links",
        ],
    )


def _not_blank(raw: _Raw) -> str:
    return "_line IS NOT NULL AND trim(_line) <> ''" if raw.kind == "jsonl" else "true"


def _quarantine_rejects(con: duckdb.DuckDBPyConnection, batch_id: int, file: str, raw: _Raw) -> int:
    """Rows the reader itself rejected (wrong column count, bad quoting, bad encoding)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'jl_reject_errors'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    con.execute(
        "INSERT INTO quarantine SELECT ?, ?, line, column_name, "
        "lower(replace(error_type, '_', ' ')) || ': ' || error_message, "
        f"{raw.restored('csv_line')} "
        "FROM (SELECT DISTINCT ON (line) * FROM jl_reject_errors ORDER BY line, column_idx)",
        [batch_id, file],
    )
    row = con.execute("SELECT count(DISTINCT line) FROM jl_reject_errors").fetchone()
    return int(row[0]) if row else 0


def _file_row_sql(raw: _Raw, rejected_lines: int) -> str:
    """SQL for a staged row's number in the file, counting the header and rejected rows."""
    if raw.kind not in ("csv", "jsonl"):
        return raw.ord("s")
    if not rejected_lines:
        return f"{raw.ord('s')} + {raw.header_rows}"  # the common case: a plain sum
    # The reader numbers only the rows it kept; each rejected line before a row shifts it.
    slots = (
        "SELECT line - row_number() OVER (ORDER BY line) + 1 AS slot FROM "
        "(SELECT DISTINCT line FROM jl_reject_errors)"
    )
    return (
        f"{raw.ord('s')} + {raw.header_rows} + (SELECT count(*) FROM ({slots}) r "
        f"WHERE r.slot <= {raw.ord('s')} + {raw.header_rows})"
    )


def _quarantine_invalid(
    con: duckdb.DuckDBPyConnection, batch_id: int, file: str, row_sql: str
) -> None:
    """Rows that read fine but fail validation, at their row number in the file."""
    con.execute(
        f"INSERT INTO quarantine SELECT ?, ?, {row_sql}, _reject->>'column', _reject->>'reason', "
        "_reject->>'raw' FROM jl_staged s WHERE _reject IS NOT NULL",
        [batch_id, file],
    )


def _warnings(
    con: duckdb.DuckDBPyConnection,
    report: BatchReport,
    known_channels: Sequence[str],
    known_touchpoints: Sequence[str],
    fields: Sequence[str],
) -> int:
    """Events on channels or touchpoints the workspace does not define: loaded, but counted."""
    total = 0
    for column, known in (("channel", known_channels), ("touchpoint", known_touchpoints)):
        if not known or column not in fields:
            continue
        rows = con.execute(
            f"SELECT {column}, count(*) FROM jl_staged WHERE {column} IS NOT NULL AND "
            f"NOT list_contains(CAST(? AS VARCHAR[]), {column}) GROUP BY ALL ORDER BY 2 DESC",
            [list(known)],
        ).fetchall()
        for value, count in rows:
            total += int(count)
            report.messages.append(f"warning: {count} event(s) on unknown {column} {value!r}")
    return total
