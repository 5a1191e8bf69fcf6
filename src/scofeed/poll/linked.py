"""Which article pages a poll fetches: those its listing links that are new to the store
(``fresh``), each with the addresses its article was read at before (a move); and the
pages refused for now whose turn to be tried again has come (``due_failing``), linked
or not (``unlinked_due``)."""

from __future__ import annotations

import logging
import sqlite3
from urllib.parse import urlsplit

from scofeed.config import RemoteSource
from scofeed.config.redact import logged
from scofeed.normalise import url_key
from scofeed.poll.run import Run
from scofeed.poll_times import retry_due, scheduled_wait
from scofeed.sources.http import same_site
from scofeed.sources.listing import ArticleNumber
from scofeed.sources.remote import Kind
from scofeed.store import files as file_rows
from scofeed.store import origins as origin_rows
from scofeed.store import pages as page_rows
from scofeed.store import sources as source_rows
from scofeed.store import status as status_rows

log = logging.getLogger("scofeed.poll")  # its lines are the poll's


def fresh(
    run: Run, src: RemoteSource, kind: Kind, links: list[str], oldest_first: bool = False
) -> tuple[list[tuple[str, list[str]]], int]:
    """The linked pages not ingested (or refused for good) before, each with the
    addresses its article was ingested under before (``addresses_before``); and how many more
    wait, refused for now, to be tried again at a later poll."""
    fresh: list[tuple[str, list[str]]] = []
    keys: set[object] = set()
    official = run.cfg.authority_of(src.name) != "other"
    for link in links:
        key = url_key(link)
        number = kind.number(src, link)
        if key in keys or (number is not None and number in keys):
            continue  # the same article under two spellings of its address
        keys.update((key, number))
        if known(run, link, official):
            back = moved_back(run.store.db, link)
            if back is not None:  # the article moved back: read there, as a move
                fresh.append((link, [back]))
            continue
        earlier = addresses_before(run, src, kind, link, number)
        if not same_page_known(link, earlier, run.store.db):
            fresh.append((link, earlier))
    if len(fresh) > src.max_items:
        log.info("poll_capped source=%s fresh=%d max_items=%d", src.name, len(fresh), src.max_items)
    # pages that failed for a passing reason go after those never tried: a page that
    # keeps failing never holds the others back (nor does a host's bad spell)
    failed = source_rows.failed_for_now(run.store.db, [link for link, _e in fresh])
    scheduled = scheduled_wait(src, run.now, run.cfg.site.timezone)
    due = [
        page
        for page in fresh
        if run.force or page[0] not in failed or retry_due(failed[page[0]], scheduled, run.now)
    ]
    if oldest_first:
        due.reverse()
    return sorted(due, key=lambda page: page[0] in failed), len(fresh) - len(due)


def due_failing(run: Run, src: RemoteSource) -> list[str]:
    """The pages of ``src`` refused for a passing reason whose turn has come
    (``retry_due``), those of its site a source since renamed or removed refused too."""
    failing = source_rows.failing_pages(run.store.db, src.name, src.url)
    if src.kind == "page-list":
        # a page of this site refused for now by a source since renamed or removed (no
        # poll took its turns: the listing answered 304 and its release never came)
        owners = {s.name for s in run.cfg.sources} | {status_rows.ADD, status_rows.LOCAL}
        for page, f in source_rows.failing_orphans(run.store.db, owners).items():
            if page != src.url and same_site(src.url, page):
                failing.setdefault(page, f)
    if not failing:
        return []
    scheduled = scheduled_wait(src, run.now, run.cfg.site.timezone)
    # no cut-off by age: every turn is taken (``unlinked_due``), so each such page
    # comes in or is given up (PAGE_GIVE_UP_TRIES turns may take longer than a week)
    return [page for page, f in failing.items() if retry_due(f, scheduled, run.now)]


def unlinked_due(
    run: Run, src: RemoteSource, kind: Kind, fresh: list[tuple[str, list[str]]], due: list[str]
) -> list[tuple[str, list[str]]]:
    """The pages refused for now whose turn has come that the listing pages read no
    longer link (pushed to a page not read): tried at their address all the same, so
    that each comes in, or is given up, at its turn (they waited for ever, and made the
    listing read whole at every poll). One that came in meanwhile (another spelling of
    its address) is no refusal any more."""
    official = run.cfg.authority_of(src.name) != "other"
    taken = {link for link, _e in fresh}
    numbers = {kind.number(src, link) for link in taken} - {None}
    pages: list[tuple[str, list[str]]] = []
    for page in due:  # ``due_failing``'s
        if page in taken:
            continue  # in ``fresh``'s
        number = kind.number(src, page)
        # known, or its article is read at another address (this poll, or before): no
        # refusal any more (a linked spelling ``fresh`` passed over stayed due for ever)
        if known(run, page, official) or (
            number is not None
            and (number in numbers or addresses_before(run, src, kind, page, number))
        ):
            file_rows.clear_rejects(run.store.db, [page])
        else:
            pages.append((page, []))
    return pages


def known(run: Run, link: str, official: bool) -> bool:
    """An article page ingested before, or refused for good (``source_rows.seen``)."""
    return source_rows.seen(run.store.db, link, url_key(link), run.force, official)


def addresses_before(
    run: Run, src: RemoteSource, kind: Kind, link: str, number: ArticleNumber | None
) -> list[str]:
    """The addresses other than ``link`` this article was ingested under (the ``sco``
    preset: the same day and number on the same host), oldest first."""
    if number is None:
        return []
    authority = run.cfg.authority_of(src.name)
    return [
        origin
        for origin in source_rows.pages_like(run.store.db, number.like(), authority)
        if origin != link and kind.number(src, origin) == number
    ]


def same_page_known(link: str, earlier: list[str], db: sqlite3.Connection) -> bool:
    """The article ingested before at an address of the same file name in another folder
    (``/news/20261127/1001220.html`` after ``/20261127/1001220.html``: the site serves
    both), unless a recheck found that address gone: the same page, not fetched again.
    It was taken for a move, and its entry revised and pushed with not a word changed.
    A new file name (a corrected headline's slug), or the old address gone (the page
    moved for good), is a move (``former``)."""
    name = urlsplit(link).path.rpartition("/")[2]
    return any(
        urlsplit(origin).path.rpartition("/")[2] == name and not page_rows.is_gone(db, origin)
        for origin in earlier
    )


def moved_back(db: sqlite3.Connection, link: str) -> str | None:
    """The address an article moved to from ``link`` (a corrected headline's slug), when
    the listing links ``link`` again and a recheck found that address gone: the site
    undid the move, and the page at ``link`` is read as a move back (it was taken for
    known: the entry kept the dropped headline and linked a dead page)."""
    now = origin_rows.live_name(db, link)
    return now if now != link and "://" in now and page_rows.is_gone(db, now) else None


def former(src: RemoteSource, link: str, earlier: list[str]) -> str | None:
    """The address this article was ingested under before, when it has moved (a
    corrected headline changes the slug of its address): the page is then a correction
    of that entry."""
    if not earlier:
        return None
    log.info("page_moved source=%s from=%s to=%s", src.name, logged(earlier[0]), logged(link))
    return earlier[0]
