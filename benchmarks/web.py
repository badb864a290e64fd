"""Web latency: the live-map endpoints served by uvicorn, warm and under concurrent users.

Builds a demo workspace of N events (not timed beyond a line of its own), starts
``journeylens serve`` in its own process, signs in over HTTP, and measures:

- the cold request (first ``GET /api/maps/current-state/live``: the whole map measured on the
  store) — the baseline a request would cost without the cache;
- warm p50/p95 of ``/live`` (JSON) and ``/svg?live=true`` (the drawing), one user;
- p50/p95 of the same under C concurrent users (threads, each its own session);
- ``GET /api/me`` as the floor: what any authenticated request costs.

Target (issue 6): p95 < 300 ms for the live map at 10 M events. Peak RSS is the server's.

    .venv/bin/python benchmarks/web.py --events 1000000
    .venv/bin/python benchmarks/web.py --events 10000000 --users 8 --requests 50
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "latency probe 4711"


def build(folder: Path, events: int) -> Path:
    from journeylens.web.app import open_accounts
    from journeylens.workspace import Workspace

    started = time.perf_counter()
    ws = Workspace.init(folder / "shoes", example="running-shoes")
    ws.demo_data(events=events, seed=1, load=True)
    ws.stitch()
    open_accounts(ws.root).add_user("bench", PASSWORD, "viewer")
    print(f"workspace of {events:,} events built in {time.perf_counter() - started:.1f} s")
    return ws.root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(root: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "journeylens"), "-w", str(root), "serve",
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


def session(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=3600)
    response = client.post("/api/login", json={"name": "bench", "password": PASSWORD})
    response.raise_for_status()
    return client


def timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    response.raise_for_status()
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def concurrent(base: str, path: str, users: int, requests: int) -> list[float]:
    clients = [session(base) for _ in range(users)]
    times: list[float] = []
    lock = threading.Lock()

    def work(client: httpx.Client) -> None:
        mine = [timed(client, path) for _ in range(requests)]
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times


def peak_rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--requests", type=int, default=30, help="per user, and warm single")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the workspace here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="jl-web-bench-"))
    root = folder / "shoes"
    if not (root / "journeylens.yaml").exists():
        root = build(folder, args.events)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(root, port)
    try:
        client = session(base)
        live, svg = "/api/maps/current-state/live", "/api/maps/current-state/svg?live=true"
        cold = timed(client, live)
        cold_svg = timed(client, svg)
        rows = []
        for name, path in (("me", "/api/me"), ("live", live), ("svg", svg)):
            single = [timed(client, path) for _ in range(args.requests)]
            crowd = concurrent(base, path, args.users, args.requests)
            rows.append((name, single, crowd))
        rss = peak_rss(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(
        f"\n{args.events:,} events; cold /live {cold * 1000:,.0f} ms (the uncached baseline), "
        f"cold /svg after it {cold_svg * 1000:,.0f} ms; server peak RSS {rss:,.0f} MiB"
    )
    print(f"{'endpoint':<8} {'p50 ms':>8} {'p95 ms':>8} {'users':>6} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'cold/p95':>9}")  # fmt: skip
    for name, single, crowd in rows:
        p95 = percentile(crowd, 0.95)
        print(
            f"{name:<8} {statistics.median(single) * 1000:>8.1f} "
            f"{percentile(single, 0.95) * 1000:>8.1f} {args.users:>6} "
            f"{statistics.median(crowd) * 1000:>8.1f} {p95 * 1000:>8.1f} {cold / p95:>9.0f}"
        )


if __name__ == "__main__":
    main()
