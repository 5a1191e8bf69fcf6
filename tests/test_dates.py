"""scofeed.dates: every form of date a release states about itself, the date in a URL,
and the windowed search agreeing with the full scan it stands in for."""

from __future__ import annotations

import re
from datetime import UTC, date, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scofeed.dates import LINE_CONTEXT, date_from_url, find_date, find_dates, is_date_line
from scofeed.dates.forms import EN_MONTHS, alternation

CTX = date(2021, 5, 1)
MOSCOW = ZoneInfo("Europe/Moscow")
FRIDAY = date(2023, 4, 21)


@pytest.mark.parametrize(
    ("text", "day", "at"),
    [
        ("3 June 2020, 10:30", date(2020, 6, 3), time(10, 30)),
        ("03.06.2020 10:30", date(2020, 6, 3), time(10, 30)),
        ("3 June 202010:30", date(2020, 6, 3), time(10, 30)),
        ("03.06.202010:30 Beijing", date(2020, 6, 3), time(10, 30)),
        ("2020年6月3日10:30", date(2020, 6, 3), time(10, 30)),
        ("3 июня 2020 года в 10:30", date(2020, 6, 3), time(10, 30)),
        ("June 3, 2020 at 9:05", date(2020, 6, 3), time(9, 5)),
        # a 12-hour clock: "2:30 pm" was 02:30, the release dated 12 hours early
        ("3 June 2020, 2:30 pm", date(2020, 6, 3), time(14, 30)),
        ("June 3, 2020 at 9:05PM.", date(2020, 6, 3), time(21, 5)),
        ("3 June 2020, 10:00 a.m.", date(2020, 6, 3), time(10, 0)),
        ("3 June 2020 12:15 AM", date(2020, 6, 3), time(0, 15)),
        ("3 June 2020 12:15 p.m.", date(2020, 6, 3), time(12, 15)),
        ("3 June 2020 at 10:30 a meeting", date(2020, 6, 3), time(10, 30)),
        # "PM" before a name is the Prime Minister (review); before a city, the time's
        ("4 July 2023 at 10:30 PM Modi opened", date(2023, 7, 4), time(10, 30)),
        ("4 July 2023 at 10:30 PM Beijing time", date(2023, 7, 4), time(22, 30)),
        ("4 July 2023 at 10:30 PM MSK", date(2023, 7, 4), time(22, 30)),
        ("4 July 2023 at 10:30 PM Minsk time", date(2023, 7, 4), time(22, 30)),
        ("3 June 2020", date(2020, 6, 3), None),
        ("3 June 2020, 2021 members", date(2020, 6, 3), None),
        # a dot between hour and minutes after "at" or "в" (Russian and British usage)
        ("3 июня 2020 года в 10.00", date(2020, 6, 3), time(10, 0)),
        ("3 June 2020 at 9.05 p.m.", date(2020, 6, 3), time(21, 5)),
        ("3 June 2020 10.30", date(2020, 6, 3), None),  # without "at": a number
        ("3 июня 2020 года в 10.5 раза", date(2020, 6, 3), None),
        # Chinese: 时 or 点, minutes as 分 or 半, the part of the day before the hour
        ("2020年6月3日10时", date(2020, 6, 3), time(10, 0)),
        ("2020年6月3日10时30分在北京", date(2020, 6, 3), time(10, 30)),
        ("2020年6月3日上午10点半", date(2020, 6, 3), time(10, 30)),
        ("2020年6月3日下午3时，", date(2020, 6, 3), time(15, 0)),
        ("2020年6月3日中午1点", date(2020, 6, 3), time(13, 0)),
        ("2020年6月3日晚上8时许", date(2020, 6, 3), time(20, 0)),
        ("2020年6月3日上午10:30", date(2020, 6, 3), time(10, 30)),
        ("2020年6月3日, 10:30", date(2020, 6, 3), time(10, 30)),
        ("6月3日14时举行", date(2020, 6, 3), time(14, 0)),
        ("二〇二〇年六月三日上午9时", date(2020, 6, 3), time(9, 0)),
        # not a time: five points of consensus, midnight (the next day's), a clause apart
        ("2020年6月3日5点共识", date(2020, 6, 3), None),
        ("2020年6月3日晚上12点", date(2020, 6, 3), None),
        ("2020年6月3日，10时", date(2020, 6, 3), None),
    ],
)
def test_a_time_of_day_glued_to_a_date(text, day, at):
    found = find_date(text, CTX)
    assert found is not None
    assert (found.day, found.at) == (day, at)


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("3 June 2020 at 10:00 Moscow time in Beijing", MOSCOW),
        ("3 June 2020, 15:30 (MSK).", MOSCOW),
        ("3 июня 2020 года в 10:00 по московскому времени", MOSCOW),
        ("3 июня 2020 года в 10.00 по московскому времени", MOSCOW),
        ("3 June 2020 at 10:00 Beijing time", ZoneInfo("Asia/Shanghai")),
        ("3 June 2020 at 10:00 PM Beijing time", ZoneInfo("Asia/Shanghai")),
        ("3 June 2020 at 10:30 PM MSK", MOSCOW),
        ("3 June 2020 at 9:00 a.m. Tehran time", ZoneInfo("Asia/Tehran")),
        ("3 June 2020 at 9:00 Tashkent time", ZoneInfo("Asia/Tashkent")),
        ("3 June 2020 09:00 GMT+3", timezone(timedelta(hours=3))),
        ("3 June 2020 09:00 UTC+05:30", timezone(timedelta(hours=5, minutes=30))),
        ("3 June 2020 09:00 UTC−4", timezone(timedelta(hours=-4))),
        ("3 June 2020 09:00 UTC", UTC),
        # no zone: a city that is where, not whose time; a word that only starts as one
        ("3 June 2020 at 10:00 in Beijing", None),
        ("3 June 2020 at 10:00 Moscow Metro", None),
        ("3 June 2020 at 10:00 UTCs", None),
        # Chinese: the zone before the date, between the date and the time, or after it
        ("北京时间2020年6月3日10时", ZoneInfo("Asia/Shanghai")),
        ("2020年6月3日莫斯科时间10时30分", MOSCOW),
        ("2020年6月3日上午10时（塔什干时间）", ZoneInfo("Asia/Tashkent")),
        ("2020年6月3日10时", None),
        ("2020年6月3日10:30（莫斯科时间）", MOSCOW),
        ("2020年6月3日10:30 (MSK)", MOSCOW),
        ("2020年6月3日10时 UTC+3", timezone(timedelta(hours=3))),
    ],
)  # fmt: skip
def test_a_zone_named_after_the_time_is_kept(text, zone):
    """A release of a site in Beijing saying "10:00 Moscow time" was read as 10:00 in
    Beijing, five hours early: the zone named after a time is now the time's."""
    found = find_date(text, CTX)
    assert found is not None and found.at is not None
    assert found.zone == zone


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("30 June - 1 July 2021", date(2021, 6, 30)),
        ("30 June to 1 July 2021", date(2021, 6, 30)),
        ("June 30 - July 1, 2021", date(2021, 6, 30)),
        ("June 30 to July 1, 2021", date(2021, 6, 30)),
        ("June 8-9, 2017", date(2017, 6, 8)),
        ("on 8 and 9 June 2017", date(2017, 6, 8)),
        ("December 30 - January 2, 2021", date(2020, 12, 30)),
        ("30 December - 2 January 2021", date(2020, 12, 30)),
        ("30 июня – 1 июля 2021 года", date(2021, 6, 30)),
        ("с 8 по 9 июня 2017 г.", date(2017, 6, 8)),
        ("2017年6月8日至9日", date(2017, 6, 8)),
    ],
)
def test_ranges_across_months_and_month_first(text, day):
    found = find_date(text, CTX)
    assert found is not None and found.day == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("3 июня 2020 года", date(2020, 6, 3)),
        ("1 марта 2021 г.", date(2021, 3, 1)),
        ("9 мая", date(2020, 5, 9)),  # no year, after the context: never the future
        ("17 апреля", date(2021, 4, 17)),
        ("2020年6月3日", date(2020, 6, 3)),
        ("4月17日", date(2021, 4, 17)),
        ("12月28日", date(2020, 12, 28)),  # no year, over a month after the context: last year
        ("二〇二〇年六月三日", date(2020, 6, 3)),
        ("二〇一七年十二月三十一日", date(2017, 12, 31)),
        ("二〇二一年十月二十日", date(2021, 10, 20)),
        ("２０２０年６月３日", date(2020, 6, 3)),
    ],
)
def test_russian_and_chinese_dates(text, day):
    found = find_date(text, CTX)
    assert found is not None and found.day == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("Today the SCO met", FRIDAY),
        ("Yesterday, the SCO met", date(2023, 4, 20)),
        ("tomorrow", date(2023, 4, 22)),
        ("On Thursday the SCO met", date(2023, 4, 20)),
        ("on Friday", FRIDAY),
        ("last Friday", date(2023, 4, 14)),
        ("next Monday", date(2023, 4, 24)),
        ("Сегодня", FRIDAY),
        ("вчера в Пекине", date(2023, 4, 20)),
        ("в четверг", date(2023, 4, 20)),
        ("во вторник", date(2023, 4, 18)),
        ("今天", FRIDAY),
        ("昨天下午", date(2023, 4, 20)),
        ("星期四", date(2023, 4, 20)),
        ("周一", date(2023, 4, 17)),
    ],
)
def test_relative_dates_resolve_against_the_reference(text, day):
    found = find_date(text, CTX, reference=FRIDAY)
    assert found is not None and found.day == day


def test_relative_dates_need_a_reference():
    assert find_date("Yesterday the SCO met on Thursday", CTX) is None


def test_a_weekday_before_a_stated_date_yields_to_it():
    found = find_date("Wednesday, 3 June 2020", CTX, reference=FRIDAY)
    assert found is not None and found.day == date(2020, 6, 3)


def test_dates_in_order_of_appearance():
    found = find_dates("On 3 June 2020 and again on 5 July 2021 they met", CTX)
    assert [f.day for f in found] == [date(2020, 6, 3), date(2021, 7, 5)]


def test_years_out_of_range_are_not_dates():
    assert find_date("3 June 1850") is None
    assert find_date("3 June 2099", max_year=2027) is None


@pytest.mark.parametrize(
    ("url", "day"),
    [
        ("http://eng.sectsco.org./20220125/813122.html", date(2022, 1, 25)),
        ("https://eng.sectsco.org/news/20170217/220257.html", date(2017, 2, 17)),
        ("https://eng.sectsco.org/20230421/-Some-Slug-939274.html", date(2023, 4, 21)),
        ("https://news.example/2021/06/30/sco-ministers", date(2021, 6, 30)),
        ("https://news.example/2021-06-30-sco-ministers", date(2021, 6, 30)),
        ("https://eng.sectsco.org/20221399/1.html", None),
        ("https://eng.sectsco.org/20231341/1.html", None),
        ("https://eng.sectsco.org/news/", None),
        ("http://rus.sectsco.org./news/20170217/220257.html", date(2017, 2, 17)),
        ("https://example.org/news/20220125", date(2022, 1, 25)),
        ("https://eng.sectsco.org/news/813122.html", None),
        (None, None),
    ],
)
def test_date_from_url(url, day):
    assert date_from_url(url) == day


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("3 June 2020", True),
        ("03.06.2020 10:30", True),
        ("Wednesday, 3 June 2020", True),
        ("Updated: 2020-06-03", True),
        # as pages also write it: slashes or dots (such a stamp line became the title)
        ("2020/06/03", True),
        ("2020.06.03 10:30", True),
        ("3 июня 2020 года", True),
        ("2020年6月3日", True),
        ("On 3 June 2020, the SCO met", False),
        ("SCO meets envoy", False),
    ],
)
def test_is_date_line(line, expected):
    assert is_date_line(line) is expected
    # the headline passes the dates it found on the line already: the same answer
    assert is_date_line(line, find_dates(line, LINE_CONTEXT)) is expected


# -- the windowed search ---------------------------------------------------------------
# find_dates tries each pattern only where a match can begin; it must find exactly what
# running every pattern over the whole text finds (windowed=False).

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
MONTHS = sorted(EN_MONTHS)
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
mixed_texts = st.tuples(
    st.lists(st.one_of(phrases, st.sampled_from(PIECES), st.text(max_size=6)), max_size=20),
    st.sampled_from(["", " ", ", ", "\n\n"]),
).map(lambda t: t[1].join(t[0]))
days = st.one_of(st.none(), st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 12, 31)))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mixed_texts, context=days, reference=days, max_year=st.sampled_from([2027, 2100]))
def test_windowed_search_finds_what_the_full_scan_finds(text, context, reference, max_year):
    windowed = find_dates(text, context, max_year, reference)
    full = find_dates(text, context, max_year, reference, windowed=False)
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


# The day forms are tried only at runs of one or two digits and the ISO form only at
# runs of four: texts full of longer and shorter digit runs next to month words, dots
# and dashes must give what the full scan gives.

digits = st.one_of(
    st.sampled_from(["3", "03", "06", "10", "12", "30", "2020", "1999", "123", "20201", "0"]),
    st.integers(0, 999_999).map(str),
)
glue = st.sampled_from(["", " ", "  ", ".", "-", " - ", ", ", "st ", "th ", " to ", "\n"])
words = st.sampled_from(
    [
        "2020-06-03",
        "2020/06/03",
        "2020.06.03",
        "/",
        "June",
        "sept.",
        "May",
        "dec",
        "of",
        "июня",
        "года",
        "月",
        "日",
        "x",
    ]  # fmt: skip
)
phrase = st.tuples(digits, glue, st.one_of(words, digits), glue, digits).map("".join)
digit_texts = st.lists(st.one_of(phrase, digits, glue, words), max_size=8).map(" ".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=digit_texts, context=days, reference=days)
def test_digit_run_filter_finds_what_the_full_scan_finds(text, context, reference):
    windowed = find_dates(text, context, 2100, reference)
    full = find_dates(text, context, 2100, reference, windowed=False)
    assert windowed == full


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.text("abm", min_size=1, max_size=5), min_size=1, max_size=8, unique=True),
    text=st.text("abm ", max_size=8),
)
def test_trie_alternation_matches_as_the_words_longest_first(words, text):
    """The trie-shaped alternation the date forms use matches what the plain one (the
    words sorted longest first) matches, at every place, followed by anything: each
    candidate it tries comes in the same order."""
    longest_first = "|".join(sorted(words, key=len, reverse=True))
    for after in ("", "(?= |$)", "(?=b)"):  # what follows the word decides which one
        plain = re.compile(f"(?:{longest_first}){after}")
        trie = re.compile(f"(?:{alternation(words)}){after}")
        for at in range(len(text) + 1):
            a, b = plain.match(text, at), trie.match(text, at)
            assert (a and a.group()) == (b and b.group())
    assert all(re.fullmatch(alternation(words), w) for w in words)


@pytest.mark.parametrize(
    "text",
    ["On 5 December 2157, the forum", "On 5 December 1850, the treaty", "2157年12月5日",
     "5 декабря 2157 года", "On 5 December, 1850"],
)  # fmt: skip
def test_a_date_whose_year_no_release_has_is_no_date_of_this_year(text):
    """ "On 5 December 2157": the year out of range, the words before it were read as a
    date without a year, and the release was dated 5 December of the year at hand."""
    assert find_dates(text, date(2026, 12, 3), max_year=2027) == []


@pytest.mark.parametrize(
    ("text", "day"),
    [("On 12 March 1500 troops took part", date(2026, 3, 12)),
     ("On 3 June, 1200 delegates arrived.", date(2026, 6, 3)),
     ("12 марта 1500 военнослужащих", date(2026, 3, 12)),
     ("On 8-9 June 1800 participants", date(2026, 6, 8))],
)  # fmt: skip
def test_a_count_after_a_day_is_no_year(text, day):
    """A number a word follows is a count, not a year no release has: the day stays a
    day without its year (the review found "On 12 March 1500 troops" left no date)."""
    (found,) = find_dates(text, date(2026, 12, 3), max_year=2027)
    assert (found.day, found.had_year) == (day, False)
    assert found.text[-1].isalpha()  # the count is not the date's
