"""Finding the date a release states about itself. Pure: no I/O, no clock.

``find_date(text, context)`` returns the first calendar date stated in ``text`` and
how it was found. Understood forms (day ranges give their first day):

    3 June 2020 · 3 June, 2020 · On 3 June · 8-9 June 2017 · 30 June - 1 July 2021
    June 3, 2020 · June 8-9, 2017 · June 3 · 2020-06-03 · 03.06.2020
    3 июня 2020 года · 3-4 июня · 2020年6月3日 · 6月3日

A date without a year takes the year of ``context`` (the file's or URL's date),
stepping back a year when that would put it over a month after the context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

MIN_YEAR = 1990

_EN_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_RU_MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6,
    "июл": 7, "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}  # fmt: skip
_RU_ENDINGS = r"(?:я|а|ь|й|е|т)?"

_EN = "|".join(sorted(_EN_MONTHS, key=len, reverse=True))
_RU = "|".join(sorted(_RU_MONTHS, key=len, reverse=True))
_DASH = r"\s*[-–—]\s*"
_YEAR = r"(?P<year>(?:19|20)\d\d)"

# Each pattern names day, month (word or number) and optionally year.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "iso",
        re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)-(?P<mon>[01]\d)-(?P<day>[0-3]\d)(?!\d)"),
    ),
    (
        "dotted",
        re.compile(r"(?<![\d.])(?P<day>[0-3]?\d)\.(?P<mon>[01]?\d)\.(?P<year>(?:19|20)\d\d)(?!\d)"),
    ),
    (
        "zh",
        re.compile(
            r"(?:(?P<year>(?:19|20)\d\d)\s*年\s*)?(?P<mon>1[0-2]|0?[1-9])\s*月\s*"
            r"(?P<day>[12]\d|3[01]|0?[1-9])\s*(?:日|号)"
        ),
    ),
    (
        "day-month",  # 3 June 2020, 8-9 June 2017, 30 June - 1 July 2021, 3 June, 2020, 3 June
        re.compile(
            rf"(?<![\w\d])(?P<day>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
            rf"(?:{_DASH}(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?)?"
            rf"(?:\s+(?:of\s+)?(?P<mword>{_EN})\.?(?:{_DASH}(?:[12]\d|3[01]|0?[1-9])\s+(?:{_EN}))?)"
            rf"(?![a-z])(?:,?\s*{_YEAR}(?!\d))?",
            re.IGNORECASE,
        ),
    ),
    (
        "month-day",  # June 3, 2020, June 8-9, 2017, June 30 - July 1, 2021, June 3
        re.compile(
            rf"(?<![\w])(?P<mword>{_EN})\.?\s+(?P<day>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
            rf"(?:{_DASH}(?:(?:{_EN})\s+)?(?:[12]\d|3[01]|0?[1-9]))?(?!\d)"
            rf"(?:,?\s*{_YEAR}(?!\d))?",
            re.IGNORECASE,
        ),
    ),
    (
        "ru",
        re.compile(
            rf"(?<![\w\d])(?P<day>[12]\d|3[01]|0?[1-9])(?:{_DASH}(?:[12]\d|3[01]|0?[1-9]))?"
            rf"\s+(?P<rword>{_RU}){_RU_ENDINGS}(?!\w)(?:\s+{_YEAR}(?:\s*(?:года|г\.))?)?",
            re.IGNORECASE,
        ),
    ),
]


_DIGITS = re.compile(r"\d+")
_BEFORE = 16  # "September. 30": how far a month word may stand before the day
_AFTER = 48  # "30 September - 1 October 2021 года": how far a date runs past its digits


@dataclass(frozen=True)
class FoundDate:
    day: date
    position: int
    had_year: bool
    text: str


def _month(m: re.Match[str]) -> int | None:
    g = m.groupdict()
    if g.get("mword"):
        return _EN_MONTHS.get(g["mword"].lower().rstrip("."))
    if g.get("rword"):
        return _RU_MONTHS.get(g["rword"].lower())
    if g.get("mon"):
        return int(g["mon"])
    return None


def _resolve(m: re.Match[str], context: date | None, max_year: int) -> FoundDate | None:
    month = _month(m)
    if month is None or not 1 <= month <= 12:
        return None
    day = int(m.group("day"))
    year_text = m.groupdict().get("year")
    if year_text:
        year = int(year_text)
        if not MIN_YEAR <= year <= max_year:
            return None
        try:
            return FoundDate(date(year, month, day), m.start(), True, m.group(0))
        except ValueError:
            return None
    if context is None:
        return None
    try:
        guess = date(context.year, month, day)
    except ValueError:
        return None
    if (guess - context).days > 31:  # "On 28 December" in a file dated January
        try:
            guess = date(context.year - 1, month, day)
        except ValueError:
            return None
    return FoundDate(guess, m.start(), False, m.group(0))


def find_dates(text: str, context: date | None = None, max_year: int = 2100) -> list[FoundDate]:
    """Every date stated in ``text``, in order of appearance (overlaps resolved left-first)."""
    found: list[FoundDate] = []
    for _name, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            hit = _resolve(m, context, max_year)
            if hit is not None:
                found.append(hit)
    found.sort(key=lambda f: (f.position, -len(f.text)))
    result: list[FoundDate] = []
    end = -1
    for f in found:
        if f.position >= end:
            result.append(f)
            end = f.position + len(f.text)
    return result


def find_date(text: str, context: date | None = None, max_year: int = 2100) -> FoundDate | None:
    """The first date stated in ``text``, or None.

    Every date form holds a digit, so the patterns only run in a short window around
    each run of digits, in order, stopping once no later window can start earlier:
    far cheaper than scanning long paragraphs with every pattern."""
    best: FoundDate | None = None
    for digits in _DIGITS.finditer(text):
        lo = max(0, digits.start() - _BEFORE)
        if best is not None and lo > best.position:
            break
        hi = min(len(text), digits.end() + _AFTER)
        for _name, pattern in _PATTERNS:
            m = pattern.search(text, lo, hi)
            while m is not None:
                hit = _resolve(m, context, max_year)
                if hit is not None:
                    if best is None or (hit.position, -len(hit.text)) < (
                        best.position,
                        -len(best.text),
                    ):
                        best = hit
                    break
                m = pattern.search(text, m.start() + 1, hi)
    return best


def midnight(day: date, tz: str) -> datetime:
    """A date-only value as midnight in the configured zone: always timezone-aware."""
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz))


def aware(value: datetime, tz: str) -> datetime:
    """Give a naive datetime the configured zone; leave an aware one alone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(tz))


def parse_iso(value: str, tz: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 date or date-time from metadata, made aware; None if not one."""
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return midnight(date.fromisoformat(value), tz)
        return aware(datetime.fromisoformat(value.replace("Z", "+00:00")), tz)
    except ValueError:
        return None
