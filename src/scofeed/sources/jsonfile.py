"""JSON releases: one release object, or a list of them.

    {"title": "...", "date": "2020-06-03", "updated": "...", "url": "https://...",
     "tags": ["..."], "lang": "en", "id": "...", "text": "Para one.\\n\\nPara two."}

The body is ``text`` (plain-text paragraphs separated by blank lines) or ``html``
(sanitised by normalise). Each item of a list is its own input, named by its ``id``
(``file#ID``), else its ``url`` (``file#URL``), else by a hash of its title and stated
date (``file#`` and 20 hex digits), as a feed's items are; by its place (``file#N``, N
counted from 1) only where that name is not its own (given twice in the file, or a
number up to the list's length). An input is matched to its entry by that name first,
so a list that grows anywhere leaves the entries of its items where they are, where
names by place would make each item revise the entry of the item it displaced. An
invalid item rejects the file, naming the item by its place.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

from scofeed.errors import RejectedInput
from scofeed.markup import (
    MAX_ATTRIBUTES,
    MAX_ELEMENTS,
    TOO_MANY_ATTRIBUTES,
    most_attributes,
    start_tags,
    too_many_elements,
)
from scofeed.model import Release
from scofeed.sources.meta import KEYS, html_paragraphs, readable, release_from_meta, said_name

log = logging.getLogger(__name__)

MAX_ITEMS = 10_000


def _item(origin: str, obj: Any, context: datetime | None) -> Release:
    if not isinstance(obj, dict):
        raise RejectedInput(origin, "a release must be a JSON object")
    text, html = obj.get("text"), obj.get("html")
    if text is not None and not isinstance(text, str):
        raise RejectedInput(origin, "'text' must be a string")
    if html is not None and not isinstance(html, str):
        raise RejectedInput(origin, "'html' must be a string")
    if text is None and html is None:
        raise RejectedInput(origin, "no body: give 'text' or 'html'")
    elements = start_tags(html or "")  # before lxml and nh3 spend seconds on them
    if elements > MAX_ELEMENTS:
        raise RejectedInput(origin, too_many_elements(elements))
    if most_attributes(readable(html or "")) > MAX_ATTRIBUTES:  # as html_paragraphs reads it
        raise RejectedInput(origin, TOO_MANY_ATTRIBUTES)
    if text is None:
        text = "\n\n".join(html_paragraphs(html or ""))
    meta = {k: obj[k] for k in KEYS if k in obj}
    return release_from_meta(origin, meta, text, html, context)


def _short(exc: Exception) -> str:
    return str(exc).split(":", 1)[0][:120]


def read_json(origin: str, text: str, context: datetime | None) -> list[Release]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        what = exc.msg.removesuffix(" at")  # "Unterminated string starting at"
        raise RejectedInput(origin, f"not valid JSON ({what} at line {exc.lineno})") from None
    except RecursionError:
        raise RejectedInput(origin, "JSON nested too deeply") from None
    except ValueError as exc:  # an integer past Python's 4,300-digit conversion limit
        raise RejectedInput(origin, f"not valid JSON ({_short(exc)})") from None
    if isinstance(doc, dict):
        version = doc.get("version")
        if isinstance(version, str) and version.startswith("https://jsonfeed.org/version/"):
            # read as one release it said "no body", which named nothing of what it is
            raise RejectedInput(
                origin, "a JSON Feed, not a release: poll it as a [[sources]] kind = \"feed\", "
                "or give its items as a list of releases"
            )  # fmt: skip
        return [_item(origin, doc, context)]
    if not isinstance(doc, list):
        raise RejectedInput(origin, "expected a release object or a list of them")
    if not doc:
        raise RejectedInput(origin, "empty list: no releases")
    if len(doc) > MAX_ITEMS:
        raise RejectedInput(
            origin, f"too many releases in one file ({len(doc)}, limit {MAX_ITEMS})"
        )
    releases = []
    for n, obj in enumerate(doc, start=1):
        try:
            releases.append(_item(f"{origin}#{n}", obj, context))
        except RejectedInput as exc:
            raise RejectedInput(origin, f"item {n}: {exc.reason}") from None
    return _named(origin, releases)


def _said(release: Release) -> str:
    """An item without an id or URL: a hash of its title (else its text's first line)
    and the date it states. Its text is left out, so an edit of the text is the same
    item; a new title or date names it anew (``renames.continue_renamed`` then finds its
    entry, when its first paragraph is the same)."""
    title = release.title if release.title is not None else release.text.split("\n", 1)[0]
    date = release.published.isoformat() if release.published else ""
    return said_name(title, date)


def _named(origin: str, releases: list[Release]) -> list[Release]:
    """Each item named by its id, URL or title and date where that name is its own:
    given once in the file, and not a number another item could be named by its place."""
    names = [r.key or r.url or _said(r) for r in releases]
    counts = Counter(names)
    places = range(1, len(releases) + 1)
    out = []
    for release, name in zip(releases, names, strict=True):
        if name and counts[name] == 1 and not (name.isdecimal() and int(name) in places):
            release = replace(release, origin=f"{origin}#{name}")
        out.append(release)
    return out
