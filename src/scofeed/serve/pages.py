"""The HTML pages: the index (feeds, subscribe links, latest entries) and one page per
entry. Pure: data in, markup out; every text and attribute is escaped."""

from __future__ import annotations

import html

from scofeed.config import FEED_FILES, Config
from scofeed.model import Entry
from scofeed.normalise import id_slug
from scofeed.render import CONTENT_TYPES

FORMAT_LABELS = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


def _e(s: object) -> str:
    return html.escape(str(s), quote=True)


def _head(cfg: Config, title: str, root: str) -> str:
    links = "".join(
        f'<link rel="alternate" type="{_e(CONTENT_TYPES[f].split(";")[0])}" '
        f'title="{_e(cfg.site.title)} ({FORMAT_LABELS[f]})" href="{root}{FEED_FILES[f]}">\n'
        for f in cfg.feeds.formats
    )
    return (
        f'<!doctype html>\n<html lang="{_e(cfg.site.language)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n{links}"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:2em auto;"
        "padding:0 1em}time{color:#555}</style>\n</head>\n<body>\n"
    )


def index_html(cfg: Config, latest: list[Entry]) -> str:
    feeds = "".join(
        f'<li><a href="{FEED_FILES[f]}">{FORMAT_LABELS[f]}</a>: '
        f"<code>{_e(cfg.feed_url(f))}</code></li>\n"
        for f in cfg.feeds.formats
    )
    items = "".join(
        f'<li><time datetime="{_e(e.published.isoformat())}">{_e(e.published.date())}</time> '
        f'<a href="entries/{_e(id_slug(e.id))}">{_e(e.title)}</a></li>\n'
        for e in latest
    )
    return (
        _head(cfg, cfg.site.title, "")
        + f"<h1>{_e(cfg.site.title)}</h1>\n<p>{_e(cfg.site.description)}</p>\n"
        + f"<h2>Subscribe</h2>\n<ul>\n{feeds}</ul>\n"
        + f"<h2>Latest releases</h2>\n<ul>\n{items or '<li>No releases yet.</li>'}\n</ul>\n"
        + "</body>\n</html>\n"
    )


def withdrawn_html(cfg: Config, e: Entry) -> str:
    """The page of a withdrawn entry (served with 410 Gone): when and why, and neither
    its title nor its text (a release published by mistake is not shown again)."""
    w = e.withdrawal
    assert w is not None
    when = (
        f'<time datetime="{_e(w.at.isoformat())}">{_e(w.at.strftime("%Y-%m-%d %H:%M UTC"))}</time>'
    )
    reason = f"<p>Reason: {_e(w.reason)}</p>\n" if w.reason else ""
    return (
        _head(cfg, f"Withdrawn - {cfg.site.title}", "../")
        + f'<p><a href="../">{_e(cfg.site.title)}</a></p>\n'
        + "<h1>This release was withdrawn</h1>\n"
        + f"<p>It was withdrawn on {when} and is no longer published.</p>\n{reason}"
        + "</body>\n</html>\n"
    )


def entry_html(cfg: Config, e: Entry) -> str:
    original = f'<p>Original: <a href="{_e(e.url)}">{_e(e.url)}</a></p>\n' if e.url else ""
    tags = f"<p>Tags: {_e(', '.join(e.tags))}</p>\n" if e.tags else ""
    updated = (
        f' (updated <time datetime="{_e(e.updated.isoformat())}">{_e(e.updated.date())}</time>)'
        if e.updated != e.published
        else ""
    )
    event = (
        f'<p>Event date: <time datetime="{e.event_date.isoformat()}">{e.event_date}</time></p>\n'
        if e.event_date is not None
        else ""
    )
    return (
        _head(cfg, f"{e.title} - {cfg.site.title}", "../")
        + f'<p><a href="../">{_e(cfg.site.title)}</a></p>\n'
        + f'<article lang="{_e(e.language)}">\n<h1>{_e(e.title)}</h1>\n'
        + f'<p><time datetime="{_e(e.published.isoformat())}">{_e(e.published.date())}</time>'
        + f"{updated} &middot; {_e(e.author)}</p>\n{event}"
        # content_html was sanitised (nh3) when the release was normalised
        + f"{e.content_html}\n{original}{tags}</article>\n</body>\n</html>\n"
    )
