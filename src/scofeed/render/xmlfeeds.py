"""Atom 1.0 and RSS 2.0 through feedgen, with its 1.0.0 traps handled:

- naive datetimes raise: every date we pass is timezone-aware;
- ``updated`` and RSS ``lastBuildDate`` default to now: we always set them to the
  newest entry's updated time (or the set's last withdrawal, when later; a feed with
  neither, the date its head gives: see ``_feed_updated``), so an unchanged feed is
  byte-identical;
- ``add_entry`` prepends by default: we append, keeping newest-first order;
- entry links lose ``rel`` and ``type`` (feedgen bug #135): we put them back on the
  Atom tree with lxml before serialising;
- each ``category()`` call rebuilds the entry's whole category list: an entry's tags
  are given in one call, or a release stating 20,000 tags took minutes to render;
- its Atom tree is in no namespace (the root carries a literal ``xmlns`` attribute),
  which only its own serialiser turns into Atom: ``_atom_tree`` puts the tree in the
  Atom namespace, so it is edited as built, not written out and parsed back (that round
  trip cost a third of the rendering of an archive page). The RSS tree is namespaced
  as built. ``_create_atom`` and ``_create_rss`` (what ``atom_str`` and ``rss_str``
  serialise) are private in feedgen 1.0, the range pyproject.toml allows; the tests
  compare our feeds' bytes with what the round trip gave.

WebSub discovery: each hub of ``cfg.hub_urls()`` is a ``link rel="hub"`` (an
``atom:link`` in RSS) placed right after the feed's one ``rel="self"`` link.

The W3C Feed Validator warns when two Atom entries share one ``updated`` value
(DuplicateUpdated), which date-only releases of the same day always would (midnight).
So an Atom ``updated`` on a whole second gets a sub-second offset drawn from the
entry's id: stable for that entry whatever else is in the feed, under one second, and
never before the stated time. RSS and JSON Feed carry the dates as they are.

Withdrawn entries (RFC 6721): feedgen cannot write ``at:deleted-entry``, so each
tombstone is added to the Atom tree with lxml after feedgen renders, after the entries,
with ``ref`` (the entry id), ``when``, ``at:by`` (the site's author) and the reason as
``at:comment``; the ``at`` prefix is declared on the feed element only when there is a
tombstone, so a feed without one is byte for byte what it was. RSS and JSON Feed have
no tombstones: a withdrawn entry is simply absent.

An entry in another language than its feed's says its own: Atom ``xml:lang`` on the
entry, RSS ``dc:language`` in the item (RSS 2.0 has only the channel's ``language``).
Every language tag in Atom and RSS is written in its extlang form (``zh-yue`` for
``yue``, ``scofeed.languages``): the same language, in the tag readers of the ISO 639-1
and 639-2 codes (and the W3C Feed Validator) know; JSON Feed says ``yue``.

RSS ``description`` holds HTML, so the plain-text summary goes into it HTML-escaped
(then XML-escaped by the serialiser): ``<script>`` in a release's text is shown as
text by every reader, never run. Atom ``summary`` is ``type="text"``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from feedgen.feed import FeedGenerator
from lxml import etree

from scofeed import HOMEPAGE, __version__
from scofeed.config import Config
from scofeed.digest import sha256
from scofeed.errors import RenderError
from scofeed.languages import extlang_form
from scofeed.model import Entry
from scofeed.render.catalog import Head

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"  # RFC 6721


def _feed_updated(dates: Sequence[datetime], head: Head) -> datetime:
    """The feed's own date: the newest of ``dates`` (its entries', and in Atom its
    tombstones') and of the set's last withdrawal, so a feed whose newest entries, or all
    of them, were withdrawn says when that happened, not an older date. A feed with
    none of these (no entry, no withdrawal) says since when it has been published so,
    ``head.empty_since`` (Atom requires a date; a made-up one, or the build time, would
    be a lie or change at every build)."""
    last = [head.last_withdrawal] if head.last_withdrawal is not None else []
    if dates or last:
        return max([*dates, *last])
    if head.empty_since is None:
        raise RenderError(f"{head.self_url}: an empty feed needs a date (Head.empty_since)")
    return head.empty_since


def atom_updated(entries: list[Entry]) -> list[datetime]:
    """Each entry's Atom ``updated``, distinct within the feed (see the module docstring)."""
    out: list[datetime] = []
    taken: set[datetime] = set()
    for e in entries:
        when = e.updated
        if when.microsecond == 0:
            digest = sha256(e.id.encode("utf-8")).digest()
            when += timedelta(microseconds=1 + int.from_bytes(digest[:4], "big") % 999_999)
        while when in taken:  # a clash of two offsets: vanishingly rare, settled in order
            when += timedelta(microseconds=1)
        taken.add(when)
        out.append(when)
    return out


def feed_id(cfg: Config) -> str:
    """The feed's own id: a tag: URI that never changes when the site moves."""
    return f"tag:{cfg.site.id_authority}:feed"


def _base(cfg: Config, head: Head, self_type: str) -> FeedGenerator:
    site = cfg.site
    fg = FeedGenerator()
    fg.id(head.id)
    fg.title(head.title)
    fg.subtitle(head.description)
    fg.language(extlang_form(head.language))
    fg.link(href=head.home or site.home, rel="alternate", type="text/html")
    fg.link(href=head.self_url, rel="self", type=self_type)
    fg.generator("scofeed", version=__version__, uri=HOMEPAGE)
    return fg


def _add_links(
    self_link: etree._Element | None, tag: str, cfg: Config, head: Head, self_type: str
) -> None:
    """``<link rel="hub">`` elements right after the self link, in ``hub_urls`` order
    (subscription feeds only), then the head's RFC 5005 links, then ``<fh:archive/>``
    on an archive page or ``<fh:complete/>`` on a feed that holds every entry."""
    if self_link is None:
        return
    anchor = self_link
    hubs = () if head.archive else cfg.hub_urls()
    made = [etree.Element(tag, href=url, rel="hub") for url in hubs]
    made += [etree.Element(tag, href=href, rel=rel, type=self_type) for rel, href in head.links]
    if head.archive:
        made.append(etree.Element(f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS}))
    elif head.complete:
        made.append(etree.Element(f"{{{FH_NS}}}complete", nsmap={"fh": FH_NS}))
    for node in made:
        node.tail = anchor.tail
        anchor.addnext(node)
        anchor = node


def _stamp(t: datetime) -> str:
    """RFC 3339 in UTC, ``Z``, to the second (the ``when`` of a tombstone)."""
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _with_tombstones(
    root: etree._Element, withdrawn: Sequence[Entry], cfg: Config
) -> etree._Element:
    """The feed with an ``at:deleted-entry`` for each withdrawn entry, after the entries;
    the ``at`` prefix declared on the feed element (lxml cannot add it to an element
    already made, so the tree is copied under a root that declares it)."""
    nsmap = {**root.nsmap, "at": TOMBSTONES_NS}
    feed = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=nsmap)
    feed.text = root.text
    for child in root:
        feed.append(child)
    for e in withdrawn:
        w = e.withdrawal
        if w is None:
            continue
        node = etree.SubElement(
            feed, f"{{{TOMBSTONES_NS}}}deleted-entry", ref=e.id, when=_stamp(w.at)
        )
        by = etree.SubElement(node, f"{{{TOMBSTONES_NS}}}by")
        etree.SubElement(by, f"{{{ATOM_NS}}}name").text = cfg.site.author
        if w.reason:
            etree.SubElement(node, f"{{{TOMBSTONES_NS}}}comment").text = w.reason
    return feed


def _atom_tree(fg: FeedGenerator) -> etree._Element:
    """feedgen's Atom tree in the Atom namespace: what parsing its ``atom_str`` gives."""
    built, _doc = fg._create_atom()
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS, **built.nsmap})
    for name, value in built.attrib.items():
        if name != "xmlns":
            root.set(name, value)
    root.extend(built)
    for node in root.iterdescendants():
        tag = node.tag
        if isinstance(tag, str) and tag[0] != "{":
            node.tag = f"{{{ATOM_NS}}}{tag}"
    return root


def _rss_tree(fg: FeedGenerator) -> etree._Element:
    """feedgen's RSS tree, namespaced as built."""
    root, _doc = fg._create_rss()
    return root


def render_atom(
    entries: list[Entry], cfg: Config, head: Head, withdrawn: Sequence[Entry] = ()
) -> bytes:
    """The Atom feed; ``withdrawn``: the entries whose tombstones it carries."""
    fg = _base(cfg, head, "application/atom+xml")
    fg.author({"name": cfg.site.author})
    updated = atom_updated(entries)
    gone = [e.withdrawal.at for e in withdrawn if e.withdrawal is not None]
    fg.updated(_feed_updated([*updated, *gone], head))
    for e, e_updated in zip(entries, updated, strict=True):
        fe = fg.add_entry(order="append")
        fe.id(e.id)
        fe.title(e.title)
        fe.updated(e_updated)
        fe.published(e.published)
        fe.author({"name": e.author})
        fe.link(href=e.link, rel="alternate", type="text/html")
        fe.summary(e.summary)
        fe.content(e.content_html, type="html")
        if e.tags:  # in one call: feedgen rebuilds its whole category list on each
            fe.category([{"term": tag} for tag in e.tags])
    root = _atom_tree(fg)
    # feedgen bug #135: put rel and type back on entry links
    for node, e in zip(root.iterfind(f"{{{ATOM_NS}}}entry"), entries, strict=True):
        for link in node.iterfind(f"{{{ATOM_NS}}}link"):
            link.set("rel", "alternate")
            link.set("type", "text/html")
        if e.language != head.language:
            node.set("{http://www.w3.org/XML/1998/namespace}lang", extlang_form(e.language))
    self_link = root.find(f"{{{ATOM_NS}}}link[@rel='self']")
    _add_links(self_link, f"{{{ATOM_NS}}}link", cfg, head, "application/atom+xml")
    if gone:
        root = _with_tombstones(root, withdrawn, cfg)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def rfc822_safe(t: datetime) -> datetime:
    """``t``, or the same instant in UTC when its offset is not a whole or half hour
    (Nepal's +05:45, Chatham's +12:45, a zone's local mean time before 1900): an RSS
    date is RFC 822, which the W3C Feed Validator reads only with such offsets (it
    warns "Problematical RFC 822 date-time value"), and which has no seconds in an
    offset at all. Atom and JSON Feed (RFC 3339) keep the offset as stated."""
    offset = t.utcoffset()
    if offset is not None and offset.total_seconds() % 1800:
        return t.astimezone(UTC)
    return t


def render_rss(entries: list[Entry], cfg: Config, head: Head) -> bytes:
    fg = _base(cfg, head, "application/rss+xml")
    fg.load_extension("dc", atom=False, rss=True)
    # sets lastBuildDate, which otherwise is now
    fg.updated(rfc822_safe(_feed_updated([e.updated for e in entries], head)))
    if entries:
        fg.pubDate(rfc822_safe(max(e.published for e in entries)))
    for e in entries:
        fe = fg.add_entry(order="append")
        fe.id(e.id)
        fe.guid(e.id, permalink=False)
        fe.title(e.title)
        fe.link(href=e.link, rel="alternate", type="text/html")
        # RSS description is HTML (readers render it): the plain-text summary is escaped
        # as text first, so markup in it reaches a reader as visible text, never as tags
        fe.description(html.escape(e.summary, quote=False))
        fe.content(e.content_html, type="html")
        fe.published(rfc822_safe(e.published))
        fe.updated(rfc822_safe(e.updated))
        fe.dc.dc_creator(e.author)
        if e.language != head.language:  # as Atom's xml:lang: RSS has no item language
            fe.dc.dc_language(extlang_form(e.language))
        if e.tags:  # in one call: feedgen rebuilds its whole category list on each
            fe.category([{"term": tag} for tag in e.tags])
    root = _rss_tree(fg)
    generator = root.find("channel/generator")
    if generator is not None:  # feedgen gives RSS the name alone, Atom its version too
        generator.text = f"scofeed {__version__}"
    channel_link = root.find("channel/link")
    if channel_link is not None:  # feedgen takes the self link here; the page is meant
        channel_link.text = head.home or cfg.site.home
    self_link = root.find(f"channel/{{{ATOM_NS}}}link[@rel='self']")
    _add_links(self_link, f"{{{ATOM_NS}}}link", cfg, head, "application/rss+xml")
    written = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return _RSS_PLAIN.sub(_hex_refs, written) if b"&" in written else written


# RSS's plain-text elements: the RSS Best Practices Profile asks for "&" and "<" in them
# as hexadecimal references, which a reader cannot mistake for escaped markup (the W3C
# validator warns of "SCO &lt;Digital&gt; Forum" in a title)
_RSS_PLAIN = re.compile(rb"(<(title|category)>)([^<]*)(</\2>)")


def _hex_refs(m: re.Match[bytes]) -> bytes:
    text = m.group(3).replace(b"&lt;", b"&#x3C;").replace(b"&amp;", b"&#x26;")
    return m.group(1) + text + m.group(4)
