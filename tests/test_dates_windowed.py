"""dates.find_dates tries each pattern only where a match can begin; it must find
exactly what running every pattern over the whole text finds."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scofeed.dates import _EN_MONTHS, _find_dates, find_date

# the pieces dates are made of, mixed with odd spacing, case and scripts
PIECES = [
    "3", "30", "03", "2020", "202010:30", "1", "9", "31", " ", "  ", "\n", "\t", "\u00a0",
    ".", ",", "-", " - ", "–", " to ", " and ", "of ", "th", "st", ":", "10:30", "at ",
    "June", "june", "JUNE", "Sept", "sept.", "May", "December", "Dec.", "January", "mar",
    "Today", "today", "yesterday", "TOMORROW", "tomorrow", "Monday", "thursday", "Sunday",
    "on ", "last ", "next ", "this ", "past ", "day", "days", "holiday", "x", "a", "_",
    "июня", "июля", "3 июня", "года", "г.", "в четверг", "сегодня", "вчера", "по", "в ",
    "年", "月", "日", "号", "二〇二〇年六月三日", "６", "２０２０", "昨天", "周四", "星期五",
    "٣", "ſ", "İ", "K",
]  # fmt: skip
MONTHS = sorted(_EN_MONTHS)
RU_MONTHS = ["июня", "Июля", "января", "мая", "марта", "декабря", "сентябрь", "ма"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
cased = st.sampled_from([str.lower, str.upper, str.title])
ws = st.sampled_from([" ", "  ", "\n", " \t", "\u00a0"])
day = st.integers(0, 40).map(str)
year = st.integers(1985, 2035).map(str)
month = st.tuples(st.sampled_from(MONTHS), cased).map(lambda t: t[1](t[0]))
opt = st.sampled_from(["", ".", ",", ", ", " "])
# well-formed phrases, so each form (and each edge of its window) turns up often
phrases = st.one_of(
    st.tuples(month, opt, ws, day, opt, year).map("".join),
    st.tuples(day, ws, month, opt, year).map("".join),
    st.tuples(day, ws, st.sampled_from(RU_MONTHS), opt, year, st.sampled_from(["", " года"])).map(
        "".join
    ),
    st.tuples(day, st.integers(0, 13), year).map(lambda t: f"{t[0]}.{t[1]:02}.{t[2]}"),
    st.tuples(year, st.integers(0, 13), day).map(lambda t: f"{t[0]}-{t[1]:02}-{t[2]:0>2}"),
    st.sampled_from(["二〇二〇年六月三日", "二〇一九年十二月三十一日", "6月3日", "周四", "昨天"]),
    st.tuples(
        st.sampled_from(["", "on", "last", "next", "this", "past", "On"]),
        ws,
        st.tuples(st.sampled_from([*WEEKDAYS, "today", "yesterday", "tomorrow"]), cased).map(
            lambda t: t[1](t[0])
        ),
    ).map("".join),
)
texts = st.tuples(
    st.lists(st.one_of(phrases, st.sampled_from(PIECES), st.text(max_size=6)), max_size=20),
    st.sampled_from(["", " ", ", ", "\n\n"]),
).map(lambda t: t[1].join(t[0]))
days = st.one_of(st.none(), st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 12, 31)))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, context=days, reference=days, max_year=st.sampled_from([2027, 2100]))
def test_windowed_search_finds_what_the_full_scan_finds(text, context, reference, max_year):
    windowed = _find_dates(text, context, max_year, reference, windowed=True)
    full = _find_dates(text, context, max_year, reference, windowed=False)
    assert windowed == full


def test_the_windowed_search_still_finds_each_form():
    ref = date(2023, 4, 21)  # a Friday
    cases = {
        "Held June  3, 2020 in Dushanbe": date(2020, 6, 3),
        "on Sept. 30 - October 1, 2021": date(2021, 9, 30),
        "They met last\n Thursday": date(2023, 4, 20),
        "Due tomorrow": date(2023, 4, 22),
        "x 03.06.2020": date(2020, 6, 3),
        "from September.  30, 2021": date(2021, 9, 30),
    }
    for text, day in cases.items():
        found = find_date(text, ref, reference=ref)
        assert found is not None and found.day == day, text
