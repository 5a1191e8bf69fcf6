"""The daemon's deliver and poll jobs, once the webhooks and remote modules are wired in
(schedule.job_table). Skipped where scofeed.deliver does not exist."""

from __future__ import annotations

import json
import signal

import pytest

pytest.importorskip("scofeed.deliver")

from standardwebhooks import Webhook  # noqa: E402

import test_daemon  # noqa: E402
from conftest import SECRET, webhook_toml  # noqa: E402

start = test_daemon.start  # the daemon-as-a-subprocess fixture
wait_for = test_daemon.wait_for

NEW = "Secretary-General meets the press\n\nOn 12 June 2020 the Secretary-General met the press.\n"


def test_a_dropped_release_reaches_the_webhook_and_health_counts_it(start, site, receivers):
    hook = receivers([200])
    for f in site.sources.iterdir():  # start with no release: the only delivery is the new one
        f.unlink()
    d = start(scan_interval=60, extra=webhook_toml("recv", hook.url, retry_schedule=[0, 1]))
    (site.sources / "press.txt").write_text(NEW, encoding="utf-8")
    got = hook.wait_for(1, timeout=20)
    Webhook(SECRET).verify(got[0].body, got[0].headers)  # raises unless signed right
    body = json.loads(got[0].body)
    assert body["type"] == "release.published"
    assert body["data"]["title"] == "Secretary-General meets the press"
    wait_for(lambda: d.get("/healthz").json()["deliveries"]["delivered"] == 1, what="count")
    assert d.stop(signal.SIGTERM) == 0


def test_a_delivery_pending_at_sigterm_is_sent_after_restart(start, site, receivers):
    hook = receivers([503, 200])
    for f in site.sources.iterdir():
        f.unlink()
    toml = webhook_toml("recv", hook.url, retry_schedule=[0, 2, 2])
    d = start(scan_interval=60, extra=toml)
    (site.sources / "press.txt").write_text(NEW, encoding="utf-8")
    hook.wait_for(1, timeout=20)  # the first attempt failed: the delivery is pending
    assert d.get("/healthz").json()["deliveries"]["pending"] == 1
    assert d.stop(signal.SIGTERM) == 0
    d2 = start(scan_interval=60, extra=toml)
    got = hook.wait_for(2, timeout=20)
    Webhook(SECRET).verify(got[1].body, got[1].headers)
    assert got[1].headers["webhook-id"] == got[0].headers["webhook-id"]  # the same delivery
    wait_for(lambda: d2.get("/healthz").json()["deliveries"]["delivered"] == 1, what="count")
    assert d2.stop(signal.SIGTERM) == 0


def test_sigterm_stops_a_backlog_after_the_request_in_flight(start, site, receivers):
    """A slow endpoint with a backlog: SIGTERM lets the one request in flight finish,
    sends no other, exits 0; the rest stay pending in the store for the next start."""
    from scofeed.store import Store
    from scofeed.store import deliveries as rows
    from test_deliver import GatedReceiver

    gated = GatedReceiver(receivers)
    for f in site.sources.iterdir():
        f.unlink()
    d = start(scan_interval=60, extra=webhook_toml("slow", gated.r.url))
    for n in range(3):
        (site.sources / f"p{n}.txt").write_text(NEW.replace("press", f"press {n}"))
    gated.r.wait_for(1, timeout=20)  # the first request is held at the gate
    wait_for(lambda: d.get("/healthz").json()["deliveries"]["pending"] == 3, what="3 queued")
    d.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "stopping signal=SIGTERM" in d.log(), what="the stop to begin")
    gated.gate.set()
    assert d.proc.wait(20) == 0
    assert len(gated.r.received) == 1
    store = Store(site.config().paths.state)
    try:
        assert rows.counts(store.db) == {"pending": 2, "failed": 0, "delivered": 1}
    finally:
        store.close()
