"""Loading one file into the store as one atomic, idempotent, reconciled batch.

The whole load is set-based SQL compiled from the :class:`SourceSpec`: DuckDB reads the file
(CSV, Parquet, JSON Lines natively; anything else as a stream of Arrow batches), one query types
and validates every row and says why a row is rejected, and two inserts add the new events and
their identifiers. Column names are quoted identifiers and every user value is a bound parameter.

Counts always reconcile: rows read = accepted + quarantined + duplicates.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
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


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _Raw:
    """The raw relation of a file: SQL for it, and how to read a column of it as text."""

    sql: str
    params: list[Any]
    kind: str  # csv | parquet | jsonl | arrow
    header_rows: int = 0

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
        return ident(name)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _raw_relation(spec: SourceSpec, path: Path, fmt: str) -> _Raw:
    location = str(path)
    if fmt in ("csv", "tsv"):
        delimiter = spec.delimiter or ("\t" if fmt == "tsv" else ",")
        return _Raw(
            "SELECT row_number() OVER () AS _ord, * FROM read_csv(?, all_varchar = true, "
            "header = ?, delim = ?, encoding = ?, store_rejects = true, "
            "rejects_table = 'jl_reject_errors', rejects_scan = 'jl_reject_scans', "
            "null_padding = false, strict_mode = true)",
            [location, spec.header, delimiter, spec.encoding.lower()],
            "csv",
            header_rows=1 if spec.header else 0,
        )
    if fmt == "parquet":
        return _Raw(
            "SELECT file_row_number + 1 AS _ord, * FROM read_parquet(?, file_row_number = true)",
            [location],
            "parquet",
        )
    if fmt == "jsonl":
        return _Raw(
            "SELECT row_number() OVER () AS _ord, _line FROM read_csv(?, columns = "
            "{'_line': 'VARCHAR'}, header = false, delim = chr(30), quote = '', escape = '', "
            "auto_detect = false, encoding = ?, store_rejects = true, "
            "rejects_table = 'jl_reject_errors', rejects_scan = 'jl_reject_scans')",
            [location, spec.encoding.lower()],
            "jsonl",
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
    report.checksum = file_checksum(path)
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

    raw = _raw_relation(spec, path, fmt)
    con.execute("DROP TABLE IF EXISTS jl_reject_errors")
    con.execute("DROP TABLE IF EXISTS jl_reject_scans")
    counter = None
    if arrow is not None:
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
        raise LoadError(f"{report.file}: {exc}") from None
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        if arrow is not None:
            con.unregister("jl_arrow")
    _finished(report, progress, started)
    return report


def _finished(report: BatchReport, progress: ProgressCallback | None, started: float) -> None:
    report.seconds = round(time.perf_counter() - started, 3)
    if progress is not None:
        progress(LoadProgress(report.file, 1.0, report.read, report.seconds, done=True))


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
    params: list[Any] = list(raw.params)
    col = raw.column
    select: list[str] = ["_ord"]

    def text(name: str | None) -> str:
        return f"nullif({col(name)}, '')" if name else "NULL"

    ts_sql, ts_params = _timestamp_sql(spec, text(spec.timestamp))
    select.append(f"{text(spec.timestamp)} AS _ts_raw")
    select.append(f"{ts_sql} AS ts")
    params_select: list[Any] = list(ts_params)
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
        select.append(
            f"CASE WHEN {complete} THEN nullif(concat({', '.join(pieces)}), '') END AS activity"
        )
    else:
        select.append(f"{text(spec.activity)} AS activity")
    if spec.channel_constant is not None:
        select.append("CAST(? AS VARCHAR) AS channel")
        params_select.append(spec.channel_constant)
    else:
        select.append(f"{text(spec.channel)} AS channel")
    for name, source_column in (
        ("touchpoint", spec.touchpoint),
        ("device", spec.device),
        ("text", spec.text),
        ("language", spec.language),
    ):
        select.append(f"{text(source_column)} AS {name}")
    for name, source_column in (("value", spec.value), ("score", spec.score)):
        select.append(f"{text(source_column)} AS _{name}_raw")
        # NaN and infinity parse as doubles but are no measurement: quarantined as not a number.
        number = f"TRY_CAST({text(source_column)} AS DOUBLE)"
        select.append(f"CASE WHEN isfinite({number}) THEN {number} END AS {name}")
    select.append("CAST(? AS VARCHAR) AS score_type")
    params_select.append(spec.score_type)
    if spec.attributes:
        pairs = ", ".join(f"{_sql_string(a)}, {text(a)}" for a in spec.attributes)
        select.append(f"json_object({pairs}) AS attributes")
    else:
        select.append("NULL::JSON AS attributes")
    id_sql, id_params = _identifier_sql(spec, raw, pseudonym_key, country_code)
    id_values = [f"_id{index}" for index in range(len(id_sql))]
    select += [f"{sql} AS {name}" for sql, name in zip(id_sql, id_values, strict=True)]
    params_select += id_params
    select.append(f"{text(spec.event_id)} AS _source_event_id")
    if raw.kind == "jsonl":
        select.append("_line AS _raw_line")
        # CASE, not AND: DuckDB may evaluate both sides of AND on a malformed line.
        select.append(
            "CASE WHEN json_valid(_line) THEN json_type(_line) = 'OBJECT' "
            "ELSE false END AS _json_ok"
        )
    else:
        raw_cols = [c for c in columns if c != "_ord" and not c.startswith("file_row_number")]
        joined = ", ".join(f"coalesce(CAST({ident(c)} AS VARCHAR), '')" for c in raw_cols)
        select.append(f"concat_ws({_sql_string(',')}, {joined}) AS _raw_line")
        select.append("true AS _json_ok")

    # Touchpoint rules: selectors compiled to parameterised SQL over the typed row.
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
    reason_sql = "CASE " + " ".join(f"WHEN {c} THEN {m}" for c, _, m in reasons) + " END"
    column_sql = "CASE " + " ".join(f"WHEN {c} THEN {n}" for c, n, _ in reasons) + " END"
    content = ", ".join(
        [
            "CAST(ts AS VARCHAR)",
            "activity",
            "coalesce(channel, '')",
            "coalesce(CAST(attributes AS VARCHAR), '')",
            *[f"coalesce({v}, '')" for v in id_values],
        ]
    )
    # Without an id column an event is "the k-th row with this content": repeats inside a file
    # stay separate events (real logs have them), and an overlapping file matches them again.
    event_id = (
        "CASE WHEN _source_event_id IS NOT NULL THEN CAST(? AS VARCHAR) || ':' || "
        "_source_event_id ELSE md5(_content || chr(31) || row_number() OVER "
        "(PARTITION BY hash(_content) ORDER BY _ord)) END"
    )
    con.execute(
        # Only what later steps read is stored: the long content key and the raw text of
        # accepted rows would make a 10 M-row staging table spill to disk.
        "CREATE OR REPLACE TEMP TABLE jl_staged AS SELECT * EXCLUDE (_content, _raw_line), "
        "CASE WHEN reason IS NOT NULL THEN _raw_line END AS _raw_line FROM ("
        f"SELECT *, {reason_sql} AS reason, "
        f"{column_sql} AS reason_column, {event_id} AS event_id FROM ("
        f"SELECT * EXCLUDE (touchpoint), {touchpoint} AS touchpoint, "
        f"concat_ws(chr(31), {content}) AS _content FROM ("
        f"SELECT {', '.join(select)} FROM ({raw.sql}) WHERE {_not_blank(raw)})))",
        # Parameters in the textual order of the nested SELECTs: outer, middle, inner, reader.
        [spec.id, *rule_params, *params_select, *params],
    )

    batch_row = con.execute("SELECT nextval('batch_ids')").fetchone()
    assert batch_row is not None
    batch_id = int(batch_row[0])
    report.batch_id = batch_id
    reject_count = 0
    if raw.kind in ("csv", "jsonl"):
        reject_count = _quarantine_rejects(con, batch_id, report.file)
    row_sql = _file_row_sql(raw, reject_count)
    if spec.event_id:
        # Ids from the source may repeat inside the file: keep the first of each.
        first_copies = (
            "SELECT * EXCLUDE (_copy) FROM (SELECT *, row_number() OVER (PARTITION "
            "BY event_id ORDER BY _ord) AS _copy FROM jl_staged WHERE reason IS NULL) "
            "WHERE _copy = 1"
        )
    else:
        # Content ids already number repeats (k-th occurrence), so they are unique here.
        first_copies = "SELECT * FROM jl_staged WHERE reason IS NULL"
    _quarantine_invalid(con, batch_id, report.file, row_sql)

    con.execute(
        f"CREATE OR REPLACE TEMP TABLE jl_new AS SELECT *, {row_sql} AS _file_row FROM "
        f"({first_copies}) s "
        "WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = s.event_id)"
    )
    con.execute(
        "INSERT INTO events SELECT event_id, ?, ?, _file_row, ts, activity, channel, touchpoint, "
        "device, value, text, score, score_type, language, attributes, NULL FROM jl_new",
        [batch_id, spec.id],
    )
    for index, identifier in enumerate(spec.identifiers):
        con.execute(
            f"INSERT INTO event_identifiers SELECT event_id, ?, _id{index} FROM jl_new "
            f"WHERE _id{index} IS NOT NULL",
            [identifier.type],
        )
    counts = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE reason IS NOT NULL), "
        "(SELECT count(*) FROM jl_new) FROM jl_staged"
    ).fetchone()
    assert counts is not None
    staged, invalid, accepted = (int(v) for v in counts)
    report.read = staged + reject_count
    report.quarantined = invalid + reject_count
    report.accepted = accepted
    report.duplicates = staged - invalid - accepted
    report.warnings = _warnings(con, report, known_channels, known_touchpoints)
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
    expressions, id_params = _identifier_sql(spec, raw, pseudonym_key, country_code)
    ids = ", ".join(f"{e} AS _id{i}" for i, e in enumerate(expressions))
    raw_cols = [c for c in _columns_of(con, raw) if c != "_ord" and c != "file_row_number"]
    raw_line = (
        "_line"
        if raw.kind == "jsonl"
        else "concat_ws(',', "
        + ", ".join(f"coalesce(CAST({ident(c)} AS VARCHAR), '')" for c in raw_cols)
        + ")"
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
    reject_count = _quarantine_rejects(con, batch_id, report.file) if raw.kind == "csv" else 0
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


def _quarantine_rejects(con: duckdb.DuckDBPyConnection, batch_id: int, file: str) -> int:
    """Rows the reader itself rejected (wrong column count, bad quoting, bad encoding)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'jl_reject_errors'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    con.execute(
        "INSERT INTO quarantine SELECT ?, ?, line, column_name, "
        "lower(replace(error_type, '_', ' ')) || ': ' || error_message, csv_line "
        "FROM (SELECT DISTINCT ON (line) * FROM jl_reject_errors ORDER BY line, column_idx)",
        [batch_id, file],
    )
    row = con.execute("SELECT count(DISTINCT line) FROM jl_reject_errors").fetchone()
    return int(row[0]) if row else 0


def _file_row_sql(raw: _Raw, rejected_lines: int) -> str:
    """SQL for a staged row's number in the file, counting the header and rejected rows."""
    if raw.kind not in ("csv", "jsonl"):
        return "_ord"
    if not rejected_lines:
        return f"_ord + {raw.header_rows}"  # the common case: a plain sum, no subquery
    # The reader numbers only the rows it kept; each rejected line before a row shifts it.
    slots = (
        "SELECT line - row_number() OVER (ORDER BY line) + 1 AS slot FROM "
        "(SELECT DISTINCT line FROM jl_reject_errors)"
    )
    return (
        f"_ord + {raw.header_rows} + (SELECT count(*) FROM ({slots}) r "
        f"WHERE r.slot <= s._ord + {raw.header_rows})"
    )


def _quarantine_invalid(
    con: duckdb.DuckDBPyConnection, batch_id: int, file: str, row_sql: str
) -> None:
    """Rows that read fine but fail validation, at their row number in the file."""
    con.execute(
        f"INSERT INTO quarantine SELECT ?, ?, {row_sql}, reason_column, reason, _raw_line "
        "FROM jl_staged s WHERE reason IS NOT NULL",
        [batch_id, file],
    )


def _warnings(
    con: duckdb.DuckDBPyConnection,
    report: BatchReport,
    known_channels: Sequence[str],
    known_touchpoints: Sequence[str],
) -> int:
    total = 0
    for column, known in (("channel", known_channels), ("touchpoint", known_touchpoints)):
        if not known:
            continue
        rows = con.execute(
            f"SELECT {column}, count(*) FROM jl_new WHERE {column} IS NOT NULL AND "
            f"NOT list_contains(CAST(? AS VARCHAR[]), {column}) GROUP BY ALL ORDER BY 2 DESC",
            [list(known)],
        ).fetchall()
        for value, count in rows:
            total += int(count)
            report.messages.append(f"warning: {count} event(s) on unknown {column} {value!r}")
    return total
