"""Release -> Entry: the normalise stage put together. Pure: no I/O, no clock.

``normalise`` splits the release into title and body (``headline``), builds its HTML
(``sanitise``), dates it, declares its language and tags, and mints its id (``ids``).
The publication date is the release's metadata, else the first date in its text
(relative dates resolved against the URL's or file's date) unless that lies far from
the URL's date; then the URL's date, then the file's date. Every value without a zone
is put in the configured one (``site.timezone``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scofeed.dates import aware, date_from_url, find_date, midnight
from scofeed.errors import NormaliseError
from scofeed.model import Entry, Release
from scofeed.normalise.headline import split_release
from scofeed.normalise.ids import (
    canonical_url,
    content_hash,
    entry_page,
    fingerprint,
    identity_of,
    mint_id,
    web_address,
)
from scofeed.normalise.language import detect_language
from scofeed.normalise.sanitise import paragraphs_html, sanitise
from scofeed.normalise.text import plain, shorten

log = logging.getLogger(__name__)

SUMMARY_MAX = 600
FAR_DAYS = 60  # a text date further than this from the URL date is not the publication date
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)  # no release is dated before this
AHEAD = timedelta(days=1)  # nor more than this after it is first seen (``now``)


@dataclass(frozen=True)
class Settings:
    """The parts of the configuration normalise needs; built once from Config."""

    authority: str
    base_url: str
    author: str
    language: str
    timezone: str
    tags: tuple[tuple[str, tuple[str, ...]], ...] = ()


def settings_from(cfg: object) -> Settings:
    site = cfg.site  # type: ignore[attr-defined]
    tags = tuple(sorted((k, tuple(v)) for k, v in cfg.tags.items()))  # type: ignore[attr-defined]
    return Settings(
        authority=site.id_authority,
        base_url=site.base_url,
        author=site.author,
        language=site.language,
        timezone=site.timezone,
        tags=tags,
    )


def match_tags(text: str, rules: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    if not rules:
        return []
    folded = text.casefold()
    tags = []
    for tag, words in rules:
        for w in words:
            if re.search(r"(?<!\w)" + re.escape(w.casefold()) + r"(?!\w)", folded):
                tags.append(tag)
                break
    return tags


def plausible(when: datetime | None, now: datetime, origin: str, what: str) -> bool:
    """A date from 1990 up to a day after ``now`` (when the release is first seen); any
    other is passed over, with a log line naming it."""
    if when is None:
        return False
    if EARLIEST <= when <= now + AHEAD:
        return True
    log.info("date_implausible origin=%r %s=%s", origin, what, when.isoformat())
    return False


def _published(
    release: Release,
    texts: list[str],
    tz: str,
    now: datetime,
) -> tuple[datetime, str]:
    """Metadata, else the first date in the text (relative dates resolved against the
    URL's or file's date), unless it lies far from the URL's date; then the URL's date,
    then the file's date, then ``now``. A date before 1990 or more than a day after
    ``now`` is passed over (``plausible``)."""
    origin = release.origin
    if release.published is not None:
        stated = aware(release.published, tz)
        if plausible(stated, now, origin, "metadata"):
            return stated, "metadata"
    url_day = date_from_url(release.url)
    if url_day is not None and not plausible(midnight(url_day, tz), now, origin, "url"):
        url_day = None
    context = release.context_date
    if context is not None and not plausible(aware(context, tz), now, origin, "mtime"):
        context = None
    ctx_day = aware(context, tz).astimezone(ZoneInfo(tz)).date() if context else None
    anchor = url_day or ctx_day
    for text in texts:
        found = find_date(text, anchor, max_year=now.year + 1, reference=anchor)
        if found is None:
            continue
        if url_day is not None and abs((found.day - url_day).days) > FAR_DAYS:
            log.info("date_far origin=%s text=%s url=%s", release.origin, found.day, url_day)
            return midnight(url_day, tz), "url"
        if found.at is not None:
            when = datetime.combine(found.day, found.at, tzinfo=ZoneInfo(tz))
        else:
            when = midnight(found.day, tz)
        if plausible(when, now, origin, "text"):
            return when, "text"
    if url_day is not None:
        return midnight(url_day, tz), "url"
    if context is not None:
        log.info("date_fallback origin=%s source=mtime", release.origin)
        return aware(context, tz), "mtime"
    if release.published is not None or release.context_date is not None:
        log.info("date_fallback origin=%r source=now", origin)
        return now, "now"
    raise NormaliseError(f"{release.origin}: no date in metadata, URL or text, and no file date")


def normalise(release: Release, settings: Settings, now: datetime) -> Entry:
    """Turn one release into one entry. Raises NormaliseError when it cannot."""
    if release.url is not None:
        address = web_address(release.url)
        if address is None:
            raise NormaliseError(
                f"{release.origin}: 'url' must be an absolute http:// or https:// address"
            )
        if address != release.url:
            release = replace(release, url=address)
    title, paras, preamble = split_release(release)
    # plain-text fields (title, summary) carry no markup and no entity reference,
    # whatever the source; the content shows such text escaped, as it was written
    title = plain(title)
    if not title:
        raise NormaliseError(f"{release.origin}: no usable title")
    if release.html is not None:
        content = sanitise(release.html)
    else:
        content = paragraphs_html(paras)
    if not paras and not content:
        raise NormaliseError(f"{release.origin}: the release has a title but no body")
    summary = (shorten(plain(paras[0]), SUMMARY_MAX) if paras else title) or title
    texts = [*preamble, *paras[:6], title]
    published, date_source = _published(release, texts, settings.timezone, now)
    updated = aware(release.updated, settings.timezone) if release.updated else published
    if not plausible(updated, now, release.origin, "updated"):
        updated = published
    updated = max(updated, published)
    body_text = " ".join(paras)
    language = release.lang or detect_language(title + " " + body_text, settings.language)
    tags = list(dict.fromkeys([*release.tags, *match_tags(title + " " + body_text, settings.tags)]))
    fp = fingerprint(title, paras[0] if paras else "")
    identity, _key = identity_of(release, fp)
    entry_id = mint_id(settings.authority, identity)
    link = release.url or entry_page(settings.base_url, entry_id)
    facts = {
        "title": title,
        "summary": summary,
        "content": content,
        "published": published.isoformat(),
        # canonical_url, not url_key: a hash stays what it was when url_key's rule grew
        "url": canonical_url(release.url) if release.url else None,
        "tags": tags,
        "language": language,
    }
    return Entry(
        id=entry_id,
        title=title,
        summary=summary,
        content_html=content,
        published=published,
        updated=updated,
        author=settings.author,
        language=language,
        link=link,
        url=release.url,
        tags=tuple(tags),
        content_hash=content_hash(facts),
        fingerprint=fp,
        origin=release.origin,
        date_source=date_source,
        paragraphs=tuple(paras),
    )
