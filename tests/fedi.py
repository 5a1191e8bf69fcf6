"""A remote fediverse server on 127.0.0.1, played by bovine (a third-party ActivityPub
library): an actor with its own RSA key, an inbox that checks every request's HTTP
signature with bovine's ``SignatureChecker`` (fetching our key from our actor, as a
real server does), and a client that looks us up and sends signed activities.

Nothing here is scofeed code: what it accepts, a real server built on bovine accepts.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from bovine.activitystreams import Actor
from bovine.activitystreams.activity_factory import ActivityFactory
from bovine.clients.lookup_account import lookup_with_webfinger
from bovine.clients.signed_http_methods import signed_get, signed_post
from bovine.crypto import generate_rsa_public_private_key
from bovine.crypto.helper import content_digest_sha256
from bovine.crypto.signature_checker import SignatureChecker
from bovine.crypto.types import CryptographicIdentifier, CryptographicSecret
from bovine.jsonld import jsonld_cache, wrapper_with_context
from bovine.parse import Actor as ParsedActor
from pyld import jsonld

ACTIVITY_JSON = "application/activity+json"

# Tests talk only to 127.0.0.1: the JSON-LD contexts bovine would download are given
# here (the terms of https://w3id.org/security/v1 that actors use), and any other
# context URL is refused instead of fetched.
SECURITY = "https://w3id.org/security#"
OFFLINE_CONTEXTS: dict[str, Any] = {
    "https://w3id.org/security/v1": {
        "id": "@id",
        "type": "@type",
        "publicKey": {"@id": SECURITY + "publicKey", "@type": "@id"},
        "publicKeyPem": SECURITY + "publicKeyPem",
        "owner": {"@id": SECURITY + "owner", "@type": "@id"},
    },
    "https://www.w3.org/ns/did/v1": {},
    "https://w3id.org/security/multikey/v1": {},
}
jsonld_cache.cache.update(OFFLINE_CONTEXTS)  # the in-memory side of bovine's cache


def _remember(url: str, context: Any) -> None:
    jsonld_cache.cache[url] = context


# bovine also writes each context it resolves to an SQLite file, through a connection made
# in the thread that imported it: resolved first in a remote server's own thread (a
# fresh clone, no file yet), it raised ProgrammingError there, and that server's
# signature check failed. Kept in memory only, as the dictionary above is
jsonld_cache.add = _remember


def _offline_loader(url: str, options: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    builtin = ("https://www.w3.org/ns/activitystreams", "about:bovine")
    if url in OFFLINE_CONTEXTS or url in builtin:
        return wrapper_with_context(url, options, **kwargs)  # type: ignore[no-any-return]
    raise jsonld.JsonLdError("offline: context not available", "loading document failed")


jsonld.set_document_loader(_offline_loader)


@dataclass
class Received:
    """One POST to the remote inbox and what bovine made of its signature."""

    activity: dict[str, Any]
    signer: str | None  # the controller of the key that verified it, None: it did not


@dataclass
class RemoteServer:
    """bovine on its own event loop thread; ``call`` runs a coroutine there."""

    loop: asyncio.AbstractEventLoop
    base: str
    public_pem: str
    private_pem: str
    inbox: queue.Queue[Received] = field(default_factory=queue.Queue)
    statuses: dict[str, int] = field(default_factory=dict)  # path -> forced status

    @property
    def actor_id(self) -> str:
        return self.base + "/users/alice"

    @property
    def key_id(self) -> str:
        return self.actor_id + "#main-key"

    @property
    def secret(self) -> CryptographicSecret:
        return CryptographicSecret.from_pem(self.key_id, self.private_pem)

    def actor_document(self) -> dict[str, Any]:
        actor = Actor(
            id=self.actor_id,
            preferred_username="alice",
            inbox=self.actor_id + "/inbox",
            outbox=self.actor_id + "/outbox",
            followers=self.actor_id + "/followers",
            public_key=self.public_pem,
            public_key_name="main-key",
        ).build()
        actor["endpoints"] = {"sharedInbox": self.base + "/inbox"}
        return actor

    def call(self, coro: Any, timeout: float = 30) -> Any:
        fut: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    # -- what a remote server does on its side ------------------------------------------

    async def get_json(
        self, url: str, signed: bool = True, accept: str = ACTIVITY_JSON
    ) -> tuple[int, dict[str, str], Any]:
        async with aiohttp.ClientSession() as session:
            if signed:
                resp = await signed_get(session, self.secret, url)
            else:
                headers = {"Accept": accept}
                resp = await session.get(url, headers=headers, allow_redirects=False)
            async with resp:
                text = await resp.text()
                try:
                    doc = json.loads(text)
                except ValueError:
                    doc = text
                return resp.status, dict(resp.headers), doc

    async def webfinger(self, server: str, acct: str) -> str | None:
        async with aiohttp.ClientSession() as session:
            return await lookup_with_webfinger(
                session, server + "/.well-known/webfinger", {"resource": acct}
            )

    def follow(self, target: str) -> dict[str, Any]:
        factory = ActivityFactory(self.actor_document())
        return factory.follow(target, id=f"{self.base}/activities/{uuid.uuid4()}").build()

    async def post(self, inbox: str, activity: dict[str, Any]) -> tuple[int, str]:
        def digest(body: bytes) -> tuple[str, str]:
            return "digest", content_digest_sha256(body, prefix="SHA-256")

        async with aiohttp.ClientSession() as session:
            resp = await signed_post(session, self.secret, inbox, json.dumps(activity), digest)
            async with resp:
                return resp.status, await resp.text()

    def next(self, timeout: float = 10) -> Received:
        return self.inbox.get(timeout=timeout)


async def _key_retriever(key_id: str) -> CryptographicIdentifier | None:
    """Resolve a keyId the way a bovine server does: fetch the actor, parse its keys."""
    url = key_id.split("#", 1)[0]
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Accept": ACTIVITY_JSON}) as resp:
            if resp.status != 200:
                return None
            data = json.loads(await resp.text())
    actor = ParsedActor(data, domain_may_differ=True)
    for ident in actor.cryptographic_identifiers:
        if ident.id == key_id:
            return ident
    return None


def _app(server_ref: list[RemoteServer]) -> web.Application:
    checker = SignatureChecker(_key_retriever)

    async def actor(request: web.Request) -> web.Response:
        return web.json_response(server_ref[0].actor_document(), content_type=ACTIVITY_JSON)

    async def inbox(request: web.Request) -> web.Response:
        server = server_ref[0]
        forced = server.statuses.get(request.path)
        body = await request.read()

        async def get_body() -> bytes:
            return body

        signer = await checker.validate_signature(
            request.method, str(request.url), request.headers, get_body
        )
        server.inbox.put(Received(json.loads(body), signer))
        if forced:
            return web.Response(status=forced)
        return web.Response(status=202 if signer else 401)

    app = web.Application()
    app.router.add_get("/users/alice", actor)
    app.router.add_post("/users/alice/inbox", inbox)
    app.router.add_post("/inbox", inbox)
    return app


def start(host: str = "127.0.0.1") -> tuple[RemoteServer, threading.Event]:
    """Start the remote server; set the returned event to stop it."""
    loop = asyncio.new_event_loop()
    ready: queue.Queue[int] = queue.Queue()
    stop = threading.Event()
    ref: list[RemoteServer] = []

    async def serve() -> None:
        runner = web.AppRunner(_app(ref))
        await runner.setup()
        site = web.TCPSite(runner, host, 0)
        await site.start()
        ready.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    port = ready.get(timeout=10)
    public, private = generate_rsa_public_private_key()
    ref.append(RemoteServer(loop, f"http://{host}:{port}", public, private))
    return ref[0], stop
