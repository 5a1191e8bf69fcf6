"""Benchmark the daemon: HTTP throughput against `python -m http.server` and nginx,
memory, idle CPU and pickup latency, all in one run on loopback.

    .venv/bin/python bench/serve.py [--entries 10000] [--clients 16] [--seconds 3] [--idle 30]

1. N synthetic releases (shaped like bench/build.py's) in a temporary site;
   `scofeed run` as a subprocess builds them.
2. Requests per second for /atom.xml from one load generator with keep-alive
   connections (wrk when installed, `apt-get install wrk` is tried; else Python
   threads with a requests.Session each): scofeed's full GET, its 304, its gzip
   response, and the same file from `python -m http.server` and from nginx (one
   worker; `apt-get install nginx-light` is tried when missing, skipped with a message
   otherwise). Rounds alternate the servers, so load from elsewhere hits all alike;
   the medians are printed with the ratios (targets of issue 9: full GET >= 3x
   http.server and >= 30% of nginx, 304 >= 2x the full GET).
3. The daemon's resident memory with N entries, its CPU use while idle, and the time
   from dropping a new file into sources/ to seeing it in /atom.xml.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
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

from build import synthetic

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


PLAIN = {"Accept-Encoding": None}  # requests then sends none, as wrk does


def check_answers(plan: dict[str, tuple[str | None, dict[str, str]]], names: object) -> None:
    """Each measured request answers as its name says (a 304 is a 304, not a full answer
    of a feed rewritten since its ETag was taken), or the bench stops: wrk counts a 200
    and a 304 alike."""
    for name in names:  # type: ignore[attr-defined]
        url, headers = plan[name]
        got = requests.get(str(url), headers={**PLAIN, **headers}, timeout=5).status_code
        want = 304 if "304" in name else 200
        if got != want:
            raise SystemExit(f"{name}: {url} answered {got}, not {want}")


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
    rng = random.Random(42)
    for i in range(n):
        (src / f"r{i:05d}.txt").write_text(synthetic(i, rng), encoding="utf-8")
    (root / "config.toml").write_text(CONFIG.format(interval=interval), encoding="utf-8")


def installed(tool: str, package: str) -> str | None:
    """The tool's path, installing its Debian package when missing and apt-get is there."""
    if shutil.which(tool) is None and shutil.which("apt-get") is not None:
        print(f"{tool} missing: apt-get install -y {package} ...")
        subprocess.run(
            ["apt-get", "install", "-y", package],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    for extra in ("", "/usr/sbin/"):  # nginx lives in sbin, off a plain user's PATH
        found = shutil.which(extra + tool)
        if found:
            return found
    return None


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    types {{ application/atom+xml xml; }}
    server {{ listen 127.0.0.1:{port}; root {feeds}; }}
}}
"""


def wrk_rate(wrk: str, url: str, clients: int, seconds: float, headers: dict[str, str]) -> float:
    """Requests per second from wrk: one thread, ``clients`` keep-alive connections."""
    cmd = [wrk, "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    if re.search(r"Socket errors|Non-2xx", out) and "If-" not in "".join(headers):
        raise SystemExit(f"{url}: wrk saw errors:\n{out}")
    m = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    if m is None:
        raise SystemExit(f"{url}: no rate in wrk's output:\n{out}")
    return float(m.group(1))


def hammer(url: str, clients: int, seconds: float, headers: dict[str, str]) -> float:
    """Requests per second from Python threads, one requests.Session (keep-alive) each."""
    errors: list[str] = []
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def client(k: int) -> None:
        with requests.Session() as s:
            while time.perf_counter() < stop:
                r = s.get(url, headers={**PLAIN, **headers}, timeout=10)
                r.content  # noqa: B018 - read the body
                if r.status_code >= 400:
                    errors.append(f"{r.status_code}")
                counts[k] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{url}: {len(errors)} unexpected answers, e.g. {errors[0]}")
    return sum(counts) / elapsed


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
    ap.add_argument("--clients", type=int, default=16, help="keep-alive connections")
    ap.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    ap.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measurement")
    ap.add_argument("--interval", type=int, default=60, help="scan_interval of the daemon")
    ap.add_argument("--drops", type=int, default=5, help="new files dropped for pickup latency")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds; medians shown")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="scofeed-bench-") as tmp:
        root = Path(tmp)
        root.chmod(0o755)  # nginx's worker runs as another user when started by root
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
        servers: list[subprocess.Popen[bytes]] = []
        try:

            def built() -> bool:
                health = requests.get(base + "/healthz", timeout=5).json()
                return health["status"] == "ok" and health["entries"] == args.entries

            wait_for(built, 600, "the first build")
            print(f"daemon: first scan of {args.entries} files in {time.perf_counter() - t0:.1f}s")

            atom = base + "/atom.xml"
            # as wrk asks, with no Accept-Encoding (requests sends gzip by default): each
            # encoding has its own ETag, and the gzip one is no match for the plain answer
            etag = requests.get(atom, headers=PLAIN, timeout=5).headers["ETag"]
            requests.get(atom, timeout=5)  # warm the cache

            feeds = root / "feeds"
            bport = free_port()
            servers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(bport)]
                    + ["--directory", str(feeds)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            burl = f"http://127.0.0.1:{bport}/atom.xml"
            wait_for(lambda: requests.get(burl, timeout=5).ok, 30, "http.server")
            nurl = None
            nginx = installed("nginx", "nginx-light")
            if nginx is None:
                print("nginx not installed and not installable: its column is skipped")
            else:
                nport = free_port()
                conf = root / "nginx.conf"
                conf.write_text(NGINX_CONF.format(root=root, port=nport, feeds=feeds))
                servers.append(
                    subprocess.Popen(
                        [nginx, "-c", str(conf), "-p", str(root)],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                nurl = f"http://127.0.0.1:{nport}/atom.xml"
                wait_for(lambda: requests.get(nurl, timeout=5).ok, 30, "nginx")
            wrk = installed("wrk", "wrk")
            c, secs = args.clients, args.seconds
            if wrk is not None:
                gen = "wrk, one thread"

                def rate(url: str, headers: dict[str, str]) -> float:
                    return wrk_rate(wrk, url, c, secs, headers)
            else:
                gen = "Python threads with requests (wrk not installed)"

                def rate(url: str, headers: dict[str, str]) -> float:
                    return hammer(url, c, secs, headers)

            plan = {
                "scofeed full": (atom, {}),
                "http.server full": (burl, {}),
                "nginx full": (nurl, {}),
                "scofeed 304": (atom, {"If-None-Match": etag}),
                "scofeed gzip": (atom, {"Accept-Encoding": "gzip"}),
            }
            rates: dict[str, list[float]] = {k: [] for k, (url, _) in plan.items() if url}
            check_answers(plan, rates)
            for _ in range(args.rounds):  # alternate, so load from elsewhere hits all alike
                for name in rates:
                    url, headers = plan[name]
                    rates[name].append(rate(str(url), headers))
            check_answers(plan, rates)  # the feed did not change meanwhile (a 304 stays one)
            med = {k: statistics.median(v) for k, v in rates.items()}
            size = len(requests.get(atom, timeout=5).content)
            gz = requests.get(atom, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=5)
            gz_size = len(gz.raw.read())
            print(
                f"\n/atom.xml ({size} bytes, {gz_size} gzipped), {c} keep-alive connections, "
                f"{gen}, {secs:g} s a measurement, median of {args.rounds} alternating rounds:"
            )
            for name, values in rates.items():
                each = " ".join(f"{v:.0f}" for v in values)
                print(f"  {name:18}{med[name]:>9.0f} req/s   rounds: {each}")
            print("ratios (issue 9 targets):")

            def ratio(label: str, num: str, den: str, target: str) -> None:
                if num in med and den in med:
                    by_round = " ".join(
                        f"{a / b:.2f}" for a, b in zip(rates[num], rates[den], strict=True)
                    )
                    print(
                        f"  {label:28}{med[num] / med[den]:>6.2f}x  {target:12} by round {by_round}"
                    )
                else:
                    print(f"  {label:28}  skipped ({den} not measured)")

            ratio("scofeed / http.server", "scofeed full", "http.server full", "(>= 3x)")
            ratio("scofeed / nginx", "scofeed full", "nginx full", "(>= 0.30x)")
            ratio("scofeed 304 / full GET", "scofeed 304", "scofeed full", "(>= 2x)")
            ratio("scofeed gzip / full GET", "scofeed gzip", "scofeed full", "")

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
            for proc in servers:
                proc.terminate()
                proc.wait(10)
            daemon.send_signal(signal.SIGTERM)
            rc = daemon.wait(30)
            print(f"daemon stopped with exit code {rc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
