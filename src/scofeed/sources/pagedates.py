"""The dates a page prints around its headline, read from their text. Pure.

``element_stamp`` reads a page's date line, which may hold short facts beside the
date ("12.03.2025 | Views: 57"); ``without_date`` takes the date a page prints in its
heading off the headline ("02.09.2025 SCO Secretary-General meets ...").
"""

from __future__ import annotations

import re
from datetime import date

from scofeed.dates import LINE_CONTEXT, FoundDate, date_stamp, find_dates, is_date_line
from scofeed.normalise.language import script_of

# what parts the facts of a date line: "12.03.2025 | Views: 57", "12.03.2025 · News"
_FACTS_APART = re.compile(r"\s*[|·•]\s*")
FACT_MAX = 40  # characters of one such fact, at most
_TIME_ONLY = re.compile(r"\d{1,2}[:：]\d{2}(?:[:：]\d{2})?")


def element_stamp(text: str, context: date | None) -> FoundDate | None:
    """The date a page's date line states: its text as a date stamp; else, when its
    parts are short facts, the part that states a date, with a part that is only a
    time ("12.03.2025 | 14:30 | Views: 57": the day and its time). A view counter or a
    section's name beside the date made the line no date line: it was dropped as the
    page furniture it is, and the release dated by the file."""
    found = date_stamp(text, context)
    parts = [p for p in _FACTS_APART.split(text) if p]
    if len(parts) < 2 or any(len(p) > FACT_MAX for p in parts):
        return found  # one part, or one as long as a sentence: a line of the text
    times = [p for p in parts if _TIME_ONLY.fullmatch(p)]
    for part in parts:
        day = date_stamp(part, context)
        if day is None:
            continue
        if day.at is None and times:
            return date_stamp(f"{part} {times[0]}", context) or day
        return day
    return found


# what may part a date standing before a headline from it: "г."/"года" after a date
# stated so, then marks ("|", "—", ":", "，", "/", a full stop) and spaces; what follows
# opens with a capital or a Chinese character (not "12 марта 2025 года в Пекине ...",
# "15 June 2001: the day ...", whose date is the headline's own)
_DATE_APART = re.compile(r"(?:\s*(?:г\.|года)(?!\w))?[\s|·•—–\-:：,，/.]*")


def without_date(text: str) -> str:
    """A headline without the date stamp a page prints in its heading before it
    ("<h1><span>02.09.2025</span> SCO Secretary-General meets ...</h1>": the title
    opened with the date); a heading that is only a date is no headline ("")."""
    if not text[:1].isdigit():  # a date stated with its year opens with a digit here
        return text
    hits = find_dates(text, LINE_CONTEXT)
    if not hits or hits[0].position != 0 or not hits[0].had_year:
        return text
    after = text[len(hits[0].text) :]
    apart = _DATE_APART.match(after)
    rest = after[apart.end() :] if apart else after
    if not rest or is_date_line(text, hits):
        return ""
    if len(rest) < 10 or not (rest[0].isupper() or script_of(rest[0]) == "cjk"):
        return text  # "12.03.2025 Summit", "12 марта 2025 года в Пекине ...": as it is
    return rest
