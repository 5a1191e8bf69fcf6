"""The hub's limits per host count a registrable domain (``scofeed.hostkey``), not the
exact name: a subscriber with wildcard DNS (``a.evil.test``, ``b.evil.test``, ... all
its own) had ``websub.max_per_host`` subscriptions and ``PER_HOST`` workers for each
name it made up. Real subscribers on 127.0.0.1, reached through names that resolve
there (``wildcard_dns``), and the hub over real HTTP."""

from __future__ import annotations

import logging
import random
import sqlite3
from datetime import UTC, datetime

import pytest
import requests

from scofeed.build import build
from scofeed.errors import HubRequestError
from scofeed.serve import App, HttpServer
from scofeed.store import Store
from scofeed.store import websub as rows
from scofeed.websub import Hub, hub, receive
from tests.conftest import SlowReceiver, rewind
from tests.test_websub import PRIVATE, fast_ones_pass_the_slow_host, form
from websub_subscriber import Subscriber


@pytest.fixture
def hub_http(site):
    """The hub served over HTTP on 127.0.0.1 with ``websub.max_per_host = 2``: yields
    (cfg, store, hub, ask), ``ask(callback, mode)`` posting a request to it."""
    site.write_config(PRIVATE + "max_per_host = 2\n")
    cfg = site.config()
    store = Store(cfg.paths.state)
    build(cfg, store, datetime(2026, 1, 1, tzinfo=UTC))
    h = Hub(max_workers=4, rng=random.Random(1))
    server = HttpServer(App(lambda: cfg, store, on_hub_request=lambda: None), "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0][:2]
    url = f"http://{host}:{port}{cfg.websub.hub_path}"

    def ask(callback: str, mode: str = "subscribe") -> requests.Response:
        body = form(mode=mode, topic=cfg.feed_url("atom"), callback=callback)
        headers = {"Content-Type": hub.FORM_TYPE}
        return requests.post(url, data=body, headers=headers, timeout=10)

    try:
        yield cfg, store, h, ask
    finally:
        server.stop()
        h.shutdown(5)
        store.close()


@pytest.fixture
def subscriber():
    s = Subscriber()
    yield s
    s.close()


def test_the_names_of_one_domain_share_its_per_host_limit(
    hub_http, subscriber, wildcard_dns, caplog
):
    """Three names of one domain, one server behind them: two subscriptions (the limit),
    and the third name is refused with 403 naming the domain counted. Renewals still go
    through; sites of different people on one provider (``x.github.io``, a private
    suffix of the list) are each their own."""
    cfg, store, h, ask = hub_http
    wildcard_dns("evil.test", "github.io")

    at = subscriber.at
    assert ask(at("a.evil.test")).status_code == 202
    assert ask(at("b.evil.test")).status_code == 202
    h.run_due(cfg, store, wait=True)  # verified: the hub reached them by their names
    assert {s.callback for s in rows.subscriptions(store.db)} == {
        at("a.evil.test"),
        at("b.evil.test"),
    }
    caplog.set_level(logging.INFO, logger="scofeed.websub.intake")
    refused = ask(at("c.Evil.Test."))
    assert refused.status_code == 403
    assert refused.text == (
        "too many subscriptions for evil.test (at most 2; a host counts as its registrable "
        "domain, an IPv6 address as its /64)\n"
    )
    (line,) = [r.getMessage() for r in caplog.records if "per_host_limit" in r.getMessage()]
    assert "host=c.evil.test." in line and "domain=evil.test " in line

    assert ask(at("a.evil.test")).status_code == 202  # a renewal: never refused
    for name in ("x.github.io", "y.github.io", "z.github.io"):
        assert ask(at(name)).status_code == 202
    h.run_due(cfg, store, wait=True)
    assert len(rows.subscriptions(store.db)) == 5
    assert len(subscriber.verifications) == 6  # a, b, a renewed, x, y, z


def test_one_address_spelled_otherwise_is_one_host(hub_http, subscriber):
    """``127.1`` and ``2130706433`` are what the resolver reads as 127.0.0.1: counted
    by the name as written, each had a limit of its own."""
    cfg, store, h, ask = hub_http
    assert ask(subscriber.url).status_code == 202
    assert ask(subscriber.url.replace("127.0.0.1", "127.1")).status_code == 202
    h.run_due(cfg, store, wait=True)
    assert len(rows.subscriptions(store.db)) == 2
    refused = ask(subscriber.url.replace("127.0.0.1", "2130706433"))
    assert refused.status_code == 403 and "for 127.0.0.1 " in refused.text


def test_an_ipv6_subscriber_counts_by_its_64(site):
    """Counted address by address, a subscriber given a /64 (every IPv6 site is) had
    2^64 limits. Nothing is sent here: the requests alone are counted."""
    site.write_config(PRIVATE + "max_per_host = 2\n")
    cfg = site.config()
    store = Store(cfg.paths.state)
    try:

        def ask(address: str) -> None:
            body = form(mode="subscribe", topic=cfg.feed_url("atom"),
                        callback=f"http://[{address}]:8080/cb")  # fmt: skip
            receive(cfg, store, body, hub.FORM_TYPE, 0.0)

        ask("2001:db8:1:2::1")
        ask("2001:db8:1:2:ffff::2")
        with pytest.raises(HubRequestError) as caught:
            ask("2001:db8:1:2::3")
        assert caught.value.http_status == 403
        assert "for 2001:db8:1:2::/64 " in str(caught.value)
        ask("2001:db8:1:3::1")  # another /64: another site
    finally:
        store.close()


def test_subscriptions_from_before_the_domains_are_counted_and_kept(site):
    """A store from before migration 35 holds each callback's host name alone: its rows
    are keyed on the first request that counts them, and none of them is dropped;
    so are they all again when another version's list would count them otherwise."""
    site.write_config("\n[websub]\nmax_per_host = 2\n")
    cfg = site.config()
    topic = cfg.feed_url("atom")
    store = Store(cfg.paths.state)
    for name in ("a", "b", "c"):  # three: over the limit, as a limit lowered leaves it
        callback = f"http://{name}.evil.example/cb"
        intent = rows.Intent("subscribe", topic, callback, f"{name}.evil.example", None,
                             86400, "c")  # fmt: skip
        rows.activate(store.db, intent, 0.0)
    store.close()
    with sqlite3.connect(cfg.paths.state) as db:
        rewind(db, 34)
    store = Store(cfg.paths.state)  # migration 35: no domain for the rows of before
    try:
        stored = store.db.execute("SELECT domain FROM websub_subscriptions").fetchall()
        assert [d for (d,) in stored] == [None, None, None]
        new = form(mode="subscribe", topic=topic, callback="http://d.evil.example/cb")
        with pytest.raises(HubRequestError) as caught:
            receive(cfg, store, new, hub.FORM_TYPE, 0.0)
        assert caught.value.http_status == 403 and "evil.example" in str(caught.value)
        renewal = form(mode="subscribe", topic=topic, callback="http://a.evil.example/cb")
        receive(cfg, store, renewal, hub.FORM_TYPE, 0.0)
        assert len(rows.subscriptions(store.db)) == 3  # none dropped

        # keyed by another list (here: each name its own), the rows are keyed again
        store.db.execute("UPDATE websub_subscriptions SET domain = host")
        store.set_meta(rows.DOMAINS, "0 an older list")
        with pytest.raises(HubRequestError):
            receive(cfg, store, new, hub.FORM_TYPE, 0.0)
        assert {s.host for s in rows.subscriptions(store.db)} == {
            "a.evil.example",
            "b.evil.example",
            "c.evil.example",
        }
    finally:
        store.close()


def test_the_names_of_one_domain_share_one_hosts_workers(site, wildcard_dns):
    """``PER_HOST`` counted by the exact name: a subscriber with wildcard DNS had that
    many workers for each name, every one answered by one silent server, and took the
    hub's every worker; the other subscribers waited for the timeouts. Now its names
    hold ``per_host`` together and the other host's distributions go at once."""
    site.write_config(PRIVATE)
    cfg = site.config("websub.timeout=30")
    store = Store(cfg.paths.state)
    build(cfg, store, datetime(2026, 1, 1, tzinfo=UTC))
    wildcard_dns("slow.test")
    slow = SlowReceiver(b"", silent=True)  # 127.0.0.1, for every name under slow.test
    h = Hub(max_workers=4, per_host=2, rng=random.Random(1))
    try:  # per_host for all its names
        names = [slow.url.replace("127.0.0.1", f"s{n}.slow.test") for n in range(6)]
        fast_ones_pass_the_slow_host(h, site, cfg, store, slow, names)
    finally:
        slow.stop()
        h.shutdown(5)
        store.close()


def test_the_count_of_a_domain_reads_its_index_not_the_table(site):
    """Each new subscription counts its domain: through the index, never by reading
    every subscription (the hub may hold 10,000)."""
    cfg = site.config()
    store = Store(cfg.paths.state)
    try:
        ran: list[str] = []
        store.db.set_trace_callback(ran.append)
        with store.transaction() as db:
            rows.host_load(db, "evil.example", cfg.feed_url("atom"), "http://a.evil.example/")
        store.db.set_trace_callback(None)
        counts = [sql for sql in ran if sql.startswith("SELECT COUNT(*)")]
        assert len(counts) == 2
        for sql in counts:
            plan = " ".join(r[3] for r in store.db.execute("EXPLAIN QUERY PLAN " + sql))
            assert "USING INDEX websub_" in plan and "_by_domain" in plan, plan
    finally:
        store.close()


def test_a_name_spelled_with_percent_escapes_is_the_name_the_hub_reaches(
    hub_http, subscriber, wildcard_dns
):
    """``a.evil%2Etest`` is ``a.evil.test`` to the HTTP client (a percent-encoded '.' in
    the host is decoded before the name is resolved): keyed as written, each made-up
    name was a registrable domain of its own (``a.evil%2etest``), and a subscriber with
    wildcard DNS had a limit, and ``PER_HOST`` workers, for each name again."""
    cfg, store, h, ask = hub_http
    wildcard_dns("evil.test")

    at = subscriber.at
    assert ask(at("a.evil%2Etest")).status_code == 202
    assert ask(at("b%2Eevil.test")).status_code == 202
    h.run_due(cfg, store, wait=True)
    assert len(rows.subscriptions(store.db)) == 2  # the hub reached both, on 127.0.0.1
    refused = ask(at("c.evil%2etest"))
    assert refused.status_code == 403 and "for evil.test " in refused.text


def test_a_name_is_not_counted_as_another_registrant_s(hub_http, subscriber, wildcard_dns):
    """``straße.test`` is its own domain to the HTTP client (IDNA 2008: ``xn--strae-oqa``),
    not ``strasse.test`` (IDNA 2003 folded ß to ss): keyed as one, whoever held the
    ß-name filled the other's limit (and took its share of the workers)."""
    cfg, store, h, ask = hub_http
    wildcard_dns("xn--strae-oqa.test", "strasse.test")

    at = subscriber.at
    assert ask(at("a.straße.test")).status_code == 202
    assert ask(at("b.straße.test")).status_code == 202
    assert ask(at("www.strasse.test")).status_code == 202  # another domain's first
    h.run_due(cfg, store, wait=True)
    assert len(rows.subscriptions(store.db)) == 3
    refused = ask(at("c.straße.test"))
    assert refused.status_code == 403 and "for xn--strae-oqa.test " in refused.text
