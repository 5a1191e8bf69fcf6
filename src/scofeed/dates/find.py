"""Finding the dates stated in a text: absolute forms, then relative ones. Pure.

``find_date(text, context)`` returns the first calendar date stated in ``text`` and
how it was found; ``find_dates`` all of them; ``is_date_line`` tells a line that
states a date and nothing else. The forms are listed in ``scofeed.dates.forms``.
"""

from __future__ import annotations

import re
from datetime import date

from scofeed.dates.forms import (
    FULLWIDTH,
    FULLWIDTH_DIGITS,
    MIN_YEAR,
    FoundDate,
    relative,
    relative_pattern,
    resolve,
    with_time,
)
from scofeed.dates.windowed import matches, nothing_to_try, relative_starts, scan
from scofeed.patterns import later
from scofeed.typography import ascii_image


def find_dates(
    text: str,
    context: date | None = None,
    max_year: int = 2100,
    reference: date | None = None,
    *,
    windowed: bool = True,
    plain: bool | None = None,
) -> list[FoundDate]:
    """Every date stated in ``text``, in order of appearance (overlaps resolved left-first).
    With a ``reference`` (the publication date) relative dates are resolved against it.
    ``windowed=False`` runs every pattern over the whole text: the plain, slow form the
    windowed search must agree with (see ``scofeed.dates.windowed``). ``plain``:
    ``scofeed.typography.ascii_but_marks(text)``, when the caller knows it."""
    # text that is ASCII but for typographic marks is searched by its ASCII image (each
    # mark a "?", see ``scofeed.dates.windowed``), made once for the steps that ask
    image = text if text.isascii() else ascii_image(text, plain)
    if windowed and image is not None and nothing_to_try(image, reference is not None):
        return []
    if image is None and any(digit in text for digit in FULLWIDTH_DIGITS):
        text = text.translate(FULLWIDTH)  # same length: positions stay valid
    found: list[FoundDate] = []
    every = matches(text, windowed, image)
    if not every and reference is None:
        return found
    years = {int(m["year"]) for m in every if "year" in m.re.groupindex and m["year"]}
    years = {y for y in years if MIN_YEAR <= y <= max_year}  # "1500 troops" is no year
    for m in every:
        hit = resolve(m, context, max_year, years)
        if hit is not None:
            found.append(with_time(hit, text))
    if reference is not None:
        starts = {f.position for f in found}
        where = relative_starts(text, image) if windowed else None
        relatives: list[re.Match[str]] = []
        if where is None:
            relatives.extend(relative_pattern().finditer(text))
        elif where:  # no place a relative date may begin: not even compiled
            scan(relative_pattern(), text, where, relatives)
        for m in relatives:
            gap = re.match(r"[\s,]*", text[m.end() :])
            if gap is not None and m.end() + gap.end() in starts:
                continue  # "Wednesday, 3 June 2020": the stated date says it all
            hit = relative(m, reference)
            if hit is not None:
                found.append(hit)
    if len(found) < 2:
        return found  # nothing to order, nothing overlapping
    found.sort(key=lambda f: (f.position, -len(f.text)))
    result: list[FoundDate] = []
    end = -1
    for f in found:
        if f.position >= end:
            result.append(f)
            end = f.position + len(f.text)
    return result


def find_date(
    text: str,
    context: date | None = None,
    max_year: int = 2100,
    reference: date | None = None,
) -> FoundDate | None:
    """The first date stated in ``text``, or None."""
    dates = find_dates(text, context, max_year, reference)
    return dates[0] if dates else None


LINE_CONTEXT = date(2000, 1, 1)  # what a year-less date on a line is judged by


# the words a date line may hold besides its date and time: its label ("Published:",
# "Дата публикации:", "发布时间："), and on a Chinese page the source it names beside it
# ("来源：上合组织秘书处")
_labels = later(
    r"(?i)\b(?:updated|published|date|at|года|г|дата(?:\s+публикации)?|опубликовано"
    r"|обновлено|发布时间|发布日期|更新时间|日期|时间)\b|来源[:：]\s*\S+"
)


def is_date_line(line: str, hits: list[FoundDate] | None = None) -> bool:
    """A line that states a date (and perhaps a time or weekday) and nothing else.
    ``hits``: ``find_dates(line, LINE_CONTEXT)``, when the caller has it already."""
    if hits is None:
        hits = find_dates(line, LINE_CONTEXT)
    if not hits:
        return False
    # each date a space, the text put together once (a line of many dates, copied whole
    # for each, took seconds: 10 s for 800 KB); in order, one overlapping another's
    # span left out
    pieces: list[str] = []
    at = 0
    for h in sorted(hits, key=lambda h: h.position):
        if h.position < at:
            continue
        pieces.append(line[at : h.position])
        at = h.position + len(h.text)
    pieces.append(line[at:])
    rest = " ".join(pieces)
    rest = relative_pattern().sub(" ", rest)
    rest = _labels().sub(" ", rest)
    rest = re.sub(r"\d{1,2}[:：]\d\d", " ", rest)
    return not re.search(r"[^\W\d_]", rest)


STAMP_MAX = 60  # a date-stamp line is short


def date_stamp(line: str, context: date | None = None) -> FoundDate | None:
    """The date of a date-stamp line: a short line that states one date and nothing
    else ("12.03.2025", "March 12, 2025", "2025-03-12 10:30", "12 марта 2025",
    "2025年3月12日"). A page prints one above or below the text as its publication date."""
    if len(line) > STAMP_MAX and not line[:1].isspace() and not line[-1:].isspace():
        return None  # a paragraph: stripping it (a copy) would leave it as long
    text = line.strip()
    if not text or len(text) > STAMP_MAX or not is_date_line(text):
        return None
    hits = find_dates(text, context)
    return hits[0] if len(hits) == 1 else None
