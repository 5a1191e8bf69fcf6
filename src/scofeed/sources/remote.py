"""Remote sources as readers: what an HTTP response of each source kind holds.

A ``page-list`` source's listing holds links to article pages, each page holding one
release; a ``feed`` source's response holds every release itself. ``KINDS`` maps a
source kind to its ``Kind``, which ``scofeed.poll`` drives the same way for all (the
fetching, storing and publishing are the poller's). ``fetch_added`` fetches and
``read_added`` reads one page for ``scofeed add URL``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlsplit

import charset_normalizer

from scofeed import sources
from scofeed.config import Config, RemoteSource
from scofeed.errors import PageGone, RejectedInput, TemporaryFailure
from scofeed.markup import MAX_ATTRIBUTES, TOO_MANY_ATTRIBUTES, most_attributes
from scofeed.model import Release
from scofeed.sources import htmlpage, listing
from scofeed.sources.feed import read_feed
from scofeed.sources.http import ADD_TYPES, FEED_TYPES, HTML_TYPES, Fetcher, Response, remember
from scofeed.sources.notfound import SOFT_404, not_found_page
from scofeed.sources.pagination import next_page
from scofeed.store import Store


def _no_pages(src: RemoteSource, link: str, resp: Response, now: datetime) -> list[Release]:
    raise RejectedInput(link, f"a {src.kind} source links to no pages")  # pragma: no cover


def _no_number(src: RemoteSource, link: str) -> listing.ArticleNumber | None:
    return None


def _no_next_page(src: RemoteSource, resp: Response) -> str | None:
    return None


@dataclass(frozen=True)
class Found:
    """What a source's own URL held: releases, and links to pages holding more."""

    releases: list[Release] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Kind:
    accept: tuple[str, ...]  # media types of the source's own URL
    read: Callable[[RemoteSource, Response, datetime], Found]
    page_accept: tuple[str, ...] = HTML_TYPES  # media types of a linked page
    # read_page(src, link, response, now): the releases of one linked page
    read_page: Callable[[RemoteSource, str, Response, datetime], list[Release]] = _no_pages
    # number(src, link): what names a linked page's article whatever its address (the
    # ``sco`` preset: its day and number), so a page moved to a new address is known
    number: Callable[[RemoteSource, str], listing.ArticleNumber | None] = _no_number
    # next_page(src, response): the address of the listing's next (older) page, if any
    next_page: Callable[[RemoteSource, Response], str | None] = _no_next_page


NO_LINKS = "no article links on the listing page (an error page, or the selectors no longer match)"


def selectors_for(src: RemoteSource) -> htmlpage.Selectors:
    """The preset's selectors with the source's own selectors laid over them."""
    base = htmlpage.PRESETS[src.preset] if src.preset else htmlpage.DEFAULT
    return htmlpage.Selectors(
        items=(src.item_selector,) if src.item_selector else base.items,
        link_pattern=src.link_pattern or base.link_pattern,
        title=(src.title_selector,) if src.title_selector else base.title,
        date=(src.date_selector,) if src.date_selector else base.date,
        body=(src.body_selector,) if src.body_selector else base.body,
        furniture=base.furniture,
        number=base.number,
    )


def guess_charset(data: bytes) -> str | None:
    """The likeliest charset of bytes that name none and are not UTF-8 (requests brings
    charset_normalizer along)."""
    best = charset_normalizer.from_bytes(data).best()
    return best.encoding if best is not None else None


def page_text(resp: Response) -> str:
    """A fetched HTML page as text (``htmlpage.decode_html``, guessing a charset left unsaid)."""
    return htmlpage.decode_html(resp.body, resp.charset, guess_charset)


def _listing(src: RemoteSource, resp: Response, now: datetime) -> Found:
    text = page_text(resp)
    if most_attributes(htmlpage.xml_text(text)) > MAX_ATTRIBUTES:  # as lxml will read it
        raise RejectedInput(resp.asked or src.url, TOO_MANY_ATTRIBUTES)
    selectors = selectors_for(src)
    links = listing.listing_links(text, resp.url, selectors)
    if not links:  # a news listing always has some: an error page served with a 200,
        raise RejectedInput(resp.asked or src.url, NO_LINKS)  # or selectors that no longer fit
    return Found(links=links)


def _next_listing_page(src: RemoteSource, resp: Response) -> str | None:
    """The listing's next page (``sources.pagination``): read again only when a poll
    needs it, which is seldom (a catch-up)."""
    return next_page(page_text(resp), resp.url, selectors_for(src).link_pattern)


def still_an_article(link: str, resp: Response, selectors: htmlpage.Selectors) -> None:
    """Refuse an article page (by the ``link_pattern``) that a redirect took to an
    address that is no article's (a CMS sends a page it took down to the news listing
    or the home page, which would read as a release titled "News"). For now: the page
    may come back."""
    pattern = selectors.link_pattern
    if resp.url == link or not pattern:
        return
    try:
        was, now = urlsplit(link).path, urlsplit(resp.url).path
    except ValueError:  # pragma: no cover - the fetcher read both
        return
    if re.search(pattern, was) and not re.search(pattern, now):
        raise TemporaryFailure(link, f"redirected to {resp.url}, which is not an article page")


def _article(src: RemoteSource, link: str, resp: Response, now: datetime) -> list[Release]:
    selectors = selectors_for(src)
    still_an_article(link, resp, selectors)
    text = page_text(resp)
    releases = htmlpage.read_page(
        link, text, url=resp.url, selectors=selectors, context=now, source=src.name
    )
    return found(link, releases)


def found(link: str, releases: list[Release]) -> list[Release]:
    """The releases of a page, unless the page is a "page not found" page answered with
    a 200 (``PageGone``, as a 404: never a release, nor a correction of one)."""
    if not_found_page(releases):
        raise PageGone(link, 404, SOFT_404)
    return releases


def _number(src: RemoteSource, link: str) -> listing.ArticleNumber | None:
    return listing.article_number(link, selectors_for(src).number)


def _feed(src: RemoteSource, resp: Response, now: datetime) -> Found:
    return Found(
        releases=read_feed(
            src.url, resp.body, resp.url, src.name, charset=resp.charset, guess=guess_charset
        )
    )


KINDS: dict[str, Kind] = {
    "page-list": Kind(
        HTML_TYPES, _listing, read_page=_article, number=_number, next_page=_next_listing_page
    ),
    "feed": Kind(FEED_TYPES, _feed),
}

_SUFFIXES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/json": ".json",
}


def fetch_added(cfg: Config, store: Store, url: str, now: datetime) -> Response:
    """The answer of a page given to ``scofeed add URL`` (``RejectedInput`` when none)."""
    with Fetcher(store) as fetcher:
        resp = fetcher.get(url, accept=ADD_TYPES, max_bytes=cfg.limits.max_file_bytes)
    remember(store, resp, now)
    return resp


def read_added(
    cfg: Config, url: str, resp: Response, now: datetime, fmt: str | None = None
) -> tuple[str, list[Release]]:
    """What a page given to ``scofeed add URL`` holds (a fetch or a recheck of it): the
    file suffix to store it under, and its releases. The release format is ``fmt``
    (``add URL --format``: a Markdown file served as ``text/plain``, say) or else what
    the response's Content-Type says; HTML is read with the ``sco`` preset."""
    suffix = "." + fmt if fmt else _SUFFIXES.get(resp.content_type, ".html")
    if suffix in (".html", ".htm"):
        text = page_text(resp)
        preset = htmlpage.PRESETS["sco"]
        releases = found(
            url, htmlpage.read_page(url, text, url=resp.url, selectors=preset, context=now)
        )
    else:
        body = resp.body
        if resp.charset and not sources.is_utf8(body):  # text/plain; charset=windows-1251
            try:
                body = body.decode(sources.charset_label(resp.charset)).encode("utf-8")
            except (LookupError, UnicodeDecodeError):
                pass  # refused below as not UTF-8, as a file would be
        releases = sources.read(url, suffix, body, now, cfg.limits.max_file_bytes)
        releases = [r if r.url else replace(r, url=resp.url) for r in releases]
    return suffix, releases
