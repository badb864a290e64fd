"""Identity-stitching quality and speed on generated journeys with 5 % noisy identifiers
(formatting noise, a shared store tablet, test@example.com), against the generator's truth.

    .venv/bin/python benchmarks/stitch.py --events 1000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from journeylens.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Workspace.init(Path(scratch) / "ws", example="running-shoes")
        started = time.perf_counter()
        workspace.demo_data(events=args.events, seed=args.seed, load=True)
        loaded = time.perf_counter() - started
        report = workspace.stitch()
        precision, recall = workspace.stitch_quality()
    print(
        f"events {args.events:,}  generate+load {loaded:.1f} s  stitch {report.seconds:.1f} s "
        f"({report.iterations} iterations)  identifiers {report.identifiers:,}  "
        f"customers {report.customers:,}  flagged {report.flagged}"
    )
    print(f"pairwise precision {precision:.4f}  recall {recall:.4f}  (targets: >= 0.99, >= 0.98)")
    sys.exit(0 if precision >= 0.99 and recall >= 0.98 else 1)


if __name__ == "__main__":
    main()
