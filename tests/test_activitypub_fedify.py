"""scofeed as Fedify sees it: a second ActivityPub implementation no one here wrote
(bovine is the first: tests/test_activitypub_fediverse.py).

Fedify (the npm package ``@fedify/fedify``, pinned) runs in node as a remote server on
127.0.0.1, tests/fedify.mjs: bob's actor, its inboxes behind Fedify's own federation, and
a TLS port in front of ``scofeed run`` (an ``acct:`` handle is looked up over https only).
It looks ``acct:releases@host`` up by WebFinger, fetches the actor, the outbox, a Note,
the collections and NodeInfo and parses each (its vocabulary is strict about types,
properties and URLs), follows us and unfollows with signed activities, and checks every
activity we post to it (the Accept, a Create, an Update, a Delete) as its federation
does. Every Note and Article of a multilingual site is parsed by it too. Skipped, with
the reason, where node or npm is missing or the package cannot be installed
(tests/npm.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import scofeed
from scofeed import config as config_mod
from scofeed.activitypub import documents
from scofeed.activitypub.documents import Urls
from scofeed.build import build as build_feeds
from scofeed.config.fields import whatwg_parsable
from scofeed.normalise.ids import web_address
from scofeed.store import Store
from tests.conftest import ACTIVITYPUB_DAEMON, Site, free_port, run_cli, scofeed_serving
from tests.npm import NODE, node_modules
from tests.test_readers import live_entries, write_site
from tests.test_serve import NOW

# exact version: 1.5 is the newest line whose engines take Node 20 (1.6 and later want
# Node 22; 1.10 fails on Node 20 as soon as it reads a key: no ArrayBuffer.transfer)
PACKAGES = ("@fedify/fedify@1.5.9",)
SCRIPT = Path(__file__).with_name("fedify.mjs")
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


class Fedify:
    """tests/fedify.mjs in node: ``call`` sends it a command and returns its answer."""

    def __init__(self, folder: Path, upstream: int = 0) -> None:
        """``upstream``: the port of ``scofeed run`` behind the TLS port (0: none)."""
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
        cert.private_key_pem.write_to_path(str(folder / "key.pem"))
        modules = node_modules(PACKAGES)
        said = subprocess.run([NODE or "node", "--version"], capture_output=True, text=True)
        if int(said.stdout.strip().lstrip("v").split(".")[0] or 0) < 20:
            pytest.skip(f"Fedify 1.5 needs Node 20 or later; node is {said.stdout.strip()}")
        self.err = folder / "fedify.err"
        with open(self.err, "wb") as err:
            self.proc = subprocess.Popen(
                [NODE or "node", str(SCRIPT), str(upstream)]
                + [str(folder / "cert.pem"), str(folder / "key.pem")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env={
                    **os.environ,
                    "FEDIFY_MODULES": str(modules),
                    "NODE_EXTRA_CA_CERTS": str(folder / "ca.pem"),
                },
            )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        ports = json.loads(self._line(60))
        self.base = f"http://127.0.0.1:{ports['port']}"
        self.tls = ports["tls"]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def _line(self, timeout: float) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"fedify.mjs said nothing in {timeout:g} s") from None
        assert line, f"fedify.mjs ended: {self.err.read_text(errors='replace')}"
        return line

    def call(self, command: str, timeout: float = 30, **args: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"do": command, **args}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self._line(timeout + 5))
        assert "error" in answer or "ok" in answer, answer
        if "error" in answer:
            raise AssertionError(f"{command}: {answer['error']}\n" + "\n".join(answer["logs"]))
        return answer["ok"]

    def next(self, timeout: float = 20) -> dict[str, Any]:
        return dict(self.call("next", timeout=timeout, seconds=timeout))

    @property
    def bob(self) -> str:
        return self.base + "/users/bob"

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def fedify(site: Site) -> Iterator[tuple[Fedify, str, str]]:
    """Fedify's server, and ``scofeed run`` behind its TLS port (ActivityPub on):
    yields (fedify, scofeed's public base URL, its direct http address)."""
    upstream = free_port()
    peer = Fedify(site.root, upstream)
    try:
        base = f"https://127.0.0.1:{peer.tls}"
        site.write_config(ACTIVITYPUB_DAEMON + "page_size = 1\n", base_url=base + "/")
        ready = lambda r: r.json()["status"] == "ok"  # noqa: E731
        with scofeed_serving(site.config_path, "run", upstream, ready) as direct:
            yield peer, base, direct
    finally:
        peer.stop()


def followers(peer: Fedify, actor_id: str) -> int:
    """The follower count as Fedify reads our followers collection."""
    parsed = peer.call("get", url=actor_id + "/followers")["parsed"]
    assert parsed["type"] == "OrderedCollection", parsed
    return int(parsed["totalItems"])


def delivered(peer: Fedify, kind: str, inbox: str) -> dict[str, Any]:
    """The next POST to bob's server: an activity of ``kind`` to ``inbox`` (a path),
    answered 202 by Fedify's federation (a bad signature is a 401 there, an activity
    its vocabulary does not take a 400), signed with our key as Fedify verified it."""
    got = peer.next()
    where = json.dumps({k: got[k] for k in ("path", "status", "answer", "body")}, indent=1)
    assert got["status"] == 202, where + "\n" + "\n".join(got["logs"])
    assert got["path"] == inbox and got["body"]["type"] == kind, where
    assert got["signer"] is not None, where  # Fedify's verifyRequest, draft-cavage
    assert got["signer"]["owner"] == got["body"]["actor"], where
    assert got["signer"]["key"] == got["body"]["actor"] + "#main-key", where
    assert got["parsed"] is not None, where  # the inbox listener ran: parsed and accepted
    assert got["parsed"]["type"] == kind and got["parsed"]["id"] == got["body"]["id"]
    return dict(got["parsed"])


def check_note(note: dict[str, Any], actor_id: str, title: str) -> None:
    """A Note as Fedify's vocabulary read it: ours, public, to the followers, in English."""
    assert note["type"] == "Note" and note["attributedTo"] == actor_id, note
    assert note["to"] == [PUBLIC] and note["cc"] == [actor_id + "/followers"], note
    assert f"<strong>{title}</strong>" in note["content"], note
    languages = {c["language"]: c["value"] for c in note["contents"]}
    assert languages == {None: note["content"], "en": note["content"]}, languages
    assert note["published"] and note["url"], note


def test_fedify_looks_us_up_follows_and_verifies_every_delivery(
    site: Site, fedify: tuple[Fedify, str, str]
) -> None:
    peer, base, direct = fedify
    host = base.removeprefix("https://")
    actor_id = f"{base}/@releases"

    # WebFinger of the acct: handle (over https), the actor it names, and back
    found = peer.call("lookup", handle=f"acct:releases@{host}")
    assert found["jrd"]["subject"] == f"acct:releases@{host}"
    assert found["back"]["subject"] == f"acct:releases@{host}"  # the handle is ours
    actor = found["actor"]
    assert actor["type"] == "Service" and actor["id"] == actor_id
    assert actor["preferredUsername"] == "releases" and actor["url"] == base + "/"
    assert actor["inbox"] == actor_id + "/inbox" and actor["sharedInbox"] == base + "/inbox"
    assert actor["outbox"] == actor_id + "/outbox"
    assert actor["followers"] == actor_id + "/followers"
    assert actor["manuallyApprovesFollowers"] is False
    assert actor["discoverable"] is True and actor["indexable"] is True
    assert actor["publicKey"] == {
        "id": actor_id + "#main-key", "owner": actor_id,
        "algorithm": "RSASSA-PKCS1-v1_5", "bits": 2048,
    }  # fmt: skip
    # the same actor from the handle as people type it and from the site's address
    # (its Link header)
    for other in (f"@releases@{host}", base + "/"):
        assert peer.call("lookup", handle=other)["actor"]["id"] == actor_id, other

    info = peer.call("nodeinfo", url=base + "/")
    assert info is not None, "NodeInfo did not parse strictly"
    assert info["software"] == {"name": "scofeed", "version": scofeed.__version__}
    assert info["protocols"] == ["activitypub"]

    # the outbox, every item through its pages: the seed's Create{Note}
    outbox = peer.call("get", url=actor["outbox"], items=True)
    assert outbox["parsed"]["type"] == "OrderedCollection"
    assert outbox["parsed"]["totalItems"] == 1
    (create,) = outbox["items"]
    assert create["type"] == "Create" and create["actor"] == actor_id
    seed = create["object"]
    check_note(seed, actor_id, "SCO Secretary-General meets with Jingdong vice-president")
    assert seed["tags"] == [
        {"type": "Hashtag", "name": "#economy", "href": base + "/tags/economy/"}
    ]
    assert followers(peer, actor_id) == 0
    following = peer.call("get", url=actor["following"])["parsed"]
    assert following["type"] == "OrderedCollection" and following["totalItems"] == 0

    # bob follows: Fedify signs the Follow (and adds its own proofs); our Accept comes
    # to bob's inbox
    follow = peer.call("follow", actor=actor_id)["id"]
    accept = delivered(peer, "Accept", "/users/bob/inbox")
    assert accept["actor"] == actor_id and accept["to"] == [peer.bob]
    assert accept["object"]["type"] == "Follow" and accept["object"]["id"] == follow
    assert accept["object"]["actor"] == peer.bob and accept["object"]["object"] == actor_id
    assert followers(peer, actor_id) == 1
    # we fetched bob's actor (his key) with GETs Fedify verified as signed by us
    ours = [g for g in peer.call("gets") if g["agent"].startswith("scofeed")]
    assert ours and all(g["owner"] == actor_id for g in ours), ours

    # a new release: Create{Note} to bob's server's shared inbox
    (site.sources / "new.txt").write_text(
        "Second release\n\nOn 5 May 2021 the Secretariat published more news.\n"
    )
    create = delivered(peer, "Create", "/inbox")
    note = create["object"]
    check_note(note, actor_id, "Second release")
    assert "more news" in note["content"] and note["updated"] is None
    assert create["actor"] == actor_id and create["to"] == [PUBLIC]
    # the Note at its id, by content negotiation
    served = peer.call("get", url=note["id"])["parsed"]
    assert served == note
    # the outbox pages (one item a page here) in order, newest first
    outbox = peer.call("get", url=actor["outbox"], items=True)
    assert [i["object"]["id"] for i in outbox["items"]] == [note["id"], seed["id"]]

    # its correction: Update{Note} of the same id, with its updated time
    (site.sources / "new.txt").write_text(
        "Second release\n\nOn 5 May 2021 the Secretariat published corrected news.\n"
    )
    update = delivered(peer, "Update", "/inbox")
    assert update["object"]["id"] == note["id"] and "corrected news" in update["object"]["content"]
    assert update["object"]["updated"] is not None
    check_note(update["object"], actor_id, "Second release")

    # withdrawn: Delete{Tombstone} of the Note
    (entry_id,) = [
        line.split("\t")[0]
        for line in run_cli(site, "list").stdout.splitlines()
        if line.endswith("\tSecond release")
    ]
    withdrawn = run_cli(site, "withdraw", entry_id, "--reason", "Published by mistake")
    assert withdrawn.returncode == 0, withdrawn.stderr
    delete = delivered(peer, "Delete", "/inbox")
    assert delete["object"]["type"] == "Tombstone" and delete["object"]["id"] == note["id"]
    assert delete["object"]["deleted"] is not None

    # bob unfollows (Undo{Follow}, to our shared inbox): no follower left
    peer.call("undo", actor=actor_id, follow=follow)
    assert followers(peer, actor_id) == 0
    following = peer.call("get", url=actor["following"])["parsed"]
    assert following["type"] == "OrderedCollection" and following["totalItems"] == 0

    # bob follows again, the actor embedded whole, to our shared inbox, and unfollows
    # naming the Follow by its id only
    again = peer.call("follow", actor=actor_id, embed=True, shared=True)["id"]
    assert delivered(peer, "Accept", "/users/bob/inbox")["object"]["id"] == again
    assert followers(peer, actor_id) == 1
    peer.call("undo", actor=actor_id, follow=again, byId=True)
    assert followers(peer, actor_id) == 0

    # bob follows again, then his account is deleted: Delete{bob} removes him
    peer.call("follow", actor=actor_id)
    delivered(peer, "Accept", "/users/bob/inbox")
    assert followers(peer, actor_id) == 1
    peer.call("delete_self", actor=actor_id)
    assert followers(peer, actor_id) == 0
    health = requests.get(direct + "healthz", timeout=5).json()["activitypub"]
    assert health["followers"] == 0


# hashtags of several scripts, an apostrophe inside a word, a tag with no letter (left out)
TAGGED = (
    '+++\ntitle = "Ministers on women\'s rights"\ndate = 2023-04-25\n'
    'tags = ["foreign ministers", "हिन्दी", "Women\'s rights", "2025"]\n+++\nText.\n'
)
# an address the ingest takes (RFC 3986) and Fedify's URL parser does not: a space
# escaped into the host, as a copy and paste may leave it
ODD_ADDRESS = "https://eng.sectsco.org%20/20230426/talks.html"
ODDLY_ADDRESSED = json.dumps(
    {"title": "Talks in Astana", "date": "2023-04-26", "url": ODD_ADDRESS, "text": "Talks."}
)


# addresses with hosts of every shape the ingest takes (web_address leaves each as it is)
LABELS = ("a", "A-b", "a_b", "-a", "1", "300", "0x7f", "2023", "xn--d1acufc", "xn--zz",
          "xn--a", "a%20b", "a%41", "a%2Fb", "a*b", "")  # fmt: skip
HOSTS = [
    url
    for host in [*LABELS, *(f"{x}.{y}" for x in LABELS for y in LABELS), "1.2.3.4",
                 "1.2.3.4.", "256.1.1.1", "1.2.3", "[::1]", "[::1%25eth0]", "[v1.x]", "a.b."]
    for url in (f"https://{host}/x", f"http://{host}:8080/x?q=1")
    if web_address(url) == url
]  # fmt: skip


def test_fedify_reads_each_document_of_a_multilingual_site_as_we_mean_it(tmp_path: Path) -> None:
    """Every Note and Article of a site in four languages and scripts (an address of its
    own outside ASCII, one Fedify's URL parser cannot read, hashtags), and the actor,
    collections and activities, parsed by Fedify's vocabulary: none refused, each read
    as we wrote it."""
    config = write_site(tmp_path, free_port(), "[activitypub]\nenabled = true\n")
    (tmp_path / "sources" / "tagged.md").write_text(TAGGED, encoding="utf-8")
    (tmp_path / "sources" / "odd.json").write_text(ODDLY_ADDRESSED, encoding="utf-8")
    cfg = config_mod.load(config, [])
    store = Store(cfg.paths.state)
    try:
        build_feeds(cfg, store, NOW)
    finally:
        store.close()
    entries = live_entries(config)
    assert len({e.language for e in entries}) == 4 and any(e.tags for e in entries)
    assert ODD_ADDRESS in {e.url for e in entries}  # taken as it is
    article = dataclasses.replace(
        cfg, activitypub=dataclasses.replace(cfg.activitypub, object_type="Article")
    )
    notes = [documents.note(c, e) for c in (cfg, article) for e in entries]
    urls = Urls.of(cfg)
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    others = [
        documents.actor(cfg, pem),
        documents.followers(urls, 3),
        documents.following(urls),
        documents.outbox(urls, len(entries), 2),
        documents.outbox_page(cfg, 2, entries[2:4], len(entries), 2),
        documents.update(cfg, entries[0], NOW),
        documents.delete(cfg, urls.object(entries[0]), NOW),
    ]
    peer = Fedify(tmp_path)
    try:
        parsed = peer.call("parse", documents=notes + others)
        node_reads = peer.call("urls", urls=HOSTS)
    finally:
        peer.stop()
    # fields.whatwg_parsable, by which a Note's url is chosen, never passes an address the
    # URL parser refuses (it may refuse some the parser reads: the Note then has its
    # own page as url)
    passed = [url for url in HOSTS if whatwg_parsable(url)]
    assert passed and not [u for u, ok in zip(HOSTS, node_reads, strict=True)
                           if whatwg_parsable(u) and not ok]  # fmt: skip
    refused = [(d["id"], p["error"]) for d, p in zip(notes + others, parsed, strict=True)
               if "error" in p]  # fmt: skip
    assert not refused
    got = [p["parsed"] for p in parsed]
    for doc, entry, read in zip(notes, entries * 2, got[: len(notes)], strict=True):
        where = (doc["type"], entry.language, entry.title)
        assert read["type"] == doc["type"] and read["id"] == doc["id"], where
        contents = {c["language"]: c["value"] for c in read["contents"]}
        assert contents == {None: doc["content"], entry.language: doc["content"]}, where
        assert read["url"] == doc["url"] and read["published"] == doc["published"], where
        assert read["name"] == (entry.title if doc["type"] == "Article" else None), where
        tags = [{"type": "Hashtag", "name": t["name"], "href": t["href"]} for t in doc["tag"]]
        assert read["tags"] == tags, where
    (tagged,) = [r for r in got[: len(entries)] if "women" in (r["content"] or "")]
    assert [t["name"] for t in tagged["tags"]] == ["#ForeignMinisters", "#हिन्दी", "#WomensRights"]
    actor, followers_, following, outbox, page, update, delete = got[len(notes) :]
    assert actor["type"] == "Service" and actor["publicKey"]["bits"] == 2048
    assert (followers_["totalItems"], following["totalItems"]) == (3, 0)
    assert outbox["totalItems"] == len(entries) and outbox["first"] == urls.outbox + "?page=1"
    assert page["type"] == "OrderedCollectionPage" and page["totalItems"] == len(entries)
    assert update["type"] == "Update" and update["object"]["updated"] is not None
    assert delete["type"] == "Delete" and delete["object"]["type"] == "Tombstone"
