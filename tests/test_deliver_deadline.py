"""Each delivery attempt has one wall-clock deadline (issue #13, finding 7): a receiver
on 127.0.0.1 that drips its answer a byte at a time, each byte well within the
per-read timeout, gets a timeout, not a delivered webhook after however long it likes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conftest import SlowReceiver, webhook_toml
from scofeed.build import build as build_feeds
from scofeed.deliver import runner
from scofeed.store import deliveries as rows

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 40\r\n\r\n"


@pytest.mark.parametrize("start", [0, len(HEAD)], ids=["dripped-headers", "dripped-body"])
def test_a_dripping_receiver_times_out_at_the_deadline(site, start):
    dripper = SlowReceiver(HEAD + b"x" * 40, every=0.2, start=start)
    try:
        site.write_config(webhook_toml("drip", dripper.url, timeout=1))
        cfg, store = site.config(), site.store()
        build_feeds(cfg, store, datetime.now(UTC))
        report = runner.run_due(cfg, store)
    finally:
        dripper.stop()
    assert (report.attempted, report.delivered, report.retrying) == (1, 0, 1)
    (d,) = rows.listing(store.db)
    (attempt,) = rows.attempts(store.db, d.id)
    assert "timeout" in (attempt.error or ""), attempt.error


def test_the_endpoint_lease_outlasts_the_worst_attempt(site):
    """The lease taken before a request runs past its whole deadline, so no other
    sender can take the endpoint (and send the same webhook-id) while it is in flight."""
    pool = runner.DeliveryPool()
    site.write_config(webhook_toml("hub", "http://127.0.0.1:9/hook", timeout=3))
    hook = site.config().webhooks[0]
    assert pool.lease_for(hook) > hook.timeout + pool.lease_margin - 0.001
