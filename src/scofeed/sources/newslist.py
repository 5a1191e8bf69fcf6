"""A news listing where a release page belongs: the site's list of releases saved into
sources/ as a ``.html`` file, or its address given to ``scofeed add URL``. Read as a
release it was published under the title "News", dated now, and pushed to every
endpoint; ``read_html`` (the reader of ``.html`` files) and ``added.from_url`` refuse it
with ``refuse_listing``.

A listing is a page whose own address is no article's (by the ``sco`` preset's
``link_pattern``) and whose text is a list of *items*, at least ``LISTS_AT_LEAST`` of
them, each about an article page of its own host:

- an item is the largest element that links to one article only (its headline, a
  thumbnail, a "Read more": one article, counted once); the items of one list are
  siblings of one kind (``<li>``, ``<article>``, ``<div class="news-item">``);
- an item's headline is a line of its own: a link that wraps a heading, or that is at
  least half of the text between the line breaks around it, the rest no sentence (a
  date, "(comments)"; not "..., the sides discussed trade.");
- most (``IN_ITEMS``) of what was read as the release's text lies in the items (an item
  with what follows it up to the next, for a list written flat: ``<h3>``, ``<p>``,
  ``<h3>``...): on a listing it is the list (or its first item); on a release page it
  is the article, which a "related news" block, a sidebar or a list of links in its
  body is not.

A saved file's own address is the one its ``og:url``, canonical link or browser's
"saved from" line states; a file that states none is judged by its links alone
(relative ones are its host's). An item holding the page's unlinked ``<h1>`` is the
release itself, never an item.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from scofeed.config.redact import logged
from scofeed.errors import RejectedInput
from scofeed.model import Release
from scofeed.sources.htmlpage import PRESETS, SCO_ARTICLE, parse, read_page

LISTS_AT_LEAST = 3  # articles a listing's items are about (two: a release's previous/next)
IN_ITEMS = 2 / 3  # of the release's text (word characters) a listing holds in its items
REST_WORDS = 3  # words beside a headline on its line: "25 January 2022", "(comments)"
_HREF = re.compile(r"""\bhref=["']([^"']+)["']""")
# what breaks a line: a block of text or a list, a line break
_BREAKS = frozenset(
    ("p", "li", "ul", "ol", "dl", "dd", "dt", "td", "th", "tr", "table", "h1", "h2", "h3",
     "h4", "h5", "h6", "div", "blockquote", "article", "section", "figure", "figcaption",
     "header", "footer", "main", "aside", "nav", "br", "hr", "pre", "address")
)  # fmt: skip
# a word: a Chinese or Japanese character each, else a run of letters (a number is none)
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]|[^\W\d_\u3040-\u30ff\u3400-\u9fff]+")
_NOT_WORD = re.compile(r"\W+")  # what texts are compared and measured without


def read_html(origin: str, text: str, context: datetime | None) -> list[Release]:
    """The ``READERS`` entry for .html/.htm files dropped into sources/ (saved SCO
    pages): ``htmlpage.read_page`` with the ``sco`` preset, a news listing refused."""
    releases = read_page(origin, text, selectors=PRESETS["sco"], context=context)
    for release in releases:
        refuse_listing(origin, text, release)
    return releases


def refuse_listing(origin: str, page: str, release: Release, url: str | None = None) -> None:
    """Raise ``RejectedInput`` for ``origin`` when ``page`` (whose address, if known, is
    ``release.url`` or ``url``; ``release`` is what was read from it) is a news listing."""
    own, pattern = release.url or url, SCO_ARTICLE
    try:
        parts = urlsplit(own) if own else None
    except ValueError:
        parts = None
    if parts is not None and re.search(pattern, parts.path):
        return  # an article's own address
    host = _host(parts.hostname) if parts is not None else None
    named = {_article(href, own, host, pattern) for href in _HREF.findall(page)}
    if len(named - {None}) < LISTS_AT_LEAST:
        return  # the usual release page, not parsed again
    try:
        root = parse(page)
    except (lxml.etree.ParserError, ValueError):
        return
    paragraphs = [key for p in release.text.split("\n\n") if (key := _NOT_WORD.sub("", p))]
    total = sum(len(p) for p in paragraphs)
    for items in _lists(root, own, host, pattern):
        if _holds_most_of(items, paragraphs, total):
            first = logged(items[0][1])
            advice = (
                "give the address of one release"
                if "://" in origin
                else "keep the page of one release in sources/"
            )
            raise RejectedInput(
                origin,
                f"a listing of releases, not a release page (it links to {first} and "
                f"{len({article for _, _, article in items}) - 1} more): {advice}",
            )


Item = tuple[lxml.html.HtmlElement, str, str]  # element, its headline's address, its article


def _lists(
    root: lxml.html.HtmlElement, own: str | None, host: str | None, pattern: str
) -> Iterator[list[Item]]:
    """The lists of items about articles ``root`` holds, each in page order, that are
    about ``LISTS_AT_LEAST`` articles or more."""
    # element -> the articles it links to, two at most: enough to tell one from several
    linked: dict[lxml.html.HtmlElement, set[str]] = {}
    links: list[tuple[lxml.html.HtmlElement, str]] = []
    for a in root.iter("a"):
        article = _article(a.get("href") or "", own, host, pattern)
        if article is not None:
            links.append((a, article))
            for el in (a, *a.iterancestors()):
                held = linked.setdefault(el, set())
                if article in held or len(held) > 1:
                    break  # and so do the elements around it
                held.add(article)
    items: dict[lxml.html.HtmlElement, Item] = {}
    for a, article in links:
        item = a
        for el in a.iterancestors():
            if len(linked[el]) > 1 or el.tag in ("body", "html"):
                break
            item = el
        if item not in items and _headline(a) and not _own_title(item):
            href = a.get("href") or ""
            items[item] = (item, urljoin(own, href) if own else href, article)
    kinds: dict[tuple[object, str, str], list[Item]] = {}  # siblings of one tag and class
    for item in items.values():
        el = item[0]
        kind = (el.getparent(), el.tag, "".join((el.get("class") or "").split()[:1]))
        kinds.setdefault(kind, []).append(item)
    for same in kinds.values():
        if len({article for _, _, article in same}) >= LISTS_AT_LEAST:
            yield same


def _headline(a: lxml.html.HtmlElement) -> bool:
    """``a`` is a line of its own: it wraps a heading (or any block), or it is at least
    half of its line's text and the rest of that line is no sentence."""
    size = len(_NOT_WORD.sub("", a.text_content()))
    if not size:
        return False  # a thumbnail
    if any(el.tag in _BREAKS for el in a.iterdescendants()):
        return True
    rest, letters = [], 0
    for text in _beside(a):  # read only as far as the rest outgrows the link: a line of
        letters += len(_NOT_WORD.sub("", text))  # thousands of links is not read to its
        if letters > size:  # end for each of them
            return False
        rest.append(text)
    return len(_WORD.findall("".join(rest))) <= REST_WORDS


def _beside(a: lxml.html.HtmlElement) -> Iterator[str]:
    """The text on ``a``'s line, left and right of it, up to the line breaks around it."""
    el, left, right = a, True, True
    while (left or right) and el.tag not in _BREAKS and (parent := el.getparent()) is not None:
        if right:
            yield el.tail or ""
            for sib in el.itersiblings():
                if sib.tag in _BREAKS:
                    right = False
                    break
                yield sib.text_content() + (sib.tail or "")
        if left:
            for sib in el.itersiblings(preceding=True):
                if sib.tag in _BREAKS:
                    left = False
                    break
                yield sib.text_content() + (sib.tail or "")
            if left:
                yield parent.text or ""
        el = parent


def _own_title(item: lxml.html.HtmlElement) -> bool:
    """``item`` holds an ``<h1>`` that is no link: the page's own headline, so the
    element is the release itself (which links to one other article), no item."""
    return any(
        h1.find(".//a") is None and next(h1.iterancestors("a"), None) is None
        for h1 in item.iter("h1")
    )


def _holds_most_of(items: list[Item], paragraphs: list[str], total: int) -> bool:
    """Most (``IN_ITEMS``) of ``paragraphs`` (the release read from the page, in page
    order as the items are, by their letters and digits alone) is in ``items``' texts;
    a paragraph found out of order counts as outside (never a listing the less), which
    keeps this one pass over the items' text. ``total``: the paragraphs' length."""
    held = "\n".join(_NOT_WORD.sub("", text) for text in _spans([el for el, _, _ in items]))
    if not total or len(held) < total * IN_ITEMS:
        return False
    inside = outside = at = 0
    for p in paragraphs:
        found = held.find(p, at)
        if found < 0:
            outside += len(p)
            if outside > total * (1 - IN_ITEMS):
                return False
        else:
            inside, at = inside + len(p), found + len(p)
    return inside >= total * IN_ITEMS


def _spans(items: list[lxml.html.HtmlElement]) -> Iterator[str]:
    """Each item's text with what follows it up to the next item: the date and summary of
    a list written flat (``<h3>``, ``<p>``, ``<h3>``, ``<p>``); after the last item, as
    many elements as came after the one before it."""
    width = 0
    for n, el in enumerate(items):
        after = items[n + 1] if n + 1 < len(items) else None  # a sibling: one parent
        text = [el.text_content(), el.tail or ""]
        for count, sib in enumerate(el.itersiblings()):
            if sib is after or (after is None and count >= width):
                width = count
                break
            text += [sib.text_content(), sib.tail or ""]
        yield "".join(text)


def _host(name: str | None) -> str:
    """A host as its links name it, "www." or not: one site."""
    return (name or "").rstrip(".").lower().removeprefix("www.")


def _article(href: str, own: str | None, host: str | None, pattern: str) -> str | None:
    """The article page (host and path) ``href`` links to, when it is one of the page's
    own host (any host's, or a relative link, when the page's address is unknown)."""
    href = href.strip().replace("&amp;", "&")
    try:
        link = urlsplit(urljoin(own, href) if own else href)
    except ValueError:  # "http://[::1": not an address
        return None
    if link.scheme not in ("", "http", "https") or not re.search(pattern, link.path):
        return None
    if host is not None and _host(link.hostname) != host:
        return None
    return f"{_host(link.hostname)}{link.path}"
