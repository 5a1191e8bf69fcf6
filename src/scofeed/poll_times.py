"""When a remote source is polled next (``poll``): its schedule (an interval or a cron
line, in the site's time zone), backed off while it fails, no sooner than a server's
``Retry-After`` asks; and when a page refused for a passing reason is tried again."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from scofeed.config import RemoteSource
from scofeed.deliver.policy import retry_after_seconds
from scofeed.store import Store
from scofeed.store import sources as source_rows

log = logging.getLogger("scofeed.poll")  # its lines are the poll's

RETRY_AFTER_MAX = 86400  # a server's Retry-After is honoured up to a day
# polls that fail in a row wait longer each time: the scheduled wait times 2, 4, then 8
# from the second failure on, never more than a day beyond (see ``backoff``)
BACKOFF_FACTOR = 8
BACKOFF_MAX = 86400


def next_poll(src: RemoteSource, now: datetime, tz: str) -> datetime:
    """When the source is next due: its cron line's next time after ``now`` (a poll at
    one of its times is next due at the one after, not again at once), else now +
    interval."""
    if src.cron:
        trigger = CronTrigger.from_crontab(src.cron, timezone=ZoneInfo(tz))
        fire = trigger.get_next_fire_time(now, now)  # as if it fired now: strictly after
        if fire is not None:
            return fire  # type: ignore[no-any-return]
    return datetime.fromtimestamp(now.timestamp() + src.interval, tz=now.tzinfo)


def backoff(src: RemoteSource, due: datetime, failures: int, now: datetime, tz: str) -> datetime:
    """The next poll after ``failures`` polls failed in a row, the last one ``now``
    (``due``: when the schedule alone would poll next). One failure changes nothing (a
    blip); from the second on, the wait is the scheduled one times 2, 4, then 8, at most
    a day unless the schedule's own wait is longer, and a cron source keeps to its
    times (the first one after that wait). A poll that does not fail ends it."""
    scheduled = due.timestamp() - now.timestamp()
    if failures < 2 or scheduled <= 0:
        return due
    factor = min(2 ** (failures - 1), BACKOFF_FACTOR)
    wait = min(scheduled * factor, max(scheduled, BACKOFF_MAX))
    later = datetime.fromtimestamp(now.timestamp() + wait - scheduled, now.tzinfo)
    return next_poll(src, later, tz)


def schedule_of(src: RemoteSource, tz: str) -> str:
    """The schedule ``next_poll`` follows, as the store keeps it."""
    return f"cron {src.cron} {tz}" if src.cron else f"every {src.interval}"


def due_at(store: Store, src: RemoteSource, now: datetime, tz: str) -> float | None:
    """When the source is due, by the store; a next poll computed from another schedule
    than the configured one is computed again, from the last poll."""
    state = source_rows.state(store.db, src.name)
    if state is None or state.next_poll is None:
        return None
    schedule = schedule_of(src, tz)
    if state.schedule == schedule or state.last_poll is None:
        return state.next_poll
    last = datetime.fromtimestamp(state.last_poll, tz=now.tzinfo)
    due = next_poll(src, last, tz).timestamp()
    source_rows.reschedule(store.db, src.name, due, schedule)
    log.info(
        "poll_rescheduled source=%s schedule=%r was=%r next=%s",
        src.name, schedule, state.schedule, datetime.fromtimestamp(due, now.tzinfo).isoformat(),
    )  # fmt: skip
    return due


def retry_wait(retry_after: str | None, now: datetime) -> float | None:
    """The seconds a server's ``Retry-After`` asks us to wait, at most a day."""
    wait = retry_after_seconds(retry_after, now.timestamp())
    return None if wait is None else min(wait, RETRY_AFTER_MAX)


def not_before(due: datetime, retry_after: str | None, now: datetime) -> datetime:
    """The next poll, no sooner than the server asked (``Retry-After``, at most a day)."""
    wait = retry_wait(retry_after, now)
    if wait is None:
        return due
    asked = datetime.fromtimestamp(now.timestamp() + wait, due.tzinfo)
    # compared as instants: two times of one ZoneInfo zone compare by their wall clocks,
    # and in the hour a fall-back repeats, the later instant can read earlier (the site
    # was polled 20 minutes before its Retry-After ended)
    return max(due, asked, key=lambda t: t.timestamp())


def scheduled_wait(src: RemoteSource, now: datetime, tz: str) -> float:
    """The seconds from ``now`` to the source's next poll by its schedule alone."""
    return max(next_poll(src, now, tz).timestamp() - now.timestamp(), 1.0)


def retry_due(failing: source_rows.Failing, scheduled: float, now: datetime) -> bool:
    """Whether a page refused ``failing.tries`` times in a row for a passing reason is
    tried again at a poll ``now``: at the next poll after the first refusal, then after
    2, 4, 8 ... times the scheduled wait, never more than a day apart (unless the
    schedule's own wait is longer). Half a wait of slack: a poll a little early counts."""
    gap = min(scheduled * 2 ** min(failing.tries - 1, 20), max(BACKOFF_MAX, scheduled))
    return now.timestamp() - failing.at >= gap - scheduled / 2
