"""ActivityPub fan-out benchmark: one new entry to 1,000 followers on 50 shared inboxes.

Starts N real HTTP receivers on 127.0.0.1 (threads in a few child processes), each
standing for one remote server's shared inbox; a share of them hang until well past
the delivery timeout. Then, in the same run and to the same receivers:

- baseline: the webhook fan-out, one ``[[webhooks]]`` endpoint per receiver, sent by
  ``runner.run_due`` (bench/fanout.py measures it against a sequential loop);
- ActivityPub: F followers spread over the N shared inboxes; the entry's Create is
  planned in the entry's transaction (one row per shared inbox) and sent, signed, by
  ``Deliverer.run_due``.

Prints the time until every healthy receiver has the delivery, for both, and the ratio.
The ActivityPub side signs each request with RSA (the webhooks use HMAC): that, and
nothing else, should separate the two figures.

    python bench/activitypub.py [--followers 1000] [--inboxes 50] [--hanging 0.05]
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

from scofeed import config as config_mod
from scofeed.activitypub import delivery as ap_delivery
from scofeed.activitypub.service import Service
from scofeed.build import build as build_site
from scofeed.deliver import outbox, runner
from scofeed.store import Store
from scofeed.store import activitypub as ap_rows

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REPO = Path(__file__).resolve().parents[1]


def receivers(conn, arrivals, indexes: list[int], hanging: set[int], hang_for: float) -> None:
    """Child process: one ThreadingHTTPServer per inbox; report ports, then arrivals."""

    def handler(index: int) -> type[http.server.BaseHTTPRequestHandler]:
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrivals.put((index, self.path, time.time()))
                if index in hanging:
                    time.sleep(hang_for)
                    self.close_connection = True
                    return
                self.send_response(202)
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


def drain(arrivals, want: set[int], path: str, deadline: float) -> dict[int, float]:
    got: dict[int, float] = {}
    while not want <= set(got) and time.time() < deadline:
        try:
            index, at_path, at = arrivals.get(timeout=0.1)
        except Exception:  # queue.Empty
            continue
        if at_path == path:
            got.setdefault(index, at)
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--followers", type=int, default=1000)
    ap.add_argument("--inboxes", type=int, default=50)
    ap.add_argument("--hanging", type=float, default=0.05, help="share of hanging inboxes")
    ap.add_argument("--timeout", type=float, default=2.0, help="delivery timeout, seconds")
    ap.add_argument("--processes", type=int, default=2, help="receiver processes")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    n = args.inboxes
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
            f"[activitypub]\nenabled = true\nallow_private = true\ntimeout = {args.timeout}\n"
            + hooks,
            encoding="utf-8",
        )
        cfg = config_mod.load(root / "config.toml")
        store = Store(cfg.paths.state)
        service = Service.open(cfg, store)
        with store.transaction() as db:
            for f in range(args.followers):
                i = f % n
                shared = f"http://127.0.0.1:{ports[i]}/inbox"
                actor = f"http://127.0.0.1:{ports[i]}/users/{f}"
                ap_rows.add_follower(db, actor, actor + "/inbox", shared, f"{actor}#f", 1.0)

        now = datetime.now(UTC)
        hooks_plan = outbox.planner(cfg, now)
        ap_plan = ap_delivery.planner(cfg, now)
        t = time.perf_counter()
        report = build_site(
            cfg, store, now, planner=lambda db, e, ev: hooks_plan(db, e, ev) + ap_plan(db, e, ev)
        )
        plan_s = time.perf_counter() - t
        queued_ap = len(ap_rows.listing(store.db, limit=10 * n))
        assert queued_ap == n, (queued_ap, report)

        # baseline: the webhook fan-out to the same receivers
        t0 = time.time()
        runner.run_due(cfg, store)
        got = drain(arrivals, healthy, "/hook", time.time() + 30)
        hooks_s = max(got[i] for i in healthy) - t0
        time.sleep(args.timeout + 1.5)  # let the hanging handlers of this round end
        while not arrivals.empty():
            arrivals.get()

        # ActivityPub: the Create to every shared inbox, signed
        t1 = time.time()
        result = service.deliverer.run_due(wait=True)
        got = drain(arrivals, healthy, "/inbox", time.time() + 30)
        ap_s = max(got[i] for i in healthy) - t1
        counts = ap_rows.counts(store.db)
        service.close()
        store.close()

    for proc, parent in children:
        parent.send("stop")
        proc.join(5)

    h = len(healthy)
    print(
        f"followers: {args.followers} on {n} shared inboxes ({h} healthy, {len(hanging)} "
        f"hanging), timeout {args.timeout:g} s"
    )
    print(f"planning: {n} webhook + {n} ActivityPub deliveries in the entry's transaction: "
          f"{plan_s:.3f} s")  # fmt: skip
    print(f"webhooks   : all {h} healthy served in {hooks_s:.3f} s")
    print(
        f"activitypub: all {h} healthy served in {ap_s:.3f} s; delivered={counts['delivered']} "
        f"retrying={result.retrying}"
    )
    print(f"ratio      : ActivityPub takes {ap_s / hooks_s:.2f}x the webhook fan-out's time")


if __name__ == "__main__":
    main()
