"""A log line said at most once a while (``scofeed.throttle``), on an injected clock."""

from __future__ import annotations

from scofeed.throttle import Throttle


def test_a_line_is_said_once_per_interval_with_the_count_held_back() -> None:
    now = [100.0]
    t = Throttle(every=600, clock=lambda: now[0])
    assert t.due() == 0  # the first is said
    assert [t.due() for _ in range(3)] == [None, None, None]
    now[0] += 599
    assert t.due() is None
    now[0] += 1
    assert t.due() == 4  # said again, with the four held back since
    assert t.due() is None
    now[0] += 600
    assert t.due() == 1
