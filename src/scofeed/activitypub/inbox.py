"""The inbox: a POST from another server, checked, then acted on (or politely ignored).

In order: the body cap (413), JSON shape (400), the HTTP signature (401: unsigned,
malformed, stale, wrong digest, a key that cannot be fetched or does not verify, a
signer who is not the activity's actor), then the activity, once per id:

- ``Follow`` of our actor: the follower is stored and an ``Accept{Follow}`` is queued
  to their inbox, in one transaction;
- ``Undo{Follow}`` of our actor (the Follow embedded, or its id): the follower goes;
  an Undo of a Follow of anyone else is ignored;
- ``Delete`` of the follower's own actor: the follower goes;
- anything else (replies, likes, boosts, ...): 202 and ignored.

A repeated activity id gets 202 and changes nothing. A ``Delete`` of an actor whose
key is gone (the usual case for a deleted account we never heard of) is 202 too.

At most ``activitypub.max_followers`` follow: past it, the Follow of an actor not
following yet gets 503 with ``Retry-After`` (``FULL_RETRY_AFTER``), before its actor
is fetched, and one log line a while (``throttle.EVERY``) says so. The Follow is
fine and this server cannot take it now: Mastodon drops a delivery refused with a
4xx and tries a 5xx again for days, so a genuine follower gets in once there is room
(followers leave, the operator raises the limit). Those following stay, whatever the
limit: their Follow sent again is answered as ever.

At most ``activitypub.max_servers_per_domain`` servers (an actor's host) of one
registrable domain (``hostkey.host_key``: ``a.evil.example`` and ``b.evil.example`` are
``evil.example``) follow: anyone with wildcard DNS may run a server on every name of
their domain, each filling the followers and each a delivery target of its own. The
Follow from a further server of that domain is answered 202 and a ``Reject{Follow}``
goes to its inbox, as Mastodon refuses a follow it will not take (a blocked domain):
the refusal is policy and stays, so a 503 would only have it sent again for days, and
a 4xx left the follow "requested" on the other side for ever. One log line a while
(``throttle.EVERY``) names the domain. A follower of a server counted already is
accepted as ever, and no one following is dropped, whatever the limit.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from scofeed.activitypub import delivery, httpsig
from scofeed.activitypub.documents import Urls
from scofeed.activitypub.remote import HOST_PAUSE, Remote, json_document, object_id
from scofeed.config import Config
from scofeed.deliver import sender
from scofeed.errors import FetchError
from scofeed.hostkey import authority, host_key
from scofeed.store import Store
from scofeed.store import activitypub as rows
from scofeed.throttle import Throttle

log = logging.getLogger(__name__)

SEEN_DAYS = 30  # how long a handled activity id is remembered
MAX_ID = 2048  # characters of an activity id remembered; a longer one is not
FULL_RETRY_AFTER = 3600  # seconds: a Follow refused while activitypub.max_followers follow


@dataclass(frozen=True)
class Reply:
    status: int
    message: str
    retry_after: int | None = None  # seconds, with a 503

    @property
    def body(self) -> bytes:
        return (self.message + "\n").encode()


def too_big(cfg: Config, content_length: str | None) -> bool:
    """Whether the declared length is over the cap (checked before reading a byte)."""
    try:
        return content_length is not None and int(content_length) > cfg.activitypub.max_body
    except ValueError:
        return True


class Inbox:
    def __init__(
        self,
        cfg: Config,
        store: Store,
        remote: Remote,
        clock: Callable[[], float] = time.time,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.remote = remote
        self.urls = Urls.of(cfg)
        self.clock = clock
        self.on_queued = on_queued  # e.g. the daemon's "deliver now"
        self._full = Throttle()  # the log line of a Follow refused for max_followers
        self._crowded = Throttle()  # ... and for max_servers_per_domain

    def handle(self, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """``target``: the path and query the request was sent to."""
        if len(body) > self.cfg.activitypub.max_body:
            return Reply(413, "request body too large")
        try:
            activity = json_document(body)
        except (ValueError, RecursionError):  # a lone surrogate too (a UnicodeError)
            return Reply(400, "the body is not JSON text")
        actor = object_id(activity.get("actor")) if isinstance(activity, dict) else None
        if not isinstance(activity, dict) or not isinstance(activity.get("type"), str) or not actor:
            return Reply(400, "not an activity (type and actor are required)")
        try:
            signer = self._verify(target, headers, body, activity, actor)
        except httpsig.BadSignature as exc:
            log.info("activitypub_inbox_refused actor=%s reason=%r", actor, str(exc))
            return Reply(401, f"signature refused: {exc}")
        except FetchError as exc:  # not now (``FetchError.later``): the sender retries
            log.info("activitypub_inbox_later actor=%s reason=%r", actor, str(exc))
            return _later(f"cannot fetch the signer's key now ({exc})")
        if signer is None:  # a Delete of an actor we cannot (any longer) fetch
            return Reply(202, "ignored")
        return self._act(activity, actor)

    # -- the signature -----------------------------------------------------------------

    def _verify(
        self, target: str, headers: Mapping[str, str], body: bytes, activity: dict[str, Any],
        actor: str,
    ) -> str | None:  # fmt: skip
        url = self.urls.base + target  # base_url's path prefix, if any, was stripped
        parsed = httpsig.parse(headers)
        httpsig.check_covers(parsed, "POST", has_body=True)
        httpsig.check_host(parsed, headers, url)
        httpsig.check_fresh(parsed, headers, self.clock())
        httpsig.check_digest(parsed, headers, body)
        if not _http(parsed.key_id):
            raise httpsig.BadSignature("the keyId is not an http(s) URL")
        try:
            key = self.remote.key_for(parsed.key_id)
        except FetchError as exc:
            if exc.gone and _deletes_self(activity, actor):
                return None
            if exc.later:
                raise
            raise _unfetched(parsed.key_id, exc) from None
        try:
            httpsig.verify(parsed, "POST", url, headers, key.pem)
        except httpsig.BadSignature:
            try:
                key = self.remote.key_for(parsed.key_id, refresh=True)  # rotated?
            except FetchError as exc:
                if exc.later:
                    raise
                raise _unfetched(parsed.key_id, exc) from None
            httpsig.verify(parsed, "POST", url, headers, key.pem)
        if key.owner != actor:
            raise httpsig.BadSignature("the key's owner is not the activity's actor")
        return key.owner

    # -- the activity ------------------------------------------------------------------

    def _act(self, activity: dict[str, Any], actor: str) -> Reply:
        """A repeated activity id is "already handled", but for a Follow and an Undo:
        they are applied again, whatever they did before. Misskey and its forks give a
        follow of one account the same id every time (and its Undo the same id too), a
        server re-sends a Follow whose Accept it did not get, and Mastodon answers a
        repeated Follow with a new Accept: remembered, a re-follow stayed "pending" for
        30 days, and the unfollow after it was ignored.

        Only the id of an activity acted on (a Delete of its actor) is remembered, and
        only one of at most ``MAX_ID`` characters: anything else (a reply, a like) is
        answered "ignored" and writes nothing. Remembered, a flood of signed likes with
        ids of 256 KB each grew the store by 256 KB a request, kept for 30 days."""
        kind = activity["type"]
        activity_id = activity.get("id") if isinstance(activity.get("id"), str) else None
        deletes = kind == "Delete" and _deletes_self(activity, actor)
        if not deletes or (activity_id and len(activity_id) > MAX_ID):
            activity_id = None  # a Follow or Undo applied again is its meaning, not a repeat
        if activity_id and rows.get_seen(self.store.db, activity_id):
            return Reply(202, "already handled")
        if kind == "Follow":
            return self._follow(activity, actor)
        outcome = "ignored"
        if kind != "Undo" and not deletes:  # nothing to do, nothing written
            log.info("activitypub_inbox type=%s actor=%s outcome=%s", kind, actor, outcome)
            return Reply(202, outcome)
        now = self.clock()
        with self.store.transaction() as db:
            if activity_id and rows.seen(db, activity_id, now):
                return Reply(202, "already handled")
            if kind == "Undo":
                outcome = self._undo(db, activity.get("object"), actor)
            elif deletes:
                outcome = "removed" if rows.remove_follower(db, actor) else "not following"
            rows.forget_seen(db, now - SEEN_DAYS * 86400)
        log.info("activitypub_inbox type=%s actor=%s outcome=%s", kind, actor, outcome)
        return Reply(202, outcome)

    def _undo(self, db: Any, obj: Any, actor: str) -> str:
        """An Undo ends the actor's follow when it undoes their Follow of our actor: one
        embedded (its ``object``, when it names one, must be our actor: an Undo of a
        follow of someone else, which a server may send everywhere, is not ours, as
        Mastodon has it), or the id of the Follow we stored. Anything else is ignored."""
        if isinstance(obj, dict):
            if obj.get("type") != "Follow" or object_id(obj.get("actor")) not in (None, actor):
                return "ignored"
            if obj.get("object") is not None and object_id(obj["object"]) != self.urls.actor:
                return "ignored: not a follow of this actor"
        else:
            f = rows.follower(db, actor)
            if f is None or obj != f.follow_id:
                return "ignored"
        return "unfollowed" if rows.remove_follower(db, actor) else "not following"

    def _follow(self, activity: dict[str, Any], actor: str) -> Reply:
        if object_id(activity.get("object")) != self.urls.actor:
            return Reply(202, "ignored: not a follow of this actor")
        activity_id = activity.get("id")
        if not isinstance(activity_id, str) or not activity_id:
            return Reply(400, "a Follow needs an id")
        if len(activity_id) > MAX_ID:  # it is echoed in the Accept, kept with it
            return Reply(400, f"a Follow's id is longer than {MAX_ID} characters")
        if self._full_for(self.store.db, actor):  # before any fetch: the cheap refusal
            return self._refuse_full(actor)
        try:
            doc = self.remote.actor(actor)
        except FetchError as exc:
            # logged: with the access log off (the default), a follow that never took
            # left no trace. An actor its server says is gone (404, 410) never will be
            # there: a 4xx, which the sender does not retry (a 502 was retried for days)
            log.info("activitypub_follow_refused actor=%s reason=%r", actor, str(exc))
            if exc.later:
                return _later(f"cannot fetch the follower's actor now ({exc})")
            if exc.gone:
                return Reply(400, f"the follower's actor is gone ({exc})")
            return Reply(502, f"cannot fetch the follower's actor ({_told(exc)})")
        inbox = doc["inbox"]
        endpoints = doc.get("endpoints")
        shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
        for url in (inbox, shared):
            if url is not None and (not isinstance(url, str) or not _http(url)):
                return Reply(400, "the follower's inbox is not an http(s) URL")
            if url is not None and len(url) > MAX_ID:  # kept with the follower, and each post
                return Reply(400, f"the follower's inbox is longer than {MAX_ID} characters")
        home = host_key(rows.server_of(actor))
        for url in (inbox, shared):
            # on another domain than its actor's: 320 made-up followers on one server,
            # their inboxes on 320 addresses that never answer, took every sender, each
            # address a domain of its own, and every real follower waited (Mastodon,
            # Misskey, Pleroma and GoToSocial keep an actor's inboxes on its server)
            if url is not None and host_key(authority(url) or "") != home:
                log.info("activitypub_follow_refused actor=%s inbox=%s reason=%r", actor, url,
                         "the inbox is not on the actor's domain")  # fmt: skip
                return Reply(400, "the follower's inbox is not on its actor's domain")
        now = self.clock()
        follow = {**activity, "actor": actor}
        with self.store.transaction() as db:
            if self._full_for(db, actor):  # filled up while the actor was fetched
                return self._refuse_full(actor)
            crowded = self._crowded_domain(db, actor)
            if crowded is not None:
                sent = delivery.queue_reject(self.cfg, db, follow, inbox, now)
            else:
                new = rows.add_follower(db, actor, inbox, shared, activity_id, now)
                delivery.queue_accept(self.cfg, db, follow, inbox, now)
        if crowded is not None:
            reply = self._refuse_crowded(actor, *crowded, sent)
        else:
            log.info("activitypub_follow actor=%s new=%s", actor, new)
            reply = Reply(202, "accepted")
        if self.on_queued is not None:
            self.on_queued()
        return reply

    def _full_for(self, db: sqlite3.Connection, actor: str) -> bool:
        """Whether ``actor`` would be one follower too many (one following is not)."""
        limit = self.cfg.activitypub.max_followers
        return rows.follower_count(db) >= limit and rows.follower(db, actor) is None

    def _crowded_domain(self, db: sqlite3.Connection, actor: str) -> tuple[str, int] | None:
        """(domain, servers counted) when ``actor`` is on a server new to its domain and
        the domain has ``max_servers_per_domain`` servers following; None otherwise."""
        rows.rekey(db)  # rows from before migration 36, or keyed by another list
        server = rows.server_of(actor)
        if rows.server_counted(db, server):
            return None
        domain = host_key(server)
        limit = self.cfg.activitypub.max_servers_per_domain
        servers = rows.servers_in(db, domain, limit)
        return (domain, servers) if servers >= limit else None

    def _refuse_crowded(self, actor: str, domain: str, servers: int, sent: bool) -> Reply:
        """202 and why; ``sent``: a Reject was queued (not when one waits to go to that
        inbox already, nor past ``outbox.REJECTS_PER_DOMAIN`` or ``REJECTS_PENDING``)."""
        limit = self.cfg.activitypub.max_servers_per_domain
        held = self._crowded.due()
        if held is not None:
            log.warning(
                "activitypub_follow_refused reason=max_servers_per_domain domain=%s "
                "servers=%d limit=%d actor=%s reject=%s held_back=%d",
                domain, servers, limit, actor, "queued" if sent else "none", held,
            )  # fmt: skip
        return Reply(
            202,
            f"rejected: {limit} servers of {domain} follow this account already, the most "
            "one domain may have "
            + ("(a Reject is sent)" if sent else "(no new Reject is sent: enough wait to go)"),
        )

    def _refuse_full(self, actor: str) -> Reply:
        limit = self.cfg.activitypub.max_followers
        held = self._full.due()
        if held is not None:
            log.warning(
                "activitypub_follow_refused reason=max_followers limit=%d actor=%s held_back=%d",
                limit, actor, held,
            )  # fmt: skip
        return Reply(
            503,
            f"this account takes no new followers now (it has {limit}): try again later",
            retry_after=FULL_RETRY_AFTER,
        )


def _unfetched(key_id: str, exc: FetchError) -> httpsig.BadSignature:
    """The 401 for a key that could not be fetched (``_told``)."""
    told = _told(exc)
    if told != str(exc):
        log.info("activitypub_key_refused key_id=%s reason=%r", key_id, str(exc))
    return httpsig.BadSignature(f"cannot fetch the signer's key ({told})")


# what the sender is told of a host the address guard refused or that does not resolve
UNREACHED = "no public address of its host answers"


def _told(exc: FetchError) -> str:
    """Why a document could not be fetched, as its sender is told. One the address
    guard refused, or whose host does not resolve, says the same: the guard's own words
    name the address the host resolved to, and the URL is the sender's to choose, so
    the answer told anyone what our resolver makes of any name (``intranet.corp
    resolves to 10.1.2.3``), or which names it has at all. The log keeps them."""
    if exc.refused or str(exc).startswith("cannot resolve the host name"):
        return UNREACHED
    return str(exc)


def _later(message: str) -> Reply:
    """503: the document the request needs could not be had now; come again later."""
    return Reply(503, message, retry_after=int(HOST_PAUSE))


def _http(url: str) -> bool:
    """Whether ``url`` is an http(s) URL that a request can be sent to. A keyId or inbox
    Python's or requests' URL parser cannot read ("http://[::1", "http://%zz/") was a
    500 with a logged traceback at the inbox, and an inbox stored so, one at every
    delivery tick for ever."""
    try:
        parts = urlsplit(url)
        sender.wire_url(url)
    except (ValueError, requests.RequestException):
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _deletes_self(activity: dict[str, Any], actor: str) -> bool:
    return activity.get("type") == "Delete" and object_id(activity.get("object")) == actor
