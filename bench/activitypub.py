"""ActivityPub fan-out benchmark: one new entry to 1,000 followers on 50 shared inboxes.

Starts N real HTTP receivers on ``--hosts`` loopback addresses (threads in a few child
processes), each standing for one remote server's shared inbox; a share of them hang
until well past the delivery timeout. Each address counts as a domain of its own, as
followers' servers are spread over many: the deliverer sends to at most 4 hosts of one
registrable domain at once (``PER_DOMAIN``), so with ``--hosts 1`` every inbox waits
behind the hanging ones of its "domain", by design. Then, in the same run and to the same receivers:

- baseline: the webhook fan-out, one ``[[webhooks]]`` endpoint per receiver, sent by
  ``runner.run_due`` (bench/fanout.py measures it against a sequential loop);
- ActivityPub: F followers spread over the N shared inboxes; the entry's Create is
  planned in the entry's transaction (one row per shared inbox) and sent, signed, by
  ``Deliverer.run_due``.

Prints the time until every healthy receiver has the delivery, for both, and the ratio.
The ActivityPub side signs each request with RSA (the webhooks use HMAC): that, and
nothing else, should separate the two figures.

    python bench/activitypub.py [--followers 1000] [--inboxes 50] [--hosts 50] [--hanging 0.05]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from receivers import Receivers, hanging_share, site_with_webhooks
from scofeed import config as config_mod
from scofeed.activitypub import delivery as ap_delivery
from scofeed.activitypub.service import Service
from scofeed.build import build as build_site
from scofeed.deliver import outbox, runner
from scofeed.store import Store
from scofeed.store import activitypub as ap_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--followers", type=int, default=1000)
    ap.add_argument("--inboxes", type=int, default=50)
    ap.add_argument("--hanging", type=float, default=0.05, help="share of hanging inboxes")
    ap.add_argument("--timeout", type=float, default=2.0, help="delivery timeout, seconds")
    ap.add_argument("--processes", type=int, default=2, help="receiver processes")
    ap.add_argument("--hosts", type=int, default=50, help="loopback hosts (1 to 250)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    n = args.inboxes
    rx = Receivers(
        n, hanging_share(n, args.hanging), args.timeout + 1, args.processes, 202, hosts=args.hosts
    )
    healthy = rx.healthy

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site_with_webhooks(
            root,
            [rx.url(i) for i in range(n)],
            args.timeout,
            f"[activitypub]\nenabled = true\nallow_private = true\ntimeout = {args.timeout}\n",
        )
        cfg = config_mod.load(root / "config.toml")
        store = Store(cfg.paths.state)
        service = Service.open(cfg, store)
        with store.transaction() as db:
            for f in range(args.followers):
                i = f % n
                shared, actor = rx.url(i, "/inbox"), rx.url(i, f"/users/{f}")
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
        got = rx.drain(time.time() + 30)
        hooks_s = max(got[i] for i in healthy) - t0
        time.sleep(args.timeout + 1.5)  # let the hanging handlers of this round end
        while not rx.arrivals.empty():
            rx.arrivals.get()

        # ActivityPub: the Create to every shared inbox, signed
        t1 = time.time()
        result = service.deliverer.run_due(wait=True)
        got = rx.drain(time.time() + 30, hooks=False)
        ap_s = max(got[i] for i in healthy) - t1
        counts = ap_rows.counts(store.db)
        service.close()
        store.close()

    rx.stop()

    h = len(healthy)
    print(
        f"followers: {args.followers} on {n} shared inboxes on {args.hosts} hosts ({h} healthy, "
        f"{len(rx.hanging)} hanging), timeout {args.timeout:g} s"
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
