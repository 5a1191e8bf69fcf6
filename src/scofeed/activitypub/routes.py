"""The ActivityPub HTTP surface, free of any server: a request's facts in, an Answer out.

The HTTP app (serve) asks ``Routes.get`` first for every GET; ``None`` means "not an
ActivityPub request, serve the page as usual" (and the page then carries ``Vary:
Accept``, since the same URL answers both). ``Routes.post`` takes the inbox POSTs.
Content negotiation: a request whose ``Accept`` names ``application/activity+json``
or ``application/ld+json``, with a weight above 0 and not below HTML's, gets JSON at
the actor's and each entry's URL (``wants_activity``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from scofeed.activitypub import documents
from scofeed.activitypub.documents import JRD_JSON, Urls
from scofeed.activitypub.inbox import Inbox, too_big
from scofeed.activitypub.keys import KeyPair
from scofeed.config import Config
from scofeed.errors import UnknownEntry
from scofeed.normalise import id_slug
from scofeed.store import Store
from scofeed.store import activitypub as rows
from scofeed.store import entries as entry_rows
from scofeed.store import published as published_rows

AP_TYPE = "application/activity+json; charset=utf-8"
_SLUG = re.compile(r"[A-Za-z0-9_-]{1,64}")
_AP_TYPES = ("application/activity+json", "application/ld+json")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_MEDIA_RANGE = re.compile(r'(?:[^,"]|"[^"]*")+')  # one media range: commas quoted are kept
_Q = re.compile(r";\s*q\s*=\s*([0-9.]+)", re.IGNORECASE)
MAX_PAGE = 10_000
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def wants_activity(accept: str) -> bool:
    """Whether ``Accept`` asks for the ActivityPub JSON rather than the HTML page: it
    names ``application/activity+json`` or ``application/ld+json`` with a weight above
    0 and not below the page's (RFC 9110 12.5.1: ``q=0`` is "not acceptable"; the most
    specific range that matches a type gives its weight, so ``*/*`` weighs HTML too).
    Fediverse servers send ``application/activity+json, ..., text/html;q=0.1``."""
    ranges: dict[str, float] = {}
    for part in _MEDIA_RANGE.findall(accept or ""):
        kind = part.split(";", 1)[0].strip().lower()
        m = _Q.search(part)
        try:
            q = float(m.group(1)) if m else 1.0
        except ValueError:
            q = 0.0
        ranges[kind] = max(q, ranges.get(kind, 0.0))
    activity = max((ranges[t] for t in _AP_TYPES if t in ranges), default=0.0)
    if activity <= 0:
        return False
    page = max(_weight(ranges, t) for t in _HTML_TYPES)
    return activity >= page


def _weight(ranges: dict[str, float], kind: str) -> float:
    """The weight ``ranges`` give ``kind``: its own, else its family's, else ``*/*``."""
    for key in (kind, kind.split("/")[0] + "/*", "*/*"):
        if key in ranges:
            return ranges[key]
    return 0.0


# every document served here is public, and open to a script on another site (WebFinger
# must be, RFC 7033 5; a "share to the fediverse" page reads NodeInfo, the actor...)
CORS = ("Access-Control-Allow-Origin", "*")


def _json(doc: dict[str, Any], content_type: str = AP_TYPE, status: int = 200) -> Answer:
    body = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    return Answer(status, body, content_type, [("Cache-Control", "max-age=60"), CORS])


def _text(status: int, message: str) -> Answer:
    return Answer(status, (message + "\n").encode())


class Routes:
    def __init__(self, cfg: Config, store: Store, keypair: KeyPair, inbox: Inbox) -> None:
        self.cfg = cfg
        self.store = store
        self.keypair = keypair
        self.inbox = inbox
        self.urls = Urls.of(cfg)
        self.actor_path = f"/@{self.urls.username}"

    def alternate_link(self) -> str:
        """The ``Link`` header of the site's home page, the actor's profile link: a URL
        pasted into Mastodon's search that answers HTML is followed through it."""
        return f'<{self.urls.actor}>; rel="alternate"; type="{documents.ACTIVITY_JSON}"'

    def inbox_paths(self) -> tuple[str, ...]:
        return (self.actor_path + "/inbox", "/inbox")

    def get(self, path: str, query: str, accept: str) -> Answer | None:
        if path == "/.well-known/webfinger":
            return self.webfinger(query)
        if path == "/.well-known/nodeinfo":
            return _json(documents.nodeinfo_links(self.urls), "application/json")
        if path.startswith("/nodeinfo/") and path[10:] in documents.NODEINFO_VERSIONS:
            version = path[10:]
            posts = published_rows.count(self.store.db)
            kind = f'application/json; profile="{documents.NODEINFO_SCHEMA}{version}#"'
            return _json(documents.nodeinfo(self.cfg, posts, version), kind)
        if path == "/.well-known/host-meta":
            body = documents.host_meta(self.urls).encode()
            return Answer(200, body, "application/xrd+xml; charset=utf-8", [CORS])
        if path == self.actor_path:
            if not wants_activity(accept):  # a browser: the index page
                return Answer(303, b"", headers=[("Location", self.urls.base + "/"), _VARY])
            answer = _json(documents.actor(self.cfg, self.keypair.public_pem))
            answer.headers.append(_VARY)
            return answer
        if path == self.actor_path + "/outbox":
            return self.outbox(query)
        if path == self.actor_path + "/followers":
            count = rows.follower_count(self.store.db)
            return _json(documents.followers(self.urls, count))
        if path == self.actor_path + "/following":
            return _json(documents.following(self.urls))
        if path in self.inbox_paths():
            return Answer(405, b"POST only\n", headers=[("Allow", "POST")])
        if path.startswith("/entries/") and wants_activity(accept):
            return self.entry(path[len("/entries/") :])
        return None

    def post(self, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Answer:
        target = path + ("?" + query if query else "")
        reply = self.inbox.handle(target, headers, body)
        answer = _text(reply.status, reply.message)
        if reply.retry_after is not None:
            answer.headers.append(("Retry-After", str(reply.retry_after)))
        return answer

    def body_too_big(self, content_length: str | None) -> bool:
        return too_big(self.cfg, content_length)

    def webfinger(self, query: str) -> Answer:
        params = parse_qs(query)
        resource = params.get("resource", [""])[0]
        if not resource:
            return Answer(400, b"resource is required\n", headers=[CORS])
        if not documents.webfinger_resource_ok(resource):
            return Answer(400, b"resource is not a URI (RFC 7033 4.2)\n", headers=[CORS])
        if not documents.webfinger_matches(self.urls, resource):
            return Answer(404, b"no such account\n", headers=[CORS])
        return _json(documents.webfinger(self.urls, params.get("rel", ())), JRD_JSON)

    def outbox(self, query: str) -> Answer:
        size = self.cfg.activitypub.page_size
        total = published_rows.count(self.store.db)
        page_arg = parse_qs(query).get("page", [""])[0]
        if not page_arg:
            return _json(documents.outbox(self.urls, total, size))
        # ASCII digits, few enough for int(): "²" is a digit to isdigit() but not to int(),
        # and 5,000 digits are past int()'s limit; either was a 500 and a traceback
        if not _DIGITS.fullmatch(page_arg) or not 1 <= int(page_arg) <= MAX_PAGE:
            return _text(400, "page must be a number from 1")
        page = int(page_arg)
        if page > max(1, -(-total // size)):  # past the last page ("last" names it)
            return _text(404, "no such page")
        entries = rows.entry_page(self.store.db, size, (page - 1) * size)
        return _json(documents.outbox_page(self.cfg, page, entries, total, size))

    def entry(self, slug: str) -> Answer:
        if not _SLUG.fullmatch(slug):
            return _text(404, "no such entry")
        try:
            e = entry_rows.get(self.store.db, slug)
        except UnknownEntry:
            return _text(404, "no such entry")
        if id_slug(e.id) != slug:
            return _text(404, "no such entry")
        if e.withdrawal is not None:  # withdrawn: its Tombstone, 410 Gone
            doc = documents.tombstone(self.urls, self.urls.object(e), e.withdrawal.at)
            gone = _json({"@context": documents.CONTEXT, **doc}, status=410)
            gone.headers.append(_VARY)
            return gone
        answer = _json(documents.note(self.cfg, e))
        answer.headers.append(_VARY)
        return answer


_VARY = ("Vary", "Accept")
