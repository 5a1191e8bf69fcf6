"""dates.py: every form of date a release states about itself."""

from __future__ import annotations

from datetime import date, time

import pytest

from scofeed.dates import date_from_url, find_date, find_dates, is_date_line

CTX = date(2021, 5, 1)
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
        ("3 June 2020", date(2020, 6, 3), None),
        ("3 June 2020, 2021 members", date(2020, 6, 3), None),
    ],
)
def test_a_time_of_day_glued_to_a_date(text, day, at):
    found = find_date(text, CTX)
    assert found is not None
    assert (found.day, found.at) == (day, at)


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
        ("9 мая", date(2021, 5, 9)),
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
        ("3 июня 2020 года", True),
        ("2020年6月3日", True),
        ("On 3 June 2020, the SCO met", False),
        ("SCO meets envoy", False),
    ],
)
def test_is_date_line(line, expected):
    assert is_date_line(line) is expected
