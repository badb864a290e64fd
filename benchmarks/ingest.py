"""Ingestion speed and memory: journeylens' validated, deduplicated, transactional load of a
CSV and a Parquet file, next to DuckDB's own read_csv / read_parquet into a table (the baseline:
the same reader with no validation, quarantine or dedupe). Each run is a fresh process.

A second reference, the *floor*, writes the same rows into journeylens' two tables (events with
its 16 columns, and event_identifiers) with typed timestamps and a content hash, but with no
validation, quarantine, row numbers or dedupe: no loader with this schema can beat it, so
`jl / floor` says how much the guarantees cost and `floor / baseline` what the schema costs.

    .venv/bin/python benchmarks/ingest.py            # 1 M and 10 M events
    .venv/bin/python benchmarks/ingest.py --sizes 1000000
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure

BASELINE = (
    "import duckdb, sys\ncon = duckdb.connect(sys.argv[1])\n"
    "con.execute(\"SET memory_limit = '1GB'\")\n"
    'con.execute(f"CREATE TABLE t AS SELECT * FROM {sys.argv[3]}(?)", [sys.argv[2]])\n'
    "print(con.execute('SELECT count(*) FROM t').fetchone()[0])"
)
FLOOR = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("SET memory_limit = '1GB'")
con.execute("BEGIN")
con.execute(
    "CREATE TEMP TABLE st AS SELECT md5(concat_ws(chr(31), timestamp, activity, channel, "
    "customer_id)) AS event_id, TRY_CAST(timestamp AS TIMESTAMPTZ) AS ts, activity, channel, "
    f"customer_id FROM {sys.argv[3]}(?)",
    [sys.argv[2]],
)
con.execute(
    "CREATE TABLE events AS SELECT event_id, 1 AS batch_id, 'x' AS source, 0::BIGINT AS "
    "source_row, ts, activity, channel, NULL::VARCHAR AS touchpoint, NULL::VARCHAR AS device, "
    "NULL::DOUBLE AS value, NULL::VARCHAR AS text, NULL::DOUBLE AS score, NULL::VARCHAR AS "
    "score_type, NULL::VARCHAR AS language, NULL::JSON AS attributes, NULL::VARCHAR AS "
    "customer_key FROM st"
)
con.execute(
    "CREATE TABLE event_identifiers AS SELECT event_id, 'customer_id' AS id_type, "
    "customer_id AS id_value FROM st"
)
con.execute("COMMIT")
print(con.execute("SELECT count(*) FROM events").fetchone()[0])
"""
JOURNEYLENS = (
    "import sys\nfrom journeylens.workspace import Workspace\n"
    "[r] = Workspace.init(sys.argv[1]).ingest(sys.argv[2])\n"
    "assert r.read == r.accepted + r.quarantined + r.duplicates\nprint(r.accepted)"
)


def make(folder: Path, events: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    customers = pc.binary_join_element_wise(
        "c", pa.array(rng.integers(0, events // 12 + 1, events)).cast(pa.string()), ""
    )
    ts = np.datetime64("2025-01-01") + rng.integers(0, 300 * 86400, events).astype("timedelta64[s]")
    table = pa.table(
        {
            "customer_id": customers,
            "timestamp": pc.strftime(
                pa.array(ts, pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ", locale="C"
            ),
            "activity": np.array(["view", "cart", "pay", "call", "faq"])[
                rng.integers(0, 5, events)
            ],
            "channel": np.array(["webshop", "store", "phone"])[rng.integers(0, 3, events)],
        }
    )
    csv, parquet = folder / f"events-{events}.csv", folder / f"events-{events}.parquet"
    pacsv.write_csv(table, csv)
    pq.write_table(table, parquet)
    return csv, parquet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print(
        f"{'file':<24} {'baseline s':>10} {'floor s':>8} {'jl s':>8} {'jl/base':>8} "
        f"{'jl/floor':>8} {'jl ev/s':>12} {'base MiB':>9} {'jl MiB':>8}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for size in sizes:
            for path in make(root, size):
                fn = "read_csv" if path.suffix == ".csv" else "read_parquet"
                base_s, base_rss, _ = measure(BASELINE, str(root / "base.duckdb"), str(path), fn)
                (root / "base.duckdb").unlink()
                floor_s, _, floor_rows = measure(FLOOR, str(root / "base.duckdb"), str(path), fn)
                assert int(floor_rows) == size, floor_rows
                jl_s, jl_rss, accepted = measure(JOURNEYLENS, str(root / "ws"), str(path))
                assert int(accepted) == size, accepted
                print(
                    f"{path.name:<24} {base_s:>10.2f} {floor_s:>8.2f} {jl_s:>8.2f} "
                    f"{jl_s / base_s:>8.2f} {jl_s / floor_s:>8.2f} {size / jl_s:>12,.0f} "
                    f"{base_rss:>9.0f} {jl_rss:>8.0f}",
                    flush=True,
                )
                (root / "base.duckdb").unlink()
                shutil.rmtree(root / "ws")


if __name__ == "__main__":
    main()
