"""The WebSub hub against real subscribers on 127.0.0.1: subscribing with and without a
secret, verification of intent, leases on an injected clock, unsubscribing, denial,
content distribution with its signature checked independently, retries, restarts."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import feedparser
import pytest
import requests

from scofeed.build import build
from scofeed.cli import main
from scofeed.config import Config
from scofeed.errors import HubRequestError, StoreError
from scofeed.publish import published_sets
from scofeed.serve import App, HttpServer
from scofeed.store import Store
from scofeed.store import websub as rows
from scofeed.websub import Hub, drop, hub, receive
from servers import serve
from tests.conftest import SlowReceiver
from websub_subscriber import Subscriber

PRIVATE = "\n[websub]\nallow_private = true\nretry_schedule = [0, 60, 600]\n"


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def sub():
    made: list[Subscriber] = []

    def make(**kw: object) -> Subscriber:
        s = Subscriber(**kw)  # type: ignore[arg-type]
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def hub_site(site):
    site.write_config(PRIVATE)
    cfg = site.config()
    store = Store(cfg.paths.state)
    build(cfg, store, datetime(2026, 1, 1, tzinfo=UTC))
    clock = Clock()
    h = Hub(max_workers=8, clock=clock, rng=random.Random(1))
    yield site, cfg, store, h, clock
    h.shutdown(5)
    store.close()


class FastReceiver:
    """Callbacks on ``host`` that answer each distribution (or ping) with 204, and each
    verification of intent with its challenge: at once, or with ``hold``, once
    ``hold(n)`` is set for the n-th request (from 0). ``posts``: the bodies, ``paths``:
    their paths; ``gets``: the verifications' queries; ``arrived`` is set and ``came``
    released at each request."""

    def __init__(self, host: str, hold: Callable[[int], threading.Event] | None = None) -> None:
        self.posts: list[bytes] = []
        self.paths: list[str] = []
        self.gets: list[dict[str, str]] = []
        self.arrived = threading.Event()
        self.came = threading.Semaphore(0)
        lock = threading.Lock()
        receiver = self
        count = iter(range(1 << 30))

        def came() -> None:
            receiver.arrived.set()
            receiver.came.release()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    n = next(count)
                    receiver.posts.append(body)
                    receiver.paths.append(self.path)
                came()
                if hold is not None:
                    hold(n).wait(30)
                self.send_response(204)
                self.end_headers()

            def do_GET(self) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query))
                with lock:
                    n = next(count)
                    receiver.gets.append(query)
                came()
                if hold is not None:
                    hold(n).wait(30)
                challenge = query.get("hub.challenge", "").encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(challenge)))
                self.end_headers()
                self.wfile.write(challenge)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        serve(self.server)
        self.url = f"http://{host}:{self.server.server_address[1]}/callback"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def subscribed(store: Store, topic: str, callbacks: Iterable[str]) -> None:
    """Active subscriptions of ``topic`` for ``callbacks``, in their order (as if each
    had been verified just now)."""
    with store.transaction() as db:
        for callback in callbacks:
            intent = rows.Intent("subscribe", topic, callback, urlsplit(callback).hostname or "",
                                 None, 86400, "c")  # fmt: skip
            rows.activate(db, intent, time.time())


def form(**fields: object) -> bytes:
    return urlencode({f"hub.{k}": v for k, v in fields.items()}).encode()


def subscribe(cfg: Config, store: Store, h: Hub, clock: Clock, callback: str, **kw: object):
    topic = kw.pop("topic", cfg.feed_url("atom"))
    mode = kw.pop("mode", "subscribe")
    body = form(mode=mode, topic=topic, callback=callback, **kw)
    receive(cfg, store, body, hub.FORM_TYPE, clock())
    return h.run_due(cfg, store, wait=True)


def new_release(site, cfg: Config, store: Store, n: int = 1) -> None:
    (site.sources / f"new-{n}.txt").write_text(
        f"New release number {n}\n\n2026-02-0{n}\n\nThe Secretariat announced news {n}.\n",
        encoding="utf-8",
    )
    report = build(cfg, store, datetime(2026, 2, 1, tzinfo=UTC))
    assert report.written


def released_to(h: Hub, site, cfg: Config, store: Store, callbacks: Iterable[str]) -> str:
    """A new release for ``callbacks``, subscribed to the Atom feed once the hub has read
    the feeds as they are (so the release is the one change it has to send); the topic."""
    topic = cfg.feed_url("atom")
    h.run_due(cfg, store, wait=True)  # the bodies as they are: nothing to send yet
    subscribed(store, topic, callbacks)
    new_release(site, cfg, store)
    return topic


def fast_ones_pass_the_slow_host(
    h: Hub, site, cfg: Config, store: Store, slow: SlowReceiver, slow_callbacks: list[str]
) -> None:
    """Six callbacks on one silent host (first in line) and three on a fast one: the
    daemon's ticks deliver the fast ones while every slow one is still in flight,
    unsettled, and the silent host got ``per_host`` (2) requests, however many were due."""
    fast = FastReceiver("127.0.0.2")
    try:
        released_to(h, site, cfg, store, slow_callbacks + [f"{fast.url}?n={n}" for n in range(3)])
        deadline = time.monotonic() + 60
        while len(fast.posts) < 3 and time.monotonic() < deadline:
            h.run_due(cfg, store)  # the daemon's ticks
            fast.arrived.wait(0.2)
            fast.arrived.clear()
        assert len(fast.posts) == 3
        settled = store.db.execute(
            "SELECT COUNT(*) FROM websub_distributions WHERE attempts > 0"
        ).fetchone()[0]
        assert settled == 0  # no slow one ended: the fast ones did not wait for them
        # its two requests were sent before the fast ones (they may reach the silent
        # server's count after them on a busy machine)
        while slow.requests < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow.requests == 2
    finally:
        fast.close()


def expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- subscribing -----------------------------------------------------------------------


def test_subscribe_with_secret_verifies_then_distributes_signed_feed(hub_site, sub):
    site, cfg, store, h, clock = hub_site
    s = sub()
    h.run_due(cfg, store, wait=True)  # the hub records the current bodies first
    subscribe(cfg, store, h, clock, s.url, secret="s3cret-of-the-subscriber", lease_seconds=7200)
    (v,) = s.verifications
    assert v["hub.mode"] == "subscribe" and v["hub.topic"] == cfg.feed_url("atom")
    assert v["hub.lease_seconds"] == "7200" and len(v["hub.challenge"]) >= 32
    assert v["token"] == "t0k3n"  # the callback's own query is kept
    (active,) = rows.subscriptions(store.db)
    assert active.expires == clock() + 7200 and "s3cret" not in repr(active)

    new_release(site, cfg, store)
    h.run_due(cfg, store, wait=True)
    s.wait("posts")
    (post,) = s.posts
    assert post.body == (site.feeds / "atom.xml").read_bytes()
    assert b"New release number 1" in post.body
    assert post.headers["content-type"] == "application/atom+xml; charset=utf-8"
    signed = expected_signature("s3cret-of-the-subscriber", post.body)
    assert post.headers["x-hub-signature"] == signed
    assert post.headers["link"] == (
        f'<{cfg.hub_urls()[0]}>; rel="hub", <{cfg.feed_url("atom")}>; rel="self"'
    )
    (done,) = rows.subscriptions(store.db)
    assert done.last_delivery == clock() and not done.pending


def test_subscribe_without_secret_sends_no_signature(hub_site, sub):
    site, cfg, store, h, clock = hub_site
    s = sub()
    subscribe(cfg, store, h, clock, s.url, topic=cfg.feed_url("json"))
    (active,) = rows.subscriptions(store.db)
    assert active.lease_seconds == cfg.websub.lease_seconds  # none asked: the default
    new_release(site, cfg, store)
    h.run_due(cfg, store, wait=True)
    s.wait("posts")
    assert "x-hub-signature" not in s.posts[0].headers
    assert s.posts[0].headers["content-type"].startswith("application/feed+json")


@pytest.mark.parametrize("echo", ["wrong", "404"])
def test_a_subscriber_that_does_not_confirm_gets_no_subscription(hub_site, sub, echo):
    _site, cfg, store, h, clock = hub_site
    s = sub(echo=echo)
    subscribe(cfg, store, h, clock, s.url)
    assert len(s.verifications) == 1
    assert rows.subscriptions(store.db) == []
    assert rows.counts(store.db)["verifying"] == 0


def test_resubscribing_renews_the_lease_and_replaces_the_secret(hub_site, sub):
    site, cfg, store, h, clock = hub_site
    s = sub()
    subscribe(cfg, store, h, clock, s.url, secret="first", lease_seconds=3600)
    clock.t += 1000
    subscribe(cfg, store, h, clock, s.url, secret="second", lease_seconds=3600)
    (active,) = rows.subscriptions(store.db)
    assert active.expires == clock() + 3600 and active.secret == "second"
    new_release(site, cfg, store)
    h.run_due(cfg, store, wait=True)
    s.wait("posts")
    assert s.posts[0].headers["x-hub-signature"] == expected_signature("second", s.posts[0].body)


def test_parameters_the_hub_does_not_read_are_ignored_even_repeated(hub_site, sub):
    """WebSub 5.1 (websub.rocks hub test 102): a hub ignores what it does not understand.
    PubSubHubbub 0.3 subscribers (NewsBlur) send hub.verify twice: sync and async."""
    _site, cfg, store, h, clock = hub_site
    s = sub()
    body = urlencode(
        [("hub.mode", "subscribe"), ("hub.topic", cfg.feed_url("atom")),
         ("hub.callback", s.url), ("hub.verify", "async"), ("hub.verify", "sync"),
         ("foo", "bar"), ("foo", "baz"), ("hub.foo", "hub.bar")]
    ).encode()  # fmt: skip
    receive(cfg, store, body, hub.FORM_TYPE, clock())
    h.run_due(cfg, store, wait=True)
    (v,) = s.verifications
    assert v["hub.mode"] == "subscribe" and "hub.verify" not in v and "foo" not in v
    assert len(rows.subscriptions(store.db)) == 1


def test_a_verify_token_is_echoed_as_pubsubhubbub_subscribers_expect(hub_site, sub):
    """NewsBlur's callback answers 404 to a verification without the hub.verify_token it
    sent (PubSubHubbub 0.3; Google's hub and Superfeedr echo it): so the hub echoes it,
    in the subscribe and in the unsubscribe verification."""
    _site, cfg, store, h, clock = hub_site
    s = sub(token="subscribe" + "5" * 40)
    subscribe(cfg, store, h, clock, s.url, verify_token="subscribe" + "5" * 40)
    assert s.verifications[-1]["hub.verify_token"] == "subscribe" + "5" * 40
    assert len(rows.subscriptions(store.db)) == 1
    s.token = "unsubscribe-token"
    subscribe(cfg, store, h, clock, s.url, mode="unsubscribe", verify_token="unsubscribe-token")
    assert s.verifications[-1]["hub.verify_token"] == "unsubscribe-token"
    assert rows.subscriptions(store.db) == []
    plain = sub()  # a WebSub subscriber that sent none gets none
    subscribe(cfg, store, h, clock, plain.url)
    assert "hub.verify_token" not in plain.verifications[-1]


def test_a_topic_spelled_otherwise_is_the_topic_and_given_back_as_spelled(hub_site, sub):
    """hub.topic was compared as written: the feed's URL spelled otherwise (scheme in
    upper case, a port with a leading zero, a trailing '?', '%61' for 'a', a dot
    segment) was refused with a 404. It is compared normalised (RFC 3986 6.2.2 and
    6.2.3): one topic, one subscription for every spelling, distributed with the
    topic's own URL as rel=self; the verification gives hub.topic back as the
    subscriber gave it (WebSub 5.3: "the topic URL given in the corresponding
    subscription request"), which a subscriber checks before it confirms."""
    site, cfg, store, h, clock = hub_site
    own = cfg.feed_url("atom")
    assert own == "http://127.0.0.1:8080/atom.xml"
    h.run_due(cfg, store, wait=True)  # the hub records the current bodies first
    s = sub()
    for spelled in (
        "HTTP://127.0.0.1:8080/atom.xml",
        "http://127.0.0.1:08080/atom.xml?",
        "http://127.0.0.1:8080/%61tom.xml",
        "http://127.0.0.1:8080/tags/../atom.xml",
        own,
        "http://127.0.0.1:8080/./atom.xml",
    ):
        s.topic = spelled  # the subscriber confirms only the topic it asked for
        subscribe(cfg, store, h, clock, s.url, topic=spelled, lease_seconds=3600)
        assert s.verifications[-1]["hub.topic"] == spelled
        (active,) = rows.subscriptions(store.db)
        assert active.topic == own and active.topic_as_given == spelled
    new_release(site, cfg, store)
    h.run_due(cfg, store, wait=True)
    s.wait("posts")
    (post,) = s.posts
    assert post.headers["link"].endswith(f'<{own}>; rel="self"')
    s.topic = "Http://127.0.0.1:8080/atom.xml"  # unsubscribing, spelled otherwise again
    subscribe(cfg, store, h, clock, s.url, mode="unsubscribe", topic=s.topic)
    assert s.verifications[-1]["hub.topic"] == s.topic
    assert rows.subscriptions(store.db) == []


def test_default_ports_host_and_percent_case_name_the_same_topic(hub_site, sub):
    """An explicit default port (:443), the host in capitals, lower-case percent-encoding
    (%e0 for %E0) or the tag's characters themselves (an IRI) name the tag's feed;
    another scheme, port, path or query do not. A denial gives back the spelling of the
    subscription it ends."""
    site, _cfg, store, h, clock = hub_site
    (site.sources / "hi.md").write_text(
        "---\ntitle: SCO film week\ndate: 2024-05-02\ntags: [हिन्दी]\n---\n\nFilms.\n",
        encoding="utf-8",
    )
    cfg = site.config('site.base_url="https://sco.example/"', "feeds.metadata_tags=true")
    build(cfg, store, datetime(2026, 1, 1, tzinfo=UTC))
    folder = quote("हिन्दी")
    own = f"https://sco.example/tags/{folder}/atom.xml"
    assert own in hub.topics(cfg, published_sets(cfg, store))
    s = sub()
    for spelled in (
        f"https://SCO.Example:443/tags/{folder.lower()}/atom.xml",
        "https://sco.example/tags/हिन्दी/atom.xml",
        f"https://sco.example:/tags/{folder}/%61tom.xml",
    ):
        s.topic = spelled
        subscribe(cfg, store, h, clock, s.url, topic=spelled)
        assert s.verifications[-1]["hub.topic"] == spelled
        (active,) = rows.subscriptions(store.db)
        assert active.topic == own
    for other in (
        f"http://sco.example/tags/{folder}/atom.xml",
        f"https://sco.example:8443/tags/{folder}/atom.xml",
        f"https://sco.example/tags/{folder}/atom.xml?x=1",
        f"https://sco.example/tags/{folder}%2Fatom.xml",
        "https://sco.example/tags/हिन्द/atom.xml",
    ):
        with pytest.raises(HubRequestError) as err:
            receive(cfg, store, form(mode="subscribe", topic=other, callback=s.url),
                    hub.FORM_TYPE, clock())  # fmt: skip
        assert err.value.http_status == 404, other
    assert main(["--config", str(site.config_path), "websub", "remove", "1"]) == 0
    h.run_due(cfg, store, wait=True)
    denial = s.verifications[-1]
    assert denial["hub.mode"] == "denied" and denial["hub.topic"] == s.topic


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://Sco.Example:443/atom.xml?", "https://sco.example/atom.xml"),
        ("http://sco.example:80", "http://sco.example/"),
        ("http://sco.example:/a/./b/../c", "http://sco.example/a/c"),
        ("http://sco.example/%7e%2f%41/", "http://sco.example/~%2FA/"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://sco.example:8080/a?b=%2f", "http://sco.example:8080/a?b=%2F"),
        ("http://sco.example/हि", "http://sco.example/%E0%A4%B9%E0%A4%BF"),
        ("http://sco.example/a/..", "http://sco.example/"),
        ("not a url", "not a url"),
    ],
)
def test_normal_url_follows_rfc_3986(url, normal):
    assert hub.normal_url(url) == normal
    assert hub.normal_url(normal) == normal  # normalising twice changes nothing


def test_lease_runs_out_on_the_injected_clock(hub_site, sub):
    site, cfg, store, h, clock = hub_site
    s = sub()
    subscribe(cfg, store, h, clock, s.url, lease_seconds=1)  # held to lease_min
    (active,) = rows.subscriptions(store.db)
    assert active.lease_seconds == cfg.websub.lease_min
    clock.t += cfg.websub.lease_min - 1
    assert h.run_due(cfg, store, wait=True).expired == 0
    clock.t += 1
    assert h.run_due(cfg, store, wait=True).expired == 1
    assert rows.subscriptions(store.db) == []
    new_release(site, cfg, store)
    h.run_due(cfg, store, wait=True)
    assert s.posts == []


def test_lease_is_capped_at_the_maximum(hub_site, sub):
    _site, cfg, store, h, clock = hub_site
    s = sub()
    subscribe(cfg, store, h, clock, s.url, lease_seconds=10**9)
    assert s.verifications[0]["hub.lease_seconds"] == str(cfg.websub.lease_max)
    # a number too long to be a lease is one still: held at the most, not refused
    body = form(mode="subscribe", topic=cfg.feed_url("atom"), callback=s.url,
                lease_seconds="9" * 23)  # fmt: skip
    assert receive(cfg, store, body, hub.FORM_TYPE, 0.0).lease_seconds == cfg.websub.lease_max


def test_unsubscribe_is_verified_before_removal(hub_site, sub):
    _site, cfg, store, h, clock = hub_site
    s = sub()
    subscribe(cfg, store, h, clock, s.url)
    s.echo = "wrong"  # someone else asks to unsubscribe it: the subscriber does not confirm
    subscribe(cfg, store, h, clock, s.url, mode="unsubscribe")
    assert len(rows.subscriptions(store.db)) == 1
    s.echo = "challenge"
    subscribe(cfg, store, h, clock, s.url, mode="unsubscribe")
    v = s.verifications[-1]
    assert v["hub.mode"] == "unsubscribe" and "hub.lease_seconds" not in v
    assert rows.subscriptions(store.db) == []


def test_the_log_gives_a_lease_only_to_a_subscription_and_calls_a_denial_so(hub_site, sub, caplog):
    """An unsubscribe was logged with the hub's default lease (``lease=864000``), and a
    denial sent to a subscriber as ``websub_verified mode=denied lease=0``."""
    _site, cfg, store, h, clock = hub_site
    s = sub()
    with caplog.at_level(logging.INFO, logger="scofeed.websub"):
        subscribe(cfg, store, h, clock, s.url)
        subscribe(cfg, store, h, clock, s.url, mode="unsubscribe")
        subscribe(cfg, store, h, clock, s.url)
        (sub_id,) = [x.id for x in rows.subscriptions(store.db)]
        drop(store, sub_id, "removed by the operator", clock())
        h.run_due(cfg, store, wait=True)
    said = [r.getMessage() for r in caplog.records]
    lines = [line for line in said if line.startswith("websub_") and " mode=" in line]
    modes = [(line.split()[0], line.split()[1]) for line in lines]
    assert modes == [
        ("websub_request", "mode=subscribe"), ("websub_verified", "mode=subscribe"),
        ("websub_request", "mode=unsubscribe"), ("websub_verified", "mode=unsubscribe"),
        ("websub_request", "mode=subscribe"), ("websub_verified", "mode=subscribe"),
        ("websub_denial_sent", "mode=denied"),
    ], lines  # fmt: skip
    for line, (_event, mode) in zip(lines, modes, strict=True):
        assert (" lease=" in line) == (mode == "mode=subscribe"), line


def test_a_topic_that_goes_away_denies_its_subscribers(hub_site, sub):
    _site, cfg, store, h, clock = hub_site
    s = sub()
    subscribe(cfg, store, h, clock, s.url, topic=cfg.feed_url("rss"))
    fewer = _site.config('feeds.formats=["atom", "json"]')
    report = h.run_due(fewer, store, wait=True)
    assert report.denied == 1
    denial = s.verifications[-1]
    assert denial["hub.mode"] == "denied" and denial["hub.topic"] == cfg.feed_url("rss")
    assert "hub.reason" in denial and "hub.challenge" not in denial
    assert rows.subscriptions(store.db) == []


# -- distribution ----------------------------------------------------------------------


def test_distribution_is_retried_after_a_500_and_survives_a_restart(hub_site, sub):
    site, cfg, store, h, clock = hub_site
    s = sub(statuses=(500,))
    subscribe(cfg, store, h, clock, s.url, secret="k")
    new_release(site, cfg, store)
    h.run_due(cfg, store, wait=True)
    s.wait("posts")
    (waiting,) = rows.subscriptions(store.db)
    assert waiting.pending and waiting.last_status == 500
    h.run_due(cfg, store, wait=True)  # not due yet
    assert len(s.posts) == 1
    h.shutdown(5)
    clock.t += 60 * 1.2 + 1  # past the second delay of the schedule, jitter included
    h2 = Hub(max_workers=4, clock=clock, rng=random.Random(2))  # a restarted daemon
    try:
        h2.run_due(cfg, store, wait=True)
    finally:
        h2.shutdown(5)
    s.wait("posts", 2)
    assert s.posts[1].body == s.posts[0].body
    assert s.posts[1].headers["x-hub-signature"] == expected_signature("k", s.posts[1].body)
    (done,) = rows.subscriptions(store.db)
    assert not done.pending and done.last_status == 204 and done.last_error is None


def test_429s_with_a_short_retry_after_do_not_spend_the_schedule_in_seconds(hub_site, sub, caplog):
    """As a webhook's (test_deliver): a callback answering 429 with Retry-After: 1 had the
    schedule's attempts made a second apart and the feed given up seconds after the
    first. The schedule now runs out no sooner than its span (1 + 600 s) after it."""
    site, _cfg, store, h, clock = hub_site
    # the third attempt's wait, the last delay (jittered) or the span's end, is the latter
    cfg = site.config("websub.retry_schedule=[0, 1, 600]")
    s = sub(statuses=(429,) * 9, retry_after="1")
    subscribe(cfg, store, h, clock, s.url)
    new_release(site, cfg, store)
    first = clock()
    for n in (1, 2, 3):  # the schedule's three attempts, a second apart
        h.run_due(cfg, store, wait=True)
        s.wait("posts", n)
        clock.t += 1
    (due, begun) = store.db.execute(
        "SELECT next_attempt, first_attempt FROM websub_distributions"
    ).fetchone()
    assert begun == first and due == pytest.approx(first + 601)  # the span's end
    clock.t = first + 600
    h.run_due(cfg, store, wait=True)
    assert len(s.posts) == 3
    clock.t = first + 601
    with caplog.at_level(logging.INFO, logger="scofeed"):
        h.run_due(cfg, store, wait=True)
        s.wait("posts", 4)
    (given_up,) = rows.subscriptions(store.db)
    assert not given_up.pending and "gave up after 4 attempts" in (given_up.last_error or "")
    # given up: at WARNING, as a webhook's dead letter (it was INFO, like each retry)
    (said,) = [r for r in caplog.records if r.getMessage().startswith("websub_distribution")]
    assert said.levelno == logging.WARNING and "outcome=failed" in said.getMessage()


def test_a_newer_feed_starts_the_span_again(hub_site, sub):
    site, cfg, store, h, clock = hub_site
    s = sub(statuses=(429,) * 9, retry_after="1")
    subscribe(cfg, store, h, clock, s.url)
    new_release(site, cfg, store, 1)
    h.run_due(cfg, store, wait=True)
    s.wait("posts")
    clock.t += 30
    new_release(site, cfg, store, 2)
    h.run_due(cfg, store, wait=True)  # the new body replaces the old, and is sent at once
    s.wait("posts", 2)
    (begun,) = store.db.execute("SELECT first_attempt FROM websub_distributions").fetchone()
    assert begun == clock()  # its own first attempt, not the old body's


def test_a_newer_feed_replaces_one_still_waiting(hub_site, sub):
    site, cfg, store, h, clock = hub_site
    s = sub(statuses=(503,))
    subscribe(cfg, store, h, clock, s.url)
    new_release(site, cfg, store, 1)
    h.run_due(cfg, store, wait=True)
    s.wait("posts")
    new_release(site, cfg, store, 2)
    h.run_due(cfg, store, wait=True)  # the new body is due at once, attempts reset
    s.wait("posts", 2)
    assert b"New release number 2" in s.posts[1].body
    assert rows.counts(store.db)["pending"] == 0


def test_410_gone_removes_the_subscription(hub_site, sub):
    site, cfg, store, h, clock = hub_site
    s = sub(statuses=(410,))
    subscribe(cfg, store, h, clock, s.url)
    new_release(site, cfg, store)
    h.run_due(cfg, store, wait=True)
    assert rows.subscriptions(store.db) == []


def test_unchanged_feeds_are_not_sent_again(hub_site, sub):
    site, cfg, store, h, clock = hub_site
    s = sub()
    subscribe(cfg, store, h, clock, s.url)
    new_release(site, cfg, store)
    h.run_due(cfg, store, wait=True)
    s.wait("posts")
    build(cfg, store, datetime(2026, 2, 2, tzinfo=UTC))  # nothing new
    h2 = Hub(max_workers=2, clock=clock)  # no memory of what it saw: the store has it
    try:
        assert not h2.run_due(cfg, store, wait=True).changed
    finally:
        h2.shutdown(5)
    assert len(s.posts) == 1


# -- hostile input ---------------------------------------------------------------------


def test_callbacks_on_private_addresses_are_refused_after_dns_too(site, sub):
    site.write_config("\n[websub]\nallow_private = false\n")
    cfg = site.config()
    store = Store(cfg.paths.state)
    s = sub()
    with pytest.raises(HubRequestError, match="loopback, private"):
        receive(cfg, store, form(mode="subscribe", topic=cfg.feed_url("atom"), callback=s.url),
                hub.FORM_TYPE, 0.0)  # fmt: skip
    # a name is checked when the hub sends, after resolving it: no request goes out
    # (127.1 is no IP address to Python, but the resolver reads it as 127.0.0.1)
    named = s.url.replace("127.0.0.1", "127.1")
    body = form(mode="subscribe", topic=cfg.feed_url("atom"), callback=named)
    receive(cfg, store, body, hub.FORM_TYPE, 0.0)
    h = Hub(max_workers=2)
    try:
        h.run_due(cfg, store, wait=True)
    finally:
        h.shutdown(5)
    assert s.verifications == [] and rows.subscriptions(store.db) == []


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({"mode": "subscribe", "topic": "", "callback": "http://example.org/cb"}, 400,
         "hub.topic is missing"),
        ({"mode": "publish", "callback": "http://example.org/cb"}, 400, "hub.mode"),
        ({"mode": "subscribe", "topic": "http://127.0.0.1:8080/other.xml",
          "callback": "http://example.org/cb"}, 404, "not a feed published here"),
        ({"mode": "subscribe"}, 400, "hub.callback is missing"),
        ({"mode": "subscribe", "callback": "ftp://example.org/cb"}, 400, "http:// or https://"),
        ({"mode": "subscribe", "callback": "/relative"}, 400, "absolute"),
        ({"mode": "subscribe", "callback": "http://u:p@example.org/"}, 400, "user name"),
        ({"mode": "subscribe", "callback": "http://example.org/#x"}, 400, "fragment"),
        ({"mode": "subscribe", "callback": "http://[::1]:9/cb"}, 400, "loopback"),
        ({"mode": "subscribe", "callback": "http://10.1.2.3/cb"}, 400, "private"),
        ({"mode": "subscribe", "callback": "http://169.254.169.254/"}, 400, "link-local"),
        ({"mode": "subscribe", "callback": "http://localhost:80/"}, 400, "loopback"),
        ({"mode": "subscribe", "callback": "http://example.org:99999/"}, 400, "valid URL"),
        ({"mode": "subscribe", "callback": "http://example.org/" + "a" * 2100}, 400, "longer"),
        ({"mode": "subscribe", "callback": "http://example.org/",
          "secret": "x" * 200}, 400, "shorter than 200 bytes"),
        ({"mode": "subscribe", "callback": "http://example.org/",
          "secret": "é" * 100}, 400, "shorter than 200 bytes"),
        ({"mode": "subscribe", "callback": "http://example.org/",
          "lease_seconds": "-5"}, 400, "lease_seconds"),
        # sent as ".../bad%25zzpath%25": another URL than the one given
        ({"mode": "subscribe", "callback": "http://example.org/bad%zzpath%"}, 400,
         "'%' not followed by two hex digits"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_with_a_reason(site, fields, status, reason):
    cfg = site.config()
    store = Store(cfg.paths.state)
    fields.setdefault("topic", cfg.feed_url("atom"))
    with pytest.raises(HubRequestError) as caught:
        receive(cfg, store, form(**fields), hub.FORM_TYPE, 0.0)
    assert caught.value.http_status == status and reason in str(caught.value)
    assert rows.counts(store.db)["verifying"] == 0


def test_lease_seconds_of_an_unsubscribe_is_ignored(site):
    """WebSub 5.1: hub.lease_seconds MAY be present in an unsubscription request and MUST
    be ignored by the hub (one the hub would refuse in a subscribe refused it)."""
    cfg = site.config()
    store = Store(cfg.paths.state)
    for asked in ("-5", "soon", "99999999999999"):
        body = form(mode="unsubscribe", topic=cfg.feed_url("atom"),
                    callback="http://example.org/", lease_seconds=asked)  # fmt: skip
        assert receive(cfg, store, body, hub.FORM_TYPE, 0.0).mode == "unsubscribe"


def test_a_secret_of_199_bytes_is_accepted(site):
    cfg = site.config()
    store = Store(cfg.paths.state)
    body = form(mode="subscribe", topic=cfg.feed_url("atom"), callback="http://example.org/",
                secret="x" * 199)  # fmt: skip
    assert receive(cfg, store, body, hub.FORM_TYPE, 0.0).secret == "x" * 199


@pytest.mark.parametrize(
    ("body", "ctype", "status"),
    [
        (b"hub.mode=subscribe&hub.mode=subscribe", hub.FORM_TYPE, 400),
        (b"\xff\xfe", hub.FORM_TYPE, 400),
        (b"no-equals-sign", hub.FORM_TYPE, 400),
        (b"&".join([b"a=1"] * 30), hub.FORM_TYPE, 400),
        (b'{"hub.mode": "subscribe"}', "application/json", 415),
        (b"hub.mode=subscribe&x=" + b"a" * 9000, hub.FORM_TYPE, 413),
    ],
)
def test_malformed_and_oversize_bodies_are_refused(site, body, ctype, status):
    cfg = site.config()
    store = Store(cfg.paths.state)
    with pytest.raises(HubRequestError) as caught:
        receive(cfg, store, body, ctype, 0.0)
    assert caught.value.http_status == status


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("hub.secret=%FF%FE", "hub.secret"),
        ("hub.secret=caf%E9", "hub.secret"),
        ("hub.secret=%ED%A0%80", "hub.secret"),  # a surrogate, in the shape of UTF-8
        ("hub.callback=http%3A%2F%2Fexample.org%2Fcaf%E9", "hub.callback"),
        ("hub.verify_token=%C3", "hub.verify_token"),
        ("hub.lease_seconds=%FF", "hub.lease_seconds"),
    ],
)
def test_a_parameter_that_is_not_utf8_is_refused_by_name(site, raw, name):
    """WebSub 5.1 requests are forms, in UTF-8. Percent-encoded bytes that are not
    UTF-8 were read with U+FFFD in their place: ``hub.secret=%FF%FE`` was stored as
    two U+FFFD and every distribution signed with a key the subscriber never gave;
    callbacks were rewritten the same way."""
    cfg = site.config()
    store = Store(cfg.paths.state)
    fields = {"mode": "subscribe", "topic": cfg.feed_url("atom"), "callback": "http://example.org/"}
    fields.pop(name[4:], None)
    body = form(**fields) + b"&" + raw.encode()
    with pytest.raises(HubRequestError) as caught:
        receive(cfg, store, body, hub.FORM_TYPE, 0.0)
    assert caught.value.http_status == 400
    assert str(caught.value) == f"{name} is not UTF-8 once percent-decoded\n"
    assert rows.counts(store.db)["verifying"] == 0
    # a parameter the hub does not read may hold anything, as before
    ignored = form(**fields) + b"&" + raw.replace(name, "x-other").encode()
    if name != "hub.callback":
        assert receive(cfg, store, ignored, hub.FORM_TYPE, 0.0).mode == "subscribe"


@pytest.mark.parametrize(
    ("charset", "status"),
    [
        ("ISO-8859-1", 415),
        ('"windows-1252"', 415),
        ("no-such-charset", 415),
        ("", 415),
        ("UTF-8", 202),
        ("utf8", 202),
        ('"utf-8"', 202),
        ("US-ASCII", 202),
    ],
)
def test_a_form_in_another_charset_is_refused(site, charset, status):
    """A form declared ``charset=ISO-8859-1`` (``caf%E9`` meaning café) was read as
    UTF-8 with the byte replaced; the hub reads UTF-8 only and says so."""
    cfg = site.config()
    store = Store(cfg.paths.state)
    body = form(mode="subscribe", topic=cfg.feed_url("atom"), callback="http://example.org/",
                secret="s3cret")  # fmt: skip
    ctype = f"{hub.FORM_TYPE}; charset={charset}"
    if status == 415:
        with pytest.raises(HubRequestError) as caught:
            receive(cfg, store, body, ctype, 0.0)
        assert caught.value.http_status == 415 and "must be UTF-8" in str(caught.value)
    else:
        assert receive(cfg, store, body, ctype, 0.0).secret == "s3cret"


def test_the_hub_over_http_reads_utf8_and_refuses_anything_else(site):
    cfg = site.config()
    store = Store(cfg.paths.state)
    server = HttpServer(App(lambda: cfg, store, on_hub_request=lambda: None), "127.0.0.1", 0)
    server.start()
    try:
        host, port = server.addresses[0][:2]
        url = f"http://{host}:{port}{cfg.websub.hub_path}"
        fields = form(mode="subscribe", topic=cfg.feed_url("atom"), callback="http://example.org/")
        form_type = {"Content-Type": hub.FORM_TYPE}
        got = requests.post(url, data=fields + b"&hub.secret=%FF%FE", headers=form_type, timeout=10)
        assert (got.status_code, got.text) == (
            400,
            "hub.secret is not UTF-8 once percent-decoded\n",
        )
        latin1 = {"Content-Type": hub.FORM_TYPE + "; charset=ISO-8859-1"}
        got = requests.post(url, data=fields + b"&hub.secret=caf%E9", headers=latin1, timeout=10)
        assert got.status_code == 415 and "UTF-8" in got.text
        assert rows.counts(store.db)["verifying"] == 0
        got = requests.post(
            url, data=fields + b"&hub.secret=caf%C3%A9", headers=form_type, timeout=10
        )
        assert got.status_code == 202
        (intent,) = rows.due_intents(store.db, float("inf"))
        assert intent.secret == "café"
    finally:
        server.stop()
        store.close()


def test_subscriptions_per_callback_host_are_limited(site):
    site.write_config("\n[websub]\nmax_per_host = 2\n")
    cfg = site.config()
    store = Store(cfg.paths.state)
    for i in range(2):
        body = form(
            mode="subscribe", topic=cfg.feed_url("atom"), callback=f"http://example.org/{i}"
        )
        receive(cfg, store, body, hub.FORM_TYPE, 0.0)
    again = form(mode="subscribe", topic=cfg.feed_url("atom"), callback="http://example.org/0")
    receive(cfg, store, again, hub.FORM_TYPE, 0.0)  # the same one again: a renewal
    third = form(mode="subscribe", topic=cfg.feed_url("atom"), callback="http://example.org/2")
    with pytest.raises(HubRequestError) as caught:
        receive(cfg, store, third, hub.FORM_TYPE, 0.0)
    assert caught.value.http_status == 403
    other = form(mode="subscribe", topic=cfg.feed_url("atom"), callback="http://example.net/")
    receive(cfg, store, other, hub.FORM_TYPE, 0.0)


def test_rate_limiter_allows_a_window_of_requests_per_client():
    limiter = hub.RateLimiter(3, window=60)
    assert [limiter.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", 1.0)
    assert not limiter.allow("a", 59.9) and limiter.allow("a", 60.0)


def test_the_rate_counts_an_ipv6_client_by_its_64_and_a_mapped_ipv4_as_ipv4():
    """Counted address by address, a client given a /64 (every IPv6 site is) sent the
    hub as many requests as it liked, from a new address each time."""
    limiter = hub.RateLimiter(2, window=60)
    assert [limiter.allow(f"2001:db8:1:2::{n:x}", 0.0) for n in range(3)] == [True, True, False]
    assert limiter.allow("2001:db8:1:3::1", 0.0)  # another /64: another site
    assert [limiter.allow(a, 0.0) for a in ("192.0.2.7", "::ffff:192.0.2.7")] == [True, True]
    assert not limiter.allow("192.0.2.7", 0.0)


def test_signature_matches_an_independent_hmac():
    body = b"<feed/>"
    assert hub.signature("k\u00e9y", body) == expected_signature("k\u00e9y", body)


# -- discovery -------------------------------------------------------------------------


def test_every_feed_advertises_its_hubs_and_one_self_link(hub_site):
    site, cfg, _store, _h, _clock = hub_site
    # a hub's user:password is for our pings: published, it was in every feed (review)
    ext = site.config('websub.hubs=["https://pinger:s3cret@hub.example.org/"]')
    build(ext, Store(ext.paths.state), datetime(2026, 1, 2, tzinfo=UTC))
    wanted = [cfg.hub_urls()[0], "https://hub.example.org/"]
    assert not any(b"s3cret" in f.read_bytes() for f in site.feeds.rglob("*") if f.is_file())
    for fmt, name in (("atom", "atom.xml"), ("rss", "rss.xml")):
        parsed = feedparser.parse((site.feeds / name).read_bytes())
        links = parsed.feed.links
        assert [x.href for x in links if x.rel == "hub"] == wanted, fmt
        assert [x.href for x in links if x.rel == "self"] == [cfg.feed_url(fmt)], fmt
    doc = json.loads((site.feeds / "feed.json").read_bytes())
    assert doc["hubs"] == [{"type": "WebSub", "url": u} for u in wanted]
    assert doc["feed_url"] == cfg.feed_url("json")


def test_a_disabled_hub_is_not_advertised(site):
    site.write_config("\n[websub]\nenabled = false\n")
    cfg = site.config()
    build(cfg, Store(cfg.paths.state), datetime(2026, 1, 2, tzinfo=UTC))
    assert b'rel="hub"' not in (site.feeds / "atom.xml").read_bytes()
    assert b"hubs" not in (site.feeds / "feed.json").read_bytes()


def test_cli_lists_and_removes_a_subscription_telling_the_subscriber(hub_site, sub, capsys):
    site, cfg, store, h, clock = hub_site
    s = sub()
    subscribe(cfg, store, h, clock, s.url, secret="never-shown")
    assert main(["--config", str(site.config_path), "websub", "list"]) == 0
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if x.startswith("1\t")]
    assert cfg.feed_url("atom") in line and "127.0.0.1" in line and "signed" in line
    assert "never-shown" not in out and "t0k3n" not in out  # no secret, no callback token
    # --topic in any spelling the hub takes for it (it matched the string alone)
    url = cfg.feed_url("atom")
    scheme, rest = url.split("://", 1)
    spelt = scheme.upper() + "://" + rest.replace("atom", "%61tom")
    for topic, listed in ((url, True), (spelt, True), (cfg.feed_url("rss"), False)):
        assert main(["--config", str(site.config_path), "websub", "list", "--topic", topic]) == 0
        out = capsys.readouterr().out
        assert any(x.startswith("1\t") for x in out.splitlines()) == listed, (topic, out)
    assert main(["--config", str(site.config_path), "websub", "remove", "1"]) == 0
    assert rows.subscriptions(store.db) == []
    h.run_due(cfg, store, wait=True)
    assert s.verifications[-1]["hub.mode"] == "denied"
    assert main(["--config", str(site.config_path), "websub", "remove", "1"]) == 1
    # a new subscription never gets the id of one removed: `remove 1` stays a no-op
    subscribe(cfg, store, h, clock, s.url)
    assert [sub.id for sub in rows.subscriptions(store.db)] == [2]
    assert main(["--config", str(site.config_path), "websub", "remove", "1"]) == 1


def test_external_hubs_are_pinged_after_a_change(hub_site, sub):
    site, _cfg, store, h, _clock = hub_site
    external = sub()
    cfg = site.config(f'websub.hubs=["{external.url}"]')
    h.run_due(cfg, store, wait=True)  # the bodies as they are now: a change, pinged
    new_release(site, cfg, store)
    h.run_due(cfg, store, wait=True)
    external.wait("posts", 6)  # three topics, twice
    forms = [dict(parse_qsl(p.body.decode())) for p in external.posts]
    # hub.url for Google's hub, Superfeedr and their kind; hub.topic for WebSub hubs
    # that read only that (websub.rocks' publisher sends it, Switchboard asks for it)
    url = cfg.feed_url("rss")
    assert {"hub.mode": "publish", "hub.url": url, "hub.topic": url} in forms
    assert all(p.headers["content-type"] == hub.FORM_TYPE for p in external.posts)


def test_a_ping_that_fails_is_retried_on_the_schedule_and_survives_a_restart(hub_site, sub):
    """WebSub 6: the publisher MUST tell its hubs of an update. A ping a hub answered
    with a 503 was logged and dropped: that hub's subscribers missed the change until
    the next one. It is retried like a distribution, from the store."""
    site, _cfg, store, h, clock = hub_site
    external = sub(statuses=(503,))
    cfg = site.config(f'websub.hubs=["{external.url}"]')
    report = h.run_due(cfg, store, wait=True)  # every topic changed: pinged
    n = len(report.changed)
    assert n and report.pings == n and len(external.posts) == n
    h.shutdown(5)
    again = Hub(max_workers=2, clock=clock, rng=random.Random(2))  # a restart
    try:
        assert again.run_due(cfg, store, wait=True).pings == 0  # not due yet
        clock.t += 200  # past retry_schedule[1] = 60 s and its jitter
        assert again.run_due(cfg, store, wait=True).pings == 1
        external.wait("posts", n + 1)
        forms = Counter(p.body for p in external.posts)
        assert sorted(forms.values()) == [1] * (n - 1) + [2]  # the one that got the 503
        clock.t += 3600
        assert again.run_due(cfg, store, wait=True).pings == 0  # accepted: settled
    finally:
        again.shutdown(5)
    assert len(external.posts) == n + 1


def test_a_ping_answered_429_with_a_short_retry_after_lasts_the_schedules_span(hub_site, sub):
    site, _cfg, store, h, clock = hub_site
    external = sub(statuses=(429,) * 200, retry_after="1")
    # the third attempt's wait, the last delay (jittered) or the span's end, is the latter
    cfg = site.config(f'websub.hubs=["{external.url}"]', "websub.retry_schedule=[0, 1, 600]")
    start = clock()
    n = h.run_due(cfg, store, wait=True).pings
    for _ in (2, 3):  # the schedule's next two attempts, a second apart
        clock.t += 1
        assert h.run_due(cfg, store, wait=True).pings == n
    clock.t = start + 600  # its span (1 + 600 s) has not passed: not given up yet
    assert h.run_due(cfg, store, wait=True).pings == 0
    clock.t = start + 601
    assert h.run_due(cfg, store, wait=True).pings == n
    clock.t += 3600
    assert h.run_due(cfg, store, wait=True).pings == 0  # given up after the fourth
    assert len(external.posts) == 4 * n


def test_a_ping_to_a_hub_no_longer_configured_is_dropped(hub_site, sub):
    site, _cfg, store, h, clock = hub_site
    external = sub(statuses=(503,) * 20)
    cfg = site.config(f'websub.hubs=["{external.url}"]')
    n = h.run_due(cfg, store, wait=True).pings
    clock.t += 200
    assert h.run_due(site.config(), store, wait=True).pings == n  # each one dropped unsent
    clock.t += 3600
    assert h.run_due(cfg, store, wait=True).pings == 0
    assert len(external.posts) == n


def test_a_one_shot_build_pings_external_hubs_for_the_feeds_it_wrote(site, sub, capsys):
    external = sub(statuses=(500,))
    # the failed ping's retry is an hour off: not due at the second build
    site.write_config(f'\n[websub]\nhubs = ["{external.url}"]\nretry_schedule = [0, 3600]\n')
    assert main(["--config", str(site.config_path), "build"]) == 0
    # atom, rss, json of main, en and tags/economy: all written for the first time
    assert len(external.posts) == 9
    pinged = {dict(parse_qsl(p.body.decode()))["hub.url"] for p in external.posts}
    assert "http://127.0.0.1:8080/en/atom.xml" in pinged
    assert "did not accept the ping" in capsys.readouterr().err  # the first one got a 500
    assert main(["--config", str(site.config_path), "build"]) == 0
    assert len(external.posts) == 9  # nothing changed: no ping


def test_a_one_shot_build_retries_a_failed_ping_once_due(site, sub):
    """With static hosting no daemon runs: the next build, even one that writes
    nothing, makes the pings an earlier build could not (their retry due)."""
    external = sub(statuses=(500,))
    site.write_config(f'\n[websub]\nhubs = ["{external.url}"]\nretry_schedule = [0, 0]\n')
    assert main(["--config", str(site.config_path), "build"]) == 0
    assert len(external.posts) == 9
    assert main(["--config", str(site.config_path), "build"]) == 0  # writes nothing
    assert len(external.posts) == 10  # the ping that got the 500, made again
    assert Counter(p.body for p in external.posts).most_common(1)[0][1] == 2
    assert main(["--config", str(site.config_path), "build"]) == 0
    assert len(external.posts) == 10  # accepted: nothing left to retry


def test_a_build_says_once_per_hub_that_it_did_not_accept_the_pings(site, sub, capsys):
    """Each feed whose ping a hub refused was a line of its own after the runner's
    warning for it: nine feeds, eighteen lines for one hub that was down."""
    external = sub(statuses=(500,) * 20)
    site.write_config(f'\n[websub]\nhubs = ["{external.url}"]\nretry_schedule = [0, 3600]\n')
    assert main(["--config", str(site.config_path), "build"]) == 0
    assert len(external.posts) == 9
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("websub:")]
    assert said == [f"websub: the hub {external.url} did not accept the ping for 9 feeds"]


def test_a_worker_holds_the_store_only_while_it_works(hub_site, sub):
    """Each of the hub's 64 workers kept its store connection for the life of the
    daemon: beside the webhook and ActivityPub workers, under a low ``ulimit -n``, no
    scan could open a file again. Counted by the WAL's descriptors, one per connection
    open (SQLite keeps the database file's own for the next connection to take)."""
    site, cfg, store, h, clock = hub_site
    wal = f"{store.path.resolve()}-wal"

    def wal_open() -> int:
        fds = Path("/proc/self/fd")
        if not fds.is_dir():
            pytest.skip("no /proc/self/fd to count open files on")
        return sum(1 for fd in fds.iterdir() if _link(fd) == wal)

    h.run_due(cfg, store, wait=True)
    before = wal_open()
    subscribers = [sub() for _ in range(3)]
    for s in subscribers:
        subscribe(cfg, store, h, clock, s.url)
    new_release(site, cfg, store)
    h.run_due(cfg, store, wait=True)
    for s in subscribers:
        s.wait("posts")
    assert wal_open() == before


def _link(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except OSError:
        return ""  # closed meanwhile


def test_a_store_the_workers_cannot_use_is_one_error_for_the_run(hub_site, sub):
    """A distribution's worker that cannot open the store (here a folder in its place;
    a full disk, no descriptor left) logged a traceback, each worker at each tick,
    while the websub job said it was fine. It is the run's error now, in one line, and
    the distribution goes out once the store can be used."""
    site, cfg, store, h, clock = hub_site
    s = sub()
    h.run_due(cfg, store, wait=True)
    subscribe(cfg, store, h, clock, s.url)
    new_release(site, cfg, store)
    path = store.path
    aside = path.with_name(path.name + ".aside")
    path.rename(aside)
    path.mkdir()
    try:
        with pytest.raises(StoreError, match=f"^{re.escape(str(path))}: unable to open"):
            h.run_due(cfg, store, wait=True)
    finally:
        path.rmdir()
        aside.rename(path)
    assert not s.posts
    h.run_due(cfg, store, wait=True)
    s.wait("posts")


# -- the hub's overall limit (websub.max_subscriptions) ----------------------------------


def test_past_max_subscriptions_a_new_one_gets_503_and_none_is_dropped(hub_site, sub, caplog):
    """A flood of distinct callbacks, each under the per-host limit, grew the hub's
    tables without bound. Past ``max_subscriptions`` a new subscription is refused with
    503 and Retry-After (one log line for all of them); a renewal and an unsubscribe
    still go through, and lowering the limit ends no subscription."""
    site, _cfg, store, h, clock = hub_site
    cfg = [site.config("websub.max_subscriptions=2")]
    server = HttpServer(App(lambda: cfg[0], store, on_hub_request=lambda: None), "127.0.0.1", 0)
    server.start()
    try:
        host, port = server.addresses[0][:2]
        url = f"http://{host}:{port}{cfg[0].websub.hub_path}"

        def ask(callback: str, mode: str = "subscribe") -> requests.Response:
            body = form(mode=mode, topic=cfg[0].feed_url("atom"), callback=callback)
            headers = {"Content-Type": hub.FORM_TYPE}
            return requests.post(url, data=body, headers=headers, timeout=10)

        first, second = sub(), sub()
        assert ask(first.url).status_code == 202
        assert ask(second.url).status_code == 202  # waiting for its verification: counted
        caplog.set_level("INFO", logger="scofeed.websub.intake")
        for _ in range(5):
            refused = ask(sub().url)
            assert refused.status_code == 503 and "no new subscriptions" in refused.text
            assert refused.headers["Retry-After"] == "3600"
        said = [r for r in caplog.records if "reason=max_subscriptions" in r.getMessage()]
        assert len(said) == 1 and "limit=2" in said[0].getMessage()
        h.run_due(cfg[0], store, wait=True)
        assert {s.callback for s in rows.subscriptions(store.db)} == {first.url, second.url}

        cfg[0] = site.config("websub.max_subscriptions=1")  # lowered below what there is
        assert ask(first.url).status_code == 202  # a renewal: never refused
        assert ask(sub().url).status_code == 503
        h.run_due(cfg[0], store, wait=True)
        assert len(rows.subscriptions(store.db)) == 2  # none dropped
        assert ask(second.url, mode="unsubscribe").status_code == 202
        h.run_due(cfg[0], store, wait=True)
        assert [s.callback for s in rows.subscriptions(store.db)] == [first.url]
        assert ask(sub().url).status_code == 503  # at the limit: still full
        cfg[0] = site.config("websub.max_subscriptions=2")
        assert ask(sub().url).status_code == 202  # room again
    finally:
        server.stop()


def test_a_host_at_its_limit_keeps_its_subscriptions_when_the_limit_is_lowered(site):
    """A renewal is never refused by the per-host limit either: lowered below what a
    host has, it refused their renewals, and each subscription ended with its lease."""
    cfg = site.config("websub.max_per_host=3")
    store = Store(cfg.paths.state)
    try:
        for i in range(3):
            callback = f"http://example.org/{i}"
            rows.activate(store.db, rows.Intent("subscribe", cfg.feed_url("atom"), callback,
                                                "example.org", None, 3600, "c"), 0.0)  # fmt: skip
        lowered = site.config("websub.max_per_host=2")
        renewal = form(
            mode="subscribe", topic=cfg.feed_url("atom"), callback="http://example.org/0"
        )
        receive(lowered, store, renewal, hub.FORM_TYPE, 0.0)
        new = form(mode="subscribe", topic=cfg.feed_url("atom"), callback="http://example.org/9")
        with pytest.raises(HubRequestError) as caught:
            receive(lowered, store, new, hub.FORM_TYPE, 0.0)
        assert caught.value.http_status == 403
    finally:
        store.close()


# -- one slow host holds at most its share of the workers -------------------------------


def test_a_slow_callback_host_holds_at_most_its_share_of_the_workers(hub_site, sub):
    """A host may hold 50 subscriptions, each its own distribution: one whose callbacks
    answer slowly (here: not at all until stopped) took every worker of the hub, and
    every other subscriber waited for their timeouts. Now it holds ``per_host`` and
    the others go at once: the fast host has all its distributions while every one
    to the slow host is still in flight, unsettled."""
    site, _cfg, store, _h, _clock = hub_site
    cfg = site.config("websub.timeout=30")
    slow = SlowReceiver(b"", silent=True)  # 127.0.0.1
    h = Hub(max_workers=4, per_host=2, rng=random.Random(1))
    try:
        fast_ones_pass_the_slow_host(
            h, site, cfg, store, slow, [f"{slow.url}?n={n}" for n in range(6)]
        )
    finally:
        slow.stop()
        h.shutdown(5)


def test_a_hosts_queued_work_goes_as_its_requests_end_without_another_tick(hub_site, sub):
    """Many subscribers on one host (a reader service, 127.0.0.1 for the bench) got only
    ``per_host`` distributions a tick, the rest at the next ticks (`deliver_interval`
    apart): 500 subscribers took 125 ticks. What waits behind a host's requests now
    starts as each of them ends, in the same tick."""
    site, _cfg, store, _h, _clock = hub_site
    cfg = site.config()
    fast = FastReceiver("127.0.0.2")
    h = Hub(max_workers=8, per_host=2, rng=random.Random(1))
    try:
        released_to(h, site, cfg, store, [f"{fast.url}?n={n}" for n in range(9)])
        report = h.run_due(cfg, store)  # one tick, which does not wait
        assert report.distributions == 9  # every one taken: 2 at once, 7 behind them
        deadline = time.monotonic() + 30
        while len(fast.posts) < 9 and time.monotonic() < deadline:
            fast.arrived.wait(0.2)
            fast.arrived.clear()
        assert len(fast.posts) == 9
    finally:
        h.shutdown(5)
        fast.close()


@contextlib.contextmanager
def one_at_a_time(address: str) -> Iterator[tuple[threading.Event, FastReceiver, Hub]]:
    """A receiver on ``address`` that holds each request until ``gate`` opens, and a
    hub sending one request at a time to a host (``per_host=1``): what it takes past the
    first waits behind it. (gate, receiver, hub); all let go and closed after."""
    gate = threading.Event()
    held = FastReceiver(address, hold=lambda n: gate)
    h = Hub(max_workers=4, per_host=1, rng=random.Random(1))
    try:
        yield gate, held, h
    finally:
        gate.set()
        h.shutdown(5)
        held.close()


def test_a_distribution_queued_behind_its_host_is_not_sent_once_unsubscribed(hub_site, sub):
    """A distribution waiting behind its host's requests (``per_host``) may wait minutes
    (a slow host's timeouts): it was sent as read at the tick, to a subscriber that had
    unsubscribed meanwhile. It is read again from the store when its turn comes."""
    site, _cfg, store, _h, _clock = hub_site
    cfg = site.config()
    with one_at_a_time("127.0.0.3") as (gate, held, h):
        callbacks = {f"{held.url}?n={n}" for n in range(2)}
        topic = released_to(h, site, cfg, store, sorted(callbacks))
        assert h.run_due(cfg, store).distributions == 2  # one in flight, one behind it
        assert held.came.acquire(timeout=30)
        sent = held.url.removesuffix("/callback") + held.paths[0]
        (other,) = callbacks - {sent}
        with store.transaction() as db:  # its unsubscribe verified meanwhile
            assert rows.unsubscribe(db, topic, other)
        gate.set()
        h.run_due(cfg, store, wait=True)  # until what waited behind it has run
        assert len(held.paths) == 1


def test_no_thread_for_a_hosts_next_request_does_not_let_a_tick_take_it_twice(hub_site, sub):
    """What waited behind a host's request is handed to the pool as that one ends; with
    no thread to start (memory short) the pool keeps it queued and runs it all the same,
    but it was taken for not started: the next tick sent it again while it ran."""
    site, _cfg, store, _h, _clock = hub_site
    cfg = site.config()
    first, later = threading.Event(), threading.Event()
    held = FastReceiver("127.0.0.4", hold=lambda n: first if n == 0 else later)
    h = Hub(max_workers=4, per_host=1, rng=random.Random(1))
    try:
        released_to(h, site, cfg, store, [f"{held.url}?n={n}" for n in range(2)])
        assert h.run_due(cfg, store).distributions == 2  # one in flight, one behind it
        assert held.came.acquire(timeout=30)

        def no_thread() -> None:
            raise RuntimeError("can't start new thread")

        h._pool._adjust_thread_count = no_thread  # type: ignore[method-assign]
        first.set()  # the first ends: the second is handed to the pool, no thread starts
        assert held.came.acquire(timeout=30)  # it runs all the same, on the first's thread
        del h._pool._adjust_thread_count
        assert h.run_due(cfg, store).distributions == 0  # in flight: not taken again
    finally:
        first.set()
        later.set()
        h.shutdown(5)
        held.close()
    assert len(held.paths) == 2


def test_a_verification_queued_behind_its_host_is_sent_as_the_latest_request_has_it(hub_site, sub):
    """A verification of intent waiting behind its host's requests (``per_host``) went
    out as read at the tick: a subscriber that asked to unsubscribe meanwhile was asked
    to confirm its subscription, with a challenge the hub had already dropped, and its
    unsubscribe waited for the next tick. It is read again when its turn comes."""
    site, cfg, store, _h, _clock = hub_site
    topic = cfg.feed_url("atom")
    with one_at_a_time("127.0.0.5") as (gate, held, h):
        for n in range(2):
            receive(cfg, store, form(mode="subscribe", topic=topic, callback=f"{held.url}?n={n}"),
                    hub.FORM_TYPE, time.time())  # fmt: skip
        assert h.run_due(cfg, store).verifications == 2  # one in flight, one behind it
        assert held.came.acquire(timeout=30)
        first = held.gets[0]["n"]
        other = str(1 - int(first))
        receive(cfg, store, form(mode="unsubscribe", topic=topic, callback=f"{held.url}?n={other}"),
                hub.FORM_TYPE, time.time())  # fmt: skip
        gate.set()
        h.run_due(cfg, store, wait=True)  # until what waited behind it has run
        asked = [(q["n"], q["hub.mode"]) for q in held.gets]
        assert asked == [(first, "subscribe"), (other, "unsubscribe")]
        assert [s.callback for s in rows.subscriptions(store.db)] == [f"{held.url}?n={first}"]
        assert rows.counts(store.db)["verifying"] == 0  # nothing left for a later tick


def test_a_ping_queued_behind_its_hub_is_dropped_once_a_reload_removed_the_hub(hub_site):
    """What waits behind a host's requests started with the config of the tick that
    took it, however long it waited: an external hub the operator removed from
    ``websub.hubs`` (``scofeed reload``) was still pinged. It starts with the latest
    tick's config."""
    site, _cfg, store, _h, _clock = hub_site
    with one_at_a_time("127.0.0.7") as (gate, held, h):
        cfg = site.config(f'websub.hubs=["{held.url}"]')
        assert h.run_due(cfg, store).pings > 2  # one in flight, the rest behind it
        assert held.came.acquire(timeout=30)
        reloaded = site.config()  # no external hub
        h.run_due(reloaded, store)  # the reload's tick, before the request in flight ends
        gate.set()
        h.run_due(reloaded, store, wait=True)  # until what waited behind it has run
        assert len(held.posts) == 1
        assert rows.due_pings(store.db, float("inf")) == []  # dropped, not kept for later


def test_a_ping_queued_behind_its_hub_is_not_sent_once_another_build_sent_it(hub_site):
    """A ping to an external hub waiting behind that hub's requests (``per_host``) went
    out as read at the tick, though a `scofeed build` beside the daemon had pinged the
    hub for that change meanwhile: the hub was told twice. It is read again when its
    turn comes."""
    site, _cfg, store, _h, _clock = hub_site
    with one_at_a_time("127.0.0.6") as (gate, held, h):
        cfg = site.config(f'websub.hubs=["{held.url}"]')
        report = h.run_due(cfg, store)  # every topic changed: one ping in flight, the rest behind
        assert report.pings == len(report.changed) > 2
        assert held.came.acquire(timeout=30)
        sent = dict(parse_qsl(held.posts[0].decode()))["hub.topic"]
        done = next(p for p in rows.due_pings(store.db, time.time()) if p.topic != sent)
        with store.transaction() as db:  # the other process's ping, accepted
            rows.settle_ping(db, done, 204, None, None)
        gate.set()
        h.run_due(cfg, store, wait=True)  # until what waited behind it has run
        pinged = Counter(dict(parse_qsl(p.decode()))["hub.topic"] for p in held.posts)
        assert done.topic not in pinged
        assert sorted(pinged.values()) == [1] * (report.pings - 1)
        assert rows.due_pings(store.db, float("inf")) == []  # none left, for now or later
