"""OPML 2.0 (http://opml.org/spec2.opml): every set of feeds once, so a reader imports
them all at once and subscribes to each feed once, not once per format.

One flat outline per set: ``text`` and ``title`` (the set's title, as its feeds say),
``type="rss"`` (OPML's word for any feed), ``xmlUrl`` (the
set's Atom feed; RSS when Atom is not configured, else JSON Feed), ``htmlUrl`` and, for
a language's feeds, ``language`` (its extlang form). The set's other formats are
attributes in scofeed's own namespace (``scofeed:rssUrl``, ``scofeed:jsonUrl``,
``scofeed:atomUrl``): the spec allows attributes defined in a namespace and tells
processors to ignore attributes they do not understand, so an importer subscribes to
``xmlUrl`` alone while a script can still
find every format. Written with lxml; pure."""

from __future__ import annotations

from lxml import etree

from scofeed.config import Config
from scofeed.languages import extlang_form
from scofeed.render.catalog import FeedSet

NS = "https://github.com/scofeed/scofeed/blob/main/docs/formats.md#opml"
PREFERRED = ("atom", "rss", "json")  # the format a reader subscribes to, first configured


def subscribed_format(cfg: Config) -> str:
    """The format each set's outline subscribes to (``xmlUrl``)."""
    return next(fmt for fmt in PREFERRED if fmt in cfg.feeds.formats)


def render_opml(cfg: Config, sets: list[FeedSet]) -> bytes:
    main = subscribed_format(cfg)
    others = [fmt for fmt in PREFERRED if fmt in cfg.feeds.formats and fmt != main]
    root = etree.Element("opml", version="2.0", nsmap={"scofeed": NS} if others else None)
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{cfg.site.title}: all feeds"
    body = etree.SubElement(root, "body")
    for fs in sets:
        # ``text`` as written: importers (listparser among them) read it as text; one
        # escaped once more as HTML ("may contain encoded HTML", OPML 2.0) showed every
        # "&" of a title as "&amp;" there
        outline = etree.SubElement(body, "outline", text=fs.title, title=fs.title, type="rss")
        outline.set("xmlUrl", fs.url(cfg, main))
        outline.set("htmlUrl", fs.home(cfg))
        if fs.language:  # as Atom and RSS write it ("zh-yue" for "yue"), which validates
            outline.set("language", extlang_form(fs.language))
        for fmt in others:
            outline.set(f"{{{NS}}}{fmt}Url", fs.url(cfg, fmt))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
