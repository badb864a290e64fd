"""Live map speed and memory: journeylens' live map of the running-shoes example's
``current-state`` map next to hand-written DuckDB SQL over the same store, on demo data.

journeylens measures every designed step (reach, conversion to the next step with its times,
drop-off before the purchase, contacts caused, loops, waits, channel switches, satisfaction,
verbatims with sentiment and themes) and ranks the pain points. The baseline is what an analyst
would write by hand in a notebook for the core of it: the selectors translated into SQL,
journeys numbered with a window, then reach, conversion, drop-off and contacts per step. It
answers fewer questions, so the ratios are an upper bound on what the rest costs.

Both sides count the same customers: per step, the customers reached, converted, dropped and
contacting (and the events) must be identical, so the SQL is an independent oracle of the
live map at scale, not only a stopwatch: any difference is listed after the table and the
script exits with an error.

journeylens sorts the events once per change of data (ordered journeys written to Parquet);
its first call includes that, later calls read the prepared journeys. Both are timed, each in
a fresh process after the imports (peak RSS too); building the workspace (demo generation,
load, stitch) is not timed against anything and is shown on its own. ``--repeat N`` runs the
three N times, interleaved, and prints the median times.

    .venv/bin/python benchmarks/live.py                       # 1 M events
    .venv/bin/python benchmarks/live.py --sizes 1000000,10000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import Measured, run

MAP = "current-state"
OUTCOME = "receive-confirmation"
CONTACT_CHANNELS = ("phone", "chat")
#: The steps of maps/current-state.yaml in reading order, each with its ``match`` selector
#: translated by hand into a WHERE clause, and its main designed successor (the first ``next``
#: branch, else the following step).
STEPS = (
    ("see-instagram-ad", "activity = 'ad_impression' AND channel = 'instagram'"),
    ("watch-shoe-video", "activity = 'video_view' AND touchpoint = 'tp-shoe-video'"),
    ("try-on-in-store", "activity IN ('store_visit', 'store_fitting')"),
    ("compare-prices-on-phone", "activity = 'review_read' AND attributes->>'device' = 'mobile'"),
    ("read-forum", "activity = 'forum_visit'"),
    ("visit-instagram-page", "activity = 'profile_visit' AND channel = 'instagram'"),
    ("view-product-online", "activity = 'product_view'"),
    ("add-to-cart", "activity = 'add_to_cart'"),
    ("pay-online", "activity IN ('checkout_start', 'payment_submitted')"),
    (
        "receive-confirmation",
        "activity = 'order_placed' AND attributes->>'repeat' IS DISTINCT FROM 'true'",
    ),
    ("wait-for-delivery", "activity = 'shipping_email'"),
    ("first-run", "activity = 'delivered'"),
    ("look-for-returns-info", "activity = 'faq_view' AND attributes->>'topic' LIKE 'return%'"),
    ("call-support", "channel = 'phone' AND activity = 'call'"),
    ("answer-csat", "activity = 'survey_answer' AND attributes->>'survey' = 'csat'"),
    ("post-review", "activity = 'review_posted'"),
    ("buy-again", "activity = 'order_placed' AND attributes->>'repeat' = 'true'"),
)
NEXT = {"pay-online": "receive-confirmation"}  # the others lead to the following step
MEASURES = ("customers", "events", "converted", "dropped", "contacting")


def designed_map() -> list[tuple[str, int, str | None]]:
    """(step, index, main next step) for every step of the hand-written map."""
    ids = [step for step, _ in STEPS]
    following = [*ids[1:], None]
    return [(step, i, NEXT.get(step, following[i])) for i, step in enumerate(ids)]


def baseline_sql() -> list[str]:
    """The analyst's statements; the last one returns (step, measure, count) rows."""
    selects = "\nUNION ALL\n".join(
        f"SELECT customer_key, seq, ts, '{step}' AS step, {i} AS step_index "
        f"FROM journeys WHERE {where}"
        for i, (step, where) in enumerate(STEPS)
    )
    steps = ",\n".join(
        f"('{step}', {i}, {'NULL' if nxt is None else repr(nxt)})"
        for step, i, nxt in designed_map()
    )
    outcome_index = [step for step, _ in STEPS].index(OUTCOME)
    contact_channels = ", ".join(f"'{c}'" for c in CONTACT_CHANNELS)
    return [
        # Every event numbered in its customer's journey; ties in time keep the file order.
        """
        CREATE TEMP TABLE journeys AS
        SELECT customer_key, ts, activity, channel, touchpoint, attributes,
               row_number() OVER (PARTITION BY customer_key
                                  ORDER BY ts, source, source_row, event_id, activity) AS seq
        FROM events
        WHERE customer_key IS NOT NULL
        """,
        # One row per event and designed step it shows.
        f"CREATE TEMP TABLE step_events AS\n{selects}",
        f"""
        CREATE TEMP TABLE designed (step, step_index, next_step) AS
        VALUES {steps}
        """,
        f"""
        WITH reach AS (
            SELECT step, count(DISTINCT customer_key) AS customers, count(*) AS events
            FROM step_events
            GROUP BY step
        ),
        -- Per customer and step: the first and the last time they were there.
        visits AS (
            SELECT customer_key, step, min(seq) AS first_seq, max(seq) AS last_seq
            FROM step_events
            GROUP BY customer_key, step
        ),
        -- Converted: an event of the main next step after the first event of this one.
        converted AS (
            SELECT v.step, count(*) AS customers
            FROM visits v
            JOIN designed d ON d.step = v.step
            JOIN visits n ON n.customer_key = v.customer_key
                         AND n.step = d.next_step
                         AND n.last_seq > v.first_seq
            GROUP BY v.step
        ),
        -- Dropped: never reached the outcome; counted at their last designed step, when
        -- that step comes before the outcome (ending after it is not abandonment).
        buyers AS (
            SELECT DISTINCT customer_key FROM step_events WHERE step = '{OUTCOME}'
        ),
        last_steps AS (
            SELECT customer_key, step, step_index
            FROM step_events
            WHERE customer_key NOT IN (SELECT customer_key FROM buyers)
            QUALIFY row_number() OVER (PARTITION BY customer_key
                                       ORDER BY seq DESC, step_index DESC) = 1
        ),
        dropped AS (
            SELECT step, count(*) AS customers
            FROM last_steps
            WHERE step_index < {outcome_index}
            GROUP BY step
        ),
        -- Contacts: each phone or chat event goes to the latest designed step strictly
        -- before it, if that step happened within 7 days.
        contacts AS (
            SELECT customer_key, seq, ts
            FROM journeys
            WHERE channel IN ({contact_channels})
        ),
        causes AS (
            SELECT c.customer_key, c.seq, max(s.seq) AS step_seq
            FROM contacts c
            JOIN step_events s ON s.customer_key = c.customer_key
                              AND s.seq < c.seq
                              AND s.ts >= c.ts - INTERVAL 7 DAY
            GROUP BY c.customer_key, c.seq
        ),
        contacting AS (
            SELECT s.step, count(DISTINCT c.customer_key) AS customers
            FROM causes c
            JOIN step_events s ON s.customer_key = c.customer_key AND s.seq = c.step_seq
            GROUP BY s.step
        )
        SELECT step, 'customers', customers FROM reach
        UNION ALL SELECT step, 'events', events FROM reach
        UNION ALL SELECT step, 'converted', customers FROM converted
        UNION ALL SELECT step, 'dropped', customers FROM dropped
        UNION ALL SELECT step, 'contacting', customers FROM contacting
        """,
    ]


BASELINE = """
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
con.execute(f"SET temp_directory = '{sys.argv[2]}'")
*prepare, query = json.loads(sys.argv[3])
for statement in prepare:
    con.execute(statement)
counts = {}
for step, measure, n in con.execute(query).fetchall():
    counts.setdefault(step, {})[measure] = n
con.close()
print(json.dumps(counts))
"""
JOURNEYLENS = f"""
ws = Workspace.open(sys.argv[1])
measured, pains = ws.live(ws.live_spec({MAP!r}))
print(json.dumps({{s.step: {{m: getattr(s, m) for m in {MEASURES!r}}}
                  for s in measured.steps if s.bound}}))
"""
BUILD = """
ws = Workspace.init(sys.argv[1], example="running-shoes")
ws.demo_data(events=int(sys.argv[2]), seed=int(sys.argv[3]), load=True)
ws.stitch()
"""
MAP_STEPS = f"""
from journeylens.analyses.binding import bound_steps, outcome_step
ws = Workspace.open(sys.argv[1])
steps = bound_steps(ws.map({MAP!r}))
print(json.dumps({{
    "steps": [(s.id, s.index, s.next[0] if s.next else None) for s in steps],
    "outcome": outcome_step(steps).id,
    "contacts": ws.contact_channels(),
}}))
"""
BASELINE_SETUP = "import duckdb, json, sys"
JOURNEYLENS_SETUP = "import json, sys\nfrom journeylens.workspace import Workspace"


def build(root: Path, events: int, seed: int) -> float:
    """A running-shoes workspace with ``events`` demo events, loaded and stitched; seconds.
    In a fresh process too: a child inherits its parent's peak RSS, so the parent stays small."""
    return run(BUILD, str(root), str(events), str(seed), setup=JOURNEYLENS_SETUP).seconds


def check_map(root: Path) -> None:
    """The hand-written steps are the map's, in its order, with its main next steps."""
    found = json.loads(run(MAP_STEPS, str(root), setup=JOURNEYLENS_SETUP).output)
    steps = [tuple(step) for step in found["steps"]]
    assert steps == designed_map(), steps
    assert found["outcome"] == OUTCOME, found["outcome"]
    assert set(found["contacts"]) == set(CONTACT_CHANNELS), found["contacts"]


def counts(done: Measured) -> dict[str, dict[str, int]]:
    """Per step and measure, the count; measures a side found nothing for are 0."""
    found = json.loads(done.output.splitlines()[-1])
    return {step: {m: int(found.get(step, {}).get(m, 0)) for m in MEASURES} for step, _ in STEPS}


def compare(jl: dict[str, dict[str, int]], sql: dict[str, dict[str, int]]) -> list[str]:
    """Every per-step count on which the live map and the SQL disagree."""
    return [
        f"{step} {m}: journeylens {jl[step][m]}, SQL {sql[step][m]}"
        for step, _ in STEPS
        for m in MEASURES
        if jl[step][m] != sql[step][m]
    ]


def once(root: Path, scratch: Path) -> tuple[Measured, Measured, Measured, list[str]]:
    """journeylens from the store (preparing journeys), again on prepared journeys, and SQL;
    with the counts on which they disagree."""
    shutil.rmtree(root / ".journeylens" / "journeys", ignore_errors=True)
    first = run(JOURNEYLENS, str(root), setup=JOURNEYLENS_SETUP)
    warm = run(JOURNEYLENS, str(root), setup=JOURNEYLENS_SETUP)
    sql = run(
        BASELINE,
        str(root / ".journeylens" / "store.duckdb"),
        str(scratch),
        json.dumps(baseline_sql()),
        setup=BASELINE_SETUP,
    )
    jl_counts = counts(first)
    assert counts(warm) == jl_counts
    return first, warm, sql, compare(jl_counts, counts(sql))


HEADER = (
    f"{'events':>12} {'jl first s':>10} {'jl warm s':>9} {'SQL s':>7} {'warm/SQL':>8} "
    f"{'first/SQL':>9} {'first MiB':>9} {'warm MiB':>8} {'SQL MiB':>7}"
)


def row(size: int, first: list[Measured], warm: list[Measured], sql: list[Measured]) -> str:
    """Median seconds and the highest peak RSS of each side's runs."""
    first_s, warm_s, sql_s = (statistics.median(m.seconds for m in r) for r in (first, warm, sql))
    first_mb, warm_mb, sql_mb = (max(m.rss for m in r) for r in (first, warm, sql))
    return (
        f"{size:>12,} {first_s:>10.2f} {warm_s:>9.2f} {sql_s:>7.2f} {warm_s / sql_s:>8.2f} "
        f"{first_s / sql_s:>9.2f} {first_mb:>9.0f} {warm_mb:>8.0f} {sql_mb:>7.0f}"
    )


def workspace(base: Path, size: int, seed: int) -> Path:
    """The workspace for ``size`` events, built unless a previous run left it in ``base``."""
    root = base / f"shoes-{size}-seed{seed}"
    if (root / ".journeylens" / "store.duckdb").exists():
        print(f"{size:,} events: reusing {root}", flush=True)
    else:
        seconds = build(root, size, seed)
        print(
            f"{size:,} events: demo data, load and stitch {seconds:.1f} s (not timed below)",
            flush=True,
        )
    check_map(root)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000", help="demo events, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the median counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workdir", type=Path, help="keep the workspaces here and reuse them (default: temp)"
    )
    args = parser.parse_args()
    rows, differences = [], []
    with tempfile.TemporaryDirectory() as temp:
        base = args.workdir or Path(temp)
        for size in (int(s) for s in args.sizes.split(",")):
            root = workspace(base, size, args.seed)
            # Interleaved, so a burst of load elsewhere hits all three alike.
            runs = [once(root, Path(temp) / "sql-tmp") for _ in range(args.repeat)]
            rows.append(row(size, *([r[i] for r in runs] for i in range(3))))
            differences += [f"{size:,} events, {d}" for d in runs[0][3]]
            print(HEADER, *rows, sep="\n", flush=True)
            if args.workdir is None:
                shutil.rmtree(root)
    # After the table, so the times are not lost: a disagreement is a bug on one side.
    if differences:
        sys.exit("live map and SQL disagree:\n" + "\n".join(differences))


if __name__ == "__main__":
    main()
