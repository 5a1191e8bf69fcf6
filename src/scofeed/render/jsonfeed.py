"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), with its WebSub ``hubs``."""

from __future__ import annotations

import json
from typing import Any

from scofeed.config import Config
from scofeed.model import Entry
from scofeed.render.catalog import Head


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
    return item


def render_json(entries: list[Entry], cfg: Config, head: Head) -> bytes:
    site = cfg.site
    doc: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": head.title,
        "home_page_url": site.base_url,
        "feed_url": head.self_url,
        "description": head.description,
        "language": head.language,
        "authors": [{"name": site.author}],
    }
    hubs = cfg.hub_urls()
    if hubs:
        doc["hubs"] = [{"type": "WebSub", "url": u} for u in hubs]
    doc["items"] = [_item(e) for e in entries]
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
