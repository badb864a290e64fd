"""Run a Python snippet in a fresh process; return its wall time and peak RSS."""

from __future__ import annotations

import json
import subprocess
import sys


def measure(code: str, *args: str, timeout: float | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, last stdout line) of ``code`` run with ``args``;
    raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
    wrapper = (
        "import json, resource, sys, time\n"
        "t = time.perf_counter()\n"
        f"{code}\n"
        "print(json.dumps({'s': time.perf_counter() - t, "
        "'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(f"benchmark step failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    return result["s"], result["rss"], "\n".join(lines[:-1])
