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
