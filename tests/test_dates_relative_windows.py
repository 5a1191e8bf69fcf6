"""The relative-date windows in text that is not ASCII: the search tried only where
one can begin finds what the full scan finds (``scofeed.dates.windowed``)."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scofeed.dates import find_dates
from scofeed.dates.forms import RU_RELATIVE, RU_WEEKDAYS
from scofeed.dates.windowed import CASE_ODDITIES, DIGIT_BLOCKS, may_hold_digit, relative_starts

EVERY_CHARACTER = "".join(chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF)


def test_case_oddities_are_every_letter_the_pattern_reads_otherwise_than_lower():
    """The words are found in ``str.lower``'s text; a character the regex engine (case
    ignored) takes for one of their letters, though lower() does not make it that
    letter, must be listed, so that a text holding it is searched in full."""
    letters = set("daytomrw") | set("".join((*RU_RELATIVE, *RU_WEEKDAYS)))
    odd = set()
    for letter in letters:
        taken = re.findall(re.escape(letter), EVERY_CHARACTER, re.IGNORECASE)
        odd.update(c for c in taken if c.lower() != letter)
    assert odd <= set(CASE_ODDITIES)


def test_every_russian_word_holds_e_or_te():
    """What the quick check for Russian text rests on."""
    assert all("е" in w or "т" in w for w in (*RU_RELATIVE, *RU_WEEKDAYS))


def test_positions_move_or_odd_letters_mean_the_full_scan():
    assert relative_starts("İ вчера") is None  # lower() makes İ two characters
    assert relative_starts("\u1c83егодня") is None
    assert relative_starts("в «четверг» today’s") is not None


WORDS = [
    "сегодня", "Сегодня", "ВЧЕРА", "завтра", "в", "во", "В", "прошлый", "прошлую",
    "следующий", "Следующую", "понедельник", "вторник", "среду", "СРЕДА", "четверг",
    "пятницу", "субботу", "воскресенье", "воскресенья", "today’s", "Today", "yesterday",
    "tomorrow", "on", "last", "next", "Monday", "thursday", "day", "holiday", "今天",
    "今日", "昨天", "明日", "上", "下", "本", "周四", "星期五", "礼拜天", "周", "星期",
    "上周四", "下星期一", "本周日", "в прошлый четверг", "во вторник", "last\u00a0Friday",
    "ſ", "K", "İ", "\u1c80", "\u1c84", "Ё", "é", "’", "«", "»", "—", "x", "_", "3",
    "12 мая 2021 года", "June 3", "６月３日",
]  # fmt: skip
glue = st.sampled_from(["", " ", "  ", "\n", "\u00a0", "\u3000", ", ", "_", "x"])
texts = st.lists(st.one_of(st.sampled_from(WORDS), glue, st.text(max_size=4)), max_size=16).map(
    "".join
)
days = st.one_of(st.none(), st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 12, 31)))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, context=days, reference=days)
def test_windowed_search_in_other_scripts_finds_what_the_full_scan_finds(text, context, reference):
    windowed = find_dates(text, context, 2100, reference)
    full = find_dates(text, context, 2100, reference, windowed=False)
    assert windowed == full


def test_may_hold_digit_for_every_digit_the_engine_knows():
    """Each character ``\\d`` matches (every plane), alone and after a non-ASCII one,
    is seen; a text of non-digits from the blocks without digits is not."""
    digits = re.findall(r"\d", EVERY_CHARACTER)
    assert len(digits) > 600
    for d in digits:
        assert may_hold_digit(d) and may_hold_digit("’" + d), hex(ord(d))
    for code in range(0x80, 0x10000):
        if (code >> 8) not in DIGIT_BLOCKS and not 0xD800 <= code <= 0xDFFF:
            assert not may_hold_digit("’" + chr(code)), hex(code)
    assert not may_hold_digit("no digit here") and not may_hold_digit("«нет» 中文")
