"""Fan-out benchmark: one new entry to N webhook endpoints, some of them hanging.

Starts N real HTTP receivers on 127.0.0.1 (threads in a few child processes); a share
of them never answer until well past the delivery timeout. Then, from the same run:

- scofeed: ``runner.run_due`` sends the one queued delivery per endpoint;
- baseline: a plain sequential loop of ``requests.post`` to the same endpoints.

Prints the time until every healthy endpoint has its delivery, deliveries per second,
and the ratio to the baseline. Targets: healthy endpoints served within 2 s whatever the
hanging ones do; at least 10x the sequential baseline.

    python bench/fanout.py [--endpoints 200] [--hanging 0.05] [--timeout 2]
"""

from __future__ import annotations

import argparse
import http.server
import logging
import multiprocessing as mp
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from scofeed import config as config_mod
from scofeed.build import build as build_feeds
from scofeed.deliver import runner, signing
from scofeed.store import Store
from scofeed.store import deliveries as rows

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REPO = Path(__file__).resolve().parents[1]


def receivers(conn, arrivals, indexes: list[int], hanging: set[int], hang_for: float) -> None:
    """Child process: one ThreadingHTTPServer per endpoint; report ports, then arrivals."""

    def handler(index: int) -> type[http.server.BaseHTTPRequestHandler]:
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrivals.put((index, time.time()))
                if index in hanging:
                    time.sleep(hang_for)
                    self.close_connection = True
                    return
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    servers = []
    for i in indexes:
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(i))
        s.daemon_threads = True
        servers.append(s)
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    conn.send([s.server_address[1] for s in servers])
    conn.recv()  # until the parent is done


def drain(arrivals, want: set[int], deadline: float) -> dict[int, float]:
    got: dict[int, float] = {}
    while not want <= set(got) and time.time() < deadline:
        try:
            index, at = arrivals.get(timeout=0.1)
        except Exception:  # queue.Empty
            continue
        got.setdefault(index, at)
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoints", type=int, default=200)
    ap.add_argument("--hanging", type=float, default=0.05, help="share of hanging endpoints")
    ap.add_argument("--timeout", type=float, default=2.0, help="delivery timeout, seconds")
    ap.add_argument("--processes", type=int, default=2, help="receiver processes")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    n = args.endpoints
    step = max(1, round(1 / args.hanging)) if args.hanging > 0 else n + 1
    hanging = {i for i in range(n) if i % step == step // 2}
    healthy = set(range(n)) - hanging
    ctx = mp.get_context("spawn")
    arrivals = ctx.Queue()
    children, ports = [], {}
    for p in range(args.processes):
        indexes = list(range(p, n, args.processes))
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=receivers,
            args=(child, arrivals, indexes, hanging, args.timeout + 1),
            daemon=True,
        )
        proc.start()
        children.append((proc, parent))
        ports.update(zip(indexes, parent.recv(), strict=True))
    urls = [f"http://127.0.0.1:{ports[i]}/hook" for i in range(n)]

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "sources").mkdir()
        seed = next((REPO / "sources").glob("*.txt"))
        (root / "sources" / seed.name).write_bytes(seed.read_bytes())
        hooks = "".join(
            f'\n[[webhooks]]\nname = "e{i:04d}"\nurl = "{u}"\nsecret = "{SECRET}"\n'
            f"timeout = {args.timeout}\nallow_private = true\n"
            for i, u in enumerate(urls)
        )
        (root / "config.toml").write_text(
            '[site]\nid_authority = "bench.example,2026"\n[limits]\nsettle = 0\n' + hooks,
            encoding="utf-8",
        )
        cfg = config_mod.load(root / "config.toml")
        store = Store(cfg.paths.state)
        t = time.perf_counter()
        report = build_feeds(cfg, store, datetime.now(UTC))
        plan_s = time.perf_counter() - t
        assert report.deliveries == n, report

        # scofeed: every endpoint in parallel
        t0 = time.time()
        result = runner.run_due(cfg, store)
        run_s = time.time() - t0
        got = drain(arrivals, healthy, time.time() + 30)
        ours = max(got[i] for i in healthy) - t0
        delivered = runner.counts(store)["delivered"]
        bodies = [d.body for d in sorted(rows.listing(store.db, limit=n), key=lambda d: d.endpoint)]
        time.sleep(args.timeout + 1.5)  # let the hanging handlers of this round end
        while not arrivals.empty():
            arrivals.get()

        # baseline: a plain sequential loop of requests.post, same endpoints, same order
        t1 = time.time()
        healthy_durations = []
        for i, (url, body) in enumerate(zip(urls, bodies, strict=True)):
            stamp = int(time.time())
            headers = signing.headers([SECRET], f"msg_base_{i}", stamp, body)
            headers["Content-Type"] = "application/json"
            start = time.perf_counter()
            try:
                requests.post(url, data=body, headers=headers, timeout=args.timeout)
            except requests.RequestException:
                pass
            if i in healthy:
                healthy_durations.append(time.perf_counter() - start)
        base_total = time.time() - t1
        base_got = drain(arrivals, healthy, time.time() + 30)
        base = max(base_got[i] for i in healthy) - t1
        store.close()

    for proc, parent in children:
        parent.send("stop")
        proc.join(5)

    h = len(healthy)
    print(f"endpoints: {n} ({h} healthy, {len(hanging)} hanging), timeout {args.timeout:g} s")
    print(f"planning {n} deliveries in the entry's transaction: {plan_s:.3f} s")
    print(
        f"scofeed  : all {h} healthy served in {ours:.3f} s ({h / ours:.0f} deliveries/s); "
        f"run_due returned after {run_s:.2f} s; delivered={delivered} "
        f"retrying={result.retrying}"
    )
    print(
        f"baseline : all {h} healthy served in {base:.3f} s ({h / base:.0f} deliveries/s); "
        f"loop took {base_total:.2f} s; healthy requests alone {sum(healthy_durations):.3f} s"
    )
    print(f"ratio    : {base / ours:.1f}x faster than the sequential loop (target >= 10x)")
    print(f"target   : healthy within 2 s: {'met' if ours <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
