"""Selector compilation: an XPath or CSS selector string -> a compiled lxml XPath.

A selector is XPath when it starts with ``/``, ``./`` or ``(``, CSS otherwise (CSS is
translated to XPath by cssselect). The config loader checks selectors with this at
start-up; ``sources.htmlpage`` uses it to find a page's parts. Both share the cache.

lxml.etree (~8 ms) loads by name on the first selector, and cssselect (~14 regular
expressions compiled at import) on the first CSS one, not with this module: the config
loader imports this module for every command, and most configurations have no
selectors (issue 9).
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from scofeed.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import lxml.etree

XPATH_STARTS = ("/", "./", "(")


@lru_cache(maxsize=256)
def compile_selector(selector: str) -> lxml.etree.XPath:
    """An XPath (``/``, ``./``, ``(``) or CSS selector, compiled; ConfigError (a ValueError)
    when invalid, which the config loader reports with the selector's dotted key."""
    s = selector.strip()
    etree = importlib.import_module("lxml.etree")  # see the module docstring
    if s.startswith(XPATH_STARTS):
        try:
            return etree.XPath(s)  # type: ignore[no-any-return]
        except etree.XPathError as exc:
            raise ConfigError(f"not a valid XPath or CSS selector ({exc})") from None
    css = importlib.import_module("lxml.cssselect")  # see the module docstring
    try:
        return css.CSSSelector(s)
    except (etree.XPathError, css.SelectorError) as exc:
        raise ConfigError(f"not a valid XPath or CSS selector ({exc})") from None
