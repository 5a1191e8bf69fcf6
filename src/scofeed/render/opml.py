"""OPML 2.0 (http://opml.org/spec2.opml): every subscription feed, so a reader imports
them all at once. One outline per feed: ``text`` and ``title`` (the set's title and the
format), ``type="rss"`` (OPML's word for any feed), ``xmlUrl``, ``htmlUrl`` and, for a
language's feeds, ``language``. Written with lxml; pure."""

from __future__ import annotations

from lxml import etree

from scofeed.config import Config
from scofeed.render.catalog import FeedSet

FORMAT_NAMES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


def render_opml(cfg: Config, sets: list[FeedSet]) -> bytes:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{cfg.site.title}: all feeds"
    body = etree.SubElement(root, "body")
    for fs in sets:
        group = etree.SubElement(body, "outline", text=fs.title, title=fs.title)
        for fmt in cfg.feeds.formats:
            label = f"{fs.title} ({FORMAT_NAMES[fmt]})"
            outline = etree.SubElement(group, "outline", text=label, title=label, type="rss")
            outline.set("xmlUrl", fs.url(cfg, fmt))
            outline.set("htmlUrl", cfg.site.base_url)
            if fs.language:
                outline.set("language", fs.language)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
