"""Benchmark the daemon: HTTP throughput against `python -m http.server`, memory, idle CPU
and pickup latency, all in one run on loopback.

    .venv/bin/python bench/serve.py [--entries 10000] [--clients 8] [--requests 2000] [--idle 30]

1. N synthetic releases in a temporary site; `scofeed run` as a subprocess builds them.
2. Requests per second for a full GET and a conditional GET (304) of /atom.xml with
   several concurrent clients (threads, one requests.Session each), then the same file
   served by `python -m http.server` (If-Modified-Since for its 304), as ratios.
3. The daemon's resident memory with N entries, its CPU use while idle, and the time
   from dropping a new file into sources/ to seeing it in /atom.xml.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import requests

CONFIG = """
[site]
id_authority = "bench.example,2026"
[paths]
sources = "sources"
feeds = "feeds"
state = "state/bench.sqlite3"
[limits]
settle = 0
[schedule]
scan_interval = {interval}
[log]
level = "WARNING"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(pred: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting for {what}")


def make_site(root: Path, n: int, interval: int) -> None:
    src = root / "sources"
    src.mkdir(parents=True)
    for i in range(n):
        (src / f"r{i:05d}.txt").write_text(
            f"Synthetic release number {i}\n\n"
            f"On {i % 28 + 1} June {2000 + i % 20} the Secretariat met delegation {i} on trade.\n\n"
            f"A second paragraph for release {i}, long enough to look like a press release.\n",
            encoding="utf-8",
        )
    (root / "config.toml").write_text(CONFIG.format(interval=interval), encoding="utf-8")


def hammer(url: str, clients: int, total: int, headers: dict[str, str], expect: int) -> float:
    """Requests per second for ``total`` requests spread over ``clients`` threads."""
    per = total // clients
    errors: list[str] = []

    def client() -> None:
        with requests.Session() as s:
            for _ in range(per):
                r = s.get(url, headers=headers, timeout=10)
                if r.status_code != expect:
                    errors.append(f"{r.status_code}")
                r.content  # noqa: B018 - read the body

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{url}: {len(errors)} unexpected answers, e.g. {errors[0]}")
    return per * clients / elapsed


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=2000, help="per measurement")
    ap.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measurement")
    ap.add_argument("--interval", type=int, default=60, help="scan_interval of the daemon")
    ap.add_argument("--drops", type=int, default=5, help="new files dropped for pickup latency")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians shown")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="scofeed-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        make_site(root, args.entries, args.interval)
        print(f"site: {args.entries} releases written in {time.perf_counter() - t0:.1f}s")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cmd = [
            sys.executable,
            "-m",
            "scofeed",
            "--config",
            "config.toml",
            "run",
            "--port",
            str(port),
        ]
        t0 = time.perf_counter()
        daemon = subprocess.Popen(cmd, cwd=root, stdout=subprocess.DEVNULL)
        baseline: subprocess.Popen[bytes] | None = None
        try:

            def built() -> bool:
                health = requests.get(base + "/healthz", timeout=5).json()
                return health["status"] == "ok" and health["entries"] == args.entries

            wait_for(built, 600, "the first build")
            print(f"daemon: first scan of {args.entries} files in {time.perf_counter() - t0:.1f}s")

            atom = base + "/atom.xml"
            etag = requests.get(atom, timeout=5).headers["ETag"]
            requests.get(atom, timeout=5)  # warm the cache

            bport = free_port()
            baseline = subprocess.Popen(
                [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(bport)]
                + ["--directory", str(root / "feeds")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            burl = f"http://127.0.0.1:{bport}/atom.xml"
            wait_for(lambda: requests.get(burl, timeout=5).ok, 30, "http.server")
            lm = requests.get(burl, timeout=5).headers["Last-Modified"]
            rates: dict[str, list[float]] = {"full": [], "cond": [], "b_full": [], "b_cond": []}
            for _ in range(args.rounds):  # alternate, so load from elsewhere hits both alike
                n, c = args.requests, args.clients
                rates["full"].append(hammer(atom, c, n, {}, 200))
                rates["b_full"].append(hammer(burl, c, n, {}, 200))
                rates["cond"].append(hammer(atom, c, n, {"If-None-Match": etag}, 304))
                rates["b_cond"].append(hammer(burl, c, n, {"If-Modified-Since": lm}, 304))
            full, b_full, cond, b_cond = (
                statistics.median(rates[k]) for k in ("full", "b_full", "cond", "b_cond")
            )
            size = len(requests.get(atom, timeout=5).content)
            print(
                f"\n/atom.xml ({size} bytes), {args.clients} clients, "
                f"{args.requests} requests a round, median of {args.rounds} rounds:"
            )
            print(f"  {'':24}{'scofeed':>9}{'http.server':>13}{'ratio':>7}")
            for label, ours, theirs in (
                ("full GET (req/s)", full, b_full),
                ("conditional 304 (req/s)", cond, b_cond),
            ):
                print(f"  {label:24}{ours:>9.0f}{theirs:>13.0f}{ours / theirs:>7.2f}")

            print(f"\nresident memory with {args.entries} entries: {rss_mib(daemon.pid):.1f} MiB")
            c0 = cpu_seconds(daemon.pid)
            time.sleep(args.idle)
            used = cpu_seconds(daemon.pid) - c0
            print(
                f"idle CPU over {args.idle:.0f}s: {used:.2f}s of CPU "
                f"({100 * used / args.idle:.2f}% of one core)"
            )

            latencies = []
            today = datetime.now(UTC)
            for i in range(args.drops):
                title = f"Pickup probe {i} {time.time_ns()}"
                tmpfile = root / "sources" / f".probe{i}.tmp"
                tmpfile.write_text(
                    f"{title}\n\nOn {today.day} {today:%B} {today.year} a probe was dropped.\n",
                    encoding="utf-8",
                )
                t0 = time.perf_counter()
                tmpfile.rename(root / "sources" / f"probe{i}.txt")
                wait_for(
                    lambda t=title: t in requests.get(atom, timeout=5).text,  # type: ignore[misc]
                    max(30, 2 * args.interval),
                    "the dropped file in /atom.xml",
                )
                latencies.append(time.perf_counter() - t0)
            print(
                f"drop-to-feed latency over {args.drops} files: median "
                f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
                f"(scan_interval = {args.interval}s)"
            )
        finally:
            if baseline is not None:
                baseline.terminate()
                baseline.wait(10)
            daemon.send_signal(signal.SIGTERM)
            rc = daemon.wait(30)
            print(f"daemon stopped with exit code {rc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
