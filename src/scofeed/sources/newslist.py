"""A news listing where a release page belongs: the site's list of releases saved into
sources/ as a ``.html`` file, or its address given to ``scofeed add URL``. Read as a
release it was published under the title "News", dated now, and pushed to every
endpoint; ``refuse_listing`` refuses it instead (``htmlpage.read_html`` for a file,
``add.from_url`` for an address).

A listing is a page whose own address is no article's (by the preset's ``link_pattern``)
and whose text lists article pages of its own host as headlines, at least
``LISTS_AT_LEAST`` of them: a link that is most of its line's text ("SCO Secretary-General
meets ... 25.01.2022"), not a link in a sentence. A saved file's own address is the one
its ``og:url``, canonical link or browser's "saved from" line states; a file that states
none is judged by its links alone (relative ones are its host's). A release page is
never refused: its address is an article's, and the links in its text are in sentences
(a "related news" list is page furniture, taken out before this is asked).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from scofeed.config.redact import logged
from scofeed.errors import RejectedInput
from scofeed.model import Release
from scofeed.normalise.text import collapse

LISTS_AT_LEAST = 2  # article pages a listing links to as headlines
_HREF = re.compile(r"""\bhref=["']([^"']+)["']""")
# what holds a line of a listing: an item, a headline, a paragraph, a cell
_LINE = frozenset(
    ("p", "li", "dd", "dt", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "div", "blockquote",
     "article", "section", "figcaption", "tr")
)  # fmt: skip


def refuse_listing(
    origin: str, release: Release, pattern: str | None, url: str | None = None
) -> None:
    """Raise ``RejectedInput`` for ``origin`` when ``release`` (read from an HTML page
    whose address, if known, is ``release.url`` or ``url``) is a news listing."""
    own = release.url or url
    if not pattern or not release.html:
        return
    try:
        parts = urlsplit(own) if own else None
    except ValueError:
        parts = None
    if parts is not None and re.search(pattern, parts.path):
        return  # an article's own address
    host = _host(parts.hostname) if parts is not None else None
    articles = _articles(release.html, own, host, pattern)
    if len(set(articles.values())) < LISTS_AT_LEAST:
        return  # the usual release page, not parsed again
    listed = _headlines(release.html, own, articles)
    if len(listed) >= LISTS_AT_LEAST:
        first = logged(listed[0])
        advice = (
            "give the address of one release"
            if "://" in origin
            else "keep the page of one release in sources/"
        )
        raise RejectedInput(
            origin,
            f"a listing of releases, not a release page (it links to {first} and "
            f"{len(listed) - 1} more): {advice}",
        )


def _host(name: str | None) -> str:
    return (name or "").rstrip(".").lower()


def _articles(html: str, own: str | None, host: str | None, pattern: str) -> dict[str, str]:
    """Each link (``href`` as written) of ``html`` to an article page of the page's own
    host (any host's, or a relative link, when the page's address is unknown), with the
    article it names (host and path)."""
    found: dict[str, str] = {}
    for href in _HREF.findall(html):
        href = href.replace("&amp;", "&")
        try:
            link = urlsplit(urljoin(own, href) if own else href)
        except ValueError:  # "http://[::1": not an address
            continue
        if link.scheme not in ("", "http", "https") or not re.search(pattern, link.path):
            continue
        if host is not None and _host(link.hostname) != host:
            continue
        found[href] = f"{_host(link.hostname)}{link.path}"
    return found


def _headlines(html: str, own: str | None, articles: dict[str, str]) -> list[str]:
    """The article pages ``html`` links to as headlines (a link that is at least half of
    its line's text), each once, in page order, as absolute addresses when ``own`` is."""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return []
    seen: set[str] = set()
    out: list[str] = []
    for a in root.iter("a"):
        href = a.get("href")
        article = articles.get(href or "")
        if href is None or article is None or article in seen:
            continue
        line = next((p for p in a.iterancestors() if p.tag in _LINE), root)
        words = len(collapse(a.text_content()))
        if words and words * 2 >= len(collapse(line.text_content())):
            seen.add(article)
            out.append(urljoin(own, href) if own else href)
    return out
