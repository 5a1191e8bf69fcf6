"""Where a date can begin: each pattern is tried only at those places. Pure.

Running every pattern over a whole paragraph is slow (most open with a lookbehind,
which defeats the regex engine's prefix scan), so each is tried only where one of its
matches can start; ``scan`` then yields exactly what ``finditer`` would. The tests hold
the windowed search to the full scan (``find_dates(..., windowed=False)``).
"""

from __future__ import annotations

import re

from scofeed.dates.forms import NAMES, RU_RELATIVE, RU_WEEKDAYS, ZH_RELATIVE, ZH_WEEK, pattern

_DIGITS = re.compile(r"\d\d*")  # as \d+, but the engine then scans for the first \d fast
_DIGIT_MARKS = bytes(b"0"[0] if 48 <= b <= 57 else b" "[0] for b in range(256))
_AT_DIGITS = frozenset({"dotted", "day-month"})  # open with a day after a non-digit
_NEEDS = {"dotted": "."}  # a character each cannot match without
_MONTH_LENGTHS = range(3, 10)  # "may" .. "september"
_DAY_OFFSETS = range(2, 7)  # where "day" sits in today, monday, ... yesterday


def _digit_runs(text: str) -> list[tuple[int, int]]:
    """Where each run of digits (any script's) starts and ends."""
    if not may_hold_digit(text):
        return []  # most paragraphs: told in C, the regex scan is ~6 ns a character
    return [m.span() for m in _DIGITS.finditer(text)]


def _has_ascii_digit(text: str) -> bool:
    # ten fast searches, written out: a loop over them costs more than they do
    return (
        "0" in text
        or "1" in text
        or "2" in text
        or "3" in text
        or "4" in text
        or "5" in text
        or "6" in text
        or "7" in text
        or "8" in text
        or "9" in text
    )


# The blocks of 256 code points (UTF-16 code units' high bytes) holding a digit other
# than the ASCII ones, and the surrogates (a character past U+FFFF may be one). The tests
# check the list against the regex engine's \d.
DIGIT_BLOCKS = bytes(
    (0x06, 0x07, *range(0x09, 0x11), *range(0x17, 0x1D), 0xA6, *range(0xA8, 0xAC), 0xFF,
     *range(0xD8, 0xE0))
)  # fmt: skip
_NO_DIGIT_BLOCKS = bytes(b for b in range(256) if b not in DIGIT_BLOCKS)


def may_hold_digit(text: str) -> bool:
    """False when ``text`` holds no digit of any script (no ``\\d``): no ASCII digit, and
    no character in a block of the Unicode table that has digits."""
    if _has_ascii_digit(text):
        return True
    if text.isascii():
        return False
    high = text.encode("utf-16-le", "surrogatepass")[1::2]
    return bool(high.translate(None, _NO_DIGIT_BLOCKS))


def _ascii_digit_runs(text: str) -> list[tuple[int, int]]:
    """The same for ASCII text, found in C: the text's bytes mapped to "0" (a digit) or
    " " (the rest), each run's ends are then two fast searches."""
    marks = text.encode("ascii").translate(_DIGIT_MARKS)
    runs = []
    start = marks.find(b"0")
    while start >= 0:
        end = marks.find(b" ", start)
        if end < 0:
            runs.append((start, len(marks)))
            break
        runs.append((start, end))
        start = marks.find(b"0", end)
    return runs


def scan(pattern: re.Pattern[str], text: str, starts: list[int], out: list[re.Match[str]]) -> None:
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


def nothing_to_try(text: str, relative: bool) -> bool:
    """ASCII text without a digit holds no place where a stated date can begin, nor,
    without "day" or "tomorrow", a relative one (with ``relative``): most paragraphs.
    Checked in C, much faster than the search finding nothing. For text that is ASCII
    but for the typographic marks its ASCII image (``scofeed.typography.ascii_image``)
    gets the same answer: no mark is a digit or a letter, so none is where a date can
    begin."""
    if not text.isascii() or _has_ascii_digit(text):
        return False
    if not relative:
        return True
    low = text.lower()
    return "day" not in low and "tomorrow" not in low


_ZH_MARKS = {word[0] for word in (*ZH_RELATIVE, *ZH_WEEK)}  # what each Chinese word opens with
# Characters the relative pattern (case ignored) takes for a letter of its Russian words
# though ``str.lower`` does not make them that letter: old Cyrillic letter forms. A text
# holding one is searched in full. (The tests check this list against the regex engine.)
CASE_ODDITIES = "\u1c80\u1c81\u1c82\u1c83\u1c84\u1c85"


def _occurrences(low: str, word: str) -> list[int]:
    found = []
    at = low.find(word)
    while at >= 0:
        found.append(at)
        at = low.find(word, at + 1)
    return found


def relative_starts(text: str, image: str | None = None) -> list[int] | None:
    """Where a relative date can begin: "tomorrow", or a word ending in "day" (today,
    Monday ...), perhaps after last/next/this/past/on; in other scripts, a Russian word
    (сегодня, a weekday, perhaps after the word before it) or a Chinese one (今天, 周四,
    上周四 ...). The words are found in the lower-cased text, so None (search the whole
    text) when lower-casing moves positions (İ becomes two characters) or the text holds
    a character the pattern reads as another letter (``CASE_ODDITIES``). With its ASCII
    image (``scofeed.typography.ascii_image``: each typographic mark a "?"), text that is
    ASCII but for those marks is read as ASCII text is: the words are found in the image
    lower-cased (no mark is a letter), and the text holds no Russian or Chinese one."""
    if image is None and text.isascii():
        image = text
    ascii_only = image is not None
    low = image.lower() if image is not None else text.lower()
    if not ascii_only and (len(low) != len(text) or any(odd in text for odd in CASE_ODDITIES)):
        return None
    starts = set(_occurrences(low, "tomorrow"))
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
    if not ascii_only:
        _other_scripts(text, low, starts)
    return sorted(p for p in starts if p >= 0)


def _other_scripts(text: str, low: str, starts: set[int]) -> None:
    """Add where the Russian and Chinese relative forms can begin."""
    if "е" in low or "т" in low:  # every Russian word holds one: most text has neither
        _russian(text, low, starts)
    if any(mark in text for mark in _ZH_MARKS):
        for word in ZH_RELATIVE:
            starts.update(_occurrences(text, word))
        for word in ZH_WEEK:
            for at in _occurrences(text, word):
                starts.update((at, at - 1))  # 周四, 上周四


def _russian(text: str, low: str, starts: set[int]) -> None:
    for word in RU_RELATIVE:
        starts.update(_occurrences(low, word))
    for word in RU_WEEKDAYS:
        for at in _occurrences(low, word):
            starts.add(at)
            # "в четверг", "в прошлый четверг": the word before, after white space
            ws = at
            while ws > 0 and text[ws - 1].isspace():
                ws -= 1
            before = ws
            while before > 0 and (text[before - 1].isalnum() or text[before - 1] == "_"):
                before -= 1
            if before < ws:
                starts.add(before)


def matches(text: str, windowed: bool, image: str | None = None) -> list[re.Match[str]]:
    """Every match of every absolute pattern, pattern by pattern, in text order. With its
    ASCII image (``scofeed.typography.ascii_image``: each typographic mark a "?"), text
    that is ASCII but for those marks is searched as ASCII text is: no mark is a digit
    (the image's digit runs are the text's), "月" or a Cyrillic letter, and the patterns,
    run over the text itself, take the dashes and the no-break space as they would."""
    out: list[re.Match[str]] = []
    if not windowed:
        for name in NAMES:
            out.extend(pattern(name).finditer(text))
        return out
    # A day is one or two digits and no form lets a digit follow it, so only runs that
    # short can hold one; the ISO form opens with a run of exactly four (the year).
    if image is None and text.isascii():
        image = text
    ascii_only = image is not None
    days: list[int] = []
    years: list[int] = []
    dotted: list[int] = []  # days followed by a dot, where the dotted form can open
    for start, end in _ascii_digit_runs(image) if image is not None else _digit_runs(text):
        size = end - start
        if size <= 2:
            days.append(start)
            if text[end : end + 1] == ".":
                dotted.append(start)
        elif size == 4:
            years.append(start)
    if ascii_only:
        # what the loop below does for ASCII text, unrolled (most text): the Chinese
        # forms need "月" and the Russian one Cyrillic, so only these four can match.
        # The dotted form's day is its whole digit run (a digit cannot open it after
        # another) and a dot follows it: only those runs are tried.
        if years and ("-" in text or "/" in text or "." in text):
            scan(pattern("iso"), text, years, out)
        if days:
            if dotted:
                scan(pattern("dotted"), text, dotted, out)
            scan(pattern("day-month"), text, days, out)
            month_days = _month_day_starts(text, days)
            if month_days:  # a month's name before a day: the pattern is compiled then
                scan(pattern("month-day"), text, month_days, out)
        return out
    for name in NAMES:
        if name == "iso":
            if years and ("-" in text or "/" in text or "." in text):
                scan(pattern(name), text, years, out)
        elif name == "zh-numerals":
            if "月" in text:
                out.extend(pattern(name).finditer(text))
        elif not days:
            continue  # every other form holds a day
        elif name == "month-day":
            month_days = _month_day_starts(text, days)
            if month_days:
                scan(pattern(name), text, month_days, out)
        elif name in _AT_DIGITS:
            needs = _NEEDS.get(name)
            if needs is None or needs in text:
                scan(pattern(name), text, days, out)
        elif name == "ru":
            if not ascii_only:
                scan(pattern(name), text, days, out)
        elif "月" in text:  # the Chinese form needs it
            out.extend(pattern(name).finditer(text))
    return out
