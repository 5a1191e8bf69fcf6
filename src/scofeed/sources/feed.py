"""Feeds as a source: RSS and Atom (feedparser) or JSON Feed (json), one Release per item.

Hostile XML is refused before any parser sees it: a feed that declares its own
entities (the shape of XXE and "billion laughs" payloads) is rejected whole, and so is
one with an item of more than ``MAX_ITEM_TAGS`` tags written plainly (feedparser's
time grows with the square of an item's tags).

An item is named (its release's ``origin``) by its link, else ``FEED#ID``, else
``FEED#<hash of its title, date and text>``: never by its place in the feed, which
shifts by one whenever a new item comes in at the head, and would make each item
revise the entry of the one it displaced.
"""

from __future__ import annotations

import bisect
import calendar
import email.utils
import json
import logging
import re
import xml.sax
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from scofeed.config.redact import logged
from scofeed.dates import aware, parse_stamp
from scofeed.errors import RejectedInput
from scofeed.languages import language_tag
from scofeed.markup import (
    MAX_ATTRIBUTES,
    TOO_MANY_ATTRIBUTES,
    closed_raw_text,
    most_attributes,
    tag,
)
from scofeed.model import Release
from scofeed.render.links import absolute_links
from scofeed.sources import wide_codec
from scofeed.sources.htmlpage import fragment_text, host_language, mostly_not_utf8, xml_text
from scofeed.sources.meta import said_name

log = logging.getLogger(__name__)

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_XML_ENCODING = re.compile(
    rb"\s*<\?xml[^>]*\sencoding\s*=\s*[\"']?([A-Za-z0-9._:-]*)", re.IGNORECASE
)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# feedparser checks each of an item's tags against those before it: one item of 16,000
# categories (420 kB) took ~2.4 s, of 80,000 (2 MB) ~170 s. Tags come from categories,
# dc:subject and the comma-separated words of media: and itunes:keywords alike. The
# count is of tags written plainly: one in CDATA or behind a comment is not seen here,
# and the time budget (``limits.file_seconds``) bounds that feed instead
MAX_ITEM_TAGS = 2_000  # ~0.1 s; a real item has a handful
_ITEM_OPEN = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)[\s/>]", re.IGNORECASE)
_TAG_OPEN = re.compile(rb"<(?:[\w.-]+:)?(?:category|subject)[\s/>]", re.IGNORECASE)
# no "<" inside the tag: "[^>]*" ran on past each of 100,000 "<keywords" with no ">"
# to the end of the data, 5 s for 360 kB, in one call no budget can interrupt
_KEYWORDS = re.compile(rb"<[\w.-]+:keywords\b[^<>]*>([^<]*)", re.IGNORECASE)
# a character reference to no character (past U+10FFFF, or half of one: a surrogate),
# as written or escaped again inside an item's HTML ("&amp;#xD800;"): feedparser's HTML
# sanitiser raised ValueError on it, and the one item failed the whole feed, every poll
_CHAR_REF = re.compile(rb"&(?:amp;)*#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));?")


# feedparser's word that the XML broke off (a feed cut short, a tag left open), not a
# benign one (a content type that is not XML's, a charset overridden)
_XML_TROUBLE = xml.sax.SAXException


_WIDE = (  # XML in UTF-32 or UTF-16: by its byte order mark, or by its "<" (XML 1.0 F.1)
    (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"),
    (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le"),
)  # fmt: skip


def _in_utf8(data: bytes) -> bytes:
    """A feed's bytes as UTF-8, for the checks made before it is parsed: as they are
    but for XML in UTF-16 or UTF-32 (by its mark, its "<", or its NULs: white space may
    come first) or in EBCDIC ("<?xm" as 4C 6F A7 94, XML 1.0 F.1), which feedparser
    reads too: an entity declared or a flood of tags or attributes written so went
    past checks that look for ASCII."""
    for mark, codec in _WIDE:
        if data.startswith(mark):
            return data.decode(codec, "replace").lstrip("\ufeff").encode("utf-8")
    if data.startswith(b"\x4c\x6f\xa7\x94"):
        return data.decode("cp037", "replace").encode("utf-8")
    unmarked = wide_codec(data[:64]) if b"\x00" in data[:64] else None  # after white space
    return data.decode(unmarked, "replace").encode("utf-8") if unmarked else data


def _no_char(m: re.Match[bytes]) -> bytes:
    digits = (m[1] or m[2]).lstrip(b"0")
    code = int(digits or b"0", 16 if m[1] else 10) if len(digits) <= 8 else -1
    return m[0] if 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else b""


def read_feed(
    origin: str,
    data: bytes,
    base_url: str,
    source: str = "feed",
    charset: str | None = None,
    guess: Callable[[bytes], str | None] | None = None,
) -> list[Release]:
    """Every item of an RSS, Atom or JSON feed as a Release; ``charset`` is the one the
    HTTP ``Content-Type`` named, for XML that declares none itself. XML said (or taken)
    to be UTF-8 whose bytes mostly are not is read in the charset ``guess`` finds."""
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        return _json_feed(origin, data, base_url, source)
    checked = _in_utf8(data)  # the checks below read ASCII: UTF-16's "<" is "<\x00"
    if _ENTITY_DECL.search(checked[:65536]):
        raise RejectedInput(origin, "feed declares XML entities (entity expansion refused)")
    # an item's XHTML content is XML elements: feedparser took 3 s over 20,000
    # attributes of one (an escaped HTML content goes through its sanitiser quickly)
    if most_attributes(checked.decode("utf-8", "replace")) > MAX_ATTRIBUTES:
        raise RejectedInput(origin, TOO_MANY_ATTRIBUTES)
    if (most := _most_tags(checked)) > MAX_ITEM_TAGS:
        raise RejectedInput(
            origin, f"an item has {most} tags (categories, subjects, keywords), over "
            f"{MAX_ITEM_TAGS}: refused unparsed"
        )  # fmt: skip
    # the document's own word (a BOM, an XML declaration's encoding) beats the header's,
    # which is often a server's default rather than the feed's
    declared = _XML_ENCODING.match(data[:512])
    said = declared.group(1).decode("ascii") if declared else charset
    if guess and not data.startswith(_BOMS) and (said or "utf-8").lower() in ("utf-8", "utf8"):
        if mostly_not_utf8(data) and (found := guess(data)):
            # feedparser would read them as windows-1252 (mojibake): as UTF-8 from here
            data, charset = data.decode(found, errors="replace").encode("utf-8"), "utf-8"
    own = data.startswith(_BOMS) or declared
    headers = (
        {"content-type": f"application/xml; charset={charset}"} if charset and not own else None
    )
    if b"&" in data:
        data = _CHAR_REF.sub(_no_char, data)
    try:
        parsed = feedparser.parse(
            data, sanitize_html=True, resolve_relative_uris=True, response_headers=headers
        )
    except ValueError as exc:  # feedparser's own trouble with what it was given
        first = (str(exc).splitlines() or [""])[0][:160]  # a reason is one line
        raise RejectedInput(origin, f"not a feed ({type(exc).__name__}: {first})") from None
    version = parsed.get("version")  # missing, not empty, when the body was empty
    if not parsed.entries and (parsed.get("bozo") or not version):
        why = getattr(parsed, "bozo_exception", None) or "no RSS, Atom or JSON feed found"
        raise RejectedInput(origin, f"not a feed ({str(why).splitlines()[0]})")
    if parsed.get("bozo") and isinstance(parsed.get("bozo_exception"), _XML_TROUBLE):
        # read as far as it goes (a feed cut short): its items are taken, and it is said
        why = (str(parsed.bozo_exception).splitlines() or [""])[0][:160]
        log.info("feed_malformed origin=%s reason=%r items=%d", logged(origin), why,
                 len(parsed.entries))  # fmt: skip
    # RSS 1.0 has no <language> of its own: its xml:lang (on rdf:RDF or the channel)
    # comes to the channel's title, and to each item's parts, as Atom's does
    by_parts = str(version or "").startswith(("atom", "rss090", "rss10"))
    lang = parsed.feed.get("language") or (
        by_parts and _part_language([parsed.feed.get("title_detail")])
    )
    lang = (lang or "").strip() or None  # normalise reads the tag
    releases = []
    for item in parsed.entries:
        link = _web_link(base_url, item.get("link"))
        value, is_html = _item_content(item)
        html = absolute_links(value, link or base_url) if is_html else ""
        text = (fragment_text(html) if html else "") if is_html else value
        updated = _item_date(item, "updated")
        published = _item_date(item, "published") or updated
        releases.append(
            Release(
                origin=link or _name(origin, item.get("id"), item.get("title"), published, text),
                text=text,
                title=item.get("title") or None,
                html=html or None,
                published=published,
                updated=updated if _later(updated, published) else None,
                url=link,
                tags=tuple(t.get("term") for t in item.get("tags", []) if t.get("term")),
                lang=_item_language(item, by_parts) or lang or host_language(link),
                key=None if link else item.get("id") or None,
                source=source,
                alias=_alias(origin, item.get("id"), link),
            )
        )
    releases = _distinct(origin, releases)
    log.debug("feed_read origin=%s format=%s items=%d", logged(origin), version, len(releases))
    return releases


def _most_tags(data: bytes) -> int:
    """The most tags one item of the feed's XML may have, counted in its bytes: the
    whole feed's when that is few, else per item (what stands before the first item,
    the channel's own, counts as one more)."""
    found = [(m.start(), 1) for m in _TAG_OPEN.finditer(data)]
    found += [(m.start(), m[1].count(b",") + 1) for m in _KEYWORDS.finditer(data)]
    total = sum(n for _, n in found)
    if total <= MAX_ITEM_TAGS:
        return total
    starts = [m.start() for m in _ITEM_OPEN.finditer(data)]
    per_item: Counter[int] = Counter()
    for at, n in found:
        per_item[bisect.bisect_right(starts, at)] += n
    return max(per_item.values())


def _distinct(origin: str, releases: list[Release]) -> list[Release]:
    """One release per item name: an item listed again under the same link or id (a
    feed's bug) is dropped, the first kept, as a feed lists its newest version first.
    Both kept, the two texts took turns revising the entry at every poll. Items of
    different ids that share one link (a feed linking every item to its home page) are
    each named by their id, without that link, which is none of theirs. An id that
    items with different links share names none of them: the alias is dropped from
    each, so that neither takes the other's entry."""
    ids_by_link: dict[str, set[str]] = {}
    for r in releases:
        if r.url is not None and r.alias is not None:
            ids_by_link.setdefault(r.origin, set()).add(r.alias)
    shared = {link for link, ids in ids_by_link.items() if len(ids) > 1}
    if shared:
        releases = [
            replace(r, origin=r.alias, key=r.alias[len(origin) + 1 :], url=None, alias=None)
            if r.origin in shared and r.alias is not None
            else r
            for r in releases
        ]
    seen: set[str] = set()
    kept = []
    for release in releases:
        if release.origin in seen:
            log.info("feed_item_repeated origin=%s item=%s", logged(origin), logged(release.origin))
            continue
        seen.add(release.origin)
        kept.append(release)
    aliases = Counter(r.alias for r in kept if r.alias is not None)
    shared = {alias for alias, n in aliases.items() if n > 1}
    return [replace(r, alias=None) if r.alias in shared else r for r in kept]


def _name(origin: str, ident: Any, title: Any, published: datetime | None, text: str) -> str:
    """An item without a link: ``FEED#ID``, else ``FEED#`` and a hash of what it says."""
    if ident:
        return f"{origin}#{ident}"
    # a date stating no zone was read as UTC when items were first named so: it still is
    said = aware(published, "UTC").isoformat() if published else ""
    return f"{origin}#{said_name(str(title or ''), said, text)}"


def _alias(origin: str, ident: Any, link: str | None) -> str | None:
    """``FEED#ID`` for an item named by its link that has an id (RSS guid, Atom id) of
    another spelling: the link may follow a corrected title (a slug), the id stays."""
    if link is None or not isinstance(ident, str) or not ident.strip() or ident == link:
        return None
    return f"{origin}#{ident.strip()}"


def _web_link(base_url: str, value: Any) -> str | None:
    """An item's link made absolute; None unless it is an http(s) address, so a
    ``javascript:`` or ``data:`` link never becomes an entry's link in our feeds."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        link = urljoin(base_url, value.strip())
        parts = urlsplit(link)
    except ValueError:  # "http://[::1/x": not an address; the item goes by its id
        log.info("feed_link_dropped link=%r reason=malformed", value[:200])
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        log.info("feed_link_dropped link=%r reason=not-http", value[:200])
        return None
    return link


def _own_tag(value: str) -> str | None:
    """An item's stated language, when it is a language tag (else the feed's counts)."""
    value = value.strip()
    return value if language_tag(value) is not None else None


def _item_language(item: Any, by_parts: bool) -> str | None:
    """The language an item states of its own: RSS ``<dc:language>`` in the item, Atom
    and RSS 1.0 ``xml:lang`` on the entry (or on its content, summary or title:
    feedparser gives it to each part, inherited from the feed's when the entry states
    none), as a JSON Feed item's ``language`` is read. Without it, every item was stored
    in the feed's language (a Russian item of an English feed as ``en``, in the English
    feeds). An RSS 2.0 item's parts are not asked: its ``dc:language`` says it."""
    said = item.get("language")
    if not said and by_parts:
        said = _part_language(
            [*item.get("content", []), item.get("summary_detail"), item.get("title_detail")]
        )
    # a value that is no language tag ("French", "fr_FR") says nothing: the feed's does
    return _own_tag(str(said)) if said else None


def _part_language(parts: list[Any]) -> str | None:
    """The first ``xml:lang`` feedparser gives one of ``parts`` (each may be None)."""
    return next((part.get("language") for part in parts if part and part.get("language")), None)


def _item_content(item: Any) -> tuple[str, bool]:
    """The item's content, else its summary, and whether it is HTML. An Atom
    ``type="text"`` one (feedparser's ``text/plain``, the default in Atom) holding no
    tag is text, as RFC 4287 says, read as a .txt release's (its paragraphs parted by
    blank lines: read as HTML, they ran together). One holding a tag is read as HTML, as
    feed readers read it and scofeed did (generators leave out ``type="html"``, in any
    case, with any tag), but for a raw-text start tag never closed, shown as written:
    "the &lt;script&gt; element" took the rest of the item with it."""
    for content in item.get("content", []):
        if content.get("value"):
            return _as_given(str(content["value"]), content.get("type"))
    detail = item.get("summary_detail") or {}
    return _as_given(str(item.get("summary") or item.get("description") or ""), detail.get("type"))


def _as_given(value: str, kind: object) -> tuple[str, bool]:
    if kind != "text/plain":
        return value, True
    if "<" not in value or tag().search(value) is None:
        return value, False
    return closed_raw_text(value), True


def _item_date(item: Any, key: str) -> datetime | None:
    """An RSS or Atom item's date (``key``: published, updated): feedparser's, in UTC,
    but for a value stating no zone, which feedparser took for UTC (or, written as RSS
    does with its weekday, could not read at all, and the item was refused for having
    no date): that one is naive, and normalise puts it in ``site.timezone``, as the docs
    say of every date-only or zone-less value. ``dict.get``: feedparser maps a missing
    updated to published, warning."""
    parsed = _struct(dict.get(item, f"{key}_parsed"))
    raw = dict.get(item, key)
    if isinstance(raw, str) and raw.strip():
        local = _zoneless(raw)
        if local is not None:
            return local
    return parsed


def _zoneless(raw: str) -> datetime | None:
    """The naive date and time of ``raw`` when it states no zone (RFC 3339 / ISO 8601,
    or RFC 822 as RSS writes it); None when it states one or is no such date."""
    stamp = parse_stamp(raw)
    if stamp is not None:
        return stamp if stamp.tzinfo is None else None
    if _ENDS_IN_A_ZONE.search(raw):  # parsedate_tz says 0 for "GMT" and for none alike
        return None
    # a date alone is midnight (parsedate_tz reads none without a time)
    fields = email.utils.parsedate_tz(raw) or email.utils.parsedate_tz(raw + " 00:00")
    if fields is None:
        return None
    try:
        return datetime(*fields[:6])
    except (ValueError, OverflowError):
        return None


# RFC 822's zone, the last word of its date: "+0300", "GMT", "EST", "Z"
_ENDS_IN_A_ZONE = re.compile(r"(?:[+-]\d\d:?\d\d|[A-Za-z]+)\s*$")


def _later(updated: datetime | None, published: datetime | None) -> bool:
    """Whether ``updated`` is after ``published`` (one stating no zone compared as if in
    UTC)."""
    if updated is None or published is None:
        return False
    return aware(updated, "UTC") > aware(published, "UTC")


def _struct(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)


def _json_feed(origin: str, data: bytes, base_url: str, source: str) -> list[Release]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RejectedInput(origin, f"not a JSON feed ({exc})") from None
    except RecursionError:
        raise RejectedInput(origin, "not a JSON feed (nested too deeply)") from None
    except ValueError as exc:  # an integer past Python's 4,300-digit conversion limit
        raise RejectedInput(origin, f"not a JSON feed ({str(exc).split(':', 1)[0]})") from None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise RejectedInput(origin, "not a JSON feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise RejectedInput(origin, "JSON feed without an items list")
    lang = _text(_whole(doc.get("language"))).strip() or None
    releases = []
    for item in items:
        if not isinstance(item, dict):
            continue
        item = {key: _whole(value) for key, value in item.items()}
        link = _web_link(base_url, item.get("url"))
        link = link or _web_link(base_url, item.get("external_url"))
        html = _text(item.get("content_html"))
        # lxml reads it next, as it is (its links) and as xml_text leaves it (its text)
        if max(most_attributes(html), most_attributes(xml_text(html))) > MAX_ATTRIBUTES:
            raise RejectedInput(origin, TOO_MANY_ATTRIBUTES)  # the whole feed, as for tags
        html = absolute_links(html, link or base_url)
        text = _text(item.get("content_text")) or (fragment_text(html) if html else "")
        if not text:
            text = _text(item.get("summary"))
        published = _iso(item.get("date_published"))
        updated = _iso(item.get("date_modified"))
        # JSON Feed 1.1: an id given as a number is read as its string
        ident = item.get("id")
        ident = str(ident) if isinstance(ident, int) and not isinstance(ident, bool) else ident
        ident = ident if isinstance(ident, str) else None
        title = _text(item.get("title")) or None
        raw_tags = item.get("tags")
        tags: list[Any] = raw_tags if isinstance(raw_tags, list) else []
        releases.append(
            Release(
                origin=link or _name(origin, ident, title, published, text),
                text=text,
                title=title,
                html=html or None,
                published=published,
                updated=updated if _later(updated, published) else None,
                url=link,
                tags=tuple(t for t in tags if isinstance(t, str)),
                lang=_own_tag(_text(item.get("language"))) or lang,
                key=None if link else str(ident or "") or None,
                source=source,
                alias=_alias(origin, ident, link),
            )
        )
    releases = _distinct(origin, releases)
    log.debug("feed_read origin=%s format=json items=%d", logged(origin), len(releases))
    return releases


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> str:
    """A JSON Feed text field: a string, else "" (JSON Feed 1.1 gives each one as a
    string; a list or an object there was published as its Python form, "['a', 'b']",
    and a tag object made a tag feed of it). The field is then as if not given."""
    return value if isinstance(value, str) else ""


def _whole(value: Any) -> Any:
    """A string (or a list's strings) without lone surrogates: JSON may escape one
    ("\\ud800"), and no text encoding carries it, so the first encode of that item
    (parsing its HTML, minting its id) failed the whole poll of the feed."""
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub("", value)
    if isinstance(value, list):
        return [_whole(v) if isinstance(v, str) else v for v in value]
    return value


def _iso(value: Any) -> datetime | None:
    """A JSON Feed date; one stating no zone stays naive (normalise puts it in
    ``site.timezone``, as it does a release's own ``date``)."""
    return parse_stamp(value) if isinstance(value, str) else None
