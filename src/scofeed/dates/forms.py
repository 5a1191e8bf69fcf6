"""The date forms a release may state, and what each match means. Pure: no I/O, no clock.

Understood forms (day ranges give their first day):

    3 June 2020 · 3 June, 2020 · On 3 June · 8-9 June 2017 · 30 June - 1 July 2021
    June 3, 2020 · June 8-9, 2017 · June 3 · 2020-06-03 · 03.06.2020
    3 июня 2020 года · 3-4 июня · 30 июня – 1 июля 2021 г. · 2020年6月3日 · 6月3日
    二〇二〇年六月三日 · ２０２０年６月３日 · 8 and 9 June · June 30 to July 1, 2021

A time of day after the date is kept, even glued to the year ("3 June 202010:30"), and
so is a zone named after it ("10:00 Moscow time", "15:30 (MSK)", "09:00 GMT+3", "в 10:00
по московскому времени"): the time is that zone's, not the site's.
A date without a year is the latest such day on or before the context date (the page's
or file's date; a day later allowed, for time zones), never one in the future; a range
running into the next year ("December 30 - January 2, 2021") starts the year before.
Relative forms, resolved against a reference date: today, yesterday, "on Thursday"
(the last Thursday on or before it), сегодня, вчера, в четверг, 今天, 昨天, 周四.

To add a form: a named pattern in ``FORMS`` (and, if it can start where no digit run
does, a line in ``scofeed.dates.windowed.matches``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from contextlib import suppress
from datetime import date, time, timedelta, timezone, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from scofeed.patterns import later

MIN_YEAR = 1990
NEAR_DAYS = 60  # a stated year is preferred for a day this far before the reference

EN_MONTHS = {
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


def alternation(words: Collection[str]) -> str:
    """A regex matching any of ``words`` (plain letters), shaped as a trie: "jan(?:uary)?"
    for "january|jan". It tries the words that fit in the same order as the words sorted
    longest first, but the regex compiler (pure Python, run at start-up: ~2 ms less
    for the English forms) handles one branch per distinct next letter, not per word."""
    branches: dict[str, list[str]] = {}
    for word in words:
        if word:
            branches.setdefault(word[0], []).append(word[1:])
    if not branches:
        return ""
    body = "|".join(first + alternation(rests) for first, rests in branches.items())
    if len(branches) > 1:
        body = f"(?:{body})"
    return f"(?:{body})?" if "" in words else body


_EN = alternation(EN_MONTHS)
_RU = alternation(_RU_MONTHS)
_DASH = r"\s*[-–—]\s*"
_TO = rf"(?:{_DASH}|\s+(?:to|and|till|until|through|по|и|до)\s+|\s*[至到~]\s*)"
# a year ends at a non-digit, or runs straight into a time of day ("202010:30")
_YEAR_END = r"(?:(?!\d)|(?=(?:[01]\d|2[0-3]):[0-5]\d(?!\d)))"
_YEAR = rf"(?P<year>[12]\d\d\d){_YEAR_END}"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])"
_ZH_DIGITS = "〇零一二三四五六七八九"
_ZH_NUM = "一二三四五六七八九十"
_ZH_DIGIT_VALUE = {"〇": 0, "零": 0, **{c: i + 1 for i, c in enumerate(_ZH_NUM[:9])}}


class Form(NamedTuple):
    """A date form's pattern, before it is compiled."""

    source: str
    flags: int = 0


# Each pattern names day, month (word or number) and optionally year.
FORMS: list[tuple[str, Form]] = [
    (
        "iso",  # 2020-06-03, and as pages also write it: 2020/06/03, 2020.06.03
        Form(
            r"(?<![\d./])(?P<year>[12]\d\d\d)(?P<sep>[-/.])(?P<mon>[01]\d)(?P=sep)"
            r"(?P<day>[0-3]\d)(?!\d|[/.]\d)"
        ),
    ),
    (
        "dotted",
        Form(rf"(?<![\d.])(?P<day>[0-3]?\d)\.(?P<mon>[01]?\d)\.{_YEAR}"),
    ),
    (
        "zh",
        Form(
            r"(?:(?P<year>[12]\d\d\d)\s*年\s*)?(?P<mon>1[0-2]|0?[1-9])\s*月\s*"
            r"(?P<day>[12]\d|3[01]|0?[1-9])\s*(?:日|号)"
        ),
    ),
    (
        "zh-numerals",  # 二〇二〇年六月三日
        Form(
            rf"(?P<zyear>[{_ZH_DIGITS}]{{4}})\s*年\s*(?P<zmon>[{_ZH_NUM}]{{1,2}})\s*月\s*"
            rf"(?P<zday>[{_ZH_NUM}]{{1,3}})\s*(?:日|号)"
        ),
    ),
    (
        "day-month",  # 3 June 2020, 8-9 June 2017, 30 June - 1 July 2021, 3 June, 2020, 3 June
        Form(
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
        Form(
            rf"(?<![\w])(?P<mword>{_EN})\.?\s+(?P<day>{_DAY})(?:st|nd|rd|th)?"
            rf"(?:{_TO}(?:(?P<mword2>{_EN})\.?\s+)?{_DAY}(?:st|nd|rd|th)?)?(?!\d)"
            rf"(?:,?\s*{_YEAR})?",
            re.IGNORECASE,
        ),
    ),
    (
        "ru",  # 3 июня 2020 года, 3-4 июня, 30 июня – 1 июля 2021 г., с 8 по 9 июня
        Form(
            rf"(?<![\w\d])(?P<day>{_DAY})(?:{_TO}{_DAY})?"
            rf"\s+(?P<rword>{_RU}){_RU_ENDINGS}(?!\w)"
            rf"(?:{_TO}{_DAY}\s+(?P<rword2>{_RU}){_RU_ENDINGS}(?!\w))?"
            rf"(?:\s+{_YEAR}(?:\s*(?:года|г\.))?)?",
            re.IGNORECASE,
        ),
    ),
]

# Each form is compiled on first use, where a text may hold it (``scofeed.dates.windowed``
# tries a form only there): a corpus in English never compiles the Russian and Chinese
# forms, and a one-shot build of the seed neither these nor the month-day form (~5 ms of
# its start-up, Python's regex compiler being Python). A cold build's workers compile
# what they use after the fork, ~10 ms each, against seconds of work.
_COMPILED: dict[str, re.Pattern[str]] = {}
NAMES = tuple(name for name, _form in FORMS)


def pattern(name: str) -> re.Pattern[str]:
    """The compiled pattern of the form ``name``."""
    found = _COMPILED.get(name)
    if found is None:
        found = _COMPILED[name] = re.compile(*dict(FORMS)[name])
    return found


_TIME_AFTER = re.compile(
    # "10:30"; "10.30" only after "at" or "в" ("в 10.00 по московскому времени")
    r"[\s,]*(?:(?P<at>at|в)\s+)?(?P<h>[01]?\d|2[0-3])(?:[:：]|(?(at)\.|(?!)))(?P<m>[0-5]\d)(?!\d)"
    # "2:30 pm", "10:00 a.m."; not "PM" before a name ("10:30 PM Modi opened", the
    # Prime Minister), but before a city or zone whose time it is
    r"(?:\s?(?P<half>[ap])(?:\.\s?m\b\.?|m\b"
    r"(?-i:(?!\s+(?!(?:Beijing|Moscow|Astana|Tashkent|Bishkek|Dushanbe|New Delhi|Delhi"
    r"|Islamabad|Tehran|Minsk|GMT|UTC|MSK|МСК)\b)[A-ZА-ЯЁ]))))?",
    re.IGNORECASE,
)
# a zone named after a time of day: the capitals of the SCO's members by their city's
# name ("Moscow time"), Russian's "по московскому времени", MSK, and GMT or UTC with an
# offset of whole or half hours (``_zone``)
_ZONE_AFTER = later(
    r"\s*\(?(?:(?P<city>Beijing|Moscow|Astana|Tashkent|Bishkek|Dushanbe|New Delhi|Delhi"
    r"|Islamabad|Tehran|Minsk)\s+time"
    r"|по\s+(?P<ru>московскому|пекинскому|астанинскому|ташкентскому)\s+времени"
    r"|(?P<msk>MSK|МСК)"
    r"|(?:GMT|UTC)(?:\s?(?P<sign>[+\-−])(?P<oh>1[0-4]|0?\d)(?::?(?P<om>[03]0))?)?)(?![\w+\-−])\)?",
    re.IGNORECASE,
)
# a Chinese time after a date (``2025年3月12日``): 10时, 10时30分, 10点半, 下午3时,
# 上午10:30, with the zone named before the date (北京时间2025年3月12日10时), between
# the two, or after the time in brackets (10时（北京时间）); "5点共识" is five points
_ZH_CITIES = "北京|莫斯科|阿斯塔纳|塔什干|比什凯克|杜尚别|新德里|伊斯兰堡|德黑兰|明斯克"
_ZH_TIME_AFTER = later(
    rf"\s*(?:(?P<zone>{_ZH_CITIES})时间\s*)?"
    r"(?P<part>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|晚间)?\s*(?P<h>[01]?\d|2[0-3])\s*"
    r"(?:[:：](?P<m>[0-5]\d)(?!\d)|时(?:\s*(?P<zm>[0-5]?\d)\s*分|(?P<half>半))?"
    r"|点(?:\s*(?P<pm>[0-5]?\d)\s*分|(?P<phalf>半))?"
    r"(?!共识|建议|主张|倡议|意见|要求|内容|措施|举措|方面|成果|声明|计划))"
    rf"(?:\s*[（(](?P<zone2>{_ZH_CITIES})时间[）)])?"
)
_ZH_ZONE_BEFORE = later(rf"(?P<zone>{_ZH_CITIES})时间\s*$")
_ZH_CITY_ZONES = {
    "北京": "Asia/Shanghai", "莫斯科": "Europe/Moscow", "阿斯塔纳": "Asia/Almaty",
    "塔什干": "Asia/Tashkent", "比什凯克": "Asia/Bishkek", "杜尚别": "Asia/Dushanbe",
    "新德里": "Asia/Kolkata", "伊斯兰堡": "Asia/Karachi", "德黑兰": "Asia/Tehran",
    "明斯克": "Europe/Minsk",
}  # fmt: skip
_ZH_AFTERNOON = ("下午", "傍晚", "晚上", "晚间")
_CITY_ZONES = {
    "beijing": "Asia/Shanghai", "moscow": "Europe/Moscow", "astana": "Asia/Almaty",
    "tashkent": "Asia/Tashkent", "bishkek": "Asia/Bishkek", "dushanbe": "Asia/Dushanbe",
    "new delhi": "Asia/Kolkata", "delhi": "Asia/Kolkata", "islamabad": "Asia/Karachi",
    "tehran": "Asia/Tehran", "minsk": "Europe/Minsk", "московскому": "Europe/Moscow",
    "пекинскому": "Asia/Shanghai", "астанинскому": "Asia/Almaty",
    "ташкентскому": "Asia/Tashkent",
}  # fmt: skip
FULLWIDTH_DIGITS = "０１２３４５６７８９"
FULLWIDTH = str.maketrans(FULLWIDTH_DIGITS, "0123456789")  # looked for first: it is slow

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
# the relative words outside English, also where ``scofeed.dates.windowed`` looks
RU_RELATIVE = ("сегодня", "вчера", "завтра")
RU_WEEKDAYS = ("понедельник", "вторник", "сред", "четверг", "пятниц", "суббот", "воскресень")
ZH_RELATIVE = ("今天", "今日", "昨天", "昨日", "明天", "明日")
ZH_WEEK = ("周", "星期", "礼拜")
ZH_WHEN = ("上", "下", "本")
_RELATIVE = (
    rf"(?<!\w)(?P<off>today|yesterday|tomorrow|{'|'.join(RU_RELATIVE)})(?!\w)"
    rf"|(?P<zoff>{'|'.join(ZH_RELATIVE)})"
    r"|(?<!\w)(?:(?P<when>last|next|this|past|on)\s+)?"
    r"(?P<wday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)(?!\w)"
    r"|(?<!\w)(?:(?P<rwhen>прошл\w*|следующ\w*|в|во)\s+)?"
    rf"(?P<rwday>{'|'.join(RU_WEEKDAYS)})[а-я]*"
    rf"|(?P<zwhen>{'|'.join(ZH_WHEN)})?(?:{'|'.join(ZH_WEEK)})(?P<zwday>[一二三四五六日天])"
)


# the relative forms (today, on Thursday, вчера, 周四), compiled on first use as the
# absolute ones are: a text names a weekday far less often than it states a date
relative_pattern = later(_RELATIVE, re.IGNORECASE)


class FoundDate(NamedTuple):
    """A date stated in a text: where, as written, and whether with its year. A named
    tuple, not a frozen dataclass: made for every date found, it is made ~2.5x faster."""

    day: date
    position: int
    had_year: bool
    text: str
    at: time | None = None  # the time of day stated with it, if any
    relative: bool = False  # "today", "on Thursday": the day the reference gives it
    zone: tzinfo | None = None  # the zone named after the time, if any


def _zh_number(s: str) -> int:
    """一 .. 三十一 as an int."""
    if "十" not in s:
        return _ZH_NUM.index(s) + 1 if s in _ZH_NUM else 0
    tens, _sep, ones = s.partition("十")
    t = (_ZH_NUM.index(tens) + 1) if tens else 1
    o = (_ZH_NUM.index(ones) + 1) if ones else 0
    return t * 10 + o


def _month(g: dict[str, Any]) -> int | None:
    """The month a match's groups (``groupdict``) name."""
    if g.get("zmon"):
        return _zh_number(g["zmon"])
    if g.get("mword"):
        return EN_MONTHS.get(g["mword"].lower().rstrip("."))
    if g.get("rword"):
        return _RU_MONTHS.get(g["rword"].lower())
    if g.get("mon"):
        return int(g["mon"])
    return None


def resolve(
    m: re.Match[str], context: date | None, max_year: int, years: Iterable[int] = ()
) -> FoundDate | None:
    g = m.groupdict()
    month = _month(g)
    if month is None or not 1 <= month <= 12:
        return None
    day = _zh_number(g["zday"]) if g.get("zday") else int(m.group("day"))
    year_text = g.get("year")
    if g.get("zyear"):
        year_text = "".join(str(_ZH_DIGIT_VALUE[c]) for c in g["zyear"])
    if year_text:
        year = int(year_text)
        if _crosses_year(g, month):  # December 30 - January 2, 2021
            year -= 1
        if MIN_YEAR <= year <= max_year:
            try:
                return FoundDate(date(year, month, day), m.start(), True, m.group(0))
            except ValueError:
                return None
        named = g.get("mword") or g.get("rword")  # "12 March 1500": the number last
        counted = named and m.end("year") == m.end()  # a word follows the number
        if not counted or _YEAR_ENDS().match(m.string, m.end()) is not None:
            return None  # a year no release has ("On 5 December 2157."): no date at all
        # a count after the day ("On 12 March 1500 troops took part"): a day without year
        words = m.string[m.start() : m.start("year")].rstrip(" ,")
        if context is None:
            return None
        guess = yearless(month, day, context, years)
        return FoundDate(guess, m.start(), False, words) if guess is not None else None
    if context is None:
        return None
    guess = yearless(month, day, context, years)
    return FoundDate(guess, m.start(), False, m.group(0)) if guess is not None else None


# what may follow a number that is a year: the end, punctuation, a year's mark; a
# number a word follows is a count
_YEAR_ENDS = later(r"\s*(?:$|[,.;:!?)\]»”\"'/–—-]|г\b|г\.|год|year|年)", re.IGNORECASE)


def yearless(month: int, day: int, reference: date, years: Iterable[int] = ()) -> date | None:
    """A day stated without a year: the latest such day on or before ``reference`` (a
    day later allowed, for time zones). When that lies over ``NEAR_DAYS`` before the
    reference (a file written long after the release), the latest of ``years`` (those
    the same text, a paragraph, states) that keeps it on or before the reference wins."""
    limit = reference + timedelta(days=1)
    guess = None
    for year in range(limit.year, limit.year - 9, -1):  # 29 February: up to 8 years back
        with suppress(ValueError):
            if date(year, month, day) <= limit:
                guess = date(year, month, day)
                break
    if guess is None or (limit - guess).days <= NEAR_DAYS:
        return guess
    for year in sorted(set(years), reverse=True):
        with suppress(ValueError):
            if date(year, month, day) <= limit:
                return date(year, month, day)
    return guess


def _crosses_year(g: dict[str, str | None], month: int) -> bool:
    second = g.get("mword2") or g.get("rword2")
    if not second:
        return False
    table = EN_MONTHS if g.get("mword2") else _RU_MONTHS
    later = table.get(second.lower().rstrip("."))
    return later is not None and later < month


def with_time(hit: FoundDate, text: str) -> FoundDate:
    if hit.text[-1:] in ("日", "号"):  # a Chinese date: its own forms of time and zone
        zh = _with_zh_time(hit, text)
        if zh.at is not None:
            return zh
    t = _TIME_AFTER.match(text, hit.position + len(hit.text))
    if t is None:
        return hit
    hour, half = int(t.group("h")), (t.group("half") or "").lower()
    if half and 1 <= hour <= 12:  # 12 am is midnight, 12 pm noon; "14:30 pm" is 14:30
        hour = hour % 12 + (12 if half == "p" else 0)
    at = time(hour, int(t.group("m")))
    end, zone = t.end(), None
    z = _ZONE_AFTER().match(text, end)
    if z is not None:
        end, zone = z.end(), _zone(z)
    return FoundDate(
        hit.day, hit.position, hit.had_year, text[hit.position : end], at, hit.relative, zone
    )


def _with_zh_time(hit: FoundDate, text: str) -> FoundDate:
    """``hit``, a Chinese date, with the time written after it (``_ZH_TIME_AFTER``)."""
    t = _ZH_TIME_AFTER().match(text, hit.position + len(hit.text))
    if t is None:
        return hit
    hour, part = int(t["h"]), t["part"] or ""
    if (part in _ZH_AFTERNOON and hour < 12) or (part == "中午" and hour < 6):
        hour += 12  # 下午3时 is 15:00, 中午1点 13:00
    elif part == "凌晨" and hour == 12:
        hour = 0
    elif part in _ZH_AFTERNOON and hour == 12:
        return hit  # 晚上12点: midnight, the next day's start, not this day's noon
    minute = int(t["m"] or t["zm"] or t["pm"] or (30 if t["half"] or t["phalf"] else 0))
    end = t.end()
    zone: tzinfo | None = None
    before = _ZH_ZONE_BEFORE().search(text, max(0, hit.position - 8), hit.position)
    if city := t["zone"] or t["zone2"] or (before["zone"] if before else None):
        zone = ZoneInfo(_ZH_CITY_ZONES[city])
    elif (z := _ZONE_AFTER().match(text, end)) is not None:  # 10:30 (MSK), 10时 UTC+3
        end, zone = z.end(), _zone(z)
    return FoundDate(
        hit.day, hit.position, hit.had_year, text[hit.position : end], time(hour, minute),
        hit.relative, zone,
    )  # fmt: skip


def _zone(z: re.Match[str]) -> tzinfo:
    """The zone ``_ZONE_AFTER`` matched: a city's IANA zone, or a fixed offset."""
    named = z.group("city") or z.group("ru")
    if named or z.group("msk"):
        return ZoneInfo(_CITY_ZONES[named.lower()] if named else "Europe/Moscow")
    offset = timedelta(hours=int(z.group("oh") or 0), minutes=int(z.group("om") or 0))
    return timezone(-offset if z.group("sign") in ("-", "−") else offset)


def relative(m: re.Match[str], reference: date) -> FoundDate | None:
    g = m.groupdict()
    off = g.get("off") or g.get("zoff")
    if off:
        day = reference + timedelta(days=_DAYS_OFF[off.lower()])
        return FoundDate(day, m.start(), True, m.group(0), relative=True)
    name = g.get("wday") or g.get("rwday") or g.get("zwday") or ""
    weekday = _WEEKDAYS[name.lower()]
    when = (g.get("when") or g.get("rwhen") or g.get("zwhen") or "").lower()
    back = (reference.weekday() - weekday) % 7  # the last such day on or before reference
    if when in ("last", "past", "上") or when.startswith("прошл"):
        back = back or 7
    if when in ("next", "下") or when.startswith("следующ"):
        return FoundDate(reference + timedelta(days=(weekday - reference.weekday()) % 7 or 7),
                         m.start(), True, m.group(0), relative=True)  # fmt: skip
    return FoundDate(reference - timedelta(days=back), m.start(), True, m.group(0), relative=True)
