"""The HTML pages: the index (newest entries, paged through the whole archive; every
feed), each tag's releases (paged the same way; its feeds) and one page per entry (with
the feeds it is in). Pure: data in, markup out; every text and attribute is escaped."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from scofeed.config import Config, tag_slug
from scofeed.graphemes import clip as clip_at
from scofeed.model import Entry
from scofeed.normalise import direction, entry_page, id_slug, language_code
from scofeed.render import CONTENT_TYPES
from scofeed.render.catalog import (
    LANGUAGE_NAMES,
    OPML_FILE,
    FeedSet,
    main_set,
    sets_of,
    tag_set_prefix,
)
from scofeed.render.links import absolute_links, shown

FORMAT_LABELS = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
PAGE_SIZE = 50  # entries per index page
SUMMARY_CHARS = 280  # a summary on the index is clipped to this many characters


@dataclass(frozen=True)
class Page:
    """Which page of the index: ``number`` from 1 (the site root), of ``count``."""

    number: int
    count: int

    @classmethod
    def of(cls, number: int, total: int) -> Page:
        """Page ``number`` of an index of ``total`` entries (page 1 even when empty)."""
        return cls(number, max(1, -(-total // PAGE_SIZE)))

    @property
    def offset(self) -> int:
        return (self.number - 1) * PAGE_SIZE


def _e(s: object) -> str:
    return html.escape(str(s), quote=True)


def _lang(language: str) -> str:
    """The ``lang`` and ``dir`` attributes of text in ``language``."""
    return f'lang="{_e(language)}" dir="{direction(language)}"'


# the pages' own words ("Latest releases", "Tags:", "Original:") are English whatever
# the site's language: where the text around them is in another, they are marked so
WORDS_LANGUAGE = "en"


def _english(language: str) -> bool:
    return language.lower().replace("_", "-").split("-")[0] == WORDS_LANGUAGE


def _words(around: str) -> str:
    """The attributes of an element holding the pages' own words, inside text in
    ``around``: none when that is English, else ``lang="en"`` and its direction."""
    return "" if _english(around) else f" {_lang(WORDS_LANGUAGE)}"


def _stamp(moment: datetime) -> str:
    """``moment`` as a ``<time datetime>`` value: HTML allows at most three digits of a
    second (a date taken from a file's mtime has six), so milliseconds at most."""
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")


def _day(cfg: Config, moment: datetime) -> str:
    """The day ``moment`` falls on in the site's time zone (``site.timezone``), as
    YYYY-MM-DD: a release stamped 23:30 UTC is the next day in Beijing."""
    return moment.astimezone(ZoneInfo(cfg.site.timezone)).date().isoformat()


def _minute(local: datetime) -> str:
    """A moment to the minute with its offset from UTC ("2026-11-01 20:00 UTC+08:00";
    "UTC" alone at +00:00): an abbreviation such as CST names more than one zone."""
    offset = local.strftime("%z")  # +0800
    zone = "UTC" if offset in ("", "+0000") else f"UTC{offset[:3]}:{offset[3:5]}"
    return f"{local:%Y-%m-%d %H:%M} {zone}"


# plain CSS, no fixed widths: readable from 320 px up, long words wrap, focus shows
_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:1em auto;padding:0 1em;"
    "color:#1a1a1a;background:#fff;overflow-wrap:anywhere}h1{font-size:1.8em;line-height:1.2}"
    "a{color:#0b4f9c}a:visited{color:#5b2a86}"
    "a:focus-visible{outline:3px solid #b35900;outline-offset:2px}"
    "time,.meta{color:#4d4d4d}img,video{max-width:100%;height:auto}pre{overflow-x:auto}"
    # a release's table scrolls sideways on a phone: its cells broke words anywhere
    # ("Membe|r state") to fit 390 px
    "table{display:block;overflow-x:auto;border-collapse:collapse}"
    "td,th{overflow-wrap:normal;padding:.2em .5em;vertical-align:top}"
    "ol.entries{list-style:none;padding:0}ol.entries>li{margin:0 0 1.25em}"
    "ol.entries h3{margin:0;font-size:1.1em}ol.entries p{margin:.2em 0}"
    "nav.pages a{display:inline-block;padding:.4em .2em;margin-right:1em}"
)


def _alternates(cfg: Config, sets: list[FeedSet], root: str) -> str:
    """Autodiscovery links: one per set and format, in that order (a language's with
    its ``hreflang``)."""
    return "".join(
        f'<link rel="alternate" type="{_e(CONTENT_TYPES[f].split(";")[0])}" '
        f'title="{_e(fs.title)} ({FORMAT_LABELS[f]})" href="{_e(root + quote(fs.path(f)))}"'
        + (f' hreflang="{_e(fs.language)}"' if fs.language else "")
        + ">\n"
        for fs in sets
        for f in cfg.feeds.formats
    )


def _head(
    cfg: Config,
    title: str,
    root: str,
    rels: str = "",
    feeds: tuple[FeedSet, ...] = (),
    own_first: bool = False,
) -> str:
    """The document head: autodiscovery links for the main feeds, then for ``feeds``
    (an entry's language and tags; ``own_first``: ``feeds`` first, the page's own, as a
    tag's page has them, since many readers take the first), then ``rels`` (already
    markup: rel=prev/next of an index page)."""
    sets = [*feeds, main_set(cfg)] if own_first else [main_set(cfg), *feeds]
    links = _alternates(cfg, sets, root)
    return (
        f'<!doctype html>\n<html {_lang(cfg.site.language)}>\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n{links}{rels}"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n"
    )


def clip(text: str, limit: int = SUMMARY_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, at a space when one is near the
    end (Chinese has none: cut where the limit falls, or before it: never inside a
    user-perceived character, ``graphemes``), with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = clip_at(text, limit - 1)
    space = cut.rfind(" ")
    if space > limit * 0.7:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "\u2026"


def _language_name(language: str) -> str:
    """A language's own name ("中文" for zh and zh-Hant too), else its tag."""
    code = language_code(language) or ""
    return LANGUAGE_NAMES.get(language) or LANGUAGE_NAMES.get(code, language)


def _feed_links(cfg: Config, fs: FeedSet, root: str) -> str:
    return " &middot; ".join(
        f'<a href="{_e(root + quote(fs.path(f)))}">{FORMAT_LABELS[f]}</a>'
        for f in cfg.feeds.formats
    )


def _set_title(cfg: Config, fs: FeedSet) -> str:
    """A set's title, marked with its language when it is written in another one than
    the page (``Пресс-релизы Секретариата ШОС`` on an English page)."""
    language = fs.title_language
    if fs.tag is not None and fs.title == f"{cfg.site.title}: {fs.tag}":
        return f"{_e(cfg.site.title)}: {_isolated(fs.tag)}"
    if language is None or language == cfg.site.language:
        return _e(fs.title)
    return f"<span {_lang(language)}>{_e(fs.title)}</span>"


def _feed_list(cfg: Config, sets: list[FeedSet], root: str) -> str:
    """One line per set of feeds: its title, then a link per format."""
    items = "".join(
        f"<li>{_set_title(cfg, fs)}: {_feed_links(cfg, fs, root)}</li>\n" for fs in sets
    )
    return f"<ul>\n{items}</ul>\n"


def index_html(cfg: Config, entries: list[Entry], sets: list[FeedSet], page: Page) -> str:
    """Page ``page.number`` of the index: its entries (newest first) with date, title,
    language and a clipped summary, links to the pages either side, and every feed
    (``sets``: the sets of feeds as published).
    Page 1 is the site root; page n > 1 is ``page/n``, so links are relative to it."""
    root = "" if page.number == 1 else "../"
    main = main_set(cfg)
    subscribe = "".join(
        f'<li><a href="{_e(root + quote(main.path(f)))}">{FORMAT_LABELS[f]}</a>: '
        f"<code>{_e(main.url(cfg, f))}</code></li>\n"
        for f in cfg.feeds.formats
    )
    others = [fs for fs in sets if fs.key != main.key]
    w = _words(cfg.site.language)
    feeds = (
        f"<h2{w}>Subscribe</h2>\n<ul>\n{subscribe}</ul>\n"
        + (f"<h3{w}>By language and topic</h3>\n{_feed_list(cfg, others, root)}" if others else "")
        + f'<p{w}><a href="{root}{OPML_FILE}">All feeds as OPML</a> '
        "(import every feed into a reader at once)</p>\n"
    )
    heading = "Latest releases" if page.number == 1 else f"Releases, page {page.number}"
    title = cfg.site.title if page.number == 1 else f"{cfg.site.title} - page {page.number}"
    return _listing(cfg, entries, page, root, "", title, heading, feeds)


def tag_html(cfg: Config, tag: str, fs: FeedSet | None, entries: list[Entry], page: Page) -> str:
    """Page ``page.number`` of the releases with ``tag``, newest first, as the index shows
    them, and the tag's feeds (``fs``: its set) when it has some. Page 1 is
    ``tags/<slug>/`` (where the tag's feeds are), page n > 1 ``tags/<slug>/page/n``."""
    root = "../../" if page.number == 1 else "../../../"
    w = _words(cfg.site.language)
    feeds = (
        f"<h2{w}>Subscribe to this tag</h2>\n<p>{_feed_links(cfg, fs, root)}</p>\n" if fs else ""
    )
    feeds += f'<p{w}><a href="{root}">All releases</a></p>\n'
    more = f", page {page.number}" if page.number > 1 else ""
    heading = f"Releases tagged {_isolated(tag)}{more}"
    title = f"{tag} - {cfg.site.title}" + (f" - page {page.number}" if page.number > 1 else "")
    sets = (fs,) if fs else ()
    return _listing(cfg, entries, page, root, tag_set_prefix(tag), title, heading, feeds, sets)


def _listing(
    cfg: Config,
    entries: list[Entry],
    page: Page,
    root: str,
    folder: str,
    title: str,
    heading: str,
    aside: str,
    feeds: tuple[FeedSet, ...] = (),
) -> str:
    """A page of entries at ``folder`` under the site root (page n > 1 at
    ``folder/page/n``; ``root`` leads back to the site root): the entries, links to the
    pages either side, ``aside`` (already markup), and autodiscovery of the main feeds
    and ``feeds``."""
    prev_href = None if page.number == 1 else ("../" if page.number == 2 else str(page.number - 1))
    next_href = None
    if page.number < page.count:
        next_href = f"page/{page.number + 1}" if page.number == 1 else str(page.number + 1)
    base = cfg.site.base_url.rstrip("/") + "/" + quote(folder)
    canonical = base if page.number == 1 else f"{base}page/{page.number}"
    rels = f'<link rel="canonical" href="{_e(canonical)}">\n' + "".join(
        f'<link rel="{rel}" href="{_e(href)}">\n'
        for rel, href in (("prev", prev_href), ("next", next_href))
        if href is not None
    )
    w = _words(cfg.site.language)
    items = "".join(_index_item(cfg, e, root) for e in entries)
    site = _e(cfg.site.title)
    if page.number > 1 or folder:  # the way home, from anywhere but the site root
        site = f'<a href="{root}">{site}</a>'
    return (
        _head(cfg, title, root, rels, feeds, own_first=bool(folder))
        + f"<header>\n<h1>{site}</h1>\n<p>{_e(cfg.site.description)}</p>\n"
        + "</header>\n<main>\n"
        + f"<h2{w}>{heading}</h2>\n"
        + (f'<ol class="entries">\n{items}</ol>\n' if items else f"<p{w}>No releases yet.</p>\n")
        + _pager(page, prev_href, next_href, w)
        + "</main>\n<aside>\n"
        + aside
        + "</aside>\n</body>\n</html>\n"
    )


def _index_item(cfg: Config, e: Entry, root: str) -> str:
    summary = clip(e.summary)
    return (
        f"<li><article {_lang(e.language)}>\n"
        f'<h3><a href="{root}entries/{_e(id_slug(e.id))}">{_e(e.title)}</a></h3>\n'
        f'<p class="meta"><time datetime="{_stamp(e.published)}">'
        f"{_day(cfg, e.published)}</time> &middot; {_e(_language_name(e.language))}</p>\n"
        + (f"<p>{_e(summary)}</p>\n" if summary else "")
        + "</article></li>\n"
    )


def _pager(page: Page, prev_href: str | None, next_href: str | None, words: str) -> str:
    if page.count <= 1:
        return ""
    parts = []
    if prev_href is not None:
        parts.append(f'<a rel="prev" href="{_e(prev_href)}">&larr; Newer releases</a>')
    parts.append(f"<span>Page {page.number} of {page.count}</span>")
    if next_href is not None:
        parts.append(f'<a rel="next" href="{_e(next_href)}">Older releases &rarr;</a>')
    return f'<nav class="pages"{words} aria-label="Pages">\n' + "\n".join(parts) + "\n</nav>\n"


def _home(cfg: Config) -> str:
    """An entry page's link to the index, in a landmark of its own (a screen reader
    moving by landmarks skipped it, standing bare in the body)."""
    return f'<header>\n<p><a href="../">{_e(cfg.site.title)}</a></p>\n</header>\n'


def withdrawn_html(cfg: Config, e: Entry) -> str:
    """The page of a withdrawn entry (served with 410 Gone): when (in ``site.timezone``,
    as the other pages' dates) and why, and neither its title nor its text (a release
    published by mistake is not shown again)."""
    w = e.withdrawal
    assert w is not None
    local = w.at.astimezone(ZoneInfo(cfg.site.timezone))
    when = f'<time datetime="{_stamp(local)}">{_e(_minute(local))}</time>'
    words = _words(cfg.site.language)
    # the reason is the operator's, in the site's language as far as we know
    reason = f"<p><span{words}>Reason:</span> {_e(w.reason)}</p>\n" if w.reason else ""
    return (
        _head(cfg, f"Withdrawn - {cfg.site.title}", "../")
        + _home(cfg)
        + f"<main>\n<h1{words}>This release was withdrawn</h1>\n"
        + f"<p{words}>It was withdrawn on {when} and is no longer published.</p>\n{reason}"
        + "</main>\n</body>\n</html>\n"
    )


def _isolated(tag: str) -> str:
    """A tag's name, escaped, set apart from the words around it for the direction it
    runs in (``<bdi>``): a Persian tag's "!" stood at the end of the next tag's link,
    two tags swapped places, and the parentheses of "(سهش)" turned round in an English
    line."""
    return f"<bdi>{_e(tag)}</bdi>"


def _tag_links(tags: tuple[str, ...]) -> str:
    """An entry's tags, each linked to its page (a tag with no letter or digit has none)."""
    return ", ".join(
        f'<a href="../{_e(quote(tag_set_prefix(t)))}" rel="tag">{_isolated(t)}</a>'
        if tag_slug(t)
        else _isolated(t)
        for t in tags
    )


def entry_html(cfg: Config, e: Entry) -> str:
    """An entry's page: its title, dates, author and text in its language; the page's
    own words (Event date, Tags, Original) in English, marked so inside an entry in
    another language; the site's author in the site's language."""
    e = shown(e)  # no tracking parameters in its links
    site = _words(e.language)  # the words' lines, inside the article
    original = f'<p{site}>Original: <a href="{_e(e.url)}">{_e(e.url)}</a></p>\n' if e.url else ""
    tags = f"<p{site}>Tags: {_tag_links(e.tags)}</p>\n" if e.tags else ""
    updated = (
        f' (updated <time datetime="{_stamp(e.updated)}">{_day(cfg, e.updated)}</time>)'
        if e.updated != e.published
        else ""
    )
    author = _e(e.author)
    # inside the line of English words: the site's author is in the site's language,
    # an author the release stated in the release's
    written = cfg.site.language if e.author == cfg.site.author else e.language
    if not _english(written):
        author = f"<span {_lang(written)}>{author}</span>"
    event = (
        f'<p{site}>Event date: <time datetime="{e.event_date.isoformat()}">'
        f"{e.event_date}</time></p>\n"
        if e.event_date is not None
        else ""
    )
    # the release's own page when it has one (an official page), else this one
    own_page = e.url or entry_page(cfg.site.base_url, e.id)
    canonical = f'<link rel="canonical" href="{_e(own_page)}">\n'
    # the feeds this entry is in: its language's, and each of its tags' that has one
    own = [fs for fs in sets_of(cfg, e.language, e.tags) if fs.key != "main"]
    feeds = (
        f'<nav aria-labelledby="in-feeds">\n<h2 id="in-feeds"{_words(cfg.site.language)}>'
        "Feeds with this release</h2>\n" + _feed_list(cfg, own, "../") + "</nav>\n"
        if own
        else ""
    )
    return (
        _head(cfg, f"{e.title} - {cfg.site.title}", "../", canonical, tuple(own))
        + _home(cfg)
        + f"<main>\n<article {_lang(e.language)}>\n<h1>{_e(e.title)}</h1>\n"
        + f'<p{site}><time datetime="{_stamp(e.published)}">{_day(cfg, e.published)}</time>'
        + f"{updated} &middot; {author}</p>\n{event}"
        # content_html was sanitised (nh3) when the release was normalised; its relative
        # links point into the page it came from, as in the feeds
        + absolute_links(e.content_html, own_page)
        + f"\n{original}{tags}</article>\n{feeds}</main>\n</body>\n</html>\n"
    )
