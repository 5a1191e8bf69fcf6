"""HTML content: given markup sanitised (nh3), or built from plain paragraphs. Pure.

Only harmless markup survives: the tags and attributes below, http(s) and mailto
links (marked noopener noreferrer); no script, no event handlers, no javascript: URLs.
"""

from __future__ import annotations

import html

import nh3

from scofeed.normalise.text import xml_safe

_ALLOWED_TAGS = {
    "p", "br", "a", "em", "strong", "b", "i", "u", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "pre", "code", "table", "thead", "tbody", "tr", "th", "td",
    "img", "figure", "figcaption", "sup", "sub", "hr",
}  # fmt: skip
_ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}


def sanitise(fragment: str) -> str:
    """Only harmless markup survives: no script, no event handlers, no javascript: URLs."""
    return nh3.clean(
        xml_safe(fragment),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


def paragraphs_html(paras: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paras)
