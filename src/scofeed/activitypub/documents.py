"""The ActivityPub documents, pure: config and entries in, JSON-able dicts out.

Addresses, all under ``site.base_url`` (``Urls``)::

    /@<username>                 the actor (a Service); browsers get the index page
    /@<username>/inbox           its inbox; /inbox is the shared inbox
    /@<username>/outbox          OrderedCollection of Create{Note}, newest first, paged
    /@<username>/followers       the follower count (items are not listed)
    /@<username>/following       always empty
    /entries/<slug>              each entry's Note (or Article), by content negotiation
    /.well-known/webfinger       acct:<username>@<host> -> the actor
    /.well-known/nodeinfo        -> /nodeinfo/2.0 and /nodeinfo/2.1
    /.well-known/host-meta       the WebFinger template (XRD)

Activity ids are fragments of the object's id, so they are stable: ``#create``,
``#update-<revision>-<content hash, 8 hex>`` and ``#delete``; an Accept is
``<actor>#accepts/<hash>`` (of the Follow's id and the time it was accepted), a Reject
``<actor>#rejects/<hash>``.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from scofeed import HOMEPAGE, __version__
from scofeed.config import Config
from scofeed.config.fields import whatwg_parsable
from scofeed.frozen import frozen
from scofeed.graphemes import ellipsized
from scofeed.model import Entry
from scofeed.normalise import entry_page
from scofeed.render.catalog import tag_set_prefix
from scofeed.render.links import shown_url

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACTIVITY_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_JSON = "application/jrd+json"
NODEINFO_VERSIONS = ("2.0", "2.1")  # Mastodon serves 2.0 only; readers look for either
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/"  # + version
SUMMARY_MAX = 1000  # characters of the summary shown in a post; the link has the rest
CONTEXT = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "Hashtag": "as:Hashtag",
    },
]


@frozen
class Urls:
    base: str  # site.base_url without the trailing slash
    username: str

    @classmethod
    def of(cls, cfg: Config) -> Urls:
        return cls(cfg.site.base_url.rstrip("/"), cfg.activitypub.username)

    @property
    def host(self) -> str:
        """The acct: domain: the host in lower case, its port only when not the
        scheme's default (Mastodon asks for the id's normalised host)."""
        parts = urlsplit(self.base)
        host = (parts.hostname or "").lower()
        if ":" in host:  # an IPv6 literal keeps its brackets
            host = f"[{host}]"
        default = {"http": 80, "https": 443}.get(parts.scheme)
        return host if parts.port in (None, default) else f"{host}:{parts.port}"

    @property
    def acct(self) -> str:
        return f"acct:{self.username}@{self.host}"

    @property
    def actor(self) -> str:
        return f"{self.base}/@{self.username}"

    @property
    def key_id(self) -> str:
        return self.actor + "#main-key"

    @property
    def inbox(self) -> str:
        return self.actor + "/inbox"

    @property
    def shared_inbox(self) -> str:
        return self.base + "/inbox"

    @property
    def outbox(self) -> str:
        return self.actor + "/outbox"

    @property
    def followers(self) -> str:
        return self.actor + "/followers"

    @property
    def following(self) -> str:
        return self.actor + "/following"

    def object(self, entry: Entry) -> str:
        return entry_page(self.base, entry.id)

    def tag(self, tag: str) -> str:
        """The page of a tag's releases (``tags/<slug>/``, where its feeds are, if any)."""
        return f"{self.base}/{quote(tag_set_prefix(tag))}"


def stamp(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- discovery -------------------------------------------------------------------------


def webfinger(urls: Urls, rels: Collection[str] = ()) -> dict[str, Any]:
    """The JRD; with ``rels`` (the query's ``rel`` parameters), only the links of those
    relation types (RFC 7033 4.3), the rest of it as ever."""
    links = [
        {"rel": "self", "type": ACTIVITY_JSON, "href": urls.actor},
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
         "href": urls.base + "/"},
    ]  # fmt: skip
    # relation types compare in any case (RFC 8288 2.1.1; a URI one's scheme and host
    # too, and its path is ours in lower case): "SELF" is self
    wanted = {rel.lower() for rel in rels}
    return {
        "subject": urls.acct,
        "aliases": [urls.actor, urls.base + "/"],
        "links": [link for link in links if not rels or link["rel"] in wanted],
    }


# a URI (a scheme, then no space, control character or U+FFFD: bytes that were not
# UTF-8), or an account written without its scheme (``user@host``, ``@user@host``, as
# some clients ask); an IDN host may come in Unicode
_RESOURCE = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:|@?(?=[^@:/]+@))[^\s\x00-\x1f\x7f\ufffd]+")
_ACCOUNT = re.compile(r"@?[^\s@]+@[^\s@]+")


def webfinger_resource_ok(resource: str) -> bool:
    """Whether ``resource`` is a URI WebFinger can be asked about; a malformed one
    (``acct:`` with no account, bytes that are not UTF-8) is a 400 (RFC 7033 4.2), not
    an account that does not exist."""
    r = resource.strip()
    if not _RESOURCE.fullmatch(r):
        return False
    return r[:5].lower() != "acct:" or bool(_ACCOUNT.fullmatch(r[5:]))


def webfinger_matches(urls: Urls, resource: str) -> bool:
    """``acct:user@host`` (any case, with or without ``acct:``) or the actor's URL."""
    r = resource.strip()
    if r in (urls.actor, urls.base + "/", urls.base):
        return True
    if r[:5].lower() == "acct:":  # a URI scheme is case-insensitive (RFC 3986 3.1)
        r = r[5:]
    return r.lstrip("@").lower() == f"{urls.username}@{urls.host}".lower()


def nodeinfo_links(urls: Urls) -> dict[str, Any]:
    return {
        "links": [
            {"rel": NODEINFO_SCHEMA + v, "href": f"{urls.base}/nodeinfo/{v}"}
            for v in NODEINFO_VERSIONS
        ]
    }


def nodeinfo(cfg: Config, posts: int, version: str = "2.1") -> dict[str, Any]:
    """The NodeInfo document of schema ``version`` (one of ``NODEINFO_VERSIONS``): 2.0
    allows only a name and a version in ``software``."""
    software = {"name": "scofeed", "version": __version__}
    if version != "2.0":
        # the software's homepage and source (NodeInfo 2.1), the same on every server
        # running it: a crawler grouping servers by software linked each operator's site
        software["homepage"] = software["repository"] = HOMEPAGE
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        "openRegistrations": False,
        "usage": {
            "users": {"total": 1, "activeMonth": 1, "activeHalfyear": 1},
            "localPosts": posts,
        },
        "metadata": {"nodeName": cfg.site.title},
    }


def host_meta(urls: Urls) -> str:
    template = html.escape(urls.base + "/.well-known/webfinger?resource={uri}", quote=True)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/xrd+xml" template="{template}"/>\n'
        "</XRD>\n"
    )


# -- the actor and its collections -----------------------------------------------------


def actor(cfg: Config, public_pem: str) -> dict[str, Any]:
    urls, ap = Urls.of(cfg), cfg.activitypub
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": urls.actor,
        "type": "Service",
        "preferredUsername": urls.username,
        "name": ap.name or cfg.site.title,
        "summary": f"<p>{html.escape(ap.summary or cfg.site.description)}</p>",
        "url": urls.base + "/",
        "inbox": urls.inbox,
        "outbox": urls.outbox,
        "followers": urls.followers,
        "following": urls.following,
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": False,
        "discoverable": True,  # listed in Mastodon's profile directory, its trends
        "indexable": True,  # its posts found by Mastodon's full-text search (absent: no)
        "publicKey": {"id": urls.key_id, "owner": urls.actor, "publicKeyPem": public_pem},
    }
    if ap.icon:
        doc["icon"] = {"type": "Image", "url": ap.icon}
    return doc


def followers(urls: Urls, count: int) -> dict[str, Any]:
    """The count is public; who follows is not listed."""
    return {
        "@context": AS_CONTEXT,
        "id": urls.followers,
        "type": "OrderedCollection",
        "totalItems": count,
    }


def following(urls: Urls) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": urls.following,
        "type": "OrderedCollection",
        "totalItems": 0,
        "orderedItems": [],
    }


def outbox(urls: Urls, total: int, page_size: int) -> dict[str, Any]:
    pages = max(1, -(-total // page_size))
    return {
        "@context": AS_CONTEXT,
        "id": urls.outbox,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{urls.outbox}?page=1",
        "last": f"{urls.outbox}?page={pages}",
    }


def outbox_page(
    cfg: Config, page: int, entries: list[Entry], total: int, page_size: int
) -> dict[str, Any]:
    """Page ``page`` (from 1) of the outbox: the Create of each entry, newest first."""
    urls = Urls.of(cfg)
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": f"{urls.outbox}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": urls.outbox,
        "totalItems": total,
        "orderedItems": [_bare(create(cfg, e)) for e in entries],
    }
    if page > 1:
        doc["prev"] = f"{urls.outbox}?page={page - 1}"
    if page * page_size < total:
        doc["next"] = f"{urls.outbox}?page={page + 1}"
    return doc


def _bare(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "@context"}


# -- entries as objects ----------------------------------------------------------------


_JOINERS = "·\u200c"  # inside a word, as Mastodon's hashtags allow (ZWNJ: Persian)
_SEPARATORS = "_·・\u200c"  # Mastodon's HASHTAG_SEPARATORS: a name needs one or a letter
_APOSTROPHES = "'\u2019"


def _in_word(c: str) -> bool:
    """A hashtag's character as Mastodon's ``[[:word:]]`` has it: letters, digits, ``_``
    and combining marks (the vowel signs of Hindi, Thai, Bengali, ...)."""
    return c == "_" or c.isalnum() or unicodedata.category(c).startswith("M")


def hashtag(tag: str) -> str:
    """``foreign ministers`` -> ``ForeignMinisters``: a hashtag has no spaces or
    punctuation; its words keep their marks (``हिन्दी`` stays whole). ``""`` for a tag
    Mastodon would not take: one with no letter and no separator (``2025``)."""
    words, word = [], ""
    for i, c in enumerate(tag + " "):
        if _in_word(c) or (word and c in _JOINERS):
            word += c
        elif c in _APOSTROPHES and word and _in_word(tag[i + 1 : i + 2] or " "):
            continue  # inside a word, dropped: "Women's rights" is #WomensRights
        elif word:
            words.append(word.rstrip(_JOINERS))
            word = ""
    name = words[0] if len(words) == 1 else "".join(w[:1].upper() + w[1:] for w in words)
    return name if any(c.isalpha() or c in _SEPARATORS for c in name) else ""


def content(cfg: Config, entry: Entry, with_title: bool = True) -> str:
    """The post's HTML: title, summary, link to the release, hashtags."""
    urls = Urls.of(cfg)
    link = shown_url(entry.url or entry.link)
    e = html.escape
    parts = []
    if with_title:
        parts.append(f"<p><strong>{e(entry.title)}</strong></p>")
    if entry.summary:
        parts.append(f"<p>{e(ellipsized(entry.summary, SUMMARY_MAX))}</p>")
    parts.append(f'<p><a href="{e(link)}">{e(link)}</a></p>')
    tags = [(hashtag(t), urls.tag(t)) for t in entry.tags if hashtag(t)]
    if tags:
        parts.append(
            "<p>"
            + " ".join(
                f'<a href="{e(page)}" class="mention hashtag" rel="tag">#<span>{e(name)}</span></a>'
                for name, page in tags
            )
            + "</p>"
        )
    return "".join(parts)


def note(cfg: Config, entry: Entry) -> dict[str, Any]:
    """The entry as a Note (or an Article with ``object_type = "Article"``). Its ``url``
    is the release's address when fediverse servers can read it (``whatwg_parsable``), else
    the entry's own page; the content links to the address either way. It was published
    when scofeed first stored the entry (``Entry.first_seen``), not on the release's date:
    Mastodon dates a post by it, and puts in its followers' home timelines only a post
    of the last six hours (a release dated midnight in Beijing and seen that morning was
    shown on the profile alone)."""
    urls = Urls.of(cfg)
    kind = cfg.activitypub.object_type
    body = content(cfg, entry, with_title=kind == "Note")
    address = shown_url(entry.url or entry.link)
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": urls.object(entry),
        "type": kind,
        "attributedTo": urls.actor,
        "published": stamp(posted(entry)),
        "url": address if whatwg_parsable(address) else urls.object(entry),
        "to": [PUBLIC],
        "cc": [urls.followers],
        "content": body,
        "contentMap": {entry.language: body},
        "tag": [
            {"type": "Hashtag", "href": urls.tag(t), "name": "#" + hashtag(t)}
            for t in entry.tags
            if hashtag(t)
        ],
    }
    if kind == "Article":
        doc["name"] = entry.title
    if entry.revision > 1:
        doc["updated"] = stamp(entry.updated)
    return doc


# how long after its own date a release may be first seen and still be posted as news
POSTED_WITHIN = timedelta(days=3)


def posted(entry: Entry) -> datetime:
    """When the entry's post was published: when scofeed first stored it, to the second,
    for a release first seen within ``POSTED_WITHIN`` of its own date; an older one (an
    archive filled in, ``scofeed add`` of a 2019 release) keeps its own date, and stays
    out of home timelines as before (the release's date, too, for an entry not read
    from the store)."""
    if entry.first_seen is None:
        return entry.published
    seen = datetime.fromtimestamp(int(entry.first_seen), UTC)
    return seen if seen - entry.published <= POSTED_WITHIN else entry.published


def create(cfg: Config, entry: Entry) -> dict[str, Any]:
    obj = note(cfg, entry)
    return _activity(cfg, "Create", obj["id"] + "#create", _bare(obj), obj["published"])


def update(cfg: Config, entry: Entry, at: datetime) -> dict[str, Any]:
    """The correction of an entry, sent ``at`` (the build that saw it). Its ``updated``
    is the later of the entry's and ``at``: Mastodon applies an edit only when its
    ``updated`` is later than the last one it applied, and a source can state the same
    (or an earlier) ``updated`` on two corrections, which would leave the second
    unseen."""
    obj = note(cfg, entry)
    obj["updated"] = stamp(max(entry.updated, at))
    # the content too: a store gone back (a backup restored) counts a revision again,
    # and an Update of other content under an id a server has seen may be dropped
    activity_id = f"{obj['id']}#update-{entry.revision}-{entry.content_hash[:8]}"
    return _activity(cfg, "Update", activity_id, _bare(obj), obj.get("updated"))


def tombstone(urls: Urls, object_id: str, now: datetime) -> dict[str, Any]:
    return {"id": object_id, "type": "Tombstone", "deleted": stamp(now)}


def delete(cfg: Config, object_id: str, now: datetime) -> dict[str, Any]:
    """A withdrawn entry: Delete{Tombstone} of its object (``object_id``: ``Urls.object``)."""
    urls = Urls.of(cfg)
    return _activity(cfg, "Delete", object_id + "#delete", tombstone(urls, object_id, now), None)


def _activity(
    cfg: Config, kind: str, activity_id: str, obj: dict[str, Any], published: str | None
) -> dict[str, Any]:
    urls = Urls.of(cfg)
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": urls.actor,
        "to": [PUBLIC],
        "cc": [urls.followers],
        "object": obj,
    }
    if published:
        doc["published"] = published
    return doc


def accept(urls: Urls, follow: dict[str, Any], at: float) -> dict[str, Any]:
    """``Accept{Follow}`` (``answer``)."""
    return answer("Accept", urls, follow, at)


def answer(kind: str, urls: Urls, follow: dict[str, Any], at: float) -> dict[str, Any]:
    """``Accept{Follow}`` or ``Reject{Follow}`` (``kind``), echoing the Follow as received
    (its id, actor and object, the object by its id: the Follow's sender may dress it
    with anything, and a quarter of a megabyte of it was queued, and kept, in each
    Accept). Its id is made of the Follow's and the time it was answered: a follow made
    again with the same id (Misskey's are one per pair of accounts) is accepted anew,
    not taken for the Accept already sent."""
    follow_id = str(follow.get("id", ""))
    digest = hashlib.sha256(f"{follow_id} {at:.6f}".encode()).hexdigest()[:24]
    echoed: dict[str, Any] = {k: follow[k] for k in ("id", "type", "actor") if k in follow}
    if "object" in follow:
        obj = follow["object"]
        echoed["object"] = obj.get("id") if isinstance(obj, dict) else obj
    return {
        "@context": AS_CONTEXT,
        "id": f"{urls.actor}#{kind.lower()}s/{digest}",
        "type": kind,
        "actor": urls.actor,
        "to": [follow.get("actor")],
        "object": echoed,
    }
