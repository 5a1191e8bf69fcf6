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
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from receivers import SECRET, Receivers, hanging_share, site_with_webhooks
from scofeed import config as config_mod
from scofeed.build import build as build_feeds
from scofeed.deliver import runner, signing
from scofeed.store import Store
from scofeed.store import deliveries as rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoints", type=int, default=200)
    ap.add_argument("--hanging", type=float, default=0.05, help="share of hanging endpoints")
    ap.add_argument("--timeout", type=float, default=2.0, help="delivery timeout, seconds")
    ap.add_argument("--processes", type=int, default=2, help="receiver processes")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    n = args.endpoints
    rx = Receivers(n, hanging_share(n, args.hanging), args.timeout + 1, args.processes)
    healthy, urls = rx.healthy, [rx.url(i) for i in range(n)]

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site_with_webhooks(root, urls, args.timeout)
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
        got = rx.drain(time.time() + 30)
        ours = max(got[i] for i in healthy) - t0
        delivered = runner.counts(store)["delivered"]
        bodies = [d.body for d in sorted(rows.listing(store.db, limit=n), key=lambda d: d.endpoint)]
        time.sleep(args.timeout + 1.5)  # let the hanging handlers of this round end
        while not rx.arrivals.empty():
            rx.arrivals.get()

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
        base_got = rx.drain(time.time() + 30)
        base = max(base_got[i] for i in healthy) - t1
        store.close()

    rx.stop()

    h = len(healthy)
    print(f"endpoints: {n} ({h} healthy, {len(rx.hanging)} hanging), timeout {args.timeout:g} s")
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
