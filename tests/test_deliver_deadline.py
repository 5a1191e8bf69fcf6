"""Each delivery attempt has one wall-clock deadline (issue #13, finding 7): a receiver
on 127.0.0.1 that drips its answer a byte at a time, each byte well within the
per-read timeout, gets a timeout, not a delivered webhook after however long it likes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conftest import SlowReceiver, webhook_toml
from scofeed.activitypub.keys import generate
from scofeed.activitypub.remote import Remote
from scofeed.build import build as build_feeds
from scofeed.deliver import runner
from scofeed.errors import FetchError
from scofeed.store import Store
from scofeed.store import deliveries as rows
from scofeed.store.websub import Intent
from scofeed.websub import send
from scofeed.websub.runner import ping

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


def test_a_dripping_websub_callback_times_out_at_the_deadline():
    """The hub's verification GET has the same one deadline: a callback that drips its
    answer cannot hold a hub worker for longer than ``[websub] timeout``."""
    dripper = SlowReceiver(HEAD + b"x" * 40, every=0.2)
    intent = Intent("subscribe", "http://t.example/atom.xml", dripper.url, "127.0.0.1",
                    None, 3600, "c" * 43)  # fmt: skip
    try:
        with send.session(allow_private=True) as s:
            ok, reason = send.verify(s, intent, timeout=1)
    finally:
        dripper.stop()
    assert not ok and "timeout" in reason, reason


def test_a_dripping_actor_document_times_out_at_the_deadline(tmp_path):
    """A remote server that drips its actor or key document (the inbox fetches it while
    the sender's POST waits) is cut off at ``[activitypub] timeout`` too."""
    dripper = SlowReceiver(HEAD + b"x" * 40, every=0.2)
    store = Store(tmp_path / "state.db")
    remote = Remote(store, generate(), "http://t.example/@a#main-key", True, timeout=1)
    try:
        with pytest.raises(FetchError, match="timeout"):
            remote.get(dripper.url)
    finally:
        dripper.stop()
        remote.close()
        store.close()


def test_a_dripping_external_hub_is_cut_off_at_the_deadline(site):
    """A publish ping to an external hub (``[websub] hubs``: after a one-shot build, or
    from the daemon's hub workers) has the deadline too: a hub that drips its 204 is a
    failed ping after ``[websub] timeout``, not a success whenever it is done."""
    dripper = SlowReceiver(b"HTTP/1.1 204 No Content\r\n\r\n", every=0.2)
    site.write_config("\n[websub]\ntimeout = 1\n")
    cfg = site.config()
    try:
        assert ping(cfg, dripper.url, cfg.feed_url("atom")) is False
    finally:
        dripper.stop()
