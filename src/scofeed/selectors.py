"""Selector compilation: an XPath or CSS selector string -> a compiled lxml XPath.

A selector is XPath when it starts with ``/``, ``./`` or ``(``, CSS otherwise (CSS is
translated to XPath by cssselect). The config loader checks selectors with this at
start-up; ``sources.htmlpage`` uses it to find a page's parts. Both share the cache.
"""

from __future__ import annotations

from functools import lru_cache

import lxml.etree
from cssselect import SelectorError
from lxml.cssselect import CSSSelector

from scofeed.errors import ConfigError

XPATH_STARTS = ("/", "./", "(")


@lru_cache(maxsize=256)
def compile_selector(selector: str) -> lxml.etree.XPath:
    """An XPath (``/``, ``./``, ``(``) or CSS selector, compiled; ConfigError (a ValueError)
    when invalid, which the config loader reports with the selector's dotted key."""
    s = selector.strip()
    try:
        if s.startswith(XPATH_STARTS):
            return lxml.etree.XPath(s)
        return CSSSelector(s)
    except (lxml.etree.XPathError, SelectorError) as exc:
        raise ConfigError(f"not a valid XPath or CSS selector ({exc})") from None
