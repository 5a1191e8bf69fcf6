"""Entry list -> feed bytes. Pure: the same entries and config give the same bytes.

Atom and RSS are written by feedgen (``render/xmlfeeds.py``), JSON Feed 1.1 by
``render/jsonfeed.py``. Entries come newest first and stay in that order.
"""

from __future__ import annotations

from collections.abc import Sequence

from scofeed.config import FEED_FILES, Config
from scofeed.errors import RenderError
from scofeed.model import Entry
from scofeed.render.jsonfeed import render_json
from scofeed.render.xmlfeeds import render_atom, render_rss

FILENAMES = FEED_FILES
CONTENT_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}

_RENDERERS = {"atom": render_atom, "rss": render_rss, "json": render_json}


def render(fmt: str, entries: Sequence[Entry], cfg: Config) -> bytes:
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise RenderError(f"unknown feed format {fmt!r}") from None
    return renderer(list(entries), cfg)


def feed_id(cfg: Config) -> str:
    return f"tag:{cfg.site.id_authority}:feed"
