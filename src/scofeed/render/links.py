"""Relative links inside entry content made absolute.

A feed is read far from the page a release came from: a reader resolves a relative
``href`` or ``src`` against the feed's own address, which points into our site, not
the release's (and the W3C Feed Validator warns about relative references in RSS
content). So links are resolved against the entry's own link before rendering, and
against the feed's URL when a feed item is read. Pure: text in, text out.

lxml.html loads by name on the first fragment with a relative link, not with this
module: most content has none, and a one-shot build need not pay for it (issue 9).
"""

from __future__ import annotations

import importlib
import re

import lxml.etree

# an href or src whose value does not open with a scheme ("https:", "mailto:"): maybe relative
_MAYBE_RELATIVE = re.compile(r"""(?:href|src)\s*=\s*["']?(?![a-zA-Z][a-zA-Z0-9+.-]*:)""", re.I)


def absolute_links(fragment: str, base: str) -> str:
    """``fragment`` with every relative href/src resolved against ``base``; the very
    same string when it holds none (so untouched content keeps its bytes)."""
    low = fragment.lower()
    if ("href" not in low and "src" not in low) or not _MAYBE_RELATIVE.search(fragment):
        return fragment
    html = importlib.import_module("lxml.html")  # see the module docstring
    try:
        root = html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return fragment
    root.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
    lead = (root.text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return lead + "".join(html.tostring(child, encoding="unicode") for child in root)
