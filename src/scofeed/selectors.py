"""Selector compilation: an XPath or CSS selector string -> a compiled lxml XPath.

A selector is XPath when it starts with ``/``, ``./`` or ``(``, CSS otherwise (CSS is
translated to XPath by cssselect). The config loader checks selectors with this at
start-up; ``sources.htmlpage`` uses it to find a page's parts. Both share the cache.

cssselect (~14 regular expressions compiled at import) loads by name on the first CSS
selector, not with this module: the config loader imports this module for every
command, and most configurations have no selectors (issue 9).
"""

from __future__ import annotations

import importlib
from functools import lru_cache

import lxml.etree

from scofeed.errors import ConfigError

XPATH_STARTS = ("/", "./", "(")


@lru_cache(maxsize=256)
def compile_selector(selector: str) -> lxml.etree.XPath:
    """An XPath (``/``, ``./``, ``(``) or CSS selector, compiled; ConfigError (a ValueError)
    when invalid, which the config loader reports with the selector's dotted key."""
    s = selector.strip()
    if s.startswith(XPATH_STARTS):
        try:
            return lxml.etree.XPath(s)
        except lxml.etree.XPathError as exc:
            raise ConfigError(f"not a valid XPath or CSS selector ({exc})") from None
    css = importlib.import_module("lxml.cssselect")  # see the module docstring
    try:
        return css.CSSSelector(s)
    except (lxml.etree.XPathError, css.SelectorError) as exc:
        raise ConfigError(f"not a valid XPath or CSS selector ({exc})") from None
