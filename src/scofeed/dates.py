"""Finding the date a release states about itself. Pure: no I/O, no clock.

``find_date(text, context)`` returns the first calendar date stated in ``text`` and
how it was found. Understood forms (day ranges give their first day):

    3 June 2020 · 3 June, 2020 · On 3 June · 8-9 June 2017 · 30 June - 1 July 2021
    June 3, 2020 · June 8-9, 2017 · June 3 · 2020-06-03 · 03.06.2020
    3 июня 2020 года · 3-4 июня · 30 июня – 1 июля 2021 г. · 2020年6月3日 · 6月3日
    二〇二〇年六月三日 · ２０２０年６月３日 · 8 and 9 June · June 30 to July 1, 2021

A time of day after the date is kept, even glued to the year ("3 June 202010:30").
A date without a year takes the year of ``context`` (the file's or URL's date),
stepping back a year when that would put it over a month after the context; a range
running into the next year ("December 30 - January 2, 2021") starts the year before.
Given a ``reference`` (the publication date), relative dates count too: today,
yesterday, "on Thursday" (the last Thursday on or before it), сегодня, вчера,
в четверг, 今天, 昨天, 周四. ``date_from_url`` reads the date in a release URL's path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit
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
_TO = rf"(?:{_DASH}|\s+(?:to|and|till|until|through|по|и|до)\s+|\s*[至到~]\s*)"
# a year ends at a non-digit, or runs straight into a time of day ("202010:30")
_YEAR_END = r"(?:(?!\d)|(?=(?:[01]\d|2[0-3]):[0-5]\d(?!\d)))"
_YEAR = rf"(?P<year>(?:19|20)\d\d){_YEAR_END}"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])"
_ZH_DIGITS = "〇零一二三四五六七八九"
_ZH_NUM = "一二三四五六七八九十"
_ZH_DIGIT_VALUE = {"〇": 0, "零": 0, **{c: i + 1 for i, c in enumerate(_ZH_NUM[:9])}}

# Each pattern names day, month (word or number) and optionally year.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "iso",
        re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)-(?P<mon>[01]\d)-(?P<day>[0-3]\d)(?!\d)"),
    ),
    (
        "dotted",
        re.compile(rf"(?<![\d.])(?P<day>[0-3]?\d)\.(?P<mon>[01]?\d)\.{_YEAR}"),
    ),
    (
        "zh",
        re.compile(
            r"(?:(?P<year>(?:19|20)\d\d)\s*年\s*)?(?P<mon>1[0-2]|0?[1-9])\s*月\s*"
            r"(?P<day>[12]\d|3[01]|0?[1-9])\s*(?:日|号)"
        ),
    ),
    (
        "zh-numerals",  # 二〇二〇年六月三日
        re.compile(
            rf"(?P<zyear>[{_ZH_DIGITS}]{{4}})\s*年\s*(?P<zmon>[{_ZH_NUM}]{{1,2}})\s*月\s*"
            rf"(?P<zday>[{_ZH_NUM}]{{1,3}})\s*(?:日|号)"
        ),
    ),
    (
        "day-month",  # 3 June 2020, 8-9 June 2017, 30 June - 1 July 2021, 3 June, 2020, 3 June
        re.compile(
            rf"(?<![\w\d])(?P<day>{_DAY})(?:st|nd|rd|th)?"
            rf"(?:{_TO}{_DAY}(?:st|nd|rd|th)?)?"
            rf"(?:\s+(?:of\s+)?(?P<mword>{_EN})\.?"
            rf"(?:{_TO}{_DAY}(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mword2>{_EN})\.?)?)"
            rf"(?![a-z])(?:,?\s*{_YEAR})?",
            re.IGNORECASE,
        ),
    ),
    (
        "month-day",  # June 3, 2020, June 8-9, 2017, June 30 - July 1, 2021, June 3
        re.compile(
            rf"(?<![\w])(?P<mword>{_EN})\.?\s+(?P<day>{_DAY})(?:st|nd|rd|th)?"
            rf"(?:{_TO}(?:(?P<mword2>{_EN})\.?\s+)?{_DAY}(?:st|nd|rd|th)?)?(?!\d)"
            rf"(?:,?\s*{_YEAR})?",
            re.IGNORECASE,
        ),
    ),
    (
        "ru",  # 3 июня 2020 года, 3-4 июня, 30 июня – 1 июля 2021 г., с 8 по 9 июня
        re.compile(
            rf"(?<![\w\d])(?P<day>{_DAY})(?:{_TO}{_DAY})?"
            rf"\s+(?P<rword>{_RU}){_RU_ENDINGS}(?!\w)"
            rf"(?:{_TO}{_DAY}\s+(?P<rword2>{_RU}){_RU_ENDINGS}(?!\w))?"
            rf"(?:\s+{_YEAR}(?:\s*(?:года|г\.))?)?",
            re.IGNORECASE,
        ),
    ),
]

_TIME_AFTER = re.compile(
    r"[\s,]*(?:(?:at|в)\s+)?(?P<h>[01]?\d|2[0-3])[:：](?P<m>[0-5]\d)(?!\d)", re.IGNORECASE
)
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")

_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
    "понедельник": 0, "вторник": 1, "сред": 2, "четверг": 3, "пятниц": 4, "суббот": 5,
    "воскресень": 6,
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
}  # fmt: skip
_DAYS_OFF = {
    "today": 0, "yesterday": -1, "tomorrow": 1, "сегодня": 0, "вчера": -1, "завтра": 1,
    "今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "明天": 1, "明日": 1,
}  # fmt: skip
_RELATIVE = re.compile(
    r"(?<!\w)(?P<off>today|yesterday|tomorrow|сегодня|вчера|завтра)(?!\w)"
    r"|(?P<zoff>今天|今日|昨天|昨日|明天|明日)"
    r"|(?<!\w)(?:(?P<when>last|next|this|past|on)\s+)?"
    r"(?P<wday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)(?!\w)"
    r"|(?<!\w)(?:(?P<rwhen>прошл\w*|следующ\w*|в|во)\s+)?"
    r"(?P<rwday>понедельник|вторник|сред|четверг|пятниц|суббот|воскресень)[а-я]*"
    r"|(?P<zwhen>上|下|本)?(?:周|星期|礼拜)(?P<zwday>[一二三四五六日天])",
    re.IGNORECASE,
)


# Running every pattern over a whole paragraph is slow (most open with a lookbehind,
# which defeats the regex engine's prefix scan), so each is tried only where one of its
# matches can start; ``_scan`` then yields exactly what ``finditer`` would.
_DIGITS = re.compile(r"\d\d*")  # as \d+, but the engine then scans for the first \d fast
_AT_DIGITS = frozenset({"dotted", "day-month"})  # open with a day after a non-digit
_NEEDS = {"dotted": "."}  # a character each cannot match without
_MONTH_LENGTHS = range(3, 10)  # "may" .. "september"
_DAY_OFFSETS = range(2, 7)  # where "day" sits in today, monday, ... yesterday


@dataclass(frozen=True)
class FoundDate:
    day: date
    position: int
    had_year: bool
    text: str
    at: time | None = None  # the time of day stated with it, if any


def _zh_number(s: str) -> int:
    """一 .. 三十一 as an int."""
    if "十" not in s:
        return _ZH_NUM.index(s) + 1 if s in _ZH_NUM else 0
    tens, _sep, ones = s.partition("十")
    t = (_ZH_NUM.index(tens) + 1) if tens else 1
    o = (_ZH_NUM.index(ones) + 1) if ones else 0
    return t * 10 + o


def _month(m: re.Match[str]) -> int | None:
    g = m.groupdict()
    if g.get("zmon"):
        return _zh_number(g["zmon"])
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
    g = m.groupdict()
    day = _zh_number(g["zday"]) if g.get("zday") else int(m.group("day"))
    year_text = g.get("year")
    if g.get("zyear"):
        year_text = "".join(str(_ZH_DIGIT_VALUE[c]) for c in g["zyear"])
    if year_text:
        year = int(year_text)
        if _crosses_year(g, month):  # December 30 - January 2, 2021
            year -= 1
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


def _crosses_year(g: dict[str, str | None], month: int) -> bool:
    second = g.get("mword2") or g.get("rword2")
    if not second:
        return False
    table = _EN_MONTHS if g.get("mword2") else _RU_MONTHS
    later = table.get(second.lower().rstrip("."))
    return later is not None and later < month


def _with_time(hit: FoundDate, text: str) -> FoundDate:
    t = _TIME_AFTER.match(text, hit.position + len(hit.text))
    if t is None:
        return hit
    at = time(int(t.group("h")), int(t.group("m")))
    return FoundDate(hit.day, hit.position, hit.had_year, text[hit.position : t.end()], at)


def _relative(m: re.Match[str], reference: date) -> FoundDate | None:
    g = m.groupdict()
    off = g.get("off") or g.get("zoff")
    if off:
        day = reference + timedelta(days=_DAYS_OFF[off.lower()])
        return FoundDate(day, m.start(), True, m.group(0))
    name = g.get("wday") or g.get("rwday") or g.get("zwday") or ""
    weekday = _WEEKDAYS[name.lower()]
    when = (g.get("when") or g.get("rwhen") or g.get("zwhen") or "").lower()
    back = (reference.weekday() - weekday) % 7  # the last such day on or before reference
    if when in ("last", "past", "上") or when.startswith("прошл"):
        back = back or 7
    if when in ("next", "下") or when.startswith("следующ"):
        return FoundDate(reference + timedelta(days=(weekday - reference.weekday()) % 7 or 7),
                         m.start(), True, m.group(0))  # fmt: skip
    return FoundDate(reference - timedelta(days=back), m.start(), True, m.group(0))


def _scan(pattern: re.Pattern[str], text: str, starts: list[int], out: list[re.Match[str]]) -> None:
    """Append what ``pattern.finditer(text)`` yields, trying only ``starts`` (sorted),
    which must hold every position where a match can begin. ``match`` at a position
    still sees the text before it, so lookbehinds judge as in a full scan."""
    end = 0
    for pos in starts:
        if pos >= end:
            m = pattern.match(text, pos)
            if m is not None:
                out.append(m)
                end = m.end()


def _month_day_starts(text: str, runs: list[int]) -> list[int]:
    """Where "June 3" can begin: a month word (a whole word: the pattern opens with a
    lookbehind), perhaps a dot, then white space before a run of digits."""
    starts = []
    for run in runs:
        end = run
        while end > 0 and text[end - 1].isspace():
            end -= 1
        if end == run:
            continue
        if end > 0 and text[end - 1] == ".":
            end -= 1
        start = end
        while start > 0 and end - start <= _MONTH_LENGTHS[-1]:
            c = text[start - 1]
            if not (c.isalnum() or c == "_"):  # not \w
                break
            start -= 1
        if end - start in _MONTH_LENGTHS:
            starts.append(start)
    return starts


def _relative_starts(text: str) -> list[int] | None:
    """Where a relative date can begin in ASCII text: "tomorrow", or a word ending in
    "day" (today, Monday ...), perhaps after last/next/this/past/on. None when the text
    is not ASCII (the other scripts' forms are not looked for here)."""
    if not text.isascii():
        return None
    low = text.lower()
    starts = set()
    at = low.find("tomorrow")
    while at >= 0:
        starts.add(at)
        at = low.find("tomorrow", at + 1)
    at = low.find("day")
    while at >= 0:
        for back in _DAY_OFFSETS:
            word = at - back
            if word < 0:
                break
            starts.add(word)
            ws = word
            while ws > 0 and text[ws - 1].isspace():
                ws -= 1
            if ws < word:
                starts.update((ws - 2, ws - 4))
        at = low.find("day", at + 3)
    return sorted(p for p in starts if p >= 0)


def _matches(text: str, windowed: bool) -> list[re.Match[str]]:
    """Every match of every absolute pattern, pattern by pattern, in text order."""
    out: list[re.Match[str]] = []
    if not windowed:
        for _name, pattern in _PATTERNS:
            out.extend(pattern.finditer(text))
        return out
    # A day is one or two digits and no form lets a digit follow it, so only runs that
    # short can hold one; the ISO form opens with a run of exactly four (the year).
    days: list[int] = []
    years: list[int] = []
    for m in _DIGITS.finditer(text):
        size = m.end() - m.start()
        if size <= 2:
            days.append(m.start())
        elif size == 4:
            years.append(m.start())
    ascii_only = text.isascii()
    for name, pattern in _PATTERNS:
        if name == "iso":
            if years and "-" in text:
                _scan(pattern, text, years, out)
        elif name == "zh-numerals":
            if "月" in text:
                out.extend(pattern.finditer(text))
        elif not days:
            continue  # every other form holds a day
        elif name == "month-day":
            _scan(pattern, text, _month_day_starts(text, days), out)
        elif name in _AT_DIGITS:
            needs = _NEEDS.get(name)
            if needs is None or needs in text:
                _scan(pattern, text, days, out)
        elif name == "ru":
            if not ascii_only:
                _scan(pattern, text, days, out)
        elif "月" in text:  # the Chinese form needs it
            out.extend(pattern.finditer(text))
    return out


def find_dates(
    text: str,
    context: date | None = None,
    max_year: int = 2100,
    reference: date | None = None,
) -> list[FoundDate]:
    """Every date stated in ``text``, in order of appearance (overlaps resolved left-first).
    With a ``reference`` (the publication date) relative dates are resolved against it."""
    return _find_dates(text, context, max_year, reference, windowed=True)


def _find_dates(
    text: str,
    context: date | None,
    max_year: int,
    reference: date | None,
    windowed: bool,
) -> list[FoundDate]:
    """``find_dates``; ``windowed=False`` runs every pattern over the whole text (the
    plain, slow form the windowed one must agree with)."""
    if not text.isascii():
        text = text.translate(_FULLWIDTH)  # same length: positions stay valid
    found: list[FoundDate] = []
    for m in _matches(text, windowed):
        hit = _resolve(m, context, max_year)
        if hit is not None:
            found.append(_with_time(hit, text))
    if reference is not None:
        starts = {f.position for f in found}
        relative_starts = _relative_starts(text) if windowed else None
        relatives: list[re.Match[str]] = []
        if relative_starts is None:
            relatives.extend(_RELATIVE.finditer(text))
        else:
            _scan(_RELATIVE, text, relative_starts, relatives)
        for m in relatives:
            gap = re.match(r"[\s,]*", text[m.end() :])
            if gap is not None and m.end() + gap.end() in starts:
                continue  # "Wednesday, 3 June 2020": the stated date says it all
            hit = _relative(m, reference)
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


def find_date(
    text: str,
    context: date | None = None,
    max_year: int = 2100,
    reference: date | None = None,
) -> FoundDate | None:
    """The first date stated in ``text``, or None."""
    dates = find_dates(text, context, max_year, reference)
    return dates[0] if dates else None


_URL_DATE = (
    re.compile(r"/(?P<y>(?:19|20)\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?=[/_-])"),
    re.compile(
        r"/(?P<y>(?:19|20)\d\d)[/-](?P<m>0[1-9]|1[0-2])[/-](?P<d>0[1-9]|[12]\d|3[01])(?!\d)"
    ),
)


def date_from_url(url: str | None) -> date | None:
    """The date in a release URL's path: /20220125/813122.html, /2022/01/25/..., /2022-01-25-..."""
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for pattern in _URL_DATE:
        m = pattern.search(path)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                continue
    return None


def is_date_line(line: str) -> bool:
    """A line that states a date (and perhaps a time or weekday) and nothing else."""
    hits = find_dates(line, date(2000, 1, 1))
    if not hits:
        return False
    rest = line
    for h in reversed(hits):
        rest = rest[: h.position] + " " + rest[h.position + len(h.text) :]
    rest = _RELATIVE.sub(" ", rest)
    rest = re.sub(r"(?i)\b(?:updated|published|date|at|года|г)\b", " ", rest)
    rest = re.sub(r"\d{1,2}[:：]\d\d", " ", rest)
    return not re.search(r"[^\W\d_]", rest)


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
