"""Malformed input never crashes a load: it is quarantined, or the file is refused whole."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.errors import JourneylensError
from journeylens.store.database import store_path
from journeylens.workspace import Workspace

GOOD_CSV = (
    "customer_id,timestamp,activity,channel\n"
    "c1,2024-01-01T10:00:00Z,view,webshop\nc2,2024-01-02T10:00:00Z,buy,webshop\n"
)
GOOD_JSONL = (
    '{"customer_id": "c1", "timestamp": "2024-01-01T10:00:00Z", "activity": "view", '
    '"channel": "web"}\n'
) * 3
GOOD_XES = (
    b'<?xml version="1.0" encoding="utf-8"?><log><trace>'
    b'<string key="concept:name" value="case 1"/><event>'
    b'<string key="concept:name" value="open"/>'
    b'<date key="time:timestamp" value="2024-01-01T10:00:00+00:00"/></event><event>'
    b'<string key="concept:name" value="close"/>'
    b'<date key="time:timestamp" value="2024-01-02T10:00:00+00:00"/></event>'
    b"</trace></log>"
)

garbage = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8")),
    st.text(max_size=100).map(lambda t: t.encode("utf-16")),
    st.sampled_from(
        [
            b"\x00" * 50,
            b"\xff\xfe\x00",
            "é,ü\n".encode("latin-1"),
            b"a" * 200_000 + b"\n",
            b'"unclosed,quote\n',
        ]
    ),
)


def _mutate(data: st.DataObject, good: bytes) -> bytes:
    kind = data.draw(st.sampled_from(["truncate", "insert", "replace", "append"]))
    cut = data.draw(st.integers(0, len(good)))
    if kind == "truncate":
        return good[:cut]
    junk = data.draw(garbage)
    if kind == "insert":
        return good[:cut] + junk + good[cut:]
    if kind == "replace":
        return good[:cut] + junk + good[cut + len(junk) :]
    return good + junk


def _check(name: str, payload: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Workspace.init(Path(scratch) / "ws")
        source = Path(scratch) / name
        source.write_bytes(payload)
        try:
            reports = workspace.ingest(str(source))
        except JourneylensError:
            # Refused whole: nothing of it may be in the store.
            path = store_path(workspace.root)
            if path.exists():
                con = duckdb.connect(str(path), read_only=True)
                try:
                    assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)
                    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
                finally:
                    con.close()
            return
        for report in reports:
            assert report.read == report.accepted + report.quarantined + report.duplicates
            assert len(workspace.quarantine(report.batch_id)) == report.quarantined


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_csv(data: st.DataObject) -> None:
    _check("events.csv", _mutate(data, GOOD_CSV.encode()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_jsonl(data: st.DataObject) -> None:
    _check("events.jsonl", _mutate(data, GOOD_JSONL.encode()))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_fuzzed_xes(data: st.DataObject, compressed: bool) -> None:
    payload = _mutate(data, GOOD_XES)
    _check(
        "log.xes.gz" if compressed else "log.xes", gzip.compress(payload) if compressed else payload
    )
