"""Regular expressions compiled at their first use, not at import.

Python's regex compiler is written in Python: a pattern costs a tenth of a millisecond
to a few milliseconds to compile (a class spanning the CJK blocks, an alternation of
~140 tag names), and a one-shot build of a ``.txt`` release used 15 of the 62 patterns
scofeed's modules compiled at import (issue 9). ``later`` gives a pattern's getter,
compiled at its first call and kept: ``_views = later(r"...")``, used as
``_views().match(line)``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable


def later(pattern: str, flags: int = 0) -> Callable[[], re.Pattern[str]]:
    """The getter of ``re.compile(pattern, flags)``, compiled once, when first called."""
    return functools.cache(functools.partial(re.compile, pattern, flags))


# query parameters no site uses but to tell a third party who followed a link: left
# out of what an entry shows (``render.links``) and of the URL key two spellings of one
# address are matched by (``normalise.ids.url_key``); one list, so that an address
# shown as one is matched as one
TRACKERS = (
    r"utm_[a-z0-9_]+|fbclid|gclid|dclid|gbraid|wbraid|yclid|ysclid|msclkid|igshid"
    r"|mc_cid|mc_eid|_openstat|_ga|_gl|mkt_tok|spm"
)

# an SCO article's address as a URL key spells it (``normalise.ids.url_key``): the day
# and the number ending it name the article on its site, whatever its slug (a corrected
# headline changes it, a link elsewhere may have none) and whether it is under news/:
# /20261125/1001200.html, /news/20261125/1001200.html and
# /20261125/-SCO-Forum-1001200.html are one article (``sources.htmlpage.SCO_NUMBER``
# reads a listing's links so)
_article = later(
    r"(https://[^/?#]+(?:/[a-z]{2,3})?)(?:/news)?/((?:19|20)\d{6})/(?:[^/?#]*[-_])?(\d{5,})\.html?"
)

Article = tuple[str, str, str]  # the site (with a language folder, if any), day, number


def article_of(key: str) -> Article | None:
    """The article a URL key names by its day and number (``_article``), or None."""
    if not key.endswith((".html", ".htm")):
        return None  # most keys: not even searched
    m = _article().fullmatch(key)
    return None if m is None else (m[1], m[2], m[3])


def article_prefixes(article: Article) -> tuple[str, str]:
    """What the URL keys of the article's addresses begin with: its day's folder, at
    the site's root or under news/."""
    site, day, _ = article
    return f"{site}/{day}/", f"{site}/news/{day}/"
