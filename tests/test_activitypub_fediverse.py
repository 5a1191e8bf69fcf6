"""End to end against a real ActivityPub implementation no one here wrote (bovine).

`scofeed run` is a subprocess with ActivityPub on. A remote server built on bovine,
on 127.0.0.1, looks our actor up by WebFinger, fetches and parses the actor and the
outbox, follows us with a signed Follow, and receives our Accept, then a Create for a
new release and an Update for its correction, each HTTP signature checked by bovine's
SignatureChecker with the key from our actor.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from bovine.parse import Actor as ParsedActor
from pyld import jsonld

import forkserver
from tests import fedi
from tests.conftest import ACTIVITYPUB_DAEMON, Site, free_port
from tests.test_daemon import wait_for


@pytest.fixture
def remote() -> Iterator[fedi.RemoteServer]:
    server, stop = fedi.start()
    yield server
    stop.set()


@pytest.fixture
def daemon(site: Site) -> Iterator[tuple[Site, str, subprocess.Popen[bytes]]]:
    """`scofeed run` as a subprocess, ActivityPub on, its base_url on a free port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site.write_config(ACTIVITYPUB_DAEMON, base_url=base + "/", actor_key=False)  # made here
    err = site.root / "daemon.log"
    with open(err, "wb") as e:
        proc = forkserver.Popen(
            [sys.executable, "-m", "scofeed", "--config", str(site.config_path)]
            + ["run", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=e,
            cwd=site.root,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def ready() -> bool:
        assert proc.poll() is None, err.read_text()
        try:
            return requests.get(base + "/healthz", timeout=5).json()["status"] == "ok"
        except requests.ConnectionError:
            return False

    wait_for(ready, what="the daemon's first scan")
    yield site, base, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def health(base: str) -> dict[str, Any]:
    return dict(requests.get(base + "/healthz", timeout=5).json()["activitypub"])


def test_follow_accept_create_update_with_bovine(
    daemon: tuple[Site, str, subprocess.Popen[bytes]], remote: fedi.RemoteServer
) -> None:
    site, base, proc = daemon
    host = urlsplit(base).netloc

    # discovery: WebFinger as bovine does it
    actor_id = remote.call(remote.webfinger(base, f"acct:releases@{host}"))
    assert actor_id == f"{base}/@releases"
    for other in (f"ACCT:Releases@{host.upper()}", f"acct:@releases@{host}"):  # any case
        assert remote.call(remote.webfinger(base, other)) == actor_id

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
    # past the last page ("last" names it): none, not an empty page pointing back
    status, _, _ = remote.call(remote.get_json(outbox["last"].replace("page=1", "page=2")))
    assert status == 404

    # a browser at the actor's URL gets the index page
    html = "text/html,application/xhtml+xml"
    status, headers, _ = remote.call(remote.get_json(actor_id, signed=False, accept=html))
    assert status == 303 and headers["Location"] == base + "/" and headers["Vary"] == "Accept"

    # follow: a signed Follow to our inbox, then our signed Accept to alice's inbox
    follow = remote.follow(actor_id)
    status, text = remote.call(remote.post(doc["inbox"], follow))
    assert status == 202, text
    assert health(base)["followers"] == 1
    got = remote.next(timeout=20)  # the daemon's outbox sends it at once
    assert got.signer == actor_id  # bovine verified our signature with our actor's key
    assert got.activity["type"] == "Accept" and got.activity["actor"] == actor_id
    assert got.activity["object"]["id"] == follow["id"]

    # the same Follow again (its Accept lost on the way?): one follower, a new Accept,
    # as Mastodon answers
    status, _ = remote.call(remote.post(doc["inbox"], follow))
    assert status == 202 and health(base)["followers"] == 1
    again = remote.next(timeout=20)
    assert again.activity["type"] == "Accept" and again.activity["id"] != got.activity["id"]
    assert again.activity["object"]["id"] == follow["id"]

    # a new release: Create{Note} to the shared inbox
    (site.sources / "new.txt").write_text(
        "Second release\n\nOn 5 May 2021 the Secretariat published more news.\n"
    )
    got = remote.next(timeout=20)  # the watcher wakes the scan, the scan the outbox
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
    got = remote.next(timeout=20)
    assert got.signer == actor_id
    upd = got.activity
    assert upd["type"] == "Update" and upd["object"]["id"] == note["id"]
    assert "corrected news" in upd["object"]["content"] and upd["object"]["updated"]
    assert upd["id"] != create["id"]

    # the Note is served at its id, by content negotiation
    status, headers, served = remote.call(remote.get_json(note["id"]))
    assert status == 200 and served["id"] == note["id"] and "corrected" in served["content"]

    # a browser at the same URL gets the HTML page, which says it varies by Accept
    page = requests.get(note["id"], headers={"Accept": "text/html"}, timeout=5)
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Vary"] == "Accept-Encoding, Accept"

    # a body over the cap is refused before it is read
    big = requests.post(doc["inbox"], data=b"{" + b" " * 300_000 + b"}", timeout=5)
    assert big.status_code == 413
    unsigned = requests.post(doc["inbox"], json=follow, timeout=5)
    assert unsigned.status_code == 401

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
    assert health(base)["followers"] == 0
    listed = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "ap", "deliveries"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert listed.returncode == 0 and listed.stdout.count("delivered") == 4, listed.stdout
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    log = (site.root / "daemon.log").read_text()
    assert "activitypub_follow" in log and "PRIVATE KEY" not in log
    key = site.root / "state" / "activitypub-key.pem"
    assert key.stat().st_mode & 0o077 == 0 and key.read_text() not in log
