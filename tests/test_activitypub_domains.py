"""ActivityPub's limits per registrable domain (``scofeed.hostkey``): with wildcard DNS,
anyone may run a server on every name of their domain (``a.evil.test``,
``b.evil.test``, ...), each with its own actors and inbox. The followers count at most
``activitypub.max_servers_per_domain`` servers of one domain, and a domain's inboxes
hold at most ``per_domain`` delivery workers at once. Remote actors are served on
127.0.0.1 and reached by names that resolve there (``wildcard_dns``); Follows go to
our inbox over HTTP, and our deliveries to real receivers."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scofeed import build as build_mod
from scofeed.activitypub import delivery, httpsig, outbox
from scofeed.activitypub.delivery import Deliverer
from scofeed.activitypub.service import Service
from scofeed.serve import App, HttpServer
from scofeed.store import Store
from scofeed.store import activitypub as rows
from tests.conftest import Site, SlowReceiver, free_port, rewind
from tests.fedi import start as start_bovine

INBOX = "/@releases/inbox"
OUR_ACTOR = "http://127.0.0.1:8080/@releases"
CONFIG = "\n[activitypub]\nenabled = true\nallow_private = true\ntimeout = 30\n"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Fediverse:
    """Actors on servers of any name (all served by one HTTP server on 127.0.0.1, found
    by ``wildcard_dns``), each with its inbox there; what their inboxes got."""

    def __init__(self, server: HTTPServer, key: rsa.RSAPrivateKey) -> None:
        self.server, self.key = server, key
        self.received: list[tuple[str, dict[str, Any]]] = []  # (inbox path, activity)
        self.pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def actor(self, host: str, name: str) -> str:
        """An actor ``name`` on the server ``host`` (a name resolving to 127.0.0.1)."""
        path = f"/{host}/users/{name}"
        actor = f"http://{host}:{self.server.port}{path}"
        doc = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor,
            "type": "Person",
            "inbox": actor + "/inbox",
            "publicKey": {"id": actor + "#main-key", "owner": actor, "publicKeyPem": self.pem},
        }
        self.server.expect_request(path).respond_with_json(doc)
        self.server.expect_request(path + "/inbox", method="POST").respond_with_handler(
            self._receive
        )
        return actor

    def _receive(self, request: Request) -> Response:
        self.received.append((request.path, json.loads(request.get_data())))
        return Response(status=202)

    def follow(self, base: str, actor: str, kind: str = "Follow", obj: Any = OUR_ACTOR) -> Any:
        """``actor``'s signed activity POSTed to our inbox at ``base``: (status, text)."""
        body = json.dumps(
            {"id": f"{actor}/{kind.lower()}/1", "type": kind, "actor": actor, "object": obj}
        ).encode()
        headers = httpsig.sign_cavage("POST", "http://127.0.0.1:8080" + INBOX, body,
                                      actor + "#main-key", self.key, time.time())  # fmt: skip
        got = requests.post(base + INBOX, data=body, headers=headers, timeout=30)
        return got.status_code, got.text


@pytest.fixture
def fedi(httpserver: HTTPServer, key: rsa.RSAPrivateKey, wildcard_dns) -> Fediverse:
    wildcard_dns("evil.test", "other.test")
    return Fediverse(httpserver, key)


def served(site: Site, *overrides: str) -> tuple[Service, HttpServer, str]:
    """ActivityPub with our inbox served over HTTP on 127.0.0.1: (service, server, base)."""
    service = Service.open(site.config(*overrides), site.store())
    routes = service.routes
    server = HttpServer(App(lambda: routes.cfg, routes.store, activitypub=routes), "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0][:2]
    return service, server, f"http://{host}:{port}"


@pytest.fixture
def ours(site: Site) -> Iterator[tuple[Service, str]]:
    site.write_config(CONFIG + "max_servers_per_domain = 2\n")
    service, server, base = served(site)
    yield service, base
    server.stop()
    service.close()


def followers(service: Service) -> set[str]:
    return {f.actor.split("/", 3)[3] for f in rows.followers(service.inbox.store.db)}


def test_the_servers_of_one_domain_past_the_limit_get_a_reject(
    ours: tuple[Service, str], fedi: Fediverse, caplog: pytest.LogCaptureFixture
) -> None:
    """Two servers of evil.test follow (the limit); a third server of it is answered
    202 and sent a Reject of its Follow (policy: a 503 would be sent again for days),
    with one log line naming the domain counted. More followers on a server counted
    already, and a server of another domain, are accepted as before."""
    service, base = ours
    a1, a2 = fedi.actor("a.evil.test", "1"), fedi.actor("a.evil.test", "2")
    b1, c1 = fedi.actor("b.evil.test", "1"), fedi.actor("C.Evil.Test.", "1")
    x1 = fedi.actor("x.other.test", "1")
    assert fedi.follow(base, a1) == (202, "accepted\n")
    assert fedi.follow(base, b1) == (202, "accepted\n")
    caplog.set_level(logging.INFO, logger="scofeed.activitypub.inbox")
    status, text = fedi.follow(base, c1)
    assert status == 202 and text.startswith("rejected: 2 servers of evil.test follow"), text
    (line,) = [r.getMessage() for r in caplog.records if "follow_refused" in r.getMessage()]
    assert "reason=max_servers_per_domain domain=evil.test servers=2 limit=2" in line
    assert fedi.follow(base, c1)[0] == 202  # sent again: still one Reject waits for it
    assert fedi.follow(base, a2) == (202, "accepted\n")  # a.evil.test is counted already
    assert fedi.follow(base, x1) == (202, "accepted\n")  # another domain
    assert followers(service) == {"a.evil.test/users/1", "a.evil.test/users/2",
                                  "b.evil.test/users/1", "x.other.test/users/1"}  # fmt: skip

    assert service.deliverer.run_due().delivered == 5  # four Accepts, one Reject
    answers = {path: (doc["type"], doc["object"]["id"]) for path, doc in fedi.received}
    assert answers["/C.Evil.Test./users/1/inbox"] == ("Reject", c1 + "/follow/1")
    assert answers["/a.evil.test/users/2/inbox"] == ("Accept", a2 + "/follow/1")
    assert len(fedi.received) == 5


def test_a_limit_lowered_drops_nobody_and_a_server_gone_makes_room(
    site: Site, fedi: Fediverse
) -> None:
    site.write_config(CONFIG + "max_servers_per_domain = 2\n")
    names = {n: fedi.actor(f"{n}.evil.test", "1") for n in "abcd"}
    service, server, base = served(site)
    try:
        assert fedi.follow(base, names["a"])[1] == "accepted\n"
        assert fedi.follow(base, names["b"])[1] == "accepted\n"
    finally:
        server.stop()
        service.close()
    service, server, base = served(site, "activitypub.max_servers_per_domain=1")
    try:
        assert followers(service) == {"a.evil.test/users/1", "b.evil.test/users/1"}
        assert fedi.follow(base, names["a"])[1] == "accepted\n"  # following: as ever
        assert fedi.follow(base, names["c"])[1].startswith("rejected: 1 servers of evil.test")
        # b unfollows: its server no longer counts, but a's alone is the lowered limit
        undo = {"type": "Follow", "actor": names["b"], "object": OUR_ACTOR}
        assert fedi.follow(base, names["b"], "Undo", undo)[1] == "unfollowed\n"
        assert fedi.follow(base, names["c"])[1].startswith("rejected")
        undo = {"type": "Follow", "actor": names["a"], "object": OUR_ACTOR}
        assert fedi.follow(base, names["a"], "Undo", undo)[1] == "unfollowed\n"
        assert fedi.follow(base, names["d"])[1] == "accepted\n"  # room again
    finally:
        server.stop()
        service.close()


def test_followers_from_before_the_domains_are_counted_and_kept(
    site: Site, fedi: Fediverse
) -> None:
    """A store from before migration 36 has no server or domain for its followers: they
    are keyed on the first Follow that counts them, and none of them is dropped; so
    are they all again when another version's list would count them otherwise."""
    site.write_config(CONFIG + "max_servers_per_domain = 2\n")
    cfg = site.config()
    names = {n: fedi.actor(f"{n}.evil.test", "1") for n in "abcd"}
    store = Store(cfg.paths.state)
    for n in "abc":  # three: over the limit, as a limit lowered leaves it
        rows.add_follower(store.db, names[n], names[n] + "/inbox", None, f"f{n}", 1.0)
    store.close()
    with sqlite3.connect(cfg.paths.state) as db:
        rewind(db, 35)
    Store(cfg.paths.state).close()  # migration 36: no server nor domain for those rows
    with sqlite3.connect(cfg.paths.state) as db:
        keyed = db.execute("SELECT server, domain FROM ap_followers").fetchall()
    assert keyed == [(None, None)] * 3
    service, server, base = served(site)
    try:
        assert fedi.follow(base, names["d"])[1].startswith("rejected: 2 servers of evil.test")
        assert fedi.follow(base, names["a"])[1] == "accepted\n"
        assert len(followers(service)) == 3  # none dropped
        db = service.inbox.store.db
        assert {r[0] for r in db.execute("SELECT domain FROM ap_followers")} == {"evil.test"}

        # keyed by another list (here: each name its own), they are keyed again
        db.execute("UPDATE ap_followers SET domain = server")
        service.inbox.store.set_meta(rows.DOMAINS, "0 an older list")
        assert fedi.follow(base, names["d"])[1].startswith("rejected")
    finally:
        server.stop()
        service.close()


def test_a_domains_servers_are_counted_through_its_index(site: Site) -> None:
    """A new server's Follow counts its domain's servers: one seek of the index a
    server, never a read of every follower (one server may have thousands)."""
    store = Store(site.config().paths.state)
    try:
        with store.transaction() as db:
            for n in range(300):  # one server's 300 followers, and two other servers
                rows.add_follower(db, f"https://big.example/users/{n}", "i", None, "f", 1.0)
            for host in ("a.big.example", "b.big.example", "other.example"):
                rows.add_follower(db, f"https://{host}/users/1", "i", None, "f", 1.0)
        ran: list[str] = []
        store.db.set_trace_callback(ran.append)
        with store.transaction() as db:
            assert rows.servers_in(db, "big.example", 50) == 3
            assert rows.servers_in(db, "big.example", 2) == 2  # counted no further
        store.db.set_trace_callback(None)
        (sql, *_) = [s for s in ran if "WITH RECURSIVE" in s]
        plan = " ".join(r[3] for r in store.db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "ap_followers_by_domain" in plan and "SCAN ap_followers" not in plan, plan
    finally:
        store.close()


# -- deliveries: a domain's share of the workers --------------------------------------


def add_followers(store: Store, inboxes: list[str]) -> None:
    with store.transaction() as db:
        for n, inbox in enumerate(inboxes):
            rows.add_follower(db, inbox.rsplit("/", 1)[0] + f"/users/{n}", inbox, None,
                              f"f{n}", 1.0)  # fmt: skip


def build(site: Site, service: Service) -> None:
    """The site's release built: its Create queued to every follower's inbox."""
    cfg = site.config()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    build_mod.build(cfg, service.inbox.store, now, planner=delivery.planner(cfg, now))


def test_silent_inboxes_of_one_domain_leave_workers_for_another(
    site: Site, wildcard_dns, receivers
) -> None:
    """Six servers of slow.test whose inboxes never answer, each a host with its own
    lease: they took every worker (three here), each until its timeout, while a healthy
    inbox of another domain waited. Now they hold ``per_domain`` (two) at once; the
    healthy one is delivered to at once, and the rest of slow.test waits its turn."""
    site.write_config(CONFIG.replace("timeout = 30", "timeout = 10"))
    wildcard_dns("slow.test", "fast.test")
    slow = SlowReceiver(b"", silent=True)  # 127.0.0.1, for every name under slow.test
    fast = receivers([202])
    service = Service.open(site.config(), site.store())
    store = service.inbox.store
    deliverer = Deliverer(site.config(), store, service.keypair, max_workers=3, per_domain=2)
    try:
        slow_inboxes = [slow.url.replace("127.0.0.1", f"s{n}.slow.test") for n in range(6)]
        # the healthy one sorts last: its delivery is queued after theirs
        add_followers(store, [*slow_inboxes, f"http://z.fast.test:{fast.port}/inbox"])
        build(site, service)
        assert len(rows.listing(store.db)) == 7
        deadline = time.monotonic() + 60
        while not fast.received and time.monotonic() < deadline:
            deliverer.run_due(wait=False)  # the daemon's ticks
            time.sleep(0.2)
        assert len(fast.received) == 1 and json.loads(fast.received[0].body)["type"] == "Create"
        tried = store.db.execute(
            "SELECT COUNT(*) FROM ap_deliveries WHERE host LIKE '%.slow.test:%' AND attempts > 0"
        ).fetchone()[0]
        assert tried == 0  # no slow one ended: the healthy one did not wait for them
        assert slow.requests == 2  # per_domain for all its servers, however many were due
    finally:
        slow.stop()
        deliverer.shutdown()
        service.close()


def test_a_domains_waiting_host_starts_as_one_of_its_deliveries_ends(
    site: Site, wildcard_dns, receivers
) -> None:
    """With one worker a domain, its three servers are delivered to one after another,
    in one run (each started as the one before ended), none left behind."""
    site.write_config(CONFIG)
    wildcard_dns("many.test")
    r = receivers([202])
    service = Service.open(site.config(), site.store())
    store = service.inbox.store
    deliverer = Deliverer(site.config(), store, service.keypair, per_domain=1)
    try:
        add_followers(store, [f"http://s{n}.many.test:{r.port}/inbox" for n in range(3)])
        build(site, service)
        report = deliverer.run_due()  # waits for all of it
        assert (report.hosts, report.delivered) == (3, 3)
        assert len(r.received) == 3
        assert rows.counts(store.db).get("pending", 0) == 0
    finally:
        deliverer.shutdown()
        service.close()


def test_bovine_servers_of_one_domain_get_accepts_then_a_signed_reject(
    site: Site, wildcard_dns
) -> None:
    """Three servers of one domain, each a real ActivityPub implementation (bovine, on
    127.0.0.1 by names of evil.test), follow us with the limit at two: the first two
    get an Accept, the third a Reject of its Follow, each signature checked by bovine
    with the key from our actor, as their side of the follow reads it."""
    wildcard_dns("evil.test")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site.write_config(CONFIG + "max_servers_per_domain = 2\n", base_url=base + "/")
    service = Service.open(site.config(), site.store())
    routes = service.routes
    server = HttpServer(App(lambda: routes.cfg, routes.store, activitypub=routes), "127.0.0.1",
                        port)  # fmt: skip
    server.start()
    remotes = [start_bovine(f"{name}.evil.test") for name in "abc"]
    try:
        answers = []
        for remote, _ in remotes:
            follow = remote.follow(base + "/@releases")
            status, text = remote.call(remote.post(base + INBOX, follow))
            assert status == 202, text
            service.deliverer.run_due()
            got = remote.next(timeout=20)
            assert got.signer == base + "/@releases"  # bovine verified our signature
            assert got.activity["object"]["id"] == follow["id"]
            answers.append(got.activity["type"])
        assert answers == ["Accept", "Accept", "Reject"]
        assert {f.actor for f in rows.followers(service.inbox.store.db)} == {
            remote.actor_id for remote, _ in remotes[:2]
        }
    finally:
        for _, stop in remotes:
            stop.set()
        server.stop()
        service.close()


def test_an_actor_is_counted_on_the_server_its_id_reaches(
    ours: tuple[Service, str], fedi: Fediverse
) -> None:
    """``http://a.evil.test:PORT\\@x1.other.test/...`` is fetched from a.evil.test (the HTTP
    client ends the host at the backslash), while ``urlsplit`` read its host as
    x1.other.test: a server of evil.test counted as servers of other.test filled that
    domain's limit, and the genuine servers of other.test got a Reject."""
    service, base = ours
    port = fedi.server.port

    def sneaky(victim: str) -> str:
        path = f"/{victim}/users/1"
        actor = f"http://a.evil.test:{port}\\@{victim}{path}"
        fedi.actor("a.evil.test", "x")  # the key and inbox handlers; the documents below
        doc = {"@context": ["https://www.w3.org/ns/activitystreams",
                            "https://w3id.org/security/v1"],
               "id": actor, "type": "Person", "inbox": actor + "/inbox",
               "publicKey": {"id": actor + "#main-key", "owner": actor,
                             "publicKeyPem": fedi.pem}}  # fmt: skip
        fedi.server.expect_request("/\\@" + victim + path).respond_with_json(doc)
        fedi.server.expect_request(
            "/\\@" + victim + path + "/inbox", method="POST"
        ).respond_with_handler(fedi._receive)
        return actor

    assert fedi.follow(base, sneaky("x1.other.test")) == (202, "accepted\n")
    assert fedi.follow(base, sneaky("x2.other.test")) == (202, "accepted\n")
    assert fedi.follow(base, fedi.actor("y.other.test", "1")) == (202, "accepted\n")
    servers = {rows.server_of(f.actor) for f in rows.followers(service.inbox.store.db)}
    assert servers == {"a.evil.test", "y.other.test"}


def _follow_from(host: str) -> dict[str, Any]:
    actor = f"http://{host}/users/1"
    return {"id": actor + "/follow/1", "type": "Follow", "actor": actor, "object": OUR_ACTOR}


def test_rejects_waiting_to_go_are_capped_by_domain_and_in_all(site: Site, monkeypatch) -> None:
    """With wildcard DNS, Follows from a crowded domain's servers came without end, and
    each was answered with a Reject kept for the days of its retries: at most
    ``REJECTS_PER_DOMAIN`` wait to go to one domain's servers, ``REJECTS_PENDING`` in all."""
    site.write_config(CONFIG)
    cfg, store = site.config(), site.store()
    with store.transaction() as db:
        queued = [
            outbox.queue_reject(cfg, db, _follow_from(host), f"http://{host}/inbox", 1.0)
            for host in (f"x{n}.evil.test" for n in range(25))
        ]
        assert queued == [True] * outbox.REJECTS_PER_DOMAIN + [False] * 5
        other = _follow_from("a.other.test")
        assert outbox.queue_reject(cfg, db, other, "http://a.other.test/inbox", 1.0)
        monkeypatch.setattr(outbox, "REJECTS_PENDING", outbox.REJECTS_PER_DOMAIN + 1)
        other = _follow_from("b.other.test")
        assert not outbox.queue_reject(cfg, db, other, "http://b.other.test/inbox", 1.0)
    assert rows.counts(store.db)["pending"] == outbox.REJECTS_PER_DOMAIN + 1
    store.close()


def test_a_follow_refused_past_the_rejects_cap_is_told_so(
    ours: tuple[Service, str], fedi: Fediverse, monkeypatch
) -> None:
    service, base = ours
    monkeypatch.setattr(outbox, "REJECTS_PER_DOMAIN", 1)
    for name in ("a", "b"):
        assert fedi.follow(base, fedi.actor(f"{name}.evil.test", "1")) == (202, "accepted\n")
    c1, d1 = fedi.actor("c.evil.test", "1"), fedi.actor("d.evil.test", "1")
    assert fedi.follow(base, c1)[1].endswith("(a Reject is sent)\n")
    assert fedi.follow(base, d1)[1].endswith("(no new Reject is sent: enough wait to go)\n")
    assert service.deliverer.run_due().delivered == 3  # two Accepts, c's Reject
    assert [doc["type"] for path, doc in fedi.received if "/d.evil.test/" in path] == []
