"""A listing page's link to the next (older) page of the listing.

News sites page their listings in a few ways, and ``next_page`` tries them from the
surest to the least sure:

1. ``rel="next"``: a ``<link rel="next">`` in the head or an ``<a rel="next">``
   (HTML's own word for it; WordPress, Drupal and most news CMSs write it);
2. a link whose text, ``title`` or ``aria-label`` says "next" ("Next", "Next page",
   "Go to next page", "Older posts", "»", "›", "Следующая", "След.", "Далее",
   "Вперёд", "下一页", "后页");
3. the page number one up from this page's, in the same query parameter of the same
   path (``/news/?page=2`` from ``/news/``, ``?page=3`` from ``?page=2``; also ``p``,
   ``pg``, ``paged`` and 1C-Bitrix's ``PAGEN_1``, common on Russian-language sites)
   or in a ``/page/N/`` path segment (WordPress): after the words, since Drupal
   counts from 0 (its second page is ``?page=1``);
4. a link whose class (or its ``<li>``'s) names it: ``next``, ``pager-next``,
   ``modern-page-next``.

Only a link to the page's own host is taken, never the page itself (nor, but by
``rel`` or its words, its number under another name: ``?page=1`` on the first), never one
the listing's ``link_pattern`` takes for an article ("Next: SCO summit opens").
Pure: text in, an address out.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urljoin, urlsplit

import lxml.etree
import lxml.html

from scofeed.sources import htmlpage

_NEXT_WORDS = re.compile(
    r"^(?:(?:go\s+to\s+)?(?:the\s+)?next(?:\s+page)?|older(?:\s+(?:posts|entries|news))?|more\s+news"
    r"|следующая(?:\s+страница)?|след\.?|далее|вперёд|вперед|ещё\s+новости"
    r"|下一页|下页|后页|下一頁|更多新闻)?\s*[»›→>]?$",
    re.IGNORECASE,
)
_NEXT_CLASS = re.compile(r"(?:^|[-_\s])next(?:$|[-_\s])", re.IGNORECASE)
_PAGE_PARAM = re.compile(r"^(?:page|p|pg|paged|pagen_\d+)$", re.IGNORECASE)
_PAGE_PATH = re.compile(r"^(?P<head>.*?)/page/(?P<n>\d+)/?$")


def next_page(text: str, base: str, link_pattern: str | None = None) -> str | None:
    """The address of the listing page after this one (at ``base``), or None; None too
    for a page with nothing to parse (empty, white space, a lone comment): lxml's
    "Document is empty" was raised to the poll."""
    try:
        root = htmlpage.parse(text)
    except (lxml.etree.ParserError, ValueError):
        return None
    own = htmlpage.links_base(root, base) or base
    host = _host(base)
    article = re.compile(link_pattern) if link_pattern else None
    candidates: list[tuple[int, str]] = []  # (how sure: lower is surer, address)
    current = _page_of(base)
    for el in root.iter("a", "link"):
        href = (el.get("href") or "").strip()
        if not href:
            continue
        try:
            url = urljoin(own, href).split("#", 1)[0]
            parts = urlsplit(url)
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or _host(url) != host or _same(url, base):
            continue
        if article is not None and article.search(parts.path):
            continue
        rank = _rank(el, url, base, current)
        if rank is not None:
            candidates.append((rank, url))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def _rank(el: lxml.html.HtmlElement, url: str, base: str, current: int) -> int | None:
    if "next" in (el.get("rel") or "").lower().split():
        return 0
    if el.tag != "a":
        return None
    words = [" ".join(el.text_content().split())]
    words += [el.get(name) or "" for name in ("title", "aria-label")]
    if any(w and _NEXT_WORDS.match(w) for w in words):
        return 1  # what the site calls its next page, whatever its number (Drupal's ?page=1)
    page = _page_of(url, base)
    if page == current + 1:
        return 2
    if page == current:  # this page by another name (?page=1 on the first): not by class
        return None
    classes = [el.get("class") or ""]
    parent = el.getparent()
    if parent is not None and parent.tag == "li":
        classes.append(parent.get("class") or "")
    if any(_NEXT_CLASS.search(c) for c in classes):
        return 3
    return None


def _page_of(url: str, like: str | None = None) -> int:
    """The page number ``url`` names (1 when none), or 0 when it is not a page of the
    same listing as ``like`` (another path, other parameters)."""
    listing, number = _listing_and_page(url)
    if like is not None and _listing_and_page(like)[0] != listing:
        return 0
    return number


def _listing_and_page(url: str) -> tuple[tuple[str, list[tuple[str, str]]], int]:
    """What names the listing ``url`` is a page of (its path without ``/page/N``, its
    query without the page parameter, sorted) and the page number (1 when none)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") or "/"
    m = _PAGE_PATH.match(parts.path)
    if m is not None:
        path = m["head"] or "/"
    pairs = parse_qsl(parts.query)
    query = sorted((k, v) for k, v in pairs if not _PAGE_PARAM.match(k))
    numbers = [v for k, v in pairs if _PAGE_PARAM.match(k)]
    if m is not None:
        number = int(m["n"])
    elif numbers and numbers[0].isdigit():
        number = int(numbers[0])
    else:
        number = 1
    return (path, query), number


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def _same(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.path.rstrip("/"), pa.query) == (pb.path.rstrip("/"), pb.query)
