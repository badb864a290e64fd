"""Run a Python snippet in a fresh process; return its wall time and peak RSS."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    seconds: float  # wall clock
    cpu: float  # user + system CPU seconds of every thread: steadier than wall on a busy machine
    rss: float  # peak MiB
    output: str  # stdout without the measurement line


def run(code: str, *args: str, timeout: float | None = None, setup: str = "") -> Measured:
    """Run ``code`` with ``args`` in a fresh process; ``setup`` (imports) runs before the clock
    starts, so a library's import time is not counted as its work. Raises
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
    wrapper = (
        "import json, resource, sys, time\n"
        f"{setup}\n"
        "t = time.perf_counter()\n"
        "c = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])\n"
        f"{code}\n"
        "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
        "print(json.dumps({'s': time.perf_counter() - t, 'cpu': usage[0] + usage[1] - c, "
        "'rss': usage.ru_maxrss / 1024}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(f"benchmark step failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    return Measured(result["s"], result["cpu"], result["rss"], "\n".join(lines[:-1]))


def measure(
    code: str, *args: str, timeout: float | None = None, setup: str = ""
) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, last stdout line) of ``code`` run with ``args``;
    raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
    done = run(code, *args, timeout=timeout, setup=setup)
    return done.seconds, done.rss, done.output
