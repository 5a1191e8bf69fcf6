"""Relative links inside entry content made absolute, and tracking parameters taken out
of the links an entry shows.

A feed is read far from the page a release came from: a reader resolves a relative
``href`` or ``src`` against the feed's own address, which points into our site, not
the release's (and the W3C Feed Validator warns about relative references in RSS
content). So links are resolved against the entry's own link before rendering, and
against the feed's URL when a feed item is read. Pure: text in, text out.

lxml.html loads by name on the first fragment with a relative link, not with this
module: most content has none, and a one-shot build need not pay for it (issue 9).

A release's address, or a link in its text, may carry a tracker's parameters
(``utm_source``, ``fbclid``, ``yclid``, ``_openstat``...): they tell a third party who
followed which link, and say nothing of the release. ``shown`` takes them out of the
entry's link, its URL and the links in its content wherever an entry is shown (the
feeds, its page, webhooks, ActivityPub), the rest of each address as written. The store
keeps the entry as read, its id and content hash as they were made; its URL key leaves
out every one of these (``patterns.TRACKERS``, shared with ``normalise.ids.url_key``), so
an address with one and the same without are one release.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import lxml.etree

from scofeed.model import Entry
from scofeed.patterns import TRACKERS, later

# an href or src whose value does not open with a scheme ("https:", "mailto:"): maybe
# relative. Compiled on first use, as the patterns below: a text release has no link
_maybe_relative = later(r"""(?:href|src)\s*=\s*["']?(?![a-zA-Z][a-zA-Z0-9+.-]*:)""", re.I)


def absolute_links(fragment: str, base: str) -> str:
    """``fragment`` with every relative href/src resolved against ``base``; the very
    same string when it holds none (so untouched content keeps its bytes)."""
    low = fragment.lower()
    if ("href" not in low and "src" not in low) or not _maybe_relative().search(fragment):
        return fragment
    return _REWRITTEN.get_or_make(("absolute", fragment, base), lambda: _absolute(fragment, base))


def _absolute(fragment: str, base: str) -> str:
    return _relinked(
        fragment,
        lambda root: root.make_links_absolute(
            base, resolve_base_href=False, handle_failures="discard"
        ),
    )


class Rewritten:
    """Content rewritten lately, kept by its text (and what it was rewritten for): an
    entry is shown again and again (each page view, each feed written that holds it),
    and its rewriting is parsing and writing its HTML anew (~20 us a link: a second for
    49,000). The least recently used go first once what is kept (the texts before and
    after) passes ``budget`` characters; one larger than that is not kept."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._kept: OrderedDict[tuple[str, ...], str] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # the server's threads share it

    def get_or_make(self, key: tuple[str, ...], make: Callable[[], str]) -> str:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        made = make()  # outside the lock: another thread's lookup need not wait for it
        size = len(key[1]) + len(made)
        if size <= self.budget:
            with self._lock:
                if key not in self._kept:
                    self._kept[key] = made
                    self._size += size
                while self._size > self.budget:
                    old, text = self._kept.popitem(last=False)
                    self._size -= len(old[1]) + len(text)
        return made


REWRITTEN_BUDGET = 4 * 1024 * 1024  # characters (4-16 MB as Python holds them): the feeds'
# newest entries and the pages read lately, a few hundred releases with links
_REWRITTEN = Rewritten(REWRITTEN_BUDGET)


def _relinked(fragment: str, change: Callable[[Any], object]) -> str:
    """``fragment`` parsed as HTML, ``change`` applied to its root (an lxml element
    holding it), written back; the very same string when it cannot be parsed."""
    html = importlib.import_module("lxml.html")  # see the module docstring
    try:
        root = html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return fragment
    try:
        change(root)
    except ValueError:
        # lxml writes no attribute holding a character XML cannot carry: "&#1;" in the
        # address of an item polled, not yet sanitised, raised, and the whole feed's
        # items were lost with it. Such characters are taken out (as the sanitiser
        # does), then the change is made
        for element in root.iter():
            for name, value in element.attrib.items():
                if _xml_unsafe().search(value):
                    element.set(name, _xml_unsafe().sub("", value))
        try:
            change(root)
        except ValueError:  # elsewhere (a style element's text): left as it was
            return fragment
    lead = (root.text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return lead + "".join(html.tostring(child, encoding="unicode") for child in root)


# what lxml refuses to write in an attribute (and XML 1.0 cannot carry)
_xml_unsafe = later(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# where a tracking parameter may stand in content: after "?" or "&" (written
# "&amp;" in HTML)
_maybe_tracked = later(rf"[?&;](?:{TRACKERS})=", re.I)


# the trackers an entry shows without (not ``from`` or ``share``, which matching
# ignores but a site may need)
_tracker = later(rf"(?:{TRACKERS})", re.I)


def shown_url(url: str) -> str:
    """``url`` without its tracking parameters, the rest as written (their order,
    escapes, the fragment); the very same string when it has none."""
    if "?" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    pairs = parts.query.split("&")
    kept = [p for p in pairs if not _tracker().fullmatch(unquote_plus(p.partition("=")[0]))]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query="&".join(kept)))


def untracked_links(fragment: str) -> str:
    """``fragment`` with the tracking parameters taken out of every link (``href``,
    ``src``...); the very same string when none holds one."""
    if "?" not in fragment or not _maybe_tracked().search(fragment):
        return fragment
    return _REWRITTEN.get_or_make(("untracked", fragment), lambda: _untracked(fragment))


def _untracked(fragment: str) -> str:
    return _relinked(fragment, lambda root: root.rewrite_links(shown_url, resolve_base_href=False))


def shown(entry: Entry) -> Entry:
    """The entry as it is shown: no tracking parameters in its link, its URL or the
    links of its content; the very same entry when it has none."""
    link = shown_url(entry.link)
    url = shown_url(entry.url) if entry.url else entry.url
    content = untracked_links(entry.content_html)
    if link is entry.link and url is entry.url and content is entry.content_html:
        return entry
    return replace(entry, link=link, url=url, content_html=content)


def published(entry: Entry) -> Entry:
    """The entry as the feeds and the webhooks carry it: ``shown``, and the relative
    links in its content resolved against its own link (a reader or a receiver has no
    base to resolve them against)."""
    entry = shown(entry)
    content = absolute_links(entry.content_html, entry.link)
    return entry if content is entry.content_html else replace(entry, content_html=content)
