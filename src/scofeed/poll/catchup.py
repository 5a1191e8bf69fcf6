"""A listing's next pages, read while they hold links new to the store: the releases
that left the first page while scofeed was not polling (``catch_up``)."""

from __future__ import annotations

import logging

from scofeed.config import RemoteSource
from scofeed.config.redact import logged
from scofeed.errors import RejectedInput, TemporaryFailure
from scofeed.normalise import url_key
from scofeed.poll import linked
from scofeed.poll.refusals import PAGE_GIVE_UP
from scofeed.poll.run import Run, SourceResult, get
from scofeed.sources.http import Response, same_site
from scofeed.sources.remote import Found, Kind
from scofeed.store import sources as source_rows

log = logging.getLogger("scofeed.poll")  # its lines are the poll's


def catch_up(
    run: Run, src: RemoteSource, kind: Kind, first: Response, found: Found, result: SourceResult
) -> tuple[list[str], int, bool]:
    """The article links of the listing, and of its next pages while the last (oldest)
    link of each page read is new to the store: releases that left the first page while
    scofeed was not polling (or the site was down) are on the next ones. At most
    ``max_pages`` pages in all, the same host, never one page twice; not on a source's
    first poll (nothing to catch up on: it would be a backfill). With them, the number
    of listing pages read, and whether the catch-up was cut short by a next page
    failing for now: the next polls then go on past the first page whatever its last
    link, for a week at most (``PAGE_GIVE_UP``); a Retry-After is put in ``result``
    (the poll leaves the host alone)."""
    links = list(found.links)
    db = run.store.db
    since = source_rows.cut_short(db, src.name)
    # a catch-up cut short goes on at the next polls, for a week at most
    pending = since is not None and run.now.timestamp() - since < PAGE_GIVE_UP
    if src.pages < 2 or not source_rows.brought(db, src.name):
        if since is not None:
            source_rows.set_cut_short(db, src.name, None)
        return links, 1, False
    if source_rows.catch_up_held(db, src.name):
        # a next page asked us to wait at the last poll: the first page's articles come
        # in now, the catch-up at the next poll (a next page answering 429 at every poll
        # held back every article, the first page's too, for good)
        source_rows.hold_catch_up(db, src.name, False)
        return links, 1, True
    official = run.cfg.authority_of(src.name) != "other"
    seen_pages = {url_key(src.url), url_key(first.url)}
    page, resp, pages, unfinished = found.links, first, 1, False
    while page and ((pending and pages == 1) or not linked.known(run, page[-1], official)):
        after = kind.next_page(src, resp)
        if after is None:
            break
        if pages >= src.pages:
            log.info(
                "poll_catch_up_capped source=%s pages=%d max_pages=%d",
                src.name, pages, src.pages,
            )  # fmt: skip
            break
        if url_key(after) in seen_pages or not same_site(first.url, after):
            break  # a page read already; another host (never found: same host only)
        seen_pages.add(url_key(after))
        try:
            resp = get(run, src, after, kind.accept, False)
            if url_key(resp.url) in seen_pages - {url_key(after)}:
                break  # redirected to a page read already (a site's ?page=99 to page 1)
            seen_pages.add(url_key(resp.url))
            page = run.read(resp.url, kind.read, src, resp, run.now).links
            if set(page) <= set(links):  # a site serving page 1 for any number, "next" too
                raise RejectedInput(resp.url, "only links the pages before it had")
        except RejectedInput as exc:  # an older page's trouble costs only the catch-up
            log.info(
                "poll_catch_up_stopped source=%s page=%s reason=%r",
                src.name, logged(exc.origin), exc.reason,
            )  # fmt: skip
            unfinished = exc.retryable
            if isinstance(exc, TemporaryFailure) and exc.retry_after is not None:
                result.retry_after = exc.retry_after
                source_rows.hold_catch_up(db, src.name, True)
            break
        pages += 1
        links.extend(page)
    if pages > 1:
        log.info("poll_caught_up source=%s pages=%d", src.name, pages)
    if not unfinished:
        if since is not None:
            source_rows.set_cut_short(db, src.name, None)
    elif not pending:  # the first cut of a run (or one after a week: a new run)
        source_rows.set_cut_short(db, src.name, run.now.timestamp())
    return links, pages, unfinished
