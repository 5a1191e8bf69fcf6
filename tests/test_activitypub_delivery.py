"""The ActivityPub outbox: one POST per shared inbox, signed, retried, in order per host;
410 removes followers; the address guard; nothing lost across a restart."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import logging
import os
import random
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bovine.crypto.signature_checker import SignatureChecker
from bovine.crypto.types import CryptographicIdentifier
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scofeed import build as build_mod
from scofeed.activitypub import delivery, documents, httpsig, outbox
from scofeed.activitypub.delivery import Deliverer
from scofeed.activitypub.keys import generate
from scofeed.activitypub.remote import Remote
from scofeed.activitypub.service import Service
from scofeed.errors import StoreError
from scofeed.store import Store
from scofeed.store import activitypub as rows
from scofeed.store import outbox as outbox_rows
from scofeed.store import published as published_rows
from servers import serve
from tests.conftest import Site

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def service(site: Site) -> Iterator[Service]:
    site.write_config("\n[activitypub]\nenabled = true\nallow_private = true\ntimeout = 2\n")
    s = Service.open(site.config(), site.store())
    yield s
    s.close()


def follow(service: Service, n: int, inbox: str, shared: str | None) -> None:
    with service.inbox.store.transaction() as db:
        rows.add_follower(db, f"http://remote/users/{n}", inbox, shared, f"f{n}", 1.0)


def build(site: Site, service: Service) -> build_mod.BuildReport:
    cfg = site.config()
    return build_mod.build(cfg, service.inbox.store, NOW, planner=delivery.planner(cfg, NOW))


def test_one_post_per_shared_inbox_signed(site: Site, service: Service, httpserver: HTTPServer):
    shared = httpserver.url_for("/inbox")
    for n in range(5):
        follow(service, n, httpserver.url_for(f"/users/{n}/inbox"), shared)
    follow(service, 9, httpserver.url_for("/users/9/inbox"), None)  # no shared inbox
    got: list[Request] = []

    def record(request: Request) -> Response:
        got.append(request)
        return Response(status=202)

    httpserver.expect_request("/inbox", method="POST").respond_with_handler(record)
    httpserver.expect_request("/users/9/inbox", method="POST").respond_with_handler(record)
    report = build(site, service)
    assert report.entries == 1
    assert len(rows.listing(service.inbox.store.db)) == 2  # 6 followers, 2 inboxes
    result = service.deliverer.run_due()
    assert result.delivered == 2 and len(got) == 2
    for request in got:
        headers = dict(request.headers)
        body = request.get_data()
        parsed = httpsig.parse(headers)
        httpsig.check_covers(parsed, "POST", True)
        httpsig.check_host(parsed, headers, request.url)
        httpsig.check_digest(parsed, headers, body)
        httpsig.verify(parsed, "POST", request.url, headers, service.keypair.public_pem)
        assert parsed.key_id.endswith("/@releases#main-key")
        assert headers["Content-Type"] == "application/activity+json"
        assert json.loads(body)["type"] == "Create"


def test_an_inbox_url_requests_reencodes_is_signed_as_sent(site: Site, service: Service, receivers):
    """requests percent-encodes a path or query outside ASCII (or with ``|``) on the
    wire; the (request-target) must be that form, the one the receiver reads. It was
    signed as written, and no receiver could verify it. bovine checks the path one."""
    r = receivers([202])
    base = f"http://127.0.0.1:{r.port}"
    follow(service, 1, base + "/users/иван/inbox", None)
    follow(service, 2, base + "/inbox?to=a|b&tag=经济", None)
    build(site, service)
    assert service.deliverer.run_due().delivered == 2
    got = {g.path.split("?")[0]: g for g in r.wait_for(2)}
    ident = CryptographicIdentifier.from_pem(service.keypair.public_pem, "urn:us")

    async def retrieve(key_id: str) -> CryptographicIdentifier:
        return ident

    for g in got.values():
        assert g.path.isascii()
        headers = {k.lower(): v for k, v in g.headers.items()}
        httpsig.verify(httpsig.parse(headers), "POST", base + g.path, headers,
                       service.keypair.public_pem)  # fmt: skip
    g = got["/users/%D0%B8%D0%B2%D0%B0%D0%BD/inbox"]
    headers = {k.lower(): v for k, v in g.headers.items()}

    async def body() -> bytes:
        return g.body

    checker = SignatureChecker(retrieve)
    assert asyncio.run(checker.validate_signature("post", base + g.path, headers, body)) == "urn:us"


def test_a_signed_get_is_signed_for_the_url_as_sent(tmp_path) -> None:
    """The same for our signed GETs (actors and keys in "authorized fetch" mode)."""
    seen: list[tuple[str, dict[str, str]]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            body = b'{"id": "x"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serve(server)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    store, keypair = Store(tmp_path / "state.db"), generate()
    remote = Remote(store, keypair, "http://us.example/@r#main-key", True, timeout=5)
    try:
        assert remote.get(base + "/users/иван?page=a|b") == {"id": "x"}
    finally:
        remote.close()
        server.shutdown()
        server.server_close()
        store.close()
    ((path, headers),) = seen
    assert path == "/users/%D0%B8%D0%B2%D0%B0%D0%BD?page=a%7Cb"
    httpsig.verify(httpsig.parse(headers), "GET", base + path, headers, keypair.public_pem)


def test_gone_inbox_removes_its_followers(site: Site, service: Service, httpserver: HTTPServer):
    shared = httpserver.url_for("/inbox")
    for n in range(3):
        follow(service, n, httpserver.url_for(f"/u/{n}"), shared)
    follow(service, 7, "http://127.0.0.1:9/elsewhere", None)
    httpserver.expect_request("/inbox", method="POST").respond_with_data("", status=410)
    build(site, service)
    report = service.deliverer.run_due()
    assert report.gone == [shared]
    db = service.inbox.store.db
    assert [f.actor for f in rows.followers(db)] == ["http://remote/users/7"]
    # said as what happened (it read "endpoint disabled", a webhook's word)
    assert {d.last_error for d in rows.listing(db) if d.inbox == shared} == {
        "HTTP 410 Gone: its followers are removed"
    }


def test_failures_retry_in_order_per_host(site: Site, service: Service, httpserver: HTTPServer):
    follow(service, 1, httpserver.url_for("/inbox"), None)
    build(site, service)
    (site.sources / "b.txt").write_text("Second release\n\nOn 5 May 2021 more news.\n")
    build(site, service)
    db = service.inbox.store.db
    assert [d.kind for d in rows.listing(db)] == ["Create", "Create"]
    httpserver.expect_ordered_request("/inbox", method="POST").respond_with_data("", status=500)
    report = service.deliverer.run_due()
    assert report.attempted == 1 and report.retrying == 1  # the second waits its turn
    first, second = sorted(rows.listing(db), key=lambda d: d.id)
    assert first.status == "pending" and first.attempts == 1 and first.next_attempt
    assert first.last_status == 500 and second.attempts == 0

    # a new Deliverer (a restarted daemon) at a later time sends both, oldest first
    httpserver.clear()
    bodies: list[str] = []

    def record(request: Request) -> Response:
        bodies.append(json.loads(request.get_data())["object"]["content"])
        return Response(status=200)

    httpserver.expect_request("/inbox", method="POST").respond_with_handler(record)
    later = Deliverer(
        site.config(), service.inbox.store, service.keypair, clock=lambda: first.next_attempt + 1
    )
    try:
        report = later.run_due()
    finally:
        later.shutdown()
    assert report.delivered == 2
    assert "Second release" in bodies[1] and "Second release" not in bodies[0]
    assert rows.counts(db) == {"pending": 0, "failed": 0, "delivered": 2}


def test_one_server_however_its_inboxes_spell_it_holds_one_lease(
    site: Site, service: Service, httpserver: HTTPServer
):
    # case and a trailing dot name the same server (hostkey.authority): its deliveries
    # wait their turn behind the one being retried, as one host's must
    port = httpserver.port
    follow(service, 1, f"http://localhost:{port}/users/1/inbox", None)
    follow(service, 2, f"http://LocalHost.:{port}/users/2/inbox", None)
    build(site, service)
    db = service.inbox.store.db
    assert {d.host for d in rows.listing(db)} == {f"localhost:{port}"}
    httpserver.expect_request("/users/1/inbox", method="POST").respond_with_data("", status=500)
    report = service.deliverer.run_due()  # ("LocalHost." resolves to nothing here)
    assert report.attempted == 1 and report.retrying == 1
    assert sorted(d.attempts for d in rows.listing(db)) == [0, 1]


def test_deliveries_keyed_before_an_upgrade_keep_their_servers_order(
    site: Site, service: Service, httpserver: HTTPServer
):
    """A delivery stored by an older version holds its lease under that version's key
    of its server (the inbox's ``netloc`` in lower case: ``user@host:port``, a default
    port written out, a trailing dot); one planned after the upgrade under this
    version's (``outbox.host_of``). Two keys were two leases: the newer delivery went
    out beside the older one and overtook it while it waited for its retry."""
    port = httpserver.port
    inbox = f"http://relay@localhost:{port}/inbox"
    follow(service, 1, inbox, None)
    build(site, service)  # a Create, as this version keys it
    db = service.inbox.store.db
    with service.inbox.store.transaction() as w:  # as the older version stored it
        w.execute("UPDATE ap_deliveries SET host = ?", (f"relay@localhost:{port}",))
    (site.sources / "b.txt").write_text("Second release\n\nOn 5 May 2021 more news.\n")
    build(site, service)  # after the upgrade
    assert len({d.host for d in rows.listing(db)}) == 2
    httpserver.expect_request("/inbox", method="POST").respond_with_data("", status=500)
    report = service.deliverer.run_due()
    assert report.attempted == 1 and report.retrying == 1  # the second waits its turn
    first, second = sorted(rows.listing(db), key=lambda d: d.id)
    assert (first.attempts, second.attempts) == (1, 0)
    assert first.host == second.host == f"localhost:{port}"
    assert rows.leases_keyed(db, outbox.LEASE_KEYS)  # once: a later start reads meta only


def test_a_new_followers_accept_does_not_wait_behind_a_retry(
    site: Site, service: Service, httpserver: HTTPServer
) -> None:
    """A Create to a host waiting for its retry (5 min, then hours) held the Accept of a
    Follow from that host behind it: the follow stayed "requested" on Mastodon. The
    Accept goes first; the Create still waits for its retry."""
    follow(service, 1, httpserver.url_for("/inbox"), None)
    build(site, service)
    httpserver.expect_ordered_request("/inbox", method="POST").respond_with_data("", status=500)
    assert service.deliverer.run_due().retrying == 1
    db = service.inbox.store.db
    (create,) = rows.listing(db)
    follow_doc = {"id": "http://remote/f2", "type": "Follow", "actor": "http://remote/users/2"}
    with service.inbox.store.transaction() as tx:
        assert outbox.queue_accept(site.config(), tx, follow_doc, httpserver.url_for("/u2"), 5.0)
    httpserver.clear()
    httpserver.expect_ordered_request("/u2", method="POST").respond_with_data("", status=202)
    report = service.deliverer.run_due()
    assert (report.attempted, report.delivered) == (1, 1)
    kinds = {d.kind: (d.status, d.attempts) for d in rows.listing(db)}
    assert kinds == {"Accept": ("delivered", 1), "Create": ("pending", 1)}
    assert rows.head(db, create.host).id == create.id


@pytest.mark.parametrize(("status", "retried"), [(400, False), (403, False), (404, False),
                                              (422, False), (501, False), (401, True),
                                              (408, True), (429, True)])  # fmt: skip
def test_a_refusal_is_not_retried_ahead_of_the_hosts_later_deliveries(
    site: Site, service: Service, httpserver: HTTPServer, status: int, retried: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """Mastodon's own DeliveryWorker gives up at once on a 4xx other than 401, 408 and
    429 (and on 501): the receiver has refused that activity and will refuse it again.
    Retried here over the whole schedule (about a day), it held up every later delivery
    to the same host, which goes strictly in order behind it."""
    follow(service, 1, httpserver.url_for("/inbox"), None)
    build(site, service)
    (site.sources / "b.txt").write_text("Second release\n\nOn 5 May 2021 more news.\n")
    build(site, service)
    httpserver.expect_ordered_request("/inbox", method="POST").respond_with_data("", status=status)
    httpserver.expect_ordered_request("/inbox", method="POST").respond_with_data("", status=202)
    with caplog.at_level(logging.INFO, logger="scofeed.activitypub.delivery"):
        report = service.deliverer.run_due()
    db = service.inbox.store.db
    first, second = sorted(rows.listing(db), key=lambda d: d.id)
    assert first.last_status == status and first.attempts == 1
    # a post never delivered is a WARNING: seen with log.level = "WARNING" too
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == (0 if retried else 1), warned
    assert retried or (f"activitypub_delivery_failed id={first.id} " in warned[0])
    if retried:
        assert report.retrying == 1 and first.status == "pending" and second.attempts == 0
    else:
        assert first.status == "failed" and first.next_attempt is None
        assert report.failed == 1 and report.delivered == 1 and second.status == "delivered"
        assert report.gone == [] and rows.follower_count(db) == 1  # the follower stays


def test_private_inbox_refused_without_allow_private(site: Site, httpserver: HTTPServer):
    site.write_config("\n[activitypub]\nenabled = true\n")
    s = Service.open(site.config(), site.store(), clock=lambda: NOW.timestamp())
    try:
        follow(s, 1, httpserver.url_for("/inbox"), None)
        build(site, s)
        report = s.deliverer.run_due()
        assert report.failed == 1 and len(httpserver.log) == 0
        (d,) = rows.listing(s.inbox.store.db)
        assert d.status == "failed" and "refused" in (d.last_error or "")
    finally:
        s.close()


def test_correction_queues_update_and_withdrawal_delete(site: Site, service: Service) -> None:
    follow(service, 1, "http://127.0.0.1:9/inbox", None)
    build(site, service)
    seed = next(site.sources.iterdir())
    seed.write_text(seed.read_text(encoding="utf-8") + "\nA corrected closing line.\n")
    build(site, service)
    db = service.inbox.store.db
    create, update = sorted(rows.listing(db), key=lambda d: d.id)
    assert (create.kind, update.kind) == ("Create", "Update")
    doc = json.loads(update.body)
    assert re.search(r"#update-2-[0-9a-f]{8}$", doc["id"]) and doc["object"]["updated"]
    entry = published_rows.latest(db)[0]
    with service.inbox.store.transaction() as tx:
        assert delivery.queue_delete(site.config(), tx, entry, NOW) == 1
    gone = json.loads(rows.listing(db)[0].body)
    assert gone["type"] == "Delete" and gone["object"]["type"] == "Tombstone"
    assert gone["object"]["id"] == doc["object"]["id"]


def test_a_post_is_dated_when_scofeed_first_published_it_not_by_the_release(
    site: Site, service: Service
) -> None:
    """Mastodon dates a post by its ``published`` and puts in followers' home timelines
    only a post of the last six hours: a release dated midnight in Beijing (or years
    back) and seen hours later was shown on the profile alone. Its Create, its Update,
    the Note served at its id and the outbox all date it by the build that stored it."""
    follow(service, 1, "http://127.0.0.1:9/inbox", None)
    release = site.sources / "council.md"
    release.write_text("---\ntitle: Council meets\ndate: 2026-12-01\n---\nIt met.\n", "utf-8")
    cfg, later = site.config(), NOW + timedelta(hours=9, seconds=30.6)
    build_mod.build(cfg, service.inbox.store, later, planner=delivery.planner(cfg, later))
    release.write_text("---\ntitle: Council meets\ndate: 2026-12-01\n---\nIt met twice.\n")
    fixed = later + timedelta(days=1)
    build_mod.build(cfg, service.inbox.store, fixed, planner=delivery.planner(cfg, fixed))
    db = service.inbox.store.db
    (entry,) = [e for e in published_rows.latest(db) if e.title == "Council meets"]
    ours = sorted((d for d in rows.listing(db) if d.entry_id == entry.id), key=lambda d: d.id)
    sent = [json.loads(d.body) for d in ours]
    assert [d["type"] for d in sent] == ["Create", "Update"]
    assert entry.published.isoformat() == "2026-12-01T00:00:00+08:00"  # 9 hours before
    posted = "2026-12-01T09:00:30Z"
    assert sent[0]["published"] == sent[0]["object"]["published"] == posted
    assert sent[1]["object"]["published"] == posted
    assert sent[1]["object"]["updated"] == "2026-12-02T09:00:30Z"
    assert documents.note(cfg, entry)["published"] == posted
    page = documents.outbox_page(cfg, 1, rows.entry_page(db, 20, 0), 2, 20)
    assert posted in [item["published"] for item in page["orderedItems"]]


def test_an_old_release_filled_in_keeps_its_own_date_and_out_of_home_timelines(
    site: Site, service: Service
) -> None:
    """Seen days after its own date (an archive filled in, a 2019 release added), a
    release is no news: dated by the build that stored it, each would be posted to
    every follower's home timeline at once. One seen within three days is news."""
    follow(service, 1, "http://127.0.0.1:9/inbox", None)
    cfg = site.config()
    for day in ("2019-06-03", "2026-11-29"):
        (site.sources / f"{day}.md").write_text(
            f"---\ntitle: Council meets on {day}\ndate: {day}\n---\nIt met.\n", "utf-8"
        )
    build_mod.build(cfg, service.inbox.store, NOW, planner=delivery.planner(cfg, NOW))
    db = service.inbox.store.db
    dated = {
        doc["object"]["content"].split("</strong>")[0].rsplit(" ", 1)[-1]: doc["published"]
        for doc in (json.loads(d.body) for d in rows.listing(db))
        if "Council meets" in doc["object"]["content"]
    }
    assert dated == {"2019-06-03": "2019-06-02T16:00:00Z", "2026-11-29": "2026-12-01T00:00:00Z"}


def test_two_corrections_stating_one_updated_time_reach_mastodon_in_order(
    site: Site, service: Service
) -> None:
    """A release edited twice that states the same ``updated`` both times: each Update
    carries a later ``updated`` than the one before (Mastodon drops an edit whose
    ``updated`` is not later than the last it applied)."""
    follow(service, 1, "http://127.0.0.1:9/inbox", None)
    front = "---\ntitle: Council meets\ndate: 2026-03-02\nupdated: 2026-03-03\n---\n"
    release = site.sources / "council.md"
    sent: list[str] = []
    for day, body in enumerate(("The council met.", "The council met twice.", "It met thrice.")):
        release.write_text(front + body + "\n", encoding="utf-8")
        cfg, now = site.config(), NOW + timedelta(days=day)
        build_mod.build(cfg, service.inbox.store, now, planner=delivery.planner(cfg, now))
    for d in sorted(rows.listing(service.inbox.store.db), key=lambda d: d.id):
        doc = json.loads(d.body)
        if doc["type"] == "Update":
            sent.append(doc["object"]["updated"])
    assert sent == ["2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"]
    entry = published_rows.latest(service.inbox.store.db)[0]
    assert entry.revision == 3 and entry.updated == NOW + timedelta(days=2)


def test_no_followers_no_deliveries(site: Site, service: Service) -> None:
    assert build(site, service).entries == 1
    assert rows.listing(service.inbox.store.db) == []
    assert service.deliverer.run_due().hosts == 0


def test_retry_schedule_comes_from_config(site: Site, httpserver: HTTPServer) -> None:
    site.write_config(
        "\n[activitypub]\nenabled = true\nallow_private = true\nretry_schedule = [0]\n"
    )
    s = Service.open(site.config(), site.store())
    s.deliverer.rng = random.Random(1)
    try:
        follow(s, 1, httpserver.url_for("/inbox"), None)
        httpserver.expect_request("/inbox").respond_with_data("", status=502)
        build(site, s)
        assert s.deliverer.run_due().failed == 1  # one attempt allowed: a dead letter
        (d,) = rows.listing(s.inbox.store.db)
        assert d.status == "failed" and "gave up" in (d.last_error or "")
    finally:
        s.close()


def test_cli_status_and_ap_commands(site: Site, service: Service, capsys) -> None:
    from scofeed.cli import main

    follow(service, 1, "http://127.0.0.1:9/inbox", "http://127.0.0.1:9/shared")
    build(site, service)
    args = ["--config", str(site.config_path)]
    assert main([*args, "status"]) == 0
    assert "activitypub: 1 follower(s); deliveries pending=1" in capsys.readouterr().out
    assert main([*args, "ap", "followers"]) == 0
    out = capsys.readouterr().out
    assert "http://remote/users/1" in out and "http://127.0.0.1:9/shared" in out
    assert main([*args, "ap", "deliveries", "--pending"]) == 0
    assert "Create" in capsys.readouterr().out
    assert main([*args, "ap", "deliveries", "--failed"]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "no deliveries\n")


def test_a_stored_inbox_no_request_can_go_to_fails_its_delivery_once(
    site: Site, service: Service, receivers, caplog: pytest.LogCaptureFixture
):
    """An inbox requests cannot send to ("http://%zz/"), stored before the inbox refused
    such followers, raised at every delivery tick for ever, a traceback logged each
    time, and held its host's queue; it fails now, and the other hosts' deliveries go."""
    r = receivers([202])
    follow(service, 1, "http://%zz/inbox", None)
    follow(service, 2, f"http://127.0.0.1:{r.port}/inbox", None)
    build(site, service)
    result = service.deliverer.run_due()
    assert result.delivered == 1 and result.failed == 1
    (bad,) = [d for d in rows.listing(service.inbox.store.db) if d.inbox.startswith("http://%")]
    assert bad.status == "failed" and bad.last_error == "not a valid URL"
    assert "activitypub_worker_failed" not in caplog.text


def store_files_open(store: Store) -> int:
    """How many descriptors this process holds on the store's WAL: one per connection
    open (SQLite keeps the database file's own descriptor of a closed connection, for
    the next one to take)."""
    names = {f"{store.path.resolve()}-wal"}
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("no /proc/self/fd to count open files on")
    count = 0
    for fd in fds.iterdir():
        try:
            count += os.readlink(fd) in names
        except OSError:
            continue  # closed meanwhile
    return count


def test_a_worker_holds_the_store_only_while_it_drains(site: Site, service: Service, receivers):
    """Each of the 32 workers kept its store connection (its descriptors) for the life
    of the daemon: beside the webhook and WebSub workers, under a low ``ulimit -n``, no
    scan could open a file again. And a worker that could not open the store (here a
    folder in its place) left its host taken for busy: it got nothing more until a
    restart. The workers' store trouble is the run's error, one line, no traceback."""
    for n in range(3):  # three hosts, three workers
        follow(service, n, f"http://127.0.0.1:{receivers([202]).port}/inbox", None)
    build(site, service)
    store = service.inbox.store
    before = store_files_open(store)
    path = store.path
    aside = path.with_name(path.name + ".aside")
    path.rename(aside)
    path.mkdir()  # a new connection cannot open it; those open go on
    try:  # said in one line by the job, not a traceback from each worker
        with pytest.raises(StoreError, match=f"^{re.escape(str(path))}: unable to open"):
            service.deliverer.run_due()
    finally:
        path.rmdir()
        aside.rename(path)
    assert store_files_open(store) == before
    assert service.deliverer.run_due().delivered == 3
    assert store_files_open(store) == before


def test_a_hosts_lease_left_by_a_killed_daemon_is_taken_over_at_once(
    site: Site, service: Service, httpserver: HTTPServer, caplog
) -> None:
    """As a webhook endpoint's: a host's lease held by a sender of this host whose
    process is gone (a daemon killed with SIGKILL) kept its deliveries waiting until it
    ran out; it is given back at the next round."""
    follow(service, 1, httpserver.url_for("/inbox"), None)
    httpserver.expect_request("/inbox", method="POST").respond_with_data("", status=202)
    build(site, service)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    scope = outbox_rows.new_owner().rsplit(":", 1)[1]  # this boot's, this pid namespace's
    owner = f"{socket.gethostname()}:{dead.pid}:deadbeef:{scope}"
    with service.inbox.store.transaction() as db:
        (host,) = [r[0] for r in db.execute("SELECT DISTINCT host FROM ap_deliveries")]
        db.execute(
            "INSERT INTO ap_hosts (host, lease_until, lease_owner) VALUES (?, ?, ?) "
            "ON CONFLICT (host) DO UPDATE SET lease_until = excluded.lease_until, "
            "lease_owner = excluded.lease_owner",
            (host, 4_000_000_000.0, owner),
        )
    with caplog.at_level("INFO", logger="scofeed"):
        result = service.deliverer.run_due()
    assert result.delivered == 1
    said = [m.getMessage() for m in caplog.records if m.getMessage().startswith("lease_freed")]
    assert said == [f"lease_freed host={host} owner={owner} (its process is gone)"]


def test_a_host_whose_head_waits_for_its_retry_is_not_due(site: Site, service: Service) -> None:
    """Deliveries queued behind one that waits for its retry are due by their own time,
    but cannot pass it: the host was handed to a worker at every tick, which sent
    nothing and logged "activitypub sending hosts=1" at INFO, for hours. A host is due
    by its head's time (a pending Accept's, else the oldest delivery's)."""
    db = service.inbox.store.db
    with service.inbox.store.transaction() as tx:
        for n in (1, 2):
            rows.enqueue(tx, f"https://x/{n}#create", "Create", f"e{n}", "https://h/inbox",
                         "h", b"{}", 100.0)  # fmt: skip
        first = min(r[0] for r in tx.execute("SELECT id FROM ap_deliveries"))
        tx.execute("UPDATE ap_deliveries SET next_attempt = 900.0 WHERE id = ?", (first,))
    assert rows.due_hosts(db, 200.0) == []
    assert rows.due_hosts(db, 1000.0) == ["h"]
    with service.inbox.store.transaction() as tx:  # an Accept does not wait behind it
        rows.enqueue(tx, "https://x/a#accept", "Accept", None, "https://h/inbox", "h", b"{}", 100)
    assert rows.due_hosts(db, 200.0) == ["h"]


@contextlib.contextmanager
def created_for(
    site: Site, inbox: str, schedule: list[int], now: list[float] | None = None
) -> Iterator[Service]:
    """A service retrying on ``schedule``, on the clock ``now[0]`` (NOW unless given),
    whose one follower's inbox is ``inbox``, the site built: its Create is due."""
    site.write_config(
        "\n[activitypub]\nenabled = true\nallow_private = true\ntimeout = 2\n"
        f"retry_schedule = {schedule}\n"
    )
    clock = now if now is not None else [NOW.timestamp()]
    s = Service.open(site.config(), site.store(), clock=lambda: clock[0])
    try:
        follow(s, 1, inbox, None)
        build(site, s)
        yield s
    finally:
        s.close()


def test_429s_with_a_short_retry_after_do_not_spend_the_schedule_in_seconds(
    site: Site, receivers
) -> None:
    """As a webhook's (test_deliver): an inbox answering 429 with Retry-After: 1 had the
    schedule's attempts made a second apart, and the activity was given up seconds after
    the first. The schedule now runs out no sooner than its span after the first try."""
    r = receivers([(429, {"Retry-After": "1"}, b"slow down")])
    now = [NOW.timestamp()]
    # the third attempt waits for the span's end
    with created_for(site, f"http://127.0.0.1:{r.port}/inbox", [0, 1, 300], now) as s:
        db = s.inbox.store.db
        for offset in (0, 1, 2):  # the schedule's three attempts, a second apart
            now[0] = NOW.timestamp() + offset
            assert s.deliverer.run_due().retrying == 1, offset
        (d,) = rows.listing(db)
        assert d.first_attempt == NOW.timestamp() and d.attempts == 3
        assert d.next_attempt == pytest.approx(NOW.timestamp() + 301)  # the span's end
        now[0] = NOW.timestamp() + 300
        assert s.deliverer.run_due().attempted == 0
        now[0] = NOW.timestamp() + 301
        assert s.deliverer.run_due().failed == 1
        (d,) = rows.listing(db)
        assert d.status == "failed" and "gave up after 4 attempts" in (d.last_error or "")
        assert len(r.received) == 4


def test_a_delivery_from_before_first_attempts_were_kept_gives_up_when_spent(
    site: Site, receivers
) -> None:
    """A row of migration 39's (tried before, no first attempt kept) on its last
    attempt at the upgrade: taken as first tried then, it got a whole span more, and the
    host's other deliveries waited behind it (upgrade test)."""
    r = receivers([503])
    with created_for(site, f"http://127.0.0.1:{r.port}/inbox", [0, 5, 7200]) as s:
        with s.inbox.store.transaction() as tx:  # as an older scofeed left it
            tx.execute("UPDATE ap_deliveries SET attempts = 2, first_attempt = NULL")
        assert s.deliverer.run_due().failed == 1
        (d,) = rows.listing(s.inbox.store.db)
        assert d.status == "failed" and "gave up after 3 attempts" in (d.last_error or "")
