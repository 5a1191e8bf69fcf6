"""WebSub fan-out benchmark: one new release to N subscribers of one topic, some hanging,
against the webhook fan-out to the same N receivers measured in the same run.

Starts N real HTTP receivers on 127.0.0.1 (threads in a few child processes). Each
answers the hub's verification GET with its challenge; a share of them (``--hanging``)
then never answers a POST until well past the timeout. Every receiver is both a
verified WebSub subscriber of the Atom feed and a configured webhook endpoint.

- websub : a new release file is dropped in sources/; the build publishes the feeds and
  the hub's tick (``Hub.run_due``) notices the changed feed and POSTs the whole new
  body to every subscriber. Measured from the file drop to the moment every healthy
  subscriber holds the new feed body.
- webhook: ``runner.run_due`` sends the deliveries the same build queued, one per
  endpoint (what bench/fanout.py measures). Measured from the same build's start.

    python bench/websub.py [--subscribers 500] [--hanging 0.05] [--timeout 2]
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
from urllib.parse import parse_qs, urlencode, urlsplit

from scofeed import config as config_mod
from scofeed.build import build
from scofeed.deliver import runner
from scofeed.store import Store
from scofeed.store import websub as ws_rows
from scofeed.websub import Hub, hub, receive

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REPO = Path(__file__).resolve().parents[1]
MARK = b"Benchmark release for WebSub"


def receivers(conn, arrivals, indexes: list[int], hanging: set[int], hang_for: float) -> None:
    """Child process: one ThreadingHTTPServer per receiver; report ports, then arrivals
    as (index, kind, time) with kind "websub" (a body holding the new release) or "hook"."""

    def handler(index: int) -> type[http.server.BaseHTTPRequestHandler]:
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                self._answer(200, query.get("hub.challenge", [""])[0].encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                kind = "hook" if self.path.startswith("/hook") else "websub"
                if kind == "hook" or MARK in body:
                    arrivals.put((index, kind, time.time()))
                if index in hanging:
                    time.sleep(hang_for)
                    self.close_connection = True
                    return
                self._answer(204)

        return Handler

    servers = []
    for i in indexes:
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(i))
        s.daemon_threads = True
        servers.append(s)
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    conn.send([s.server_address[1] for s in servers])
    conn.recv()  # until the parent is done


def drain(arrivals, kind: str, want: set[int], deadline: float) -> dict[int, float]:
    got: dict[int, float] = {}
    while not want <= set(got) and time.time() < deadline:
        try:
            index, k, at = arrivals.get(timeout=0.1)
        except Exception:  # queue.Empty
            continue
        if k == kind:
            got.setdefault(index, at)
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subscribers", type=int, default=500)
    ap.add_argument("--hanging", type=float, default=0.05, help="share of hanging subscribers")
    ap.add_argument("--timeout", type=float, default=2.0, help="request timeout, seconds")
    ap.add_argument("--processes", type=int, default=2, help="receiver processes")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    n = args.subscribers
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

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "sources").mkdir()
        seed = next((REPO / "sources").glob("*.txt"))
        (root / "sources" / seed.name).write_bytes(seed.read_bytes())
        hooks = "".join(
            f'\n[[webhooks]]\nname = "e{i:04d}"\nurl = "http://127.0.0.1:{ports[i]}/hook"\n'
            f'secret = "{SECRET}"\ntimeout = {args.timeout}\nallow_private = true\n'
            for i in range(n)
        )
        (root / "config.toml").write_text(
            '[site]\nid_authority = "bench.example,2026"\n[limits]\nsettle = 0\n'
            f"[websub]\nallow_private = true\ntimeout = {args.timeout}\n"
            f"max_per_host = {n + 1}\n" + hooks,
            encoding="utf-8",
        )
        cfg = config_mod.load(root / "config.toml")
        store = Store(cfg.paths.state)
        build(cfg, store, datetime.now(UTC))
        h = Hub()
        h.run_due(cfg, store, wait=True)  # the hub records the current feed bodies
        topic = cfg.feed_url("atom")
        for i in range(n):
            form = {"hub.mode": "subscribe", "hub.topic": topic, "hub.secret": f"s{i}",
                    "hub.callback": f"http://127.0.0.1:{ports[i]}/ws/{i}"}  # fmt: skip
            receive(cfg, store, urlencode(form).encode(), hub.FORM_TYPE, time.time())
        t = time.perf_counter()
        h.run_due(cfg, store, wait=True)
        verify_s = time.perf_counter() - t
        subscribed = len(ws_rows.subscriptions(store.db))

        # a new release file, then what the daemon's jobs do: build, the hub's tick
        t0 = time.time()
        (root / "sources" / "bench-new.txt").write_text(
            f"{MARK.decode()}\n\n2026-03-01\n\nThe Secretariat published a benchmark.\n",
            encoding="utf-8",
        )
        report = build(cfg, store, datetime.now(UTC))
        built = time.time()
        h.run_due(cfg, store, wait=False)
        got = drain(arrivals, "websub", healthy, time.time() + 60)
        ours = max(got[i] for i in healthy) - t0
        time.sleep(args.timeout + 1.5)  # let the hanging handlers of this round end

        # webhooks: the deliveries the same build queued, sent by the webhook runner
        t1 = time.time()
        runner.run_due(cfg, store, wait=True)
        hook_got = drain(arrivals, "hook", healthy, time.time() + 60)
        hooks_s = max(hook_got[i] for i in healthy) - t1 + (built - t0)
        h.shutdown(args.timeout + 2)
        store.close()

    for proc, parent in children:
        parent.send("stop")
        proc.join(5)

    k = len(healthy)
    print(f"subscribers: {n} ({k} healthy, {len(hanging)} hanging), timeout {args.timeout:g} s")
    print(f"verification of intent for {n} subscribers: {verify_s:.2f} s ({subscribed} active)")
    print(f"build after the file drop: {built - t0:.3f} s ({report.deliveries} webhooks queued)")
    print(f"websub  : every healthy subscriber holds the new feed {ours:.3f} s after the drop "
          f"({k / ours:.0f} subscribers/s)")  # fmt: skip
    print(f"webhook : every healthy endpoint has its delivery {hooks_s:.3f} s after the drop "
          f"({k / hooks_s:.0f} endpoints/s, build included)")  # fmt: skip
    print(f"ratio    : websub takes {ours / hooks_s:.2f}x the webhook fan-out time")


if __name__ == "__main__":
    main()
