"""WebSub fan-out benchmark: one new release to N subscribers of one topic, some hanging,
against the webhook fan-out to the same N receivers measured in the same run.

Starts N real HTTP receivers on ``--hosts`` loopback addresses (127.0.0.1 to
127.0.0.50 by default; threads in a few child processes). Each answers the hub's
verification GET with its challenge; a share of them (``--hanging``) then never answers
a POST until well past the timeout. Every receiver is both a verified WebSub subscriber
of the Atom feed and a configured webhook endpoint. The hub sends at most 4 requests
at once to one host: with ``--hosts 1`` (every subscriber on one host, as this bench
had it before that share) a host's hanging callbacks hold up its other subscribers,
~timeout x hanging / 4.

- websub : a new release file is dropped in sources/; the build publishes the feeds and
  the hub's tick (``Hub.run_due``) notices the changed feed and POSTs the whole new
  body to every subscriber. Measured from the file drop to the moment every healthy
  subscriber holds the new feed body.
- webhook: ``runner.run_due`` sends the deliveries the same build queued, one per
  endpoint (what bench/fanout.py measures). Measured from the same build's start.

    python bench/websub.py [--subscribers 500] [--hosts 50] [--hanging 0.05] [--timeout 2]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from receivers import Receivers, hanging_share, site_with_webhooks
from scofeed import config as config_mod
from scofeed.build import build
from scofeed.deliver import runner
from scofeed.store import Store
from scofeed.store import websub as ws_rows
from scofeed.websub import Hub, hub, receive

MARK = b"Benchmark release for WebSub"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subscribers", type=int, default=500)
    ap.add_argument("--hanging", type=float, default=0.05, help="share of hanging subscribers")
    ap.add_argument("--timeout", type=float, default=2.0, help="request timeout, seconds")
    ap.add_argument("--processes", type=int, default=2, help="receiver processes")
    ap.add_argument("--hosts", type=int, default=50, help="loopback hosts (1 to 250)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    n = args.subscribers
    hanging = hanging_share(n, args.hanging)
    rx = Receivers(n, hanging, args.timeout + 1, args.processes, mark=MARK, hosts=args.hosts)
    healthy = rx.healthy

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site_with_webhooks(
            root,
            [rx.url(i) for i in range(n)],
            args.timeout,
            f"[websub]\nallow_private = true\ntimeout = {args.timeout}\nmax_per_host = {n + 1}\n",
        )
        cfg = config_mod.load(root / "config.toml")
        store = Store(cfg.paths.state)
        build(cfg, store, datetime.now(UTC))
        # the seed's webhook deliveries, queued by that build, are not the job timed: sent
        # with the new release's, the receivers' first arrival was the seed's
        with store.transaction() as db:
            db.execute("DELETE FROM deliveries")
        h = Hub()
        h.run_due(cfg, store, wait=True)  # the hub records the current feed bodies
        topic = cfg.feed_url("atom")
        for i in range(n):
            form = {"hub.mode": "subscribe", "hub.topic": topic, "hub.secret": f"s{i}",
                    "hub.callback": rx.url(i, f"/ws/{i}")}  # fmt: skip
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
        got = rx.drain(time.time() + 60, hooks=False)
        ours = max(got[i] for i in healthy) - t0
        time.sleep(args.timeout + 1.5)  # let the hanging handlers of this round end

        # webhooks: the deliveries the same build queued, sent by the webhook runner
        t1 = time.time()
        runner.run_due(cfg, store)  # sends every due delivery (the new release's) and waits
        hook_got = rx.drain(time.time() + 60)
        hooks_s = max(hook_got[i] for i in healthy) - t1 + (built - t0)
        h.shutdown(args.timeout + 2)
        store.close()

    rx.stop()

    k = len(healthy)
    print(
        f"subscribers: {n} ({k} healthy, {len(hanging)} hanging) on {args.hosts} hosts, "
        f"timeout {args.timeout:g} s"
    )
    print(f"verification of intent for {n} subscribers: {verify_s:.2f} s ({subscribed} active)")
    print(f"build after the file drop: {built - t0:.3f} s ({report.deliveries} webhooks queued)")
    print(f"websub  : every healthy subscriber holds the new feed {ours:.3f} s after the drop "
          f"({k / ours:.0f} subscribers/s)")  # fmt: skip
    print(f"webhook : every healthy endpoint has its delivery {hooks_s:.3f} s after the drop "
          f"({k / hooks_s:.0f} endpoints/s, build included)")  # fmt: skip
    print(f"ratio    : websub takes {ours / hooks_s:.2f}x the webhook fan-out time")


if __name__ == "__main__":
    main()
