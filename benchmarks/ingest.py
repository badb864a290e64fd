"""Ingestion speed and memory: journeylens' validated, deduplicated, transactional load of a
CSV and a Parquet file, next to DuckDB's own read_csv / read_parquet into a table (the baseline:
the same reader with no validation, quarantine or dedupe). Each run is a fresh process; the
clock starts after the imports and stops after the database is closed, for both: closing runs
the checkpoint that finishes writing a table, and journeylens closes its store inside a load.

Wall time is what the issue's target is about; CPU seconds (every thread's, user and system)
are printed too, because on a machine shared with other work they move much less than wall
time. With ``--repeat N`` each of the three runs N times, interleaved, and the fastest counts.

A second reference, the *floor*, writes the same rows into journeylens' two tables (events and
event_identifiers, the real schema) with typed timestamps and content-hash ids, but with no
validation, quarantine, row numbers or dedupe: no loader with this schema can beat it, so
`jl / floor` says how much the guarantees cost and `floor / baseline` what the schema costs.

    .venv/bin/python benchmarks/ingest.py            # 1 M and 10 M events
    .venv/bin/python benchmarks/ingest.py --sizes 1000000 --repeat 3
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
from _measure import run

BASELINE = """
con = duckdb.connect(sys.argv[1])
con.execute("SET memory_limit = '1GB'")
con.execute("SET enable_progress_bar = false")  # as journeylens: no bar on stdout
con.execute(f"CREATE TABLE t AS SELECT * FROM {sys.argv[3]}(?)", [sys.argv[2]])
rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
before_close = time.perf_counter() - t
con.close()
print(before_close)
print(rows)
"""
FLOOR = """
con = duckdb.connect(sys.argv[1])
con.execute("SET memory_limit = '1GB'")
con.execute("SET enable_progress_bar = false")
con.execute("SET TimeZone = 'UTC'")
migrate(con)
con.execute("BEGIN")
con.execute(
    "CREATE TEMP TABLE st AS SELECT CAST(unhex(md5(concat_ws(chr(31), timestamp, activity, "
    "channel, customer_id))) AS UUID) AS event_id, TRY_CAST(timestamp AS TIMESTAMPTZ) AS ts, "
    f"activity, channel, customer_id FROM {sys.argv[3]}(?)",
    [sys.argv[2]],
)
con.execute("SET preserve_insertion_order = false")
con.execute(
    "INSERT INTO events (event_id, batch_id, source, source_row, ts, activity, channel) "
    "SELECT event_id, 1, 'x', rowid, ts, activity, channel FROM st"
)
con.execute("INSERT INTO event_identifiers SELECT event_id, 'customer_id', customer_id FROM st")
con.execute("COMMIT")
rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
con.close()
print(rows)
"""
JOURNEYLENS = """
[r] = Workspace.init(sys.argv[1]).ingest(sys.argv[2])
assert r.read == r.accepted + r.quarantined + r.duplicates
print(r.accepted)
"""
DUCKDB = "import duckdb, sys"
WORKSPACE = "import sys\nfrom journeylens.workspace import Workspace"


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


def _once(root: Path, path: Path, size: int) -> tuple[float, ...]:
    """One run of the three, each in a fresh process: seconds, CPU seconds and peak MiB."""
    fn = "read_csv" if path.suffix == ".csv" else "read_parquet"
    base = run(BASELINE, str(root / "base.duckdb"), str(path), fn, setup=DUCKDB)
    unclosed, rows = (float(v) for v in base.output.split())
    assert int(rows) == size, rows
    (root / "base.duckdb").unlink()
    floor = run(
        FLOOR,
        str(root / "base.duckdb"),
        str(path),
        fn,
        setup=DUCKDB + "\nfrom journeylens.store.database import migrate",
    )
    assert int(floor.output) == size, floor.output
    (root / "base.duckdb").unlink()
    jl = run(JOURNEYLENS, str(root / "ws"), str(path), setup=WORKSPACE)
    assert int(jl.output) == size, jl.output
    shutil.rmtree(root / "ws")
    return base.seconds, unclosed, floor.seconds, jl.seconds, base.cpu, jl.cpu, base.rss, jl.rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each; the fastest counts (a busy machine)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    jl_import = run(WORKSPACE).seconds
    duckdb_import = run(DUCKDB).seconds
    print(
        f"imports, not in the times below: journeylens.workspace {jl_import:.2f} s, "
        f"duckdb {duckdb_import:.2f} s"
    )
    print(
        f"{'file':<24} {'base s':>7} {'(no close)':>10} {'floor s':>8} {'jl s':>7} "
        f"{'jl/base':>8} {'jl/floor':>8} {'base cpu':>9} {'jl cpu':>7} {'cpu ratio':>9} "
        f"{'jl ev/s':>10} {'base MiB':>9} {'jl MiB':>7}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for size in sizes:
            for path in make(root, size):
                # Interleaved, so a burst of load elsewhere hits all three alike.
                runs = [_once(root, path, size) for _ in range(args.repeat)]
                best = [min(r[i] for r in runs) for i in range(6)]
                base_s, unclosed, floor_s, jl_s, base_cpu, jl_cpu = best
                base_rss, jl_rss = (max(r[i] for r in runs) for i in (6, 7))
                print(
                    f"{path.name:<24} {base_s:>7.2f} {unclosed:>10.2f} {floor_s:>8.2f} "
                    f"{jl_s:>7.2f} {jl_s / base_s:>8.2f} {jl_s / floor_s:>8.2f} "
                    f"{base_cpu:>9.2f} {jl_cpu:>7.2f} {jl_cpu / base_cpu:>9.2f} "
                    f"{size / jl_s:>10,.0f} {base_rss:>9.0f} {jl_rss:>7.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
