"""A listing page of an SCO site (or any site a source polls): the article links it
holds (``listing_links``), and what names an article whatever its address
(``ArticleNumber``, by a source's ``number`` pattern). A release page itself is read by
``htmlpage``."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.etree

from scofeed.sources.htmlpage import Selectors, links_base, parse, select
from scofeed.sources.http import same_site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleNumber:
    """What names an article on its site whatever its address (``Selectors.number``)."""

    host: str
    day: str
    number: str

    def like(self) -> str:
        """A SQL LIKE pattern every address of the article matches (others may too)."""
        return f"%/{self.day}/%{self.number}.htm%"


def article_number(url: str, pattern: str | None) -> ArticleNumber | None:
    """The day and number naming the article at ``url`` by ``pattern``, or None."""
    if not pattern:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    m = re.search(pattern, parts.path)
    if m is None:
        return None
    return ArticleNumber((parts.hostname or "").rstrip(".").lower(), m["day"], m["number"])


def listing_links(text: str, base: str, selectors: Selectors, same_host: bool = True) -> list[str]:
    """Absolute article URLs on a listing page (at address ``base``), in page order, each
    once; relative links follow the page's ``<base href>``. With ``same_host``, only
    links to the page's own host; none in an empty or unparsable page."""
    try:
        root = parse(text)
    except (lxml.etree.ParserError, ValueError):  # "Document is empty"
        return []
    pattern = re.compile(selectors.link_pattern) if selectors.link_pattern else None
    page = base
    base = links_base(root, base) or base
    out: list[str] = []
    seen: set[str] = set()
    for el in select(root, selectors.items):
        href = el.get("href") if el.tag == "a" else None
        if href is None:
            inner = el.find(".//a[@href]")
            href = inner.get("href") if inner is not None else None
        if not href:
            continue
        try:
            absolute = urljoin(base, href.strip()).split("#", 1)[0]
            parts = urlsplit(absolute)
            parts.port  # noqa: B018 - raises for a port no URL can have (":99999")
        except ValueError:  # "http://[::1/...": not an address; the other links still count
            log.info("listing_link_dropped link=%r reason=malformed", href[:200])
            continue
        if parts.scheme not in ("http", "https"):
            continue  # javascript:, mailto:, data: ...
        if same_host and not same_site(page, absolute):  # its host, at its port
            continue
        if pattern and not pattern.search(parts.path):
            continue
        if absolute not in seen:
            seen.add(absolute)
            out.append(absolute)
    return out
