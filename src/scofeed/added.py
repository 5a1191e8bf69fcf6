"""``scofeed add URL``: a release page fetched (politely: ``sources.http``) into
sources/ as a JSON release, a build (``scofeed.add``), and the page watched for
corrections while recent (``scofeed.recheck`` fetches it again, ``refresh_added``).

Apart from ``scofeed.add``, whose file and standard-input adds load no HTTP client or
feed parser (issue 9: each command imports only what it uses).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from scofeed import publish
from scofeed.add import ADD_SOURCE, AddResult, add_release, dump, one_at_a_time, quarantine
from scofeed.build import BuildReport, build
from scofeed.config import Config
from scofeed.config.redact import logged
from scofeed.errors import NormaliseError, RejectedInput
from scofeed.model import Planner, Release
from scofeed.normalise import normalise, settings_from
from scofeed.pool import within_budget
from scofeed.sources.http import Response
from scofeed.sources.newslist import refuse_listing
from scofeed.sources.remote import fetch_added, page_text, read_added
from scofeed.store import Store
from scofeed.store import entries as entry_rows
from scofeed.store import pages as page_rows

log = logging.getLogger("scofeed.add")  # its lines as before the split: add_refreshed


def from_url(cfg: Config, store: Store, url: str, now: datetime, fmt: str | None = None) -> bytes:
    """Fetch a release page (politely: see sources.http) and return it as a JSON release
    that keeps its URL and date, so a later build of sources/ reads the same release
    with the same duplicate key, whatever the page's own markup says. ``fmt`` is the
    release format to read it as (default: as its Content-Type says)."""
    try:
        resp = fetch_added(cfg, store, url, now)
        # read within the per-file time budget, as a file or a polled page is
        releases = within_budget(
            cfg.limits.file_seconds, url, _read_fetched, cfg, url, resp, now, fmt
        )
        return url_document(cfg, url, releases, now)
    except (RejectedInput, NormaliseError) as exc:
        quarantine(store, url, exc, now)
        raise


def _read_fetched(
    cfg: Config, url: str, resp: Response, now: datetime, fmt: str | None
) -> list[Release]:
    suffix, releases = read_added(cfg, url, resp, now, fmt)
    if suffix in (".html", ".htm"):
        for release in releases:
            refuse_listing(url, page_text(resp), release, url)
    return releases


def url_document(cfg: Config, url: str, releases: list[Release], now: datetime) -> bytes:
    """The one release of a fetched page as the JSON file ``add`` keeps in sources/."""
    if len(releases) != 1:
        raise RejectedInput(url, f"holds {len(releases)} releases; add them one at a time")
    release = releases[0]
    settings = settings_from(cfg)
    entry = within_budget(cfg.limits.file_seconds, url, normalise, release, settings, now)
    doc: dict[str, object] = {
        "title": entry.title,
        "date": entry.published.isoformat(),
        "url": release.url or url,
        "lang": entry.language,
        "text": release.text,
    }
    if release.tags:
        doc["tags"] = list(release.tags)
    if release.html:
        doc["html"] = release.html
    # what the page's own metadata said (a Markdown or JSON release's): its id, a later
    # date and its withdrawal were dropped, and a withdrawn release was published
    if release.key:
        doc["id"] = release.key
    if release.updated is not None:
        doc["updated"] = release.updated.isoformat()
    if release.withdrawn is not None:
        doc["withdrawn"] = release.withdrawn
        if release.withdrawn_reason:
            doc["withdrawn_reason"] = release.withdrawn_reason
    return dump(doc)


def refresh_added(
    cfg: Config,
    store: Store,
    path: Path,
    url: str,
    releases: list[Release],
    now: datetime,
    planner: Planner | None = None,
) -> BuildReport | None:
    """A page given to ``add URL`` fetched again (``scofeed.recheck``): its file in
    sources/ rewritten when the page's text changed, and a build, which makes the edit a
    correction as for any edited file. The file's date stays (a recheck brings edits of
    the text, not a new date). None when nothing changed."""
    with one_at_a_time(cfg):
        return _refreshed(cfg, store, path, url, releases, now, planner)


def _refreshed(
    cfg: Config, store: Store, path: Path, url: str, releases: list[Release], now: datetime,
    planner: Planner | None,
) -> BuildReport | None:  # fmt: skip
    old_bytes = path.read_bytes()
    doc = json.loads(url_document(cfg, url, releases, now))
    try:
        old = json.loads(old_bytes)
    except ValueError:
        old = {}
    if isinstance(old, dict) and old.get("date"):
        doc["date"] = old["date"]
    data = dump(doc)
    if data == old_bytes:
        return None
    publish.write_atomic(path, data)
    log.info("add_refreshed url=%s path=%s", logged(url), path)
    rel = path.relative_to(cfg.paths.sources).as_posix()
    return build(cfg, store, now, planner=planner, settled=frozenset({rel}))  # written whole


def add_url(
    cfg: Config,
    store: Store,
    url: str,
    now: datetime,
    update: bool = False,
    fmt: str | None = None,
) -> AddResult:
    """``scofeed add URL``: the page into sources/ as JSON, a build, and the page
    watched for corrections while recent (``[recheck]``), read as ``fmt`` then too."""
    data = from_url(cfg, store, url, now, fmt)
    result = add_release(cfg, store, data, ".json", url, now, update)
    entry = entry_rows.get(store.db, result.entry_id)
    rel = result.path.relative_to(cfg.paths.sources).as_posix()
    page_rows.watch(
        store.db,
        url,
        ADD_SOURCE,
        rel,
        entry.id,
        entry.published.timestamp(),
        now.timestamp(),
        cfg.recheck.interval,
        fmt,
    )
    return result
