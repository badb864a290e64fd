"""How long a survey answer takes to reach the live map, next to the ordinary way in.

For each store size (demo events, loaded and stitched once and kept between runs), in fresh
processes on the same store:

- **journeylens**: answer a personal link (ledger) and load it (``flush_survey_answers``: one
  batch through the ingest path, then ``attach`` joins it to its customer) — per answer;
- **baseline**: the ordinary way an outside survey export reaches the map — ``ingest`` of a
  one-answer JSON Lines file and a full ``stitch`` — per answer.

Both end with the answer on its customer's journey. Prints median and p95 seconds per answer,
the ratio and peak RSS.

    .venv/bin/python benchmarks/surveys.py --sizes 1000000 --answers 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import run

SETUP = "from journeylens.workspace import Workspace"

PREPARE = """
root = sys.argv[1]; events = int(sys.argv[2])
from pathlib import Path
if not (Path(root) / ".journeylens" / "store.duckdb").exists():
    w = Workspace.init(root, example="running-shoes", force=True)
    w.demo_data(events=events, seed=11, load=True)
    w.stitch()
print("ready")
"""

OURS = """
import json
w = Workspace.open(sys.argv[1]); n = int(sys.argv[2])
people = w.known_identifiers("email", n)
times = []
for i, who in enumerate(people):
    token, _ = w.survey_invitation("support-call", who)
    start = time.perf_counter()
    w.answer_survey(token, {"csat": ["2"], "comment": ["Long wait on the phone"]}, "en")
    report = w.flush_survey_answers()
    times.append(time.perf_counter() - start)
    assert report.attached == 1, report
print(json.dumps(times))
"""

BASELINE = """
import json
w = Workspace.open(sys.argv[1]); n = int(sys.argv[2])
people = w.known_identifiers("email", n)
folder = w.root / "bench-answers"; folder.mkdir(exist_ok=True)
times = []
for i, who in enumerate(people):
    path = folder / f"answer-{time.time_ns()}.jsonl"
    row = {"timestamp": "2026-11-01T10:00:00Z", "activity": "survey_answer",
           "email": who.partition(":")[2], "channel": "email", "touchpoint": "tp-csat-survey",
           "score": 2, "text": "Long wait on the phone", "language": "en",
           "about": "call-support", "response": f"baseline-{time.time_ns()}"}
    path.write_text(json.dumps(row) + "\\n")
    start = time.perf_counter()
    w.ingest(str(path), fmt="jsonl", source_id="survey-export")
    w.stitch()
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated event counts")
    parser.add_argument("--answers", type=int, default=10, help="answers timed per way")
    parser.add_argument("--dir", default="/tmp/jl-bench-surveys", help="where stores are kept")
    args = parser.parse_args()
    import json

    print(f"{'events':>12} {'way':<34} {'median s':>9} {'p95 s':>7} {'ratio':>6} {'peak MiB':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        root = f"{args.dir}-{size}"
        run(PREPARE, root, str(size), setup=SETUP)
        results = {}
        for name, code in (
            ("journeylens (answer + load)", OURS),
            ("baseline (ingest + stitch)", BASELINE),
        ):
            done = run(code, root, str(args.answers), setup=SETUP)
            times = json.loads(done.output.splitlines()[-1])
            ordered = sorted(times)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            results[name] = (statistics.median(times), p95, done.rss)
        base = results["baseline (ingest + stitch)"][0]
        for name, (median, p95, rss) in results.items():
            ratio = median / base
            print(f"{size:>12,} {name:<34} {median:>9.3f} {p95:>7.3f} {ratio:>6.2f} {rss:>9.0f}")


if __name__ == "__main__":
    main()
