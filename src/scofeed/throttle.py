"""A log line said at most once a while: ``Throttle.due()`` says whether to say it now,
and how many like it were held back since the last one said.

For what a flood of requests would otherwise log once each (a cap reached, a table
full): the operator learns it once, with a count, and a log is not the flood's copy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

EVERY = 600.0  # seconds between two lines of one kind


class Throttle:
    def __init__(self, every: float = EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._said: float | None = None
        self._held = 0
        self._lock = threading.Lock()  # the server's worker threads share one

    def due(self) -> int | None:
        """None: hold this line back (it is counted); else say it now, with the number
        held back since the last one (0 for the first)."""
        with self._lock:
            now = self.clock()
            if self._said is not None and now - self._said < self.every:
                self._held += 1
                return None
            held, self._held, self._said = self._held, 0, now
            return held
