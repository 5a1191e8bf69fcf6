"""Each delivery attempt has one wall-clock deadline (issue #13, finding 7): a receiver
on 127.0.0.1 that drips its answer a byte at a time, each byte well within the
per-read timeout, gets a timeout, not a delivered webhook after however long it likes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from urllib3.exceptions import ProtocolError

from conftest import SlowReceiver, webhook_toml
from scofeed.activitypub.keys import generate
from scofeed.activitypub.remote import Remote
from scofeed.build import build as build_feeds
from scofeed.deliver import runner, sender
from scofeed.errors import FetchError
from scofeed.sources import deadline
from scofeed.store import Store
from scofeed.store import deliveries as rows
from scofeed.store.websub import Intent
from scofeed.websub import send
from scofeed.websub.runner import ping

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 40\r\n\r\n"
# a body without a length, read until the connection closes: http.client lets go of
# the socket (conn.sock is None) once it reads such a response
NO_LENGTH = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
# a webhook's answer is its status line: a 2xx whose body drips is delivered (below)
ERROR_HEAD, ERROR_NO_LENGTH = (h.replace(b"200 OK", b"500 Oops") for h in (HEAD, NO_LENGTH))


@pytest.mark.parametrize(
    ("head", "start"),
    [(HEAD, 0), (ERROR_HEAD, len(ERROR_HEAD)), (ERROR_NO_LENGTH, len(ERROR_NO_LENGTH))],
    ids=["dripped-headers", "dripped-body", "dripped-body-without-length"],
)
def test_a_dripping_receiver_times_out_at_the_deadline(site, head, start):
    dripper = SlowReceiver(head + b"x" * 40, every=0.2, start=start)
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


@pytest.mark.parametrize("head", [HEAD, NO_LENGTH], ids=["length", "without-length"])
def test_a_2xx_whose_body_drips_past_the_deadline_is_cut_there_and_delivered(site, head):
    # the answer is its status line: a 200 came in time, only its body is late; cut at
    # the deadline as ever, but not sent again (a chat service would post it twice)
    dripper = SlowReceiver(head + b"x" * 40, every=0.2, start=len(head))
    try:
        site.write_config(webhook_toml("drip", dripper.url, timeout=1))
        cfg, store = site.config(), site.store()
        build_feeds(cfg, store, datetime.now(UTC))
        report = runner.run_due(cfg, store)
        assert dripper.ended.wait(60)
    finally:
        dripper.stop()
    assert (report.attempted, report.delivered) == (1, 1)
    (d,) = rows.listing(store.db)
    (attempt,) = rows.attempts(store.db, d.id)
    assert attempt.status == 200 and "timeout" in (attempt.response or "")
    assert dripper.outcomes == ["client gone"]  # cut at the deadline, not read to the end


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


@pytest.mark.parametrize("head", [HEAD, NO_LENGTH], ids=["length", "without-length"])
def test_a_dripping_actor_document_times_out_at_the_deadline(tmp_path, head):
    """A remote server that drips its actor or key document (the inbox fetches it while
    the sender's POST waits) is cut off at ``[activitypub] timeout`` too: the connection
    is closed on it mid-way. The document is read by ``iter_content`` with no clock of
    its own, so only the deadline's cut ends it; without the cut the whole drip (60
    bytes, 12 s) would be read, and reported late only then."""
    dripper = SlowReceiver(head + b"x" * 60, every=0.2, start=len(head))
    store = Store(tmp_path / "state.db")
    remote = Remote(store, generate(), "http://t.example/@a#main-key", True, timeout=1)
    try:
        with pytest.raises(FetchError, match="timeout"):
            remote.get(dripper.url)
        assert dripper.ended.wait(60)
    finally:
        dripper.stop()
        remote.close()
        store.close()
    assert dripper.outcomes == ["client gone"]


def test_the_pushes_deadline_cuts_a_body_without_a_length():
    """The cut itself, on a push session: the per-read timeout (30 s) never fires on a
    drip, so only the deadline ends the read, with the body short. The socket must be
    the one told at connect: ``conn.sock`` is already None when the deadline passes."""
    dripper = SlowReceiver(NO_LENGTH + b"x" * 60, every=0.2, start=len(NO_LENGTH))
    try:
        with sender.session(allow_private=True) as s, deadline.within(1) as watch:
            resp = s.get(dripper.url, timeout=30, stream=True)
            try:
                body = resp.raw.read()
            except ProtocolError:  # the cut seen as a reset (a busy machine's timing):
                body = b""  # short all the same; the sender counts both as broken off
            resp.close()
        assert dripper.ended.wait(60)
    finally:
        dripper.stop()
    assert watch.expired and len(body) < 60
    assert dripper.outcomes == ["client gone"]


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
