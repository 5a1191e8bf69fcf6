"""Publishing feeds/: every set of feeds of ``render.catalog`` (main, per language, per
tag) in every configured format, the main set's RFC 5005 archive pages (one per month,
Atom and RSS) and ``feeds.opml``; each file written atomically (a temporary file in the
same folder, fsync, then rename).

A reader never sees half a file, and a file whose bytes would not change is not touched
at all (its mtime, and so HTTP Last-Modified, stays put). Each file has a key: a hash of
everything it shows (the rendering code's hash, the site settings, its set, its archive
links, and each entry's id, dates, revision, content hash, link and author). The keys
live in the store (``store.feedfiles``) with each file's stamp (size, mtime, inode); a
file is rendered only when its key changed, or the file is missing or not as it was
left, so a new release at 30,000 entries renders the subscription feeds it
appears in and the one archive page of its month (and that page's neighbour, whose
``next-archive`` link it changes), reading only those pages' entries. A file the
publisher wrote before and no longer plans (a month left empty, a tag dropped) is
removed.
Withdrawn entries are in no feed; those withdrawn within ``feeds.tombstone_days`` of
``now`` leave an RFC 6721 tombstone in the Atom feeds of their sets (part of those
files' keys, so a tombstone's expiry re-renders them at the next build). A set's latest
withdrawal (or restore) is in its subscription feeds' heads and keys: a feed is never
dated before it, and a feed emptied by withdrawals is dated by the last of them. A feed
with neither entries nor a withdrawal (an empty store's, a tag's that no entry has, or no
longer) is dated by when it was first published so, kept with its file
(``feedfiles.empty_since``): stable, so an unchanged feed stays byte-identical.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scofeed import render
from scofeed.config import Config
from scofeed.errors import PublishError
from scofeed.model import Entry
from scofeed.publish.files import (
    contained,
    current,
    last_change,
    remove,
    sweep,
    sweep_left,
    write_atomic,
    write_if_changed,
)
from scofeed.publish.planning import (
    DATES_FROM,
    Plan,
    Planned,
    layout,
    lists_with,
    not_before_its_date,
    plan,
    tombstones,
)
from scofeed.render import catalog
from scofeed.render.catalog import OPML_FILE, FeedSet
from scofeed.render.opml import render_opml
from scofeed.store import Store, feedfiles, put_meta
from scofeed.store import published as published_rows
from scofeed.store import withdrawals as withdrawal_rows
from scofeed.store.lock import exclusively

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)

__all__ = [
    "DATES_FROM",
    "Plan",
    "Planned",
    "contained",
    "last_change",
    "layout",
    "lists_with",
    "plan",
    "publish_feeds",
    "published_sets",
    "render_batch",
    "sweep_left",
    "write_atomic",
    "write_if_changed",
]

SETS_META = "feed_sets"  # the languages and metadata tags with feeds, as last published


# runs ``render_batch(cfg, batch)`` for each batch, in worker processes; results in order
FanOut = Callable[[Config, list[list[Planned]]], Iterable[tuple[list[str], dict[str, str]]]]
FAN_OUT_MIN = 3000  # entry renderings from which a fan-out (given) is used: a cold build
BATCH_ENTRIES = 1500  # entry renderings per batch in a fan-out


def publish_feeds(
    cfg: Config, store: Store, now: datetime | None = None, fan_out: FanOut | None = None
) -> list[str]:
    """Render and write every planned file whose key changed (or that is missing);
    returns the paths written, relative to feeds/. Nothing changed: nothing rendered.
    ``now`` (default: the clock) decides which tombstones remain. With ``fan_out`` (the
    build passes worker processes), a large amount of rendering (a cold build's archive
    pages) is split into batches rendered and written there. One publisher at a time
    (the daemon's jobs, a `scofeed withdraw` beside it): a lock file beside the store."""
    with _one_publisher(cfg):
        return _publish(cfg, store, now, fan_out)


@contextlib.contextmanager
def _one_publisher(cfg: Config) -> Iterator[None]:
    """Two publishers interleaving could record a newer file key over older bytes."""
    with exclusively(Path(f"{cfg.paths.state}.publish.lock"), "publish lock", PublishError):
        yield


def _publish(cfg: Config, store: Store, now: datetime | None, fan_out: FanOut | None) -> list[str]:
    db = store.db
    now = now or datetime.now(UTC)
    withdrawn = tombstones(cfg, store, now)
    p, members, months = layout(cfg, db, withdrawn)
    files = plan(cfg, p.sets, members, months, withdrawn, withdrawal_rows.withdrawals(db),
                 feedfiles.empty_since(db), now)  # fmt: skip
    root = cfg.paths.feeds
    if root.exists() and not root.is_dir():  # else each file failed "Not a directory"
        raise PublishError(f"paths.feeds: {root}: not a folder")
    known = feedfiles.keys(db)
    todo = [f for f in files if not current(known.get(f.path), f.key, root / f.path)]
    todo = [replace(f, ids=tuple(published_rows.month_ids(db, f.month))) if f.month else f
            for f in todo]  # fmt: skip
    todo = [not_before_its_date(root, f, now) for f in todo]
    if todo:  # nothing to write: nothing written here can have been left half-way
        sweep(root, {str(Path(f.path).parent) for f in todo})
    written: list[str] = []
    failed: dict[str, str] = {}  # path -> why it could not be written
    # the archive pages first: a subscription feed written while the page its
    # prev-archive link names could not be (a full disk) left its oldest entries in
    # no published file; such a feed keeps its last bytes until the page is written
    pages = [f for f in todo if f.month]
    feeds = [f for f in todo if not f.month]
    spread = fan_out is not None and sum(f.size for f in todo) >= FAN_OUT_MIN
    entries = (
        _entries(store, todo, sum(m.live for m in months.values())) if todo and not spread else {}
    )

    def render_group(group: list[Planned]) -> tuple[list[str], dict[str, str]]:
        if not spread:
            return _render_files(cfg, group, entries)
        assert fan_out is not None
        done: list[str] = []
        bad: dict[str, str] = {}
        for batch_written, batch_failed in fan_out(cfg, _batches(group)):
            done += batch_written
            bad |= batch_failed
        return done, bad

    written, failed = render_group(pages)
    if failed:  # held back: the feeds whose prev-archive names an archive page
        page = next(iter(failed))
        for f in feeds:
            if any(rel == "prev-archive" for rel, _href in f.head.links):
                failed[f.path] = f"{root / f.path}: not written, its archive page {page} was not"
        feeds = [f for f in feeds if f.path not in failed]
    rest, rest_failed = render_group(feeds)
    written += rest
    failed |= rest_failed
    order = {f.path: n for n, f in enumerate(files)}
    written.sort(key=order.__getitem__)  # plan order, however the batches came back
    planned = set(order)
    stale = sorted(path for path in known if path not in planned)
    for path in stale:
        remove(root, path)
    try:
        if write_if_changed(root / OPML_FILE, render_opml(cfg, p.sets)):
            written.append(OPML_FILE)
    except PublishError as exc:
        failed[OPML_FILE] = str(exc)
    sets_value = json.dumps({"languages": p.languages, "tags": p.tags}, ensure_ascii=False)
    if todo or stale or store.get_meta(SETS_META) != sets_value:
        with store.transaction() as tx:  # a file not written keeps its old key: tried again
            feedfiles.put(
                tx,
                [(f.path, f.key, f.head.empty_since, feedfiles.stamp(root / f.path))
                 for f in todo if f.path not in failed],
            )  # fmt: skip
            feedfiles.forget(tx, stale)
            put_meta(tx, (SETS_META, sets_value))
    if failed:  # the others were written: one file that cannot be does not hold them up
        first, more = next(iter(failed.values())), len(failed) - 1
        raise PublishError(first + (f"; and {more} more file{'s' * (more > 1)}" if more else ""))
    return written


def _batches(todo: list[Planned]) -> list[list[Planned]]:
    """Files in batches of about ``BATCH_ENTRIES`` entry renderings, largest first."""
    batches: list[list[Planned]] = []
    size = BATCH_ENTRIES
    for f in sorted(todo, key=lambda f: -len(f.ids)):
        if size + len(f.ids) > BATCH_ENTRIES and (not batches or batches[-1]):
            batches.append([])
            size = 0
        batches[-1].append(f)
        size += len(f.ids)
    return batches


def render_batch(cfg: Config, batch: list[Planned]) -> tuple[list[str], dict[str, str]]:
    """In a worker process: render and write one batch, reading its entries through a
    connection of its own. Returns the paths written and why the others were not (a
    failed file does not hold up the rest of its batch)."""
    store = Store(cfg.paths.state, wait=cfg.limits.store_wait)
    try:
        ids = list(dict.fromkeys(i for f in batch for i in f.ids))
        return _render_files(cfg, batch, published_rows.by_ids(store.db, ids))
    finally:
        store.close()


WRITERS = 8  # files written at once (threads): their fsyncs wait on the disk together
AHEAD = 2 * WRITERS  # files rendered and not yet written, at most
# files are written here, in turn, until their writes have waited this long in all:
# starting the writers cost ~4 ms of CPU in a one-shot build of the seed (eight
# threads handing the GIL around), whose 16 writes wait ~8 ms in all on a local disk;
# a slow disk or a large build hands its writes to the threads after the first few
INLINE_SECONDS = 0.01


def _render_files(
    cfg: Config, files: list[Planned], entries: dict[str, Entry]
) -> tuple[list[str], dict[str, str]]:
    """Render and write each file; the paths written, and those that could not be
    (path -> why: a folder made read-only, a full disk), which the rest do not wait for.
    Files are rendered here, in turn, and written here too until the writes have waited
    ``INLINE_SECONDS``; the rest are written by ``WRITERS`` threads meanwhile: written
    one after the other, each fsync waits on the disk alone (the 16 files of a one-shot
    `scofeed build` of the seed took ~60 ms on a slow disk, a quarter of it); together
    the file system commits them at once."""
    written: list[str] = []
    failed: dict[str, str] = {}
    pending: deque[tuple[str, Future[bool]]] = deque()  # in plan order
    inline = INLINE_SECONDS  # time left for writing here

    def settle(path: str, job: Callable[[], bool]) -> None:
        try:
            if job():
                written.append(path)
        except PublishError as exc:
            failed[path] = str(exc)

    with contextlib.ExitStack() as stack:
        writers: ThreadPoolExecutor | None = None
        for f in files:
            if not contained(f.path):
                log.warning("unpublishable_path path=%r (outside feeds/): skipped", f.path)
                continue
            # an entry withdrawn since the plan was made is left out; the next plan differs
            shown = [entries[i] for i in f.ids if i in entries]
            data = render.render(f.fmt, shown, cfg, f.withdrawn, f.head)
            target = cfg.paths.feeds / f.path
            if writers is None and inline > 0:
                started = time.monotonic()
                settle(f.path, functools.partial(write_if_changed, target, data))
                inline -= time.monotonic() - started
                continue
            if writers is None:
                # by name, like the build's process pool (``scofeed.pool``): a build that
                # never starts the writers never loads concurrent.futures (~0.6 ms)
                futures = importlib.import_module("concurrent.futures")
                writers = stack.enter_context(
                    futures.ThreadPoolExecutor(WRITERS, thread_name_prefix="scofeed-write")
                )
            pending.append((f.path, writers.submit(write_if_changed, target, data)))
            if len(pending) > AHEAD:  # hold no more than AHEAD files' bytes
                path, job = pending.popleft()
                settle(path, job.result)
        while pending:
            path, job = pending.popleft()
            settle(path, job.result)
    return written, failed


def _entries(store: Store, todo: list[Planned], total: int) -> dict[str, Entry]:
    """The entries the files to render show: all at once when that is most of them."""
    wanted = list(dict.fromkeys(i for f in todo for i in f.ids))
    if len(wanted) * 2 > total:
        return {e.id: e for e in published_rows.latest(store.db)}
    return published_rows.by_ids(store.db, wanted)


def published_sets(cfg: Config, store: Store) -> list[FeedSet]:
    """The sets of feeds as last published (for WebSub topics and payloads at run time)."""
    raw = store.get_meta(SETS_META)
    known = json.loads(raw) if raw else {"languages": [], "tags": []}
    return catalog.feed_sets(cfg, known["languages"], known["tags"])
