"""Article pages refused: for good (``reject``), or for a passing reason and tried again
at later polls until given up (``refused``); and the lines that say so (``told``)."""

from __future__ import annotations

import logging

from scofeed.config import RemoteSource
from scofeed.config.redact import logged
from scofeed.errors import TEMPORARY, PageGone, RejectedInput, TemporaryFailure
from scofeed.poll.run import Run, SourceResult
from scofeed.store import files as file_rows
from scofeed.store import sources as source_rows

log = logging.getLogger("scofeed.poll")  # its lines are the poll's

# an article page refused for a passing reason (a 403 from a firewall, a 429, a 5xx, a
# timeout) is tried again at the next poll, then after 2, 4, 8 ... times the scheduled
# wait (at most a day apart); refused for a week, and at least this many times, it is
# given up: recorded as rejected for good, listed by `scofeed status`, retried by --force
PAGE_GIVE_UP = 7 * 86400
PAGE_GIVE_UP_TRIES = 5
TOLD_AT_MOST = 20  # inputs refused in one poll of a source that get a line each


def not_up_yet(exc: PageGone) -> TemporaryFailure:
    """A new article page the listing links answering 404 or "page not found" (a 410
    says it is gone for good): a site lists a release a moment before its page is up (a
    cache, a lag), so it is refused for now, tried again at later polls and given up
    after a week as any page refused for a passing reason (refused for good at once, the
    release never came)."""
    return TemporaryFailure(exc.origin, f"{exc.reason}; linked from the listing: not up yet?")


def refused(
    run: Run, src: RemoteSource, link: str, exc: RejectedInput, result: SourceResult
) -> bool:
    """Record an article page refused; True when it is to be tried again later (refused
    for a passing reason), False when refused for good, or given up: refused for a
    passing reason for ``PAGE_GIVE_UP`` and at least ``PAGE_GIVE_UP_TRIES`` times."""
    if not exc.retryable:
        reject(run, src, link, exc.reason, result)
        return False
    now = run.now.timestamp()
    failing = source_rows.fail_for_now(run.store.db, link, src.name, exc.reason, now)
    if now - failing.since < PAGE_GIVE_UP or failing.tries < PAGE_GIVE_UP_TRIES:
        told(src, link, exc.reason, result)
        return True
    days = (now - failing.since) / 86400
    last = exc.reason.removeprefix(TEMPORARY)
    reason = f"given up after {failing.tries} refusals in {days:.0f} days (last: {last})"
    reject(run, src, link, reason, result)
    return False


def reject(run: Run, src: RemoteSource, origin: str, reason: str, result: SourceResult) -> None:
    again = file_rows.reject_reason(run.store.db, origin) == reason
    file_rows.reject(run.store.db, origin, src.name, reason, run.now.timestamp(), None)
    told(src, origin, reason, result, again)


def told(
    src: RemoteSource, origin: str, reason: str, result: SourceResult, again: bool = False
) -> None:
    """A refused input in the poll's result and its log line: at DEBUG when it was
    refused for that reason before (``again``), as a feed's bad item is at every poll
    while the feed keeps it: a line each poll said nothing new."""
    result.rejected.append((origin, reason))
    if again:
        result.repeats += 1
        log.debug("rejected origin=%s source=%s reason=%r again", logged(origin), src.name, reason)
        return
    # info, as a build's: `scofeed poll` prints each on stderr, and a warning said it twice.
    # One line each up to TOLD_AT_MOST a poll, then one for the rest: a feed of 100,000
    # items without a body wrote 100,000 lines at each poll (each is still recorded)
    told = len(result.rejected) - result.repeats  # the lines said at INFO, this one too
    if told <= TOLD_AT_MOST:
        log.info("rejected origin=%s source=%s reason=%r", logged(origin), src.name, reason)
    elif told == TOLD_AT_MOST + 1:
        log.info(
            "rejected source=%s: more inputs, not each logged (scofeed status lists them)",
            src.name,
        )
