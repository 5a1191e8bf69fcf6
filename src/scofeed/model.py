"""The records that travel through the pipeline, and the Planner type.

A ``Release`` is what a source read: raw, possibly messy, with whatever metadata the
format carried. An ``Entry`` is what normalise made of it: clean, dated, with a stable
id, ready to store, render and deliver. A ``Planner`` writes an entry revision's outbound
deliveries; the orchestration passes one in to ingest (deliver makes it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import field
from datetime import date, datetime

from scofeed.frozen import frozen


@frozen(many=True)
class Release:
    """One release as a source gave it, before normalising."""

    origin: str  # file path relative to sources/, or the URL it came from; names it in messages
    text: str = ""  # plain-text layout: title line, then paragraphs split by blank lines
    title: str | None = None  # from metadata; when None the text's first line is the title
    html: str | None = None  # body as HTML (Markdown rendered, a page's article), sanitised later
    published: datetime | None = None  # from metadata (front matter, JSON, <time>, URL path)
    updated: datetime | None = None  # from metadata, when the format states one
    url: str | None = None  # the release's own web address, when known
    tags: tuple[str, ...] = ()
    lang: str | None = None
    key: str | None = None  # an explicit id from metadata
    # e.g. the file's mtime: gives years to "17 April", and is the date's last fallback
    context_date: datetime | None = None
    source: str = "local"  # name of the source that produced it
    # metadata ``withdrawn``: True / False as stated, None when the release does not say
    withdrawn: bool | None = None
    withdrawn_reason: str = ""  # metadata ``withdrawn_reason`` (or ``withdrawn: "why"``)
    # another name the same input goes by, stable where ``origin`` is not: a feed item's
    # ``FEED#GUID`` when the item has a link (its origin), which a CMS may change with
    # the title. ``ingest`` keeps it beside the origin, and finds the entry by it.
    alias: str | None = None


@frozen
class Withdrawal:
    """Why and when an entry left the feeds (``scofeed withdraw`` or metadata)."""

    at: datetime  # timezone-aware
    reason: str = ""
    by: str = "cli"  # cli | metadata


@frozen(many=True)
class Entry:
    """One release normalised: what the feeds, pages and pushes show."""

    id: str  # tag: URI, never changes once minted
    title: str
    summary: str  # plain text
    content_html: str  # sanitised
    published: datetime  # timezone-aware
    updated: datetime  # timezone-aware
    author: str
    language: str
    link: str
    url: str | None  # canonical URL of the release itself, when it has one
    tags: tuple[str, ...] = ()
    content_hash: str = ""
    fingerprint: str = ""  # title + first paragraph, ignoring case, space and punctuation
    revision: int = 1
    origin: str = ""
    date_source: str = "text"  # metadata | page | url | text | mtime | now
    event_date: date | None = None  # the day of what the release reports (first date stated)
    paragraphs: tuple[str, ...] = field(default=(), compare=False)
    # the year of ``published`` was the file's (a date stated without its year, read by
    # the file's time): what ingest may correct by an earlier version of the release.
    # Never stored, compared or shown (publish keys feed files on an entry's repr)
    year_guessed: bool = field(default=False, compare=False, repr=False)
    # ``published`` / ``event_date`` came of a relative date ("on Thursday") read by the
    # file's time: an earlier version's is kept (ingest). Never stored, compared or shown
    day_guessed: bool = field(default=False, compare=False, repr=False)
    event_guessed: bool = field(default=False, compare=False, repr=False)
    # the fingerprint with Unicode forms and ё/е folded too, for matching copies ("": the
    # fingerprint). Never compared or shown, like ``year_guessed``
    folded: str = field(default="", compare=False, repr=False)
    withdrawal: Withdrawal | None = None  # set while the entry is withdrawn
    # when scofeed first stored it (epoch seconds; None: not read from the store): the
    # time its ActivityPub post was published. Never compared or shown, like ``folded``
    first_seen: float | None = field(default=None, compare=False, repr=False)
    # the tags its release states itself, before the [tags] rules add theirs (None: not
    # known, an entry read from the store): what a re-tag keeps whatever the rules.
    # Never compared or shown, like ``folded``
    stated: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    # a correction's fields that the revision before said otherwise (``changes``): what
    # its webhook payload and chat message say changed; () when not known (an entry
    # read from the store). Never stored, compared or shown, like ``folded``
    changed: tuple[str, ...] = field(default=(), compare=False, repr=False)


# an entry's fields a reader is shown, named as a webhook payload names them
SHOWN_FIELDS = (
    "title", "url", "published", "event_date", "summary", "content_html", "tags", "language",
)  # fmt: skip


def _shown(entry: Entry, name: str) -> object:
    if name == "url":
        return entry.url or entry.link  # the payload's: its own page, else ours
    value = getattr(entry, name)
    return value.isoformat() if name == "published" else value  # as stated, zone too


def changes(before: Entry, after: Entry) -> tuple[str, ...]:
    """The fields (``SHOWN_FIELDS``) ``after`` shows otherwise than ``before``."""
    return tuple(name for name in SHOWN_FIELDS if _shown(before, name) != _shown(after, name))


# planner(db, entry, event) writes the outbound deliveries for one entry revision, in
# the transaction that stores the revision; it returns how many it queued
Planner = Callable[[sqlite3.Connection, Entry, str], int]
