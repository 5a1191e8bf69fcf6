"""End to end against a real ActivityPub implementation no one here wrote (bovine).

A remote server built on bovine, on 127.0.0.1, looks our actor up by WebFinger,
fetches and parses the actor and the outbox, follows us with a signed Follow, and
receives our Accept, then a Create for a new release and an Update for its correction,
each HTTP signature checked by bovine's SignatureChecker with the key from our actor.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import waitress
from bovine.parse import Actor as ParsedActor
from pyld import jsonld

from scofeed import pipeline
from scofeed.activitypub import Service, planner
from scofeed.activitypub.routes import Answer
from scofeed.store import activitypub as ap_rows
from tests import fedi
from tests.conftest import Site


def wsgi(service: Service) -> Any:
    """The routes behind a minimal WSGI app (serve/ mounts the same ``Routes``)."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method = environ["REQUEST_METHOD"]
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        headers = {
            k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        answer: Answer | None
        if method == "POST" and path in service.routes.inbox_paths():
            if service.routes.body_too_big(environ.get("CONTENT_LENGTH")):
                answer = Answer(413, b"too large\n")
            else:
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                answer = service.routes.post(path, query, headers, body)
        else:
            answer = service.routes.get(path, query, environ.get("HTTP_ACCEPT", ""))
        answer = answer or Answer(404, b"not found\n")
        start_response(
            f"{answer.status} X", [("Content-Type", answer.content_type), *answer.headers]
        )
        return [answer.body]

    return app


@pytest.fixture
def remote() -> Iterator[fedi.RemoteServer]:
    server, stop = fedi.start()
    yield server
    stop.set()


@pytest.fixture
def ours(site: Site) -> Iterator[tuple[Site, Service, str]]:
    holder: list[Service] = []
    srv = waitress.create_server(
        lambda e, s: wsgi(holder[0])(e, s), host="127.0.0.1", port=0, threads=4
    )
    port = srv.socket.getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    site.write_config("\n[activitypub]\nenabled = true\nallow_private = true\n")
    text = site.config_path.read_text().replace("http://127.0.0.1:8080/", base + "/")
    site.config_path.write_text(text)
    cfg = site.config()
    store = site.store()
    holder.append(Service.open(cfg, store))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield site, holder[0], base
    srv.close()
    holder[0].close()
    store.close()


def build(site: Site, service: Service) -> None:
    cfg = site.config()
    now = datetime.now(UTC)
    store = service.inbox.store
    pipeline.build(cfg, store, now, planner=planner(cfg, now))
    service.deliverer.run_due(wait=True)


def test_follow_accept_create_update_with_bovine(
    ours: tuple[Site, Service, str], remote: fedi.RemoteServer
) -> None:
    site, service, base = ours
    build(site, service)  # the seed release, before anyone follows: nothing to deliver
    host = urlsplit(base).netloc

    # discovery: WebFinger as bovine does it
    actor_id = remote.call(remote.webfinger(base, f"acct:releases@{host}"))
    assert actor_id == f"{base}/@releases"

    # the actor: fetched with a signed GET, parsed and checked by bovine
    status, headers, doc = remote.call(remote.get_json(actor_id))
    assert status == 200 and headers["Content-Type"].startswith("application/activity+json")
    assert "Accept" in headers.get("Vary", "")
    actor = ParsedActor(doc, domain=host)
    assert actor.unvalidated_acct_uri == f"acct:releases@{host}"
    (key,) = actor.cryptographic_identifiers
    assert key.id == f"{actor_id}#main-key" and key.controller == actor_id
    assert doc["type"] == "Service" and doc["endpoints"]["sharedInbox"] == f"{base}/inbox"
    assert doc["manuallyApprovesFollowers"] is False and doc["discoverable"] is True
    expanded = jsonld.expand(doc)[0]  # well-formed JSON-LD, with bovine's context loader
    assert expanded["http://www.w3.org/ns/ldp#inbox"][0]["@id"] == f"{actor_id}/inbox"

    # the outbox: an OrderedCollection whose first page holds the seed's Create
    status, _, outbox = remote.call(remote.get_json(doc["outbox"]))
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 1
    status, _, page = remote.call(remote.get_json(outbox["first"]))
    assert page["type"] == "OrderedCollectionPage" and page["partOf"] == doc["outbox"]
    (item,) = page["orderedItems"]
    assert item["type"] == "Create" and item["object"]["type"] == "Note"
    assert item["object"]["attributedTo"] == actor_id

    # a browser at the actor's URL gets the index page
    html = "text/html,application/xhtml+xml"
    status, headers, _ = remote.call(remote.get_json(actor_id, signed=False, accept=html))
    assert status == 303 and headers["Location"] == base + "/" and headers["Vary"] == "Accept"

    # follow: a signed Follow to our inbox, then our signed Accept to alice's inbox
    follow = remote.follow(actor_id)
    status, text = remote.call(remote.post(doc["inbox"], follow))
    assert status == 202, text
    assert [f.actor for f in ap_rows.followers(service.inbox.store.db)] == [remote.actor_id]
    service.deliverer.run_due(wait=True)
    got = remote.next()
    assert got.signer == actor_id  # bovine verified our signature with our actor's key
    assert got.activity["type"] == "Accept" and got.activity["actor"] == actor_id
    assert got.activity["object"]["id"] == follow["id"]

    # the same Follow again changes nothing and sends no second Accept
    status, _ = remote.call(remote.post(doc["inbox"], follow))
    assert status == 202
    assert service.deliverer.run_due(wait=True).attempted == 0

    # a new release: Create{Note} to the shared inbox
    (site.sources / "new.txt").write_text(
        "Second release\n\nOn 5 May 2021 the Secretariat published more news.\n"
    )
    build(site, service)
    got = remote.next()
    assert got.signer == actor_id
    create = got.activity
    assert create["type"] == "Create" and create["object"]["type"] == "Note"
    note = create["object"]
    assert "Second release" in note["content"] and "updated" not in note
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert note["cc"] == [doc["followers"]]
    assert note["contentMap"] == {"en": note["content"]}

    # its correction: Update{Note} with the same object id and an updated time
    (site.sources / "new.txt").write_text(
        "Second release\n\nOn 5 May 2021 the Secretariat published corrected news.\n"
    )
    build(site, service)
    got = remote.next()
    assert got.signer == actor_id
    upd = got.activity
    assert upd["type"] == "Update" and upd["object"]["id"] == note["id"]
    assert "corrected news" in upd["object"]["content"] and upd["object"]["updated"]
    assert upd["id"] != create["id"]

    # the Note is served at its id, by content negotiation
    status, headers, served = remote.call(remote.get_json(note["id"]))
    assert status == 200 and served["id"] == note["id"] and "corrected" in served["content"]

    # unfollow: Undo{Follow} removes alice
    undo = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": follow["id"] + "/undo",
        "type": "Undo",
        "actor": remote.actor_id,
        "object": follow,
    }
    status, _ = remote.call(remote.post(doc["inbox"], undo))
    assert status == 202
    assert ap_rows.follower_count(service.inbox.store.db) == 0
