"""Analytics speed and memory: journeylens' process map, variants, 5-step funnel and drop-off
next to (a) PM4Py and (b) hand-written DuckDB SQL producing the same outputs, on the same
generated omnichannel log, each in a fresh process. Prints seconds, ratios and peak RSS.

journeylens sorts the events once (``prepare``: ordered journeys written to Parquet, as after
every load) and derives every analysis from that, in one process as ``journeylens analyze``
does on a freshly loaded store. ``prepare s`` and ``analyses s`` are timed inside that process;
``jl total s`` is the whole process, imports included, as the SQL's and PM4Py's totals are.
The SQL baseline answers each question from the raw events, sorting again each time, as a
hand-written notebook would. PM4Py has no funnel: its figure covers process map (frequency and
performance), start/end activities and variants; a timeout counts as a lower bound.

    .venv/bin/python benchmarks/analytics.py                      # 1 M and 10 M events
    .venv/bin/python benchmarks/analytics.py --sizes 100000000 --no-pm4py --memory-limit 6GB
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure

FUNNEL = ("view_product", "add_to_cart", "checkout", "payment", "order_confirmed")
NOISE = tuple(
    [f"page_{i:02d}" for i in range(20)]
    + ["search", "review_site", "instagram_ad", "newsletter", "faq_returns", "faq_delivery",
       "chat", "phone_call", "ticket_opened", "ticket_closed", "store_visit", "nps_answer",
       "csat_answer", "return_started", "login"]
)
CHANNELS = ("web", "app", "store", "phone", "chat", "email", "social")
WINDOW_DAYS = 7


def generate(path: Path, events: int, seed: int = 1) -> None:
    """A log of ``events`` rows: customers with heavy-tailed journey lengths (mean ~15), a
    five-step purchase funnel with realistic drop-off, 35 other touchpoints, 7 channels, rows
    in time order (as exported), written in row groups of ~10 M."""
    rng = np.random.default_rng(seed)
    activities = np.array(FUNNEL + NOISE)
    writer: pq.ParquetWriter | None = None
    done, first_customer = 0, 0
    while done < events:
        chunk = min(10_000_000, events - done)
        n_customers = max(1, chunk // 15)
        lengths = np.minimum(rng.zipf(2.2, n_customers) * 3 + rng.integers(0, 8, n_customers), 400)
        lengths = lengths[np.cumsum(lengths) <= chunk]
        short = chunk - int(lengths.sum())
        if short:
            lengths = np.append(lengths, short)
        customer = np.repeat(np.arange(len(lengths)) + first_customer, lengths)
        start = rng.integers(0, 330 * 86_400, len(lengths))
        offset = rng.exponential(5 * 86_400, chunk).astype(np.int64)
        # Position k of a journey is funnel step k while the customer keeps converting.
        position = np.arange(chunk) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        reach = np.repeat(rng.choice(6, len(lengths), p=[0.2, 0.3, 0.2, 0.1, 0.05, 0.15]), lengths)
        in_funnel = position < reach
        act = np.where(in_funnel, position, rng.integers(len(FUNNEL), len(activities), chunk))
        offset = np.where(in_funnel, position * 3600 + rng.integers(0, 3000, chunk), offset)
        ts = np.repeat(start, lengths) + offset
        order = np.argsort(ts, kind="stable")
        table = pa.table(
            {
                "customer_key": pc.binary_join_element_wise(
                    "c", pa.array(customer[order]).cast(pa.string()), ""
                ),
                "ts": pa.array(
                    (np.datetime64("2025-01-01T00:00:00") + ts[order].astype("timedelta64[s]")),
                    pa.timestamp("us", tz="UTC"),
                ),
                "activity": pa.array(activities[act[order]]),
                "channel": pa.array(np.array(CHANNELS)[rng.integers(0, len(CHANNELS), chunk)]),
                "source_row": pa.array(np.arange(done, done + chunk)),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=1_000_000)
        done += chunk
        first_customer += len(lengths)
    assert writer is not None
    writer.close()


SETUP = (
    f"FUNNEL = {FUNNEL!r}\n"
    "import sys, time\nfrom pathlib import Path\n"
    "from journeylens.engine import duckdb_engine, prepare, open_prepared, EventColumns\n"
    "from journeylens.analyses.dfg import process_map, DfgSpec\n"
    "from journeylens.analyses.variants import variants, VariantsSpec\n"
    "from journeylens.analyses.funnel import funnel, FunnelSpec\n"
    "from journeylens.analyses.dropoff import dropoff, DropoffSpec\n"
    "engine = duckdb_engine(temp_directory=Path(sys.argv[2]) / 'tmp',"
    " memory_limit=sys.argv[3] or None)\n"
    "target = Path(sys.argv[2]) / 'journeys.parquet'\n"
)
# One process, as `journeylens analyze` on a freshly loaded store: it prepares the journeys
# (once per load), then answers. Imports count, as `import duckdb` counts for the SQL.
JOURNEYLENS = SETUP + (
    "start = time.perf_counter()\n"
    "prepare(engine, engine.read_parquet(sys.argv[1]), target,"
    " EventColumns(order=('source_row',)))\n"
    "prepared = time.perf_counter()\n"
    "j = open_prepared(engine, target)\n"
    "pm = process_map(j, DfgSpec())\n"
    "v = variants(j, VariantsSpec(top=20))\n"
    "steps = tuple(f'activity == \"{s}\"' for s in FUNNEL)\n"
    f"f = funnel(j, FunnelSpec(steps, window='{WINDOW_DAYS}d'))\n"
    "d = dropoff(j, DropoffSpec(outcome=steps[-1]))\n"
    "print(prepared - start, time.perf_counter() - prepared)\n"
    "print(len(pm.edges), pm.events, v.distinct, v.variants[0].count, d.non_converting,"
    " f.total.steps[0].entered)"
)

SQL = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f"SET temp_directory = '{sys.argv[2]}/tmp'")
if sys.argv[3]:
    con.execute(f"SET memory_limit = '{sys.argv[3]}'")
con.execute(f"CREATE VIEW ev AS SELECT * FROM read_parquet('{sys.argv[1]}')")
edges = con.execute('''
    WITH x AS (SELECT customer_key, activity, epoch_ms(ts) / 1000.0 AS t,
                      lead(activity) OVER w AS nxt, lead(epoch_ms(ts)) OVER w / 1000.0 AS nt,
                      lag(ts) OVER w IS NULL AS is_start
               FROM ev WINDOW w AS (PARTITION BY customer_key ORDER BY ts, source_row))
    SELECT activity, nxt, count(*), count(DISTINCT customer_key), avg(nt - t),
           quantile_cont(nt - t, 0.5), quantile_cont(nt - t, 0.9)
    FROM x WHERE nxt IS NOT NULL GROUP BY ALL''').fetchall()
acts = con.execute('''
    WITH x AS (SELECT customer_key, activity, row_number() OVER w AS rn,
                      count(*) OVER (PARTITION BY customer_key) AS n
               FROM ev WINDOW w AS (PARTITION BY customer_key ORDER BY ts, source_row))
    SELECT activity, count(*), count(DISTINCT customer_key), count(*) FILTER (WHERE rn = 1),
           count(*) FILTER (WHERE rn = n) FROM x GROUP BY ALL''').fetchall()
variants = con.execute('''
    WITH v AS (SELECT customer_key, string_agg(activity, chr(31) ORDER BY ts, source_row) AS s,
                      max(ts) - min(ts) AS d FROM ev GROUP BY customer_key)
    SELECT s, count(*) AS n, median(d) FROM v GROUP BY s ORDER BY n DESC, s LIMIT 20''').fetchall()
distinct = con.execute('''SELECT count(DISTINCT s) FROM (SELECT string_agg(activity, chr(31)
    ORDER BY ts, source_row) AS s FROM ev GROUP BY customer_key)''').fetchone()
# Drop-off: the last activity of every journey that never reached the outcome.
drop = con.execute('''
    WITH c AS (SELECT customer_key, arg_max(activity, (ts, source_row)) AS last_activity,
                      bool_or(activity = 'order_confirmed') AS converted
               FROM ev GROUP BY customer_key)
    SELECT last_activity, count(*) FROM c WHERE NOT converted GROUP BY ALL''').fetchall()
# A 5-step ordered funnel, greedy: each step's first event after the previous one, all within
# 7 days of the customer's first step-1 event. journeylens also lets a later step-1 event
# rescue a timed-out attempt, so only step 1 is compared: this measures work, not semantics.
funnel = con.execute('''
    WITH s1 AS (SELECT customer_key, min(ts) AS t1 FROM ev WHERE activity = 'view_product'
                GROUP BY ALL),
    s2 AS (SELECT e.customer_key, t1, min(e.ts) AS t2 FROM ev e JOIN s1 USING (customer_key)
           WHERE e.activity = 'add_to_cart' AND e.ts BETWEEN t1 AND t1 + INTERVAL 7 DAY
           GROUP BY ALL),
    s3 AS (SELECT e.customer_key, t1, min(e.ts) AS t3 FROM ev e JOIN s2 USING (customer_key)
           WHERE e.activity = 'checkout' AND e.ts BETWEEN t2 AND t1 + INTERVAL 7 DAY
           GROUP BY ALL),
    s4 AS (SELECT e.customer_key, t1, min(e.ts) AS t4 FROM ev e JOIN s3 USING (customer_key)
           WHERE e.activity = 'payment' AND e.ts BETWEEN t3 AND t1 + INTERVAL 7 DAY
           GROUP BY ALL),
    s5 AS (SELECT e.customer_key, min(e.ts) AS t5 FROM ev e JOIN s4 USING (customer_key)
           WHERE e.activity = 'order_confirmed' AND e.ts BETWEEN t4 AND t1 + INTERVAL 7 DAY
           GROUP BY ALL)
    SELECT (SELECT count(*) FROM s1), (SELECT count(*) FROM s2), (SELECT count(*) FROM s3),
           (SELECT count(*) FROM s4), (SELECT count(*) FROM s5)''').fetchone()
print(len(edges), sum(r[1] for r in acts), distinct[0], variants[0][1],
      sum(r[1] for r in drop), funnel[0])
"""

PM4PY = """
import sys, warnings
warnings.simplefilter("ignore")
import pandas as pd, pm4py
frame = pd.read_parquet(sys.argv[1])
frame = pm4py.format_dataframe(frame, case_id="customer_key", activity_key="activity",
                               timestamp_key="ts")
dfg, start, end = pm4py.discover_dfg(frame)
perf = pm4py.discover_performance_dfg(frame)
found = pm4py.get_variants(frame)
print(len(dfg), sum(start.values()), len(found))
"""


def run(code: str, *args: str, timeout: float | None = None) -> tuple[float, float, str]:
    try:
        return measure(code, *args, timeout=timeout)
    except subprocess.TimeoutExpired:
        return float(timeout or 0), float("nan"), "timeout"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--no-pm4py", action="store_true", help="Skip the PM4Py baseline.")
    parser.add_argument("--no-sql", action="store_true", help="Skip the hand-written SQL.")
    parser.add_argument("--pm4py-timeout", type=float, default=900)
    parser.add_argument(
        "--memory-limit", default="", help="DuckDB memory limit for both sides, e.g. 6GB."
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'events':>12} {'prepare s':>9} {'analyses s':>10} {'jl total s':>10} {'SQL s':>7} "
        f"{'PM4Py s':>8} {'jl/SQL':>7} {'jl(analyses)/SQL':>16} {'PM4Py/jl':>9} "
        f"{'jl MiB':>7} {'SQL MiB':>8} {'PM4Py MiB':>9}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for size in sizes:
            log = root / f"log-{size}.parquet"
            generate(log, size)
            total, jl_rss, jl_out = run(JOURNEYLENS, str(log), scratch, args.memory_limit)
            timings, jl_out = jl_out.splitlines()[-2:]
            prep_s, jl_s = (float(x) for x in timings.split())
            print(
                f"{'':>12} journeylens: {total:.2f} s ({prep_s:.2f} s prepare, {jl_s:.2f} s "
                f"analyses), peak {jl_rss:.0f} MiB; {jl_out}",
                flush=True,
            )
            sql_s, sql_rss = float("nan"), float("nan")
            if not args.no_sql:
                try:
                    sql_s, sql_rss, sql_out = run(SQL, str(log), scratch, args.memory_limit)
                except RuntimeError as failed:  # e.g. its sorts spilled more than the disk holds
                    print(f"{'':>12} SQL failed: {str(failed).strip().splitlines()[-1]}")
                else:
                    assert jl_out.split() == sql_out.split(), (jl_out, sql_out)
            pm_s, pm_rss, pm_out = (float("nan"), float("nan"), "skipped")
            if not args.no_pm4py and size <= 10_000_000:
                pm_s, pm_rss, pm_out = run(PM4PY, str(log), timeout=args.pm4py_timeout)
            bound = ">" if pm_out == "timeout" else ""
            print(
                f"{size:>12,} {prep_s:>9.2f} {jl_s:>10.2f} {total:>10.2f} {sql_s:>7.2f} "
                f"{bound}{pm_s:>7.1f} {total / sql_s:>7.2f} {jl_s / sql_s:>16.2f} "
                f"{bound}{pm_s / total:>8.1f} {jl_rss:>7.0f} {sql_rss:>8.0f} "
                f"{pm_rss:>9.0f}",
                flush=True,
            )
            log.unlink()
            for leftover in root.glob("journeys*"):
                leftover.unlink()


if __name__ == "__main__":
    main()
