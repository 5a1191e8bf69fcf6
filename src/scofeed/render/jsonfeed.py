"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), with its WebSub ``hubs``.

The feed's history is paged as JSON Feed pages it: ``next_url``, the next older page.
The subscription feed's is the newest monthly archive page, each archive page's the
month before it (the same pages as the Atom and RSS archives, RFC 5005's prev-archive);
the oldest has none. Archive pages name no hub: nobody subscribes to them.

An item whose release states the day of what it reports carries it in a ``_scofeed``
extension object (JSON Feed 1.1 extensions: a key opening with an underscore, an object
with an ``about`` URL): ``{"about": EXTENSION_ABOUT, "event_date": "YYYY-MM-DD"}``.
"""

from __future__ import annotations

import json
from typing import Any

from scofeed.config import Config
from scofeed.model import Entry
from scofeed.render.catalog import Head

EXTENSION_ABOUT = "https://github.com/scofeed/scofeed/blob/main/docs/formats.md#the-event-date"


def _item(e: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": e.id,
        "url": e.link,
        "title": e.title,
        "content_html": e.content_html,
        "summary": e.summary,
        "date_published": e.published.isoformat(),
        "date_modified": e.updated.isoformat(),
        "authors": [{"name": e.author}],
        "language": e.language,
    }
    if e.url and e.url != e.link:
        item["external_url"] = e.url
    if e.tags:
        item["tags"] = list(e.tags)
    if e.event_date is not None:
        item["_scofeed"] = {"about": EXTENSION_ABOUT, "event_date": e.event_date.isoformat()}
    return item


def render_json(entries: list[Entry], cfg: Config, head: Head) -> bytes:
    site = cfg.site
    doc: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": head.title,
        "home_page_url": head.home or site.home,
        "feed_url": head.self_url,
        "description": head.description,
    }
    older = dict(head.links).get("prev-archive")
    if older is not None:
        doc["next_url"] = older
    doc |= {"language": head.language, "authors": [{"name": site.author}]}
    hubs = () if head.archive else cfg.hub_urls()
    if hubs:
        doc["hubs"] = [{"type": "WebSub", "url": u} for u in hubs]
    doc["items"] = [_item(e) for e in entries]
    # indented where a person may open it; an archive page, read by programs and holding
    # every entry of a month, on one line: json's C encoder writes no indentation, and
    # the pages of a cold build of 10,000 releases took 620 ms indented, 260 ms so
    indent = None if head.archive else 2
    return (json.dumps(doc, ensure_ascii=False, indent=indent) + "\n").encode("utf-8")
