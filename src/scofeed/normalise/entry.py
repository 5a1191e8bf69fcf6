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
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from scofeed.dates import aware, date_from_url, find_date, midnight
from scofeed.errors import NormaliseError
from scofeed.model import Entry, Release
from scofeed.normalise.headline import split_release
from scofeed.normalise.ids import content_hash, entry_page, fingerprint, identity_of, mint_id
from scofeed.normalise.language import detect_language
from scofeed.normalise.sanitise import paragraphs_html, sanitise
from scofeed.normalise.text import shorten

log = logging.getLogger(__name__)

SUMMARY_MAX = 600
FAR_DAYS = 60  # a text date further than this from the URL date is not the publication date


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


def _published(
    release: Release,
    texts: list[str],
    tz: str,
    now: datetime,
) -> tuple[datetime, str]:
    """Metadata, else the first date in the text (relative dates resolved against the
    URL's or file's date), unless it lies far from the URL's date; then the URL's date,
    then the file's date."""
    if release.published is not None:
        return aware(release.published, tz), "metadata"
    url_day = date_from_url(release.url)
    context = release.context_date
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
            return datetime.combine(found.day, found.at, tzinfo=ZoneInfo(tz)), "text"
        return midnight(found.day, tz), "text"
    if url_day is not None:
        return midnight(url_day, tz), "url"
    if context is not None:
        log.info("date_fallback origin=%s source=mtime", release.origin)
        return aware(context, tz), "mtime"
    raise NormaliseError(f"{release.origin}: no date in metadata, URL or text, and no file date")


def normalise(release: Release, settings: Settings, now: datetime) -> Entry:
    """Turn one release into one entry. Raises NormaliseError when it cannot."""
    title, paras, preamble = split_release(release)
    if release.html is not None:
        content = sanitise(release.html)
    else:
        content = paragraphs_html(paras)
    if not paras and not content:
        raise NormaliseError(f"{release.origin}: the release has a title but no body")
    summary = shorten(paras[0], SUMMARY_MAX) if paras else title
    texts = [*preamble, *paras[:6], title]
    published, date_source = _published(release, texts, settings.timezone, now)
    updated = aware(release.updated, settings.timezone) if release.updated else published
    updated = max(updated, published)
    body_text = " ".join(paras)
    language = release.lang or detect_language(title + " " + body_text, settings.language)
    tags = list(dict.fromkeys([*release.tags, *match_tags(title + " " + body_text, settings.tags)]))
    fp = fingerprint(title, paras[0] if paras else "")
    identity, url_key = identity_of(release, fp)
    entry_id = mint_id(settings.authority, identity)
    link = release.url or entry_page(settings.base_url, entry_id)
    facts = {
        "title": title,
        "summary": summary,
        "content": content,
        "published": published.isoformat(),
        "url": url_key,
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
