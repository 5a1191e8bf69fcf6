"""The inbox against hostile and ordinary input: a remote actor served on 127.0.0.1,
requests signed with its key (or not, or wrongly), a real store in tmp_path."""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pytest_httpserver import HTTPServer

from scofeed import build as build_mod
from scofeed.activitypub import httpsig, outbox
from scofeed.activitypub.inbox import Reply
from scofeed.activitypub.service import Service
from scofeed.cli import setup_logging
from scofeed.normalise import id_slug
from scofeed.serve import App, HttpServer
from scofeed.store import activitypub as rows
from scofeed.store import published as published_rows
from tests.conftest import Site, SlowReceiver
from tests.test_daemon import wait_for

INBOX = "/@releases/inbox"
OUR_ACTOR = "http://127.0.0.1:8080/@releases"


@dataclass
class Bob:
    """A remote actor: its documents on a local HTTP server, its private key here."""

    server: HTTPServer
    key: rsa.RSAPrivateKey

    @property
    def id(self) -> str:
        return self.server.url_for("/users/bob")

    @property
    def key_id(self) -> str:
        return self.id + "#main-key"

    def document(self, key: rsa.RSAPrivateKey | None = None) -> dict[str, Any]:
        pem = (
            (key or self.key)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.id,
            "type": "Person",
            "inbox": self.id + "/inbox",
            "outbox": self.id + "/outbox",
            "endpoints": {"sharedInbox": self.server.url_for("/inbox")},
            "publicKey": {"id": self.key_id, "owner": self.id, "publicKeyPem": pem},
        }

    def serve(self, key: rsa.RSAPrivateKey | None = None) -> None:
        self.server.clear()
        self.server.expect_request("/users/bob").respond_with_json(self.document(key))

    def activity(self, kind: str, obj: Any, n: int = 1) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{self.id}/activities/{kind.lower()}-{n}",
            "type": kind,
            "actor": self.id,
            "object": obj,
        }

    def signed(
        self,
        body: bytes,
        key: rsa.RSAPrivateKey | None = None,
        key_id: str | None = None,
        extra: dict[str, str] | None = None,
        url: str = "http://127.0.0.1:8080" + INBOX,
    ) -> dict[str, str]:
        return httpsig.sign_cavage(
            "POST", url, body, key_id or self.key_id, key or self.key, time.time(), extra
        )

    def signed_rfc9421(
        self, body: bytes, components: tuple[str, ...], url: str = "http://127.0.0.1:8080" + INBOX
    ) -> dict[str, str]:
        """An RFC 9421 signature over ``components``, made for ``url``."""
        headers = {"Host": urlsplit(url).netloc, "Content-Digest": httpsig.content_digest(body)}
        inner = " ".join(f'"{c}"' for c in components)
        params = f'({inner});created={int(time.time())};keyid="{self.key_id}"'
        base = httpsig.rfc9421_base("POST", url, headers, components, params)
        sig = base64.b64encode(self.key.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256()))
        signature = {"Signature-Input": f"sig1={params}", "Signature": f"sig1=:{sig.decode()}:"}
        return {**headers, **signature}


@pytest.fixture(scope="module")
def bob_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def bob(httpserver: HTTPServer, bob_key: rsa.RSAPrivateKey) -> Bob:
    b = Bob(httpserver, bob_key)
    b.serve()
    return b


def open_service(site: Site, allow_private: bool = True, max_body: int = 65536) -> Service:
    site.write_config(
        f"\n[activitypub]\nenabled = true\nallow_private = {str(allow_private).lower()}\n"
        f"max_body = {max_body}\n"
    )
    return Service.open(site.config(), site.store())


@pytest.fixture
def service(site: Site) -> Iterator[Service]:
    s = open_service(site)
    yield s
    s.close()


def post(service: Service, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    reply = service.inbox.handle(INBOX, headers, body)
    return reply.status, reply.message


def dumps(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def test_follow_stores_the_follower_and_queues_one_accept(service: Service, bob: Bob) -> None:
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    assert post(service, body, bob.signed(body)) == (202, "accepted")
    db = service.inbox.store.db
    (f,) = rows.followers(db)
    assert f.actor == bob.id and f.target == bob.server.url_for("/inbox")
    (d,) = rows.listing(db)
    assert d.kind == "Accept" and d.inbox == bob.id + "/inbox"  # the personal inbox
    accept = json.loads(d.body)
    assert accept["object"]["id"] == bob.activity("Follow", OUR_ACTOR)["id"]
    # the same Follow again while its Accept waits to go: still one Accept (a server
    # looping, or retrying while our Accept cannot reach it, queued one each time)
    assert post(service, body, bob.signed(body)) == (202, "accepted")
    assert [d.kind for d in rows.listing(db)] == ["Accept"]
    # once that one went (and was lost?): a new Accept, as Mastodon answers
    db.execute("UPDATE ap_deliveries SET status = 'delivered'")
    assert post(service, body, bob.signed(body)) == (202, "accepted")
    assert [d.kind for d in rows.listing(db)] == ["Accept", "Accept"]
    assert len(rows.followers(db)) == 1


def test_a_follow_and_its_undo_reusing_their_ids_apply_each_time(
    service: Service, bob: Bob
) -> None:
    """Misskey and its forks give a follow of one account the same id every time, and
    its Undo "<follow id>/undo": remembered as handled, a re-follow was answered
    "already handled" (no follower, no Accept: "pending" for 30 days), and the unfollow
    after it was ignored."""
    follow = bob.activity("Follow", OUR_ACTOR)
    body = dumps(follow)
    undo = dumps({**bob.activity("Undo", follow), "id": follow["id"] + "/undo"})
    db = service.inbox.store.db
    for _ in range(2):
        assert post(service, body, bob.signed(body)) == (202, "accepted")
        assert rows.follower_count(db) == 1
        db.execute("UPDATE ap_deliveries SET status = 'delivered'")  # the Accept went
        assert post(service, undo, bob.signed(undo)) == (202, "unfollowed")
        assert rows.follower_count(db) == 0
    assert [d.kind for d in rows.listing(db)] == ["Accept", "Accept"]
    # another activity's id is still remembered: a repeat changes nothing
    delete = dumps(bob.activity("Delete", bob.id))
    assert post(service, delete, bob.signed(delete)) == (202, "not following")
    assert post(service, delete, bob.signed(delete)) == (202, "already handled")


def test_undo_and_delete_remove_the_follower(service: Service, bob: Bob) -> None:
    follow = bob.activity("Follow", OUR_ACTOR)
    body = dumps(follow)
    post(service, body, bob.signed(body))
    undo = dumps(bob.activity("Undo", follow["id"]))  # by id only
    assert post(service, undo, bob.signed(undo)) == (202, "unfollowed")
    assert rows.follower_count(service.inbox.store.db) == 0
    body2 = dumps(bob.activity("Follow", OUR_ACTOR, n=2))
    post(service, body2, bob.signed(body2))
    delete = dumps(bob.activity("Delete", bob.id))
    assert post(service, delete, bob.signed(delete)) == (202, "removed")
    assert rows.follower_count(service.inbox.store.db) == 0


def test_an_undo_of_another_activity_by_its_id_keeps_the_follower(
    service: Service, bob: Bob
) -> None:
    """Servers undo a Like or a boost by the activity's id alone: only the id of Bob's
    follow ends it (a check nothing tested: dropping it unfollowed him on an un-like)."""
    follow = bob.activity("Follow", OUR_ACTOR)
    body = dumps(follow)
    assert post(service, body, bob.signed(body)) == (202, "accepted")
    undo = dumps(bob.activity("Undo", follow["id"] + "/likes/9"))
    status, said = post(service, undo, bob.signed(undo))
    assert status == 202 and said.startswith("ignored")
    assert rows.follower_count(service.inbox.store.db) == 1


def test_an_undo_of_a_follow_of_someone_else_is_ignored(service: Service, bob: Bob) -> None:
    """An embedded Follow names what it followed: an Undo of Bob's follow of another
    account (``other.example``'s, which a server may send to every inbox it knows)
    ended his follow of ours. Mastodon acts on an Undo{Follow} only when the Follow's
    target is its own account; it is accepted and ignored, like any activity not
    meant for us."""
    follow = bob.activity("Follow", OUR_ACTOR)
    body = dumps(follow)
    assert post(service, body, bob.signed(body)) == (202, "accepted")
    db = service.inbox.store.db
    for n, target in enumerate(
        ["https://other.example/users/bob", {"id": "https://other.example/users/bob"}, 42]
    ):
        elsewhere = {"type": "Follow", "actor": bob.id, "object": target}
        undo = dumps(bob.activity("Undo", elsewhere, n=n))
        assert post(service, undo, bob.signed(undo)) == (
            202,
            "ignored: not a follow of this actor",
        )
        assert rows.follower_count(db) == 1
        assert post(service, undo, bob.signed(undo)) == (
            202,
            "ignored: not a follow of this actor",
        )  # applied again, to the same end
    # a Follow of our actor, embedded, by its id or as an object, or naming nothing
    for n, target in enumerate([OUR_ACTOR, {"id": OUR_ACTOR, "type": "Service"}, None]):
        again = dumps(bob.activity("Follow", OUR_ACTOR, n=10 + n))
        assert post(service, again, bob.signed(again)) == (202, "accepted")
        ours = {"type": "Follow", "actor": bob.id}
        if target is not None:
            ours["object"] = target
        undo = dumps(bob.activity("Undo", ours, n=10 + n))
        assert post(service, undo, bob.signed(undo)) == (202, "unfollowed")
        assert rows.follower_count(db) == 0


def test_other_activities_are_accepted_and_ignored(service: Service, bob: Bob) -> None:
    for kind, obj in [("Like", OUR_ACTOR), ("Announce", "x"), ("Follow", "http://other/@x")]:
        body = dumps(bob.activity(kind, obj))
        status, message = post(service, body, bob.signed(body))
        assert status == 202 and "ignored" in message
    assert rows.follower_count(service.inbox.store.db) == 0


def test_activities_ignored_or_with_huge_ids_leave_nothing_in_the_store(
    service: Service, bob: Bob
) -> None:
    """A like, a reply, a boost is answered and forgotten: a flood of them signed with
    one key, each with an id as long as the body cap allows (256 KB by default), grew the store by
    that much a request, for 30 days."""
    db = service.inbox.store.db
    for n, (kind, obj) in enumerate([("Like", OUR_ACTOR), ("Create", {"type": "Note"})]):
        activity = {**bob.activity(kind, obj), "id": bob.id + "/" + str(n) * 60_000}
        body = dumps(activity)
        for _ in range(2):
            assert post(service, body, bob.signed(body)) == (202, "ignored")
    huge = dumps({**bob.activity("Delete", bob.id), "id": bob.id + "/d" * 30_000})
    for _ in range(2):
        assert post(service, huge, bob.signed(huge)) == (202, "not following")
    assert db.execute("SELECT COUNT(*) FROM ap_seen").fetchone()[0] == 0


@pytest.mark.parametrize(
    "pem",
    ["not a key", "-----BEGIN PUBLIC KEY-----\n" + "A" * 1_000_000 + "\n-----END PUBLIC KEY-----"],
    ids=["junk", "a-megabyte"],
)
def test_a_key_that_is_no_rsa_public_key_is_refused_and_not_kept(
    service: Service, bob: Bob, pem: str
) -> None:
    """Anyone may name a keyId on their own server: what it serves as the key was kept
    in the store before it was checked (a megabyte of PEM per keyId, for ever)."""
    document = bob.document()
    document["publicKey"]["publicKeyPem"] = pem
    bob.server.clear()
    bob.server.expect_request("/users/bob").respond_with_json(document)
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    status, message = post(service, body, bob.signed(body))
    assert status == 401 and "cannot fetch the signer's key" in message
    db = service.inbox.store.db
    assert db.execute("SELECT COUNT(*) FROM ap_keys").fetchone()[0] == 0
    long_id = bob.id + "?" + "k" * 5000 + "#main-key"
    assert post(service, body, bob.signed(body, key_id=long_id))[0] == 401
    assert db.execute("SELECT COUNT(*) FROM ap_keys").fetchone()[0] == 0


def test_unsigned_and_badly_signed_requests_get_401(service: Service, bob: Bob) -> None:
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    assert post(service, body, {"Content-Type": "application/activity+json"})[0] == 401
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert post(service, body, bob.signed(body, key=stranger))[0] == 401
    headers = bob.signed(body)
    headers["Signature"] = headers["Signature"].replace('signature="', 'signature="AAAA')
    assert post(service, body, headers)[0] == 401
    headers = bob.signed(body)
    headers["Date"] = "Mon, 01 Jan 2001 00:00:00 GMT"
    status, message = post(service, body, headers)
    assert status == 401 and "dated" in message
    assert rows.follower_count(service.inbox.store.db) == 0


def test_wrong_digest_gets_401(service: Service, bob: Bob) -> None:
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    headers = bob.signed(body)
    altered = body.replace(b"Follow", b"Follow", 1) + b" "
    status, message = post(service, altered, headers)
    assert status == 401 and "Digest" in message


def test_an_unsigned_digest_does_not_stand_in_for_the_signed_one(service: Service, bob: Bob):
    """A signature covering ``content-digest`` (RFC 9421) binds the body through that
    header alone. The inbox checked ``Digest`` instead whenever one was sent: a captured
    signature of a harmless Like, replayed with another body and an unsigned ``Digest``
    of it, was taken as Bob's (here: an Undo that ended his follow)."""
    follow = bob.activity("Follow", OUR_ACTOR)
    body = dumps(follow)
    assert post(service, body, bob.signed(body)) == (202, "accepted")
    like = dumps(bob.activity("Like", OUR_ACTOR))
    captured = bob.signed_rfc9421(like, ("@method", "@authority", "@path", "content-digest"))
    assert post(service, like, captured) == (202, "ignored")
    undo = dumps(bob.activity("Undo", follow["id"]))
    status, message = post(service, undo, {**captured, "Digest": httpsig.digest(undo)})
    assert status == 401 and "Content-Digest does not match" in message
    assert rows.follower_count(service.inbox.store.db) == 1
    # draft-cavage the other way round: the signed Digest is the one that counts
    headers = bob.signed(like)
    headers["Content-Digest"] = httpsig.content_digest(undo)
    status, message = post(service, undo, headers)
    assert status == 401 and "Digest does not match" in message
    assert rows.follower_count(service.inbox.store.db) == 1


@pytest.mark.parametrize(
    ("components", "url", "refusal"),
    [
        # no authority at all: good for any server's inbox at this path
        (("@method", "@path", "content-digest"), None, "must cover @authority or @target-uri"),
        # made for another server: our own authority and URI go into the signature base
        (("@method", "@authority", "@path", "content-digest"),
         "https://other.example/@releases/inbox", "does not verify"),
        (("@method", "@target-uri", "content-digest"),
         "http://127.0.0.1:8081/@releases/inbox", "does not verify"),
    ],
)  # fmt: skip
def test_an_rfc9421_signature_must_be_made_for_this_server(
    service: Service, bob: Bob, components: tuple[str, ...], url: str | None, refusal: str
) -> None:
    """RFC 9421 7.2 and 1.4: a signature that covers neither ``@authority`` nor
    ``@target-uri`` does not say which server it was for; one replayed from another
    server's inbox was accepted by ours."""
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    headers = bob.signed_rfc9421(body, components, **({"url": url} if url else {}))
    status, message = post(service, body, headers)
    assert status == 401 and refusal in message, message
    assert rows.follower_count(service.inbox.store.db) == 0


@pytest.mark.parametrize(
    "components",
    [
        ("@method", "@authority", "@path", "content-digest"),
        ("@method", "@target-uri", "content-digest"),
    ],
)
def test_an_rfc9421_signature_made_for_this_server_is_accepted(
    service: Service, bob: Bob, components: tuple[str, ...]
) -> None:
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    assert post(service, body, bob.signed_rfc9421(body, components)) == (202, "accepted")


def test_a_cavage_signature_for_another_host_gets_401(service: Service, bob: Bob) -> None:
    """draft-cavage covers the ``Host`` header as sent; a POST Bob signed for another
    server, sent on to ours with its ``Host`` unchanged, verified."""
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    url = "https://other.example/@releases/inbox"
    headers = httpsig.sign_cavage("POST", url, body, bob.key_id, bob.key, time.time())
    status, message = post(service, body, headers)
    assert status == 401 and "for host 'other.example'" in message
    assert rows.follower_count(service.inbox.store.db) == 0


@pytest.mark.parametrize(
    "signature",
    [
        {"Signature-Input": 'sig1=("@method" "@path" "content-digest");created="abc";keyid="k"',
         "Signature": "sig1=:AAAA:"},
        {"Signature-Input": 'sig1=("@method" "@authority" "@path" "content-digest");created=1;'
                            'expires="never";keyid="http://127.0.0.1:1/k"',
         "Signature": "sig1=:AAAA:"},
        {"Signature-Input": 'sig1=("@method" "@path");created=' + "1" * 5000 + ';keyid="k"',
         "Signature": "sig1=:AAAA:"},
        {"Signature": 'keyId="k",headers="(request-target) host date digest",expires='
                      + "9" * 400 + ',signature="AAAA"'},
        {"Signature": 'keyId="k",headers="(request-target) host (created) digest",created='
                      + "9" * 400 + ',signature="AAAA"'},
        {"Signature": 'keyId="k",headers="(request-target) host date digest",signature="AAAA"',
         "Date": "Mon, 01 Jan 10000000000 00:00:00 GMT"},
    ],
    ids=["created-string", "expires-string", "created-5000-digits", "cavage-expires-400-digits",
         "cavage-created-400-digits", "date-of-year-10000000000"],
)  # fmt: skip
def test_a_malformed_signature_gets_401_not_500(service: Service, signature: dict[str, str]):
    """A ``created="abc"`` in ``Signature-Input`` made ``int()`` raise ValueError in the
    parser, and a number too long for ``int()`` or ``float()`` raised too: the server
    answered 500 and logged a traceback. A malformed signature is a badly signed
    request: 401, with the reason."""
    body = b'{"type": "Follow", "actor": "http://127.0.0.1:1/users/x"}'
    headers = {
        "Host": "127.0.0.1:8080",
        "Date": httpsig.http_date(time.time()),
        "Content-Type": "application/activity+json",
        "Digest": httpsig.digest(body),
        "Content-Digest": httpsig.content_digest(body),
        **signature,
    }
    routes = service.routes
    server = HttpServer(App(lambda: routes.cfg, routes.store, activitypub=routes), "127.0.0.1", 0)
    server.start()
    try:
        host, port = server.addresses[0][:2]
        got = requests.post(f"http://{host}:{port}{INBOX}", data=body, headers=headers, timeout=10)
        assert got.status_code == 401 and got.text.startswith("signature refused: "), got.text
    finally:
        server.stop()


def test_a_key_owned_by_someone_else_gets_401(service: Service, bob: Bob) -> None:
    doc = bob.activity("Follow", OUR_ACTOR)
    doc["actor"] = "http://127.0.0.1:1/users/mallory"
    body = dumps(doc)
    status, message = post(service, body, bob.signed(body))
    assert status == 401 and "owner" in message


def _key_document(bob: Bob, key: rsa.RSAPrivateKey, path: str) -> str:
    """A key of its own document on Bob's host, saying Bob owns it; its id."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_id = bob.server.url_for(path)
    doc = {"id": key_id, "owner": bob.id, "publicKeyPem": pem.decode()}
    bob.server.expect_request(path).respond_with_json(doc)
    return key_id


def test_a_key_document_its_owner_does_not_list_gets_401(service: Service, bob: Bob) -> None:
    """A key in a document of its own said who owned it, and was believed: anyone who
    could put a file on a follower's host signed a Follow (or a Delete) as that actor.
    The owner's actor must list the key, as Mastodon checks."""
    mallory = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = _key_document(bob, mallory, "/~mallory/key.json")
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    status, message = post(service, body, bob.signed(body, key=mallory, key_id=key_id))
    assert status == 401 and "does not list it" in message
    assert rows.followers(service.inbox.store.db) == []


def test_a_key_document_its_owner_lists_is_taken(service: Service, bob: Bob) -> None:
    """A key served apart from the actor (some servers do) is fine when the actor names it."""
    bob.server.clear()  # the actor served anew, naming the key
    key_id = _key_document(bob, bob.key, "/users/bob/key")
    doc = bob.document()
    doc["publicKey"] = {**doc["publicKey"], "id": key_id}
    bob.server.expect_request("/users/bob").respond_with_json(doc)
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    assert post(service, body, bob.signed(body, key_id=key_id)) == (202, "accepted")
    assert len(rows.followers(service.inbox.store.db)) == 1


def test_huge_body_gets_413(site: Site, bob: Bob) -> None:
    service = open_service(site, max_body=1024)
    try:
        body = dumps({**bob.activity("Create", {"content": "x" * 5000})})
        assert post(service, body, bob.signed(body))[0] == 413
        assert service.routes.body_too_big("5000") and not service.routes.body_too_big("10")
        assert service.routes.body_too_big("lots")
    finally:
        service.close()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2, 3]",
        b'{"@context": {"@vocab": "evil"}}',
        b'{"type": ["Follow"], "actor": "x"}',
        b'{"type": "Follow", "actor": {"no": "id"}}',
        b"[" * 100_000 + b"]" * 100_000,
        b"\xff\xfe junk",
    ],
    ids=["text", "array", "no-type", "type-list", "actor-without-id", "deep", "bytes"],
)
def test_json_ld_junk_gets_400(site: Site, bob: Bob, body: bytes) -> None:
    service = open_service(site, max_body=1_000_000)
    try:
        assert post(service, body, bob.signed(body))[0] == 400
    finally:
        service.close()


def test_junk_context_still_needs_a_signature(service: Service, bob: Bob) -> None:
    doc = bob.activity("Follow", OUR_ACTOR)
    doc["@context"] = [{"@vocab": "http://evil.example/#"}, 42, None]
    body = dumps(doc)
    assert post(service, body, {})[0] == 401
    assert post(service, body, bob.signed(body))[0] == 202


def test_key_at_a_private_address_is_refused(site: Site, bob: Bob) -> None:
    service = open_service(site, allow_private=False)
    try:
        body = dumps(bob.activity("Follow", OUR_ACTOR))
        status, message = post(service, body, bob.signed(body))
        assert status == 401 and "refused" in message
        assert len(bob.server.log) == 0  # never connected
    finally:
        service.close()


def test_a_refused_key_address_is_not_told_to_the_sender(site: Site, bob: Bob) -> None:
    """The keyId is the sender's to choose: the 401 named the address its host resolved
    to, so anyone could ask what our resolver makes of any name (an intranet's)."""
    service = open_service(site, allow_private=False)
    try:
        body = dumps(bob.activity("Follow", OUR_ACTOR))
        port = urlsplit(bob.id).port
        key_id = f"http://localhost:{port}/users/bob#main-key"
        status, message = post(service, body, bob.signed(body, key_id=key_id))
        assert status == 401 and message.endswith("(no public address of its host answers)")
        assert "127.0.0.1" not in message and "::1" not in message
        assert len(bob.server.log) == 0  # never connected
        # a name that does not resolve is told the same: which names the resolver has
        # was the sender's to learn, one keyId at a time (security review)
        nowhere = "http://no-such-host.invalid/users/bob#main-key"
        said = post(service, body, bob.signed(body, key_id=nowhere))
        assert said == (status, message)
    finally:
        service.close()


def test_key_id_that_is_not_http_is_refused(service: Service, bob: Bob) -> None:
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    status, _ = post(service, body, bob.signed(body, key_id="file:///etc/passwd"))
    assert status == 401


def test_a_rotated_key_is_fetched_again(site: Site, bob: Bob) -> None:
    clock = [time.time()]
    s = Service.open(site.config("activitypub.enabled=true", "activitypub.allow_private=true"),
                     site.store(), clock=lambda: clock[0])  # fmt: skip
    try:
        body = dumps(bob.activity("Follow", OUR_ACTOR))
        assert post(s, body, bob.signed(body))[0] == 202
        new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        bob.serve(key=new_key)
        clock[0] += 120  # past REFRESH_AFTER
        like = dumps(bob.activity("Like", OUR_ACTOR))
        assert post(s, like, bob.signed(like, key=new_key))[0] == 202
        assert rows.get_key(s.inbox.store.db, bob.key_id) is not None
    finally:
        s.close()


def test_delete_of_an_actor_whose_key_is_gone_is_ignored(service: Service, bob: Bob) -> None:
    bob.server.clear()
    bob.server.expect_request("/users/bob").respond_with_data("gone", status=410)
    body = dumps(bob.activity("Delete", bob.id))
    assert post(service, body, bob.signed(body)) == (202, "ignored")
    like = dumps(bob.activity("Like", OUR_ACTOR))
    assert post(service, like, bob.signed(like))[0] == 401


@pytest.mark.parametrize("signed", [["Content-Type"], ["Content-Type", "Content-Length"]])
def test_a_post_over_http_may_sign_its_content_type_and_length(
    service: Service, bob: Bob, signed: list[str]
) -> None:
    """Pleroma, Akkoma and Mobilizon sign ``content-length`` too: WSGI hands it (and
    the type) outside the HTTP_ names, and the inbox still sees both."""
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    values = {"Content-Type": "application/activity+json", "Content-Length": str(len(body))}
    headers = bob.signed(body, extra={name: values[name] for name in signed})
    routes = service.routes
    server = HttpServer(App(lambda: routes.cfg, routes.store, activitypub=routes), "127.0.0.1", 0)
    server.start()
    try:
        conn = http.client.HTTPConnection(*server.addresses[0], timeout=10)
        conn.request("POST", INBOX, body, headers={**values, **headers})
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (202, b"accepted\n")
        conn.close()
    finally:
        server.stop()


def test_the_sites_address_leads_a_mastodon_search_to_the_actor(service: Service) -> None:
    """Mastodon's search resolves a pasted URL (FetchResourceService) by fetching it
    for ActivityPub; an HTML answer is followed through its ``Link: <...>;
    rel="alternate"; type="application/activity+json"`` header (or such a ``<link>``
    in the page). The actor's profile link is the site's address, ``/``, whose page
    named only the feeds: pasting it into Mastodon found nothing."""
    routes = service.routes
    server = HttpServer(App(lambda: routes.cfg, routes.store, activitypub=routes), "127.0.0.1", 0)
    server.start()
    accept = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'  # noqa: E501
    try:
        host, port = server.addresses[0][:2]
        base = f"http://{host}:{port}"
        home = requests.get(base + "/", headers={"Accept": accept}, timeout=10)
        assert home.status_code == 200 and home.headers["Content-Type"].startswith("text/html")
        alternate = home.links["alternate"]
        assert alternate["type"] == "application/activity+json"
        assert alternate["url"] == routes.urls.actor  # the actor's id, as its Link says
        path = urlsplit(alternate["url"]).path
        actor = requests.get(base + path, headers={"Accept": accept}, timeout=10).json()
        assert actor["id"] == routes.urls.actor and actor["url"] == routes.urls.base + "/"
    finally:
        server.stop()


def test_the_public_documents_are_open_to_scripts_on_other_sites(service: Service) -> None:
    """A "share to the fediverse" page reads NodeInfo (which software a server runs),
    then the actor: as Mastodon's, these answer ``Access-Control-Allow-Origin: *``, as
    WebFinger must (RFC 7033 5); without it the browser hid the answers from the page."""
    routes = service.routes
    server = HttpServer(App(lambda: routes.cfg, routes.store, activitypub=routes), "127.0.0.1", 0)
    server.start()
    accept = {"Accept": "application/activity+json"}
    try:
        host, port = server.addresses[0][:2]
        base = f"http://{host}:{port}"
        found = f"{routes.urls.username}@{routes.urls.host}"
        paths = [
            "/.well-known/nodeinfo", "/nodeinfo/2.0", "/nodeinfo/2.1", "/.well-known/host-meta",
            f"/.well-known/webfinger?resource=acct:{found}", routes.actor_path,
            routes.actor_path + "/outbox", routes.actor_path + "/followers",
            routes.actor_path + "/following",
        ]  # fmt: skip
        for path in paths:
            got = requests.get(base + path, headers=accept, timeout=10)
            assert got.status_code == 200, path
            assert got.headers.get("Access-Control-Allow-Origin") == "*", path
    finally:
        server.stop()


def test_webfinger_gives_only_the_links_of_the_rel_asked_for(service: Service) -> None:
    """RFC 7033 4.3: with ``rel`` parameters, the JRD SHOULD hold only the links of
    those relation types; every link was given whatever was asked."""
    acct = quote(service.routes.urls.acct)
    profile = "http://webfinger.net/rel/profile-page"

    def rels(query: str) -> list[str]:
        answer = service.routes.get("/.well-known/webfinger", query, "application/jrd+json")
        assert answer is not None and answer.status == 200
        doc = json.loads(answer.body)
        assert doc["subject"] == service.routes.urls.acct  # the rest as ever
        return [link["rel"] for link in doc["links"]]

    assert rels(f"resource={acct}") == ["self", profile]
    assert rels(f"resource={acct}&rel=self") == ["self"]
    assert rels(f"resource={acct}&rel={quote(profile, safe='')}&rel=self") == ["self", profile]
    assert rels(f"resource={acct}&rel=http://openid.net/specs/connect/1.0/issuer") == []
    # relation types compare in any case (RFC 8288 2.1.1): "SELF" is self
    assert rels(f"resource={acct}&rel=SELF") == ["self"]
    assert rels(f"resource={acct}&rel={quote(profile.upper(), safe='')}") == [profile]


def test_webfinger_answers_400_to_a_malformed_resource_404_to_another_account(
    service: Service,
) -> None:
    """RFC 7033 4.2: a missing or malformed resource is a 400; a malformed one (no
    account after ``acct:``, bytes that are not UTF-8) was a 404, as if it were an
    account that does not exist."""
    host = urlsplit(service.routes.urls.base).netloc

    def status(query: str) -> int:
        answer = service.routes.get("/.well-known/webfinger", query, "application/jrd+json")
        assert answer is not None
        return answer.status

    for query in ("", "resource=acct:", "resource=%FF", "resource=acct:%40" + host,
                  "resource=acct:releases@", "resource=a%20b", "resource=" + host):  # fmt: skip
        assert status(query) == 400, query
    for query in ("resource=acct:other@" + host, "resource=https://elsewhere.example/@x"):
        assert status(query) == 404, query
    for query in (f"resource=acct:releases@{host}", f"resource=acct:%40releases%40{host}"):
        assert status(query) == 200, query


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_nodeinfo_is_found_by_a_reader_of_either_schema(service: Service, version: str) -> None:
    """NodeInfo discovery lists one link per schema a server serves; a reader looks for
    the rel of the schema it knows. Mastodon itself serves 2.0 only, and readers written
    against it (instance crawlers, statistics sites) look for 2.0: with 2.1 alone they
    did not find scofeed. The 2.0 schema allows only name and version in ``software``."""
    schema = "http://nodeinfo.diaspora.software/ns/schema/" + version
    discovery = service.routes.get("/.well-known/nodeinfo", "", "application/json")
    assert discovery is not None and discovery.status == 200
    (href,) = [x["href"] for x in json.loads(discovery.body)["links"] if x["rel"] == schema]
    answer = service.routes.get(urlsplit(href).path, "", "application/json")
    assert answer is not None and answer.status == 200
    assert answer.content_type == f'application/json; profile="{schema}#"'
    info = json.loads(answer.body)
    assert info["version"] == version and info["protocols"] == ["activitypub"]
    assert info["software"]["name"] == "scofeed" and info["usage"]["users"]["total"] == 1
    if version == "2.0":
        assert set(info["software"]) == {"name", "version"}


@pytest.mark.parametrize(
    ("accept", "json_wanted"),
    [
        ("application/activity+json", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        # Mastodon's own Accept: the JSON first, the page as a last resort
        ('application/activity+json, application/ld+json; profile="a,b", text/html;q=0.1', True),
        ("application/activity+json, */*;q=0.8", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),  # Firefox
        ("*/*", False),
        # refused, or ranked below the page: the page (these got the JSON)
        ("application/activity+json;q=0, text/html", False),
        ("application/activity+json; Q=0", False),
        ("text/html, application/activity+json;q=0.1", False),
        ("*/*, application/ld+json;q=0.5", False),
    ],
)
def test_content_negotiation_weighs_the_json_against_the_page(
    site: Site, accept: str, json_wanted: bool
) -> None:
    """An entry's URL and the actor's answer the JSON only to a client that prefers it:
    ``q=0`` means "not acceptable" (RFC 9110 12.5.1) and a client that ranks HTML above
    the JSON gets the page; both got the JSON, whatever the weights, as long as the
    header named an ActivityPub type."""
    service = open_service(site)
    try:
        cfg = site.config()
        build_mod.build(cfg, service.inbox.store, datetime.now(UTC))
        (entry,) = published_rows.page(service.inbox.store.db, 0, 10)
        slug = id_slug(entry.id)
        routes = service.routes
        server = HttpServer(App(lambda: cfg, routes.store, activitypub=routes), "127.0.0.1", 0)
        server.start()
        try:
            host, port = server.addresses[0][:2]
            base = f"http://{host}:{port}"
            for path, page_status in ((f"/entries/{slug}", 200), (routes.actor_path, 303)):
                got = requests.get(
                    base + path, headers={"Accept": accept}, allow_redirects=False, timeout=10
                )
                assert "Accept" in got.headers["Vary"].split(", ")
                if json_wanted:
                    assert got.status_code == 200
                    assert got.headers["Content-Type"].startswith("application/activity+json")
                else:
                    assert got.status_code == page_status
                    assert not got.headers["Content-Type"].startswith("application/activity")
        finally:
            server.stop()
    finally:
        service.close()


def test_an_inbox_answers_other_methods_with_the_one_it_allows(service: Service) -> None:
    """A PUT or DELETE to an inbox got ``405`` with ``Allow: GET, HEAD``, the methods of
    the feeds, which the inbox refuses too (a GET gets ``Allow: POST``)."""
    routes = service.routes
    server = HttpServer(App(lambda: routes.cfg, routes.store, activitypub=routes), "127.0.0.1", 0)
    server.start()
    try:
        host, port = server.addresses[0][:2]
        base = f"http://{host}:{port}"
        for path in routes.inbox_paths():
            for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS"):
                got = requests.request(method, base + path, timeout=10)
                assert (got.status_code, got.headers["Allow"]) == (405, "POST"), (method, path)
        # the actor's other addresses keep the feeds' methods, and answer a CORS
        # preflight as they do; an address nothing is served at is a 404 whatever the method
        for path in (routes.actor_path, routes.actor_path + "/outbox", "/.well-known/nodeinfo"):
            for method in ("POST", "PUT"):
                got = requests.request(method, base + path, timeout=10)
                assert (got.status_code, got.headers["Allow"]) == (405, "GET, HEAD, OPTIONS")
            got = requests.options(
                base + path,
                headers={"Origin": "https://tool.example", "Access-Control-Request-Method": "GET",
                         "Access-Control-Request-Headers": "accept"},
                timeout=10,
            )  # fmt: skip
            assert got.status_code == 204 and got.headers["Access-Control-Allow-Origin"] == "*"
            assert "Accept" in got.headers["Access-Control-Allow-Headers"]
        for path in ("/@nobody", routes.actor_path + "/nothing"):
            assert requests.post(base + path, timeout=10).status_code == 404, path
    finally:
        server.stop()


def test_keys_on_a_server_that_never_answers_do_not_hold_the_workers(
    service: Service, bob: Bob
) -> None:
    """A signature of any bytes with a keyId on a server that accepts and never answers
    held a worker for the whole fetch timeout, and four such requests stopped WebFinger,
    the actor and every genuine follow. Such a request waits once (503, Retry-After: the
    sender comes again), the server is then left alone for a while, and no more than
    FETCHES_AT_ONCE fetches run at once; a key already known needs none."""
    service.inbox.remote.timeout = 1.0
    like = dumps(bob.activity("Like", OUR_ACTOR))
    assert post(service, like, bob.signed(like)) == (202, "ignored")  # bob's key: known
    tarpits = [SlowReceiver(b"", silent=True) for _ in range(4)]
    try:

        def sent_to(tarpit: SlowReceiver, n: int, url: str | None = None) -> Reply:
            body = dumps(bob.activity("Like", OUR_ACTOR, n=n))
            headers = bob.signed(body, key_id=(url or tarpit.url) + "#key")
            return service.inbox.handle(
                INBOX, {"Content-Type": "application/json", **headers}, body
            )

        first = sent_to(tarpits[0], 10)  # waits for the timeout
        assert first.status == 503 and first.retry_after == 60
        assert first.message.startswith("cannot fetch the signer's key now")
        # the same server however the keyId spells it (a user name, the host's case)
        spellings = [tarpits[0].url, tarpits[0].url.replace("//", "//u1@"),
                     tarpits[0].url.replace("127.0.0.1", "127.0.0.1.")]  # fmt: skip
        for n, url in enumerate(spellings):
            again = sent_to(tarpits[0], 11 + n, url)
            assert (again.status, again.retry_after) == (503, 60)
            assert "did not answer a moment ago" in again.message
        assert tarpits[0].requests == 1  # not asked again
        # two fetches held at once (for as long as the test holds them: no race with
        # their timeout): a third is not started, a known key still verifies
        service.inbox.remote.timeout = 60.0
        held = [
            threading.Thread(target=sent_to, args=(t, 20 + i)) for i, t in enumerate(tarpits[1:3])
        ]
        for thread in held:
            thread.start()
        wait_for(lambda: tarpits[1].requests == tarpits[2].requests == 1, what="two fetches")
        third = sent_to(tarpits[3], 30)
        assert third.status == 503 and "too many documents being fetched" in third.message
        assert tarpits[3].requests == 0
        other = dumps(bob.activity("Like", OUR_ACTOR, n=40))
        assert post(service, other, bob.signed(other)) == (202, "ignored")
        for tarpit in tarpits[1:3]:
            tarpit.stop()  # their connections close: the held fetches end
        for thread in held:
            thread.join(30)
        # a keyId whose port is no port: refused in one line (it was a logged 500)
        for bad in ("http://127.0.0.1:99999/k", "http://127.0.0.1:abc/k"):
            reply = sent_to(tarpits[0], 50, bad)
            assert reply.status == 401 and "not an http(s) URL" in reply.message
        # through the server: the 503 says when to come again
        headers = {"Content-Type": "application/json", **bob.signed(like, key_id=tarpits[0].url)}
        answer = service.routes.post(INBOX, "", headers, like)
        assert answer.status == 503 and ("Retry-After", "60") in answer.headers
    finally:
        for tarpit in tarpits:
            tarpit.stop()


def test_a_server_that_never_answers_is_left_alone_not_the_one_its_url_seems_to_name(
    service: Service, bob: Bob, wildcard_dns
) -> None:
    """``http://a.evil.test:PORT\\@BOB/k`` is fetched from a.evil.test (the HTTP client
    ends the host at the backslash) while ``urlsplit`` reads it as BOB: the server that
    never answered left BOB alone a while, and a hostile sender could keep any server's
    keys unfetched (its genuine activities 503) with one such request a minute."""
    wildcard_dns("evil.test")
    service.inbox.remote.timeout = 1.0
    tarpit = SlowReceiver(b"", silent=True)
    try:
        port = tarpit.sock.getsockname()[1]
        body = dumps(bob.activity("Like", OUR_ACTOR, n=10))
        key_id = f"http://a.evil.test:{port}\\@{urlsplit(bob.id).netloc}/k#key"
        headers = {"Content-Type": "application/json", **bob.signed(body, key_id=key_id)}
        first = service.inbox.handle(INBOX, headers, body)
        assert first.status == 503 and tarpit.requests == 1  # the tarpit was asked
        like = dumps(bob.activity("Like", OUR_ACTOR))
        assert post(service, like, bob.signed(like)) == (202, "ignored")  # bob's key fetched
    finally:
        tarpit.stop()


def test_a_base_url_under_a_path_is_put_back_to_check_a_signature(site: Site, bob: Bob) -> None:
    """With site.base_url under a path, the proxy strips the prefix and the daemon gets
    "/@releases/inbox"; the sender signed the address it posted to, with the prefix."""
    site.write_config("\n[activitypub]\nenabled = true\nallow_private = true\n")
    service = Service.open(site.config('site.base_url="http://127.0.0.1:8080/sco/"'), site.store())
    try:
        body = dumps(bob.activity("Follow", "http://127.0.0.1:8080/sco/@releases"))
        signed = bob.signed(body, url="http://127.0.0.1:8080/sco" + INBOX)
        headers = {"Content-Type": "application/activity+json", **signed}
        assert service.inbox.handle(INBOX, headers, body).status == 202
        unprefixed = bob.signed(body)  # signed for an address the sender did not post to
        reply = service.inbox.handle(
            INBOX, {"Content-Type": "application/json", **unprefixed}, body
        )
        assert reply.status == 401
    finally:
        service.close()


@pytest.fixture
def daemon_log() -> Iterator[io.StringIO]:
    """What the commands' logging (``cli.setup_logging``) writes, undone afterwards."""
    root = logging.getLogger()
    before = (root.level, root.handlers[:])
    setup_logging("INFO")
    written = io.StringIO()
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(written)
    yield written
    root.setLevel(before[0])
    root.handlers[:] = before[1]


def test_an_unsigned_request_cannot_forge_log_lines(
    service: Service, daemon_log: io.StringIO
) -> None:
    """The actor of a request refused for its signature is logged: a newline in it
    forged a line of the operator's log, an ANSI escape cleared the screen."""
    forged = "2026-12-02 10:31:00,000 WARNING scofeed.daemon: stopping"
    actor = f"https://evil.example/u\n{forged}\x1b[2J"
    body = json.dumps({"type": "Like", "actor": actor, "object": OUR_ACTOR}).encode()
    assert post(service, body, {"Content-Type": "application/activity+json"})[0] == 401
    lines = daemon_log.getvalue().splitlines()
    refused = [line for line in lines if "activitypub_inbox_refused" in line]
    assert len(refused) == 1 and "\\n2026-12-02" in refused[0] and "\\x1b[2J" in refused[0]
    assert not any(line.startswith(forged) for line in lines)
    assert not any("\x1b" in line for line in lines)


def test_a_follow_padded_out_is_refused_or_accepted_without_its_padding(
    service: Service, bob: Bob
) -> None:
    """Each Follow (a new id each time) queues an Accept echoing it, kept until it goes
    and for good once it fails: an id or an object padded to the body cap queued that
    much each time, and each Follow after read every waiting Accept back to look for
    its own."""
    db = service.inbox.store.db
    long_id = dumps({**bob.activity("Follow", OUR_ACTOR), "id": bob.id + "/" + "f" * 5000})
    status, message = post(service, long_id, bob.signed(long_id))
    assert status == 400 and "longer than" in message
    padded = {"id": OUR_ACTOR, "type": "Service", "summary": "x" * 50_000}
    body = dumps(bob.activity("Follow", padded))
    assert post(service, body, bob.signed(body)) == (202, "accepted")
    (d,) = rows.listing(db)
    assert json.loads(d.body)["object"]["object"] == OUR_ACTOR and len(d.body) < 2000
    # an inbox as long as the actor's document may be is kept with the follower, and
    # with each post to it
    document = bob.document()
    document["inbox"] = bob.id + "/inbox?" + "i" * 5000
    bob.server.clear()
    bob.server.expect_request("/users/bob").respond_with_json(document)
    again = dumps(bob.activity("Follow", OUR_ACTOR, n=2))
    status, message = post(service, again, bob.signed(again))
    assert status == 400 and "inbox is longer than" in message


@pytest.mark.parametrize(
    "nested", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000]
)
def test_a_key_document_nested_too_deeply_is_a_401_not_a_500(
    service: Service, bob: Bob, nested: str
) -> None:
    """Anyone can name a keyId on their own server: a document there nested deeper than
    Python's JSON parser goes was a 500, with a traceback logged for each request."""
    bob.server.clear()
    bob.server.expect_request("/users/bob").respond_with_data(
        nested, content_type="application/activity+json"
    )
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    status, message = post(service, body, bob.signed(body))
    assert status == 401 and "nested too deeply" in message


@pytest.mark.parametrize(
    "key_id", ["http://[::1", "http://[x]/k", "http://%zz/k", "http://\\evil/k"]
)
def test_a_key_id_no_request_can_go_to_is_a_401_not_a_500(
    service: Service, bob: Bob, key_id: str
) -> None:
    """A keyId Python's or requests' URL parser cannot read raised out of the inbox: a
    500, and a traceback logged, for each unsigned request naming one."""
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    status, message = post(service, body, bob.signed(body, key_id=key_id))
    assert status == 401 and "not an http(s) URL" in message


def follow_as(service: Service, bob: Bob, document: dict[str, Any]) -> tuple[int, str]:
    """A signed Follow from bob, whose actor document is served as ``document``."""
    bob.server.clear()
    bob.server.expect_request("/users/bob").respond_with_json(document)
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    return post(service, body, bob.signed(body))


def test_a_follower_whose_inbox_no_request_can_go_to_is_refused(service: Service, bob: Bob):
    document = bob.document()
    document["inbox"] = "http://%zz/inbox"
    status, message = follow_as(service, bob, document)
    assert status == 400 and "not an http(s) URL" in message
    assert rows.follower_count(service.inbox.store.db) == 0


@pytest.mark.parametrize("which", ["inbox", "sharedInbox"])
def test_a_follower_whose_inbox_is_on_another_domain_is_refused(
    service: Service, bob: Bob, which: str
) -> None:
    """320 made-up followers on one server, their inboxes on 320 addresses that never
    answer: each address a domain of its own, they took every sender, and every real
    follower's posts waited minutes (security review). An inbox is on its actor's
    registrable domain, as Mastodon, Misskey, Pleroma and GoToSocial keep it."""
    document = bob.document()
    elsewhere = "http://127.0.0.2:9/inbox"  # bob is served from localhost
    if which == "inbox":
        document["inbox"] = elsewhere
    else:
        document["endpoints"] = {"sharedInbox": elsewhere}
    status, message = follow_as(service, bob, document)
    assert status == 400 and "not on its actor's domain" in message
    assert rows.follower_count(service.inbox.store.db) == 0
    assert rows.listing(service.inbox.store.db) == []  # no Accept queued to it either


@pytest.mark.parametrize("kind", ["Follow", "Delete"])
def test_an_activity_holding_a_lone_surrogate_is_a_400_not_a_500(
    service: Service, bob: Bob, kind: str
) -> None:
    """``"\\ud800"`` is valid JSON (RFC 8259 section 8.2) but no text: a signed Follow or
    Delete whose id held one raised as it was stored, a 500 and a logged traceback,
    which the sender retried for days."""
    doc = bob.activity(kind, OUR_ACTOR if kind == "Follow" else bob.id)
    doc["id"] = bob.id + "/d\ud800"
    assert b"\\ud800" in dumps(doc)
    for codec in ("utf-8", "utf-16", "utf-32"):  # json.loads reads each (found by review)
        body = dumps(doc).decode().encode(codec)
        status, message = post(service, body, bob.signed(body))
        assert status == 400 and "not JSON text" in message, codec
    assert rows.follower_count(service.inbox.store.db) == 0
    # an escaped pair is one character (an emoji): the activity is taken
    doc = bob.activity("Follow", OUR_ACTOR)
    doc["id"] = bob.id + "/\U0001f600"
    body = dumps(doc)
    assert b"\\ud83d\\ude00" in body
    assert post(service, body, bob.signed(body)) == (202, "accepted")


def test_a_follow_whose_actor_cannot_be_fetched_is_logged_and_a_gone_one_not_retried(
    service: Service, bob: Bob, caplog: pytest.LogCaptureFixture
) -> None:
    """With the access log off (the default), a Follow refused because the follower's
    actor could not be fetched left no line in the log; and an actor its server said
    was gone (404) was a 502, which a sender retries for days."""
    like = dumps(bob.activity("Like", "http://127.0.0.1:8080/notes/1"))
    assert post(service, like, bob.signed(like))[0] == 202  # bob's key is now cached
    body = dumps(bob.activity("Follow", OUR_ACTOR))
    for status, answer in ((500, 502), (404, 400), (410, 400)):
        bob.server.clear()
        bob.server.expect_request("/users/bob").respond_with_data("", status=status)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="scofeed.activitypub.inbox"):
            got, message = post(service, body, bob.signed(body))
        assert got == answer, (status, got, message)
        assert f"HTTP {status}" in message
        (line,) = [r.getMessage() for r in caplog.records if "follow_refused" in r.getMessage()]
        assert f"actor={bob.id}" in line and f"HTTP {status}" in line
    assert rows.follower_count(service.inbox.store.db) == 0


@pytest.mark.parametrize("page", ["\u00b2", "\u0663", "9" * 5000, "0", "10001", "1.0"])
def test_an_outbox_page_that_is_no_number_is_a_400_not_a_500(service: Service, page: str):
    """ "²" is a digit to str.isdigit() and not to int(), and 5,000 digits are past
    int()'s limit: either was a 500, a traceback logged, for anyone asking."""
    answer = service.routes.get("/@releases/outbox", urlencode({"page": page}), "")
    assert answer is not None and answer.status == 400


# -- the caps: followers (activitypub.max_followers), cached keys (max_keys) -------------


def serve_actors(bob: Bob, names: list[str]) -> dict[str, str]:
    """Actors named ``names`` on bob's server, all with bob's key: name -> actor id."""
    ids = {}
    for name in names:
        actor = bob.server.url_for(f"/users/{name}")
        doc = bob.document()
        doc.update(id=actor, inbox=actor + "/inbox")
        doc["publicKey"] = {**doc["publicKey"], "id": actor + "#main-key", "owner": actor}
        bob.server.expect_request(f"/users/{name}").respond_with_json(doc)
        ids[name] = actor
    return ids


def signed_by(bob: Bob, actor: str, kind: str, obj: Any, when: float) -> tuple[bytes, dict]:
    body = dumps({"id": f"{actor}/{kind.lower()}/{when}", "type": kind, "actor": actor,
                  "object": obj})  # fmt: skip
    url = "http://127.0.0.1:8080" + INBOX
    return body, httpsig.sign_cavage("POST", url, body, actor + "#main-key", bob.key, when)


def test_past_max_followers_a_new_follow_gets_503_and_no_follower_is_dropped(
    site: Site, bob: Bob, caplog: pytest.LogCaptureFixture
) -> None:
    """A flood of validly signed Follows, each from an actor of its own (anyone may
    make actors on their own server), grew the followers without bound. Past
    ``max_followers`` a new follower gets 503 and Retry-After, said once in the log;
    those following stay, and their Follow sent again is answered as ever."""
    actors = serve_actors(bob, ["a", "b", "c", *(f"x{n}" for n in range(5))])
    site.write_config("\n[activitypub]\nenabled = true\nallow_private = true\nmax_followers = 2\n")

    def follow(s: Service, name: str, kind: str = "Follow", obj: Any = OUR_ACTOR) -> Reply:
        body, headers = signed_by(bob, actors[name], kind, obj, time.time())
        return s.inbox.handle(INBOX, headers, body)

    s = Service.open(site.config(), site.store())
    try:
        assert follow(s, "a").status == 202 and follow(s, "b").status == 202
        caplog.set_level("INFO", logger="scofeed.activitypub.inbox")
        refused = follow(s, "c")
        assert (refused.status, refused.retry_after) == (503, 3600)
        assert "no new followers" in refused.message
        assert all(follow(s, f"x{n}").status == 503 for n in range(5))
        said = [r for r in caplog.records if "activitypub_follow_refused" in r.getMessage()]
        assert len(said) == 1 and "limit=2" in said[0].getMessage()
        assert follow(s, "a") == Reply(202, "accepted")  # following already: answered
        db = s.inbox.store.db
        assert {f.actor for f in rows.followers(db)} == {actors["a"], actors["b"]}
        undo = {"type": "Follow", "actor": actors["b"], "object": OUR_ACTOR}
        assert follow(s, "b", "Undo", undo).status == 202
        assert follow(s, "c") == Reply(202, "accepted")  # room again
    finally:
        s.close()
    # the limit lowered below what there is: nobody is dropped, nobody new gets in
    s = Service.open(site.config("activitypub.max_followers=1"), site.store())
    try:
        assert follow(s, "a") == Reply(202, "accepted")
        assert follow(s, "b").status == 503
        assert {f.actor for f in rows.followers(s.inbox.store.db)} == {actors["a"], actors["c"]}
    finally:
        s.close()


def test_past_max_keys_the_least_recently_used_key_is_evicted(
    site: Site, bob: Bob, caplog: pytest.LogCaptureFixture
) -> None:
    """Every validly signed request with a keyId of its own cached its key for ever.
    Past ``max_keys`` the key used least recently goes (fetched again if it signs
    again), said once in the log however many go."""
    actors = serve_actors(bob, ["a", "b", "c", *(f"x{n}" for n in range(4))])
    clock = [time.time()]
    cfg = site.config("activitypub.enabled=true", "activitypub.allow_private=true",
                      "activitypub.max_keys=2")  # fmt: skip
    s = Service.open(cfg, site.store(), clock=lambda: clock[0])

    def like(name: str) -> int:
        body, headers = signed_by(bob, actors[name], "Like", OUR_ACTOR, clock[0])
        return s.inbox.handle(INBOX, headers, body).status

    def cached() -> set[str]:
        found = s.inbox.store.db.execute("SELECT key_id FROM ap_keys").fetchall()
        return {key_id.split("/users/")[1].split("#")[0] for (key_id,) in found}

    try:
        assert like("a") == 202
        clock[0] += 1
        assert like("b") == 202
        clock[0] += 700  # past USE_NOTED_EVERY: a's use is noted
        assert like("a") == 202
        clock[0] += 1
        caplog.set_level("INFO", logger="scofeed.activitypub.remote")
        assert like("c") == 202
        assert cached() == {"a", "c"}  # b, used least recently, went; a stayed
        fetched = len(bob.server.log)
        assert like("b") == 202  # fetched again
        assert len(bob.server.log) == fetched + 1 and cached() == {"b", "c"}
        for n in range(4):
            clock[0] += 1
            assert like(f"x{n}") == 202
            assert len(cached()) == 2
        said = [r for r in caplog.records if "activitypub_keys_evicted" in r.getMessage()]
        assert len(said) == 1 and "limit=2" in said[0].getMessage()
    finally:
        s.close()


def test_follows_with_new_ids_queue_a_few_answers_an_inbox_not_one_each(
    service: Service, bob: Bob
) -> None:
    """A Follow with a new id each time (a server looping, or sending them on purpose to
    an inbox that never takes our answer) queued an Accept each, every one kept for the
    days of its retries: the outbox grew by one row a request. At most
    ``PENDING_ANSWERS`` wait for one inbox; one delivered makes room again."""
    db = service.inbox.store.db
    for n in range(1, 8):
        body = dumps(bob.activity("Follow", OUR_ACTOR, n=n))
        assert post(service, body, bob.signed(body)) == (202, "accepted")
    waiting = rows.listing(db)
    assert [d.kind for d in waiting] == ["Accept"] * outbox.PENDING_ANSWERS
    assert len(rows.followers(db)) == 1  # followed all the same
    db.execute("UPDATE ap_deliveries SET status = 'delivered' WHERE id = ?", (waiting[0].id,))
    body = dumps(bob.activity("Follow", OUR_ACTOR, n=8))
    assert post(service, body, bob.signed(body)) == (202, "accepted")
    pending = [d for d in rows.listing(db) if d.status == "pending"]
    assert len(pending) == outbox.PENDING_ANSWERS
    answered = {json.loads(d.body)["object"]["id"] for d in pending}
    assert bob.activity("Follow", OUR_ACTOR, n=8)["id"] in answered


def test_keys_being_fetched_hold_no_turn_to_write_for_the_servers_other_posts(
    service: Service, bob: Bob
) -> None:
    """The server's POSTs write to the store two at a time (``WRITERS_AT_ONCE``); two
    activities signed with keys on a server that never answers, their keys being
    fetched, held both turns for the whole fetch when the turn was taken for the whole
    request: an activity signed with a key already known got "503 busy". The turn is
    taken for the store's write alone."""
    routes = service.routes
    server = HttpServer(App(lambda: routes.cfg, routes.store, activitypub=routes), "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0][:2]
    url = f"http://{host}:{port}{INBOX}"

    def send(body: bytes, key_id: str | None = None) -> requests.Response:
        headers = {"Content-Type": "application/activity+json", "Host": "127.0.0.1:8080",
                   **bob.signed(body, key_id=key_id)}  # fmt: skip
        return requests.post(url, data=body, headers=headers, timeout=90)

    tarpits = [SlowReceiver(b"", silent=True) for _ in range(2)]
    service.inbox.remote.timeout = 60.0  # held for as long as the test holds them
    try:
        follow = bob.activity("Follow", OUR_ACTOR)
        body = dumps(follow)
        assert post(service, body, bob.signed(body)) == (202, "accepted")  # bob's key: known
        likes = [dumps(bob.activity("Like", OUR_ACTOR, n=10 + i)) for i in range(2)]

        def held_back(body: bytes, key_id: str) -> None:
            with contextlib.suppress(requests.RequestException):  # cut when the test ends
                send(body, key_id)

        held = [threading.Thread(target=held_back, args=(like, t.url + "#key"), daemon=True)
                for like, t in zip(likes, tarpits, strict=True)]  # fmt: skip
        for thread in held:
            thread.start()
        wait_for(lambda: all(t.requests == 1 for t in tarpits), what="two key fetches")
        undo = send(dumps(bob.activity("Undo", follow)))  # written to the store, no fetch
        assert (undo.status_code, undo.text) == (202, "unfollowed\n")
    finally:
        for t in tarpits:
            t.stop()
        server.stop(1)
