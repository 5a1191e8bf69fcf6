"""Issue #14: a release's two dates (published, event), the guards against future and
historical dates, date-stamp lines, and whole headlines. Fixtures in tests/data/dates
are written like SCO Secretariat releases, each with one oddity."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scofeed import sources
from scofeed.dates import date_stamp, yearless
from scofeed.model import Entry, Release
from scofeed.normalise import normalise
from scofeed.sources import htmlpage
from tests.normalise_cases import SETTINGS

DATA = Path(__file__).parent / "data" / "dates"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def read(name: str, context: datetime | None, **changes: Any) -> Release:
    path = DATA / name
    (found,) = sources.read(name, path.suffix, path.read_bytes(), context, 1_000_000)
    return replace(found, **changes)


def entry(name: str, context: datetime | None = None, now: datetime = NOW, **kw: Any) -> Entry:
    return normalise(read(name, context, **kw), SETTINGS, now)


def day(e: Entry) -> date:
    return e.published.astimezone(SHANGHAI).date()


# -- two dates -------------------------------------------------------------------------


def test_a_release_published_days_after_its_event_takes_the_url_date():
    e = entry("event_before_url.md", context=datetime(2026, 1, 5, tzinfo=UTC))
    assert day(e) == date(2025, 3, 12) and e.date_source == "url"
    assert e.event_date == date(2025, 3, 3)  # "On 3 March": the year from the URL's date


def test_metadata_date_beats_the_page_date_and_the_event_date_stays():
    e = entry("event_before_url.md", published=datetime(2025, 3, 13, 9, 0))
    assert e.published == datetime(2025, 3, 13, 9, 0, tzinfo=SHANGHAI)
    assert e.date_source == "metadata" and e.event_date == date(2025, 3, 3)


def test_a_bare_text_file_is_dated_by_its_stated_date():
    e = entry("bare_stated.txt", context=datetime(2025, 3, 4, 8, 0, tzinfo=UTC))
    assert day(e) == date(2025, 3, 3) and e.date_source == "text"
    assert e.event_date == date(2025, 3, 3)


def test_a_stated_future_date_never_dates_a_release():
    written = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
    e = entry("future_meeting.txt", context=written, now=datetime(2025, 3, 5, tzinfo=UTC))
    assert e.published == written and e.date_source == "mtime"  # not 20 June
    assert e.event_date is None  # an announced meeting has not happened yet


# -- never from the future, never from history by accident -----------------------------


def test_27_december_read_in_november_is_last_december():
    e = entry("december_in_november.txt", context=datetime(2025, 11, 20, 9, 0, tzinfo=UTC))
    assert day(e) == date(2024, 12, 27)
    assert e.published <= NOW


def test_27_december_on_a_page_of_november_is_no_event_of_that_page():
    e = entry(
        "december_in_november.txt",
        context=datetime(2025, 11, 21, tzinfo=UTC),
        url="https://eng.sectsco.org/20251120/1000001.html",
    )
    assert day(e) == date(2025, 11, 20) and e.date_source == "url"
    assert e.event_date is None  # last December is far from the page's date


def test_an_anniversary_piece_is_dated_by_its_ceremony_not_by_the_founding():
    e = entry("anniversary.txt", context=datetime(2026, 6, 13, 10, 0, tzinfo=UTC))
    assert day(e) == date(2026, 6, 12) and e.date_source == "text"
    assert e.event_date == date(2026, 6, 12)
    with_url = entry(
        "anniversary.txt", context=datetime(2026, 6, 13, tzinfo=UTC),
        url="https://eng.sectsco.org/20260613/2000001.html",
    )  # fmt: skip
    assert day(with_url) == date(2026, 6, 13) and with_url.event_date == date(2026, 6, 12)
    # copied months later: neither the founding nor a ceremony far from the file dates it
    late = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    copied = entry("anniversary.txt", context=late)
    assert copied.published == late and copied.date_source == "mtime"


def test_a_yearless_date_takes_the_year_its_paragraph_states_in_a_late_file():
    text = (
        "SCO experts meet on transport\n\nOn 3 March, experts met to prepare the meeting "
        "of ministers of transport held on 5 March 2024 in Almaty.\n"
    )
    late = datetime(2026, 11, 20, tzinfo=UTC)
    e = normalise(Release("x.txt", text, context_date=late), SETTINGS, NOW)
    assert day(e) == date(2024, 3, 3) and e.event_date == date(2024, 3, 3)


QUOTED_TODAY = [
    (  # English: the quote's "today", and a weekday in a later paragraph
        "SCO Secretary-General speaks at the St Petersburg forum\n\nOn 15 June 2025, the "
        "SCO Secretary-General spoke at the St Petersburg International Economic Forum.\n\n"
        '"The Shanghai Cooperation Organisation today is one of the key platforms for '
        "dialogue in Eurasia,\" he said.\n\nOn Thursday, he also met the forum's hosts.\n"
    ),
    (
        "Генсек ШОС выступил на форуме в Санкт-Петербурге\n\n15 июня 2025 года Генеральный "
        "секретарь ШОС выступил на Петербургском международном экономическом форуме.\n\n"
        "«ШОС сегодня является одной из ключевых площадок для диалога», — сказал он. "
        "В четверг он также встретился с организаторами форума.\n"
    ),
    (
        "上合组织秘书长在圣彼得堡论坛发表讲话\n\n2025年6月15日，上合组织秘书长在圣彼得堡国际"
        "经济论坛上发表讲话。\n\n他说：“今天，上合组织是欧亚地区对话的重要平台之一。”周四，"
        "他还会见了论坛主办方。\n"
    ),
]


@pytest.mark.parametrize("text", QUOTED_TODAY, ids=["en", "ru", "zh"])
def test_a_quoted_today_does_not_date_a_release_copied_later(text):
    """ "today" or a weekday is read by the file's date, and so says no more than it:
    in a release copied 18 months later it dated the release by the copy and ruled out
    the date the release states."""
    late = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    e = normalise(Release("x.txt", text, context_date=late), SETTINGS, NOW)
    assert day(e) == date(2025, 6, 15) and e.date_source == "text"
    assert e.event_date == date(2025, 6, 15)
    # a release with only "today" is still dated by it (the file's day)
    only = text.replace("15 June 2025, the", "the").replace("15 июня 2025 года ", "")
    only = only.replace("2025年6月15日，", "")
    e = normalise(Release("y.txt", only, context_date=late), SETTINGS, NOW)
    assert day(e) == date(2026, 11, 20)


@pytest.mark.parametrize(
    "text",
    [
        "Beijing, 12 March 2025\n\nSCO Secretariat holds a round table\n\nOn 12 March, the "
        "SCO Secretariat held a round table on the anniversary of the Organisation.\n",
        "Пекин, 12 марта 2025 г.\n\nВ Секретариате ШОС состоялся круглый стол\n\n12 марта в "
        "Секретариате ШОС прошёл круглый стол, посвящённый юбилею Организации.\n",
    ],
    ids=["en", "ru"],
)
def test_a_yearless_date_repeating_the_dateline_takes_its_year(text):
    """The body's "12 March" repeats the dateline's 12 March 2025: read by the date of a
    file copied later, it was 12 March 2026, and each date ruled the other out."""
    late = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    e = normalise(Release("x.txt", text, context_date=late), SETTINGS, NOW)
    assert day(e) == date(2025, 3, 12) and e.date_source == "text"
    assert e.event_date == date(2025, 3, 12)


@pytest.mark.parametrize(
    "text",
    [
        '"We stand together": SCO Secretary-General addresses forum\n\nBEIJING, March 20, '
        '2025 - SCO Secretary-General said: "We stand together."\n\nThe forum continued '
        "until 21 March.\n",
        "Заместитель Генсекретаря ШОС принял участие в конференции\n\nПекин, 20 марта 2025 "
        "года. Заместитель Генерального секретаря ШОС принял участие в конференции.\n\n"
        "Конференция продлится до 22 марта.\n",
    ],
    ids=["en", "ru"],
)
def test_a_yearless_date_near_a_stated_one_takes_its_year(text):
    """ "Until 21 March" under "March 20, 2025", in a file copied later: read by the
    file's date it was 21 March 2026, ruled the stated date out, and the release was
    dated by its file (the newest at the top of every feed). It takes 2025."""
    late = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    e = normalise(Release("x.txt", text, context_date=late), SETTINGS, NOW)
    assert day(e) == date(2025, 3, 20) and e.date_source == "text"


# a release of a fresh clone's: "{}" opens its body with the date
STUDENTS = (
    "SCO Secretary-General receives students\n\n{} SCO Secretary-General received "
    "students. He thanked them for their visit on 21 October.\n"
)


@pytest.mark.parametrize(
    ("text", "published"),
    [
        ("SCO Secretary-General meets Mongolian delegation\n\nOn 21 October 2025, SCO "
         "Secretary-General met a Mongolian delegation. He thanked the guests for their "
         "visit on 21 October.\n", date(2025, 10, 21)),
        ("SCO Secretary-General receives Indian delegation\n\nOn 23 October 2025, SCO "
         "Secretary-General received a delegation of India. The next round is due on 5 "
         "November.\n", date(2025, 10, 23)),
        ("SCO Secretary-General receives Kyrgyz delegation on 20 October\n\nOn 20 "
         "October 2025, SCO Secretary-General received a delegation of Kyrgyzstan.\n",
         date(2025, 10, 20)),
        # the date opening the text after a dateline's place or a weekday (found in review)
        (STUDENTS.format("Beijing, 21 October 2025 – The"), date(2025, 10, 21)),
        (STUDENTS.format("On Tuesday, 21 October 2025, the"), date(2025, 10, 21)),
        ("上合组织秘书长会见学生\n\n当地时间2025年10月21日，上合组织秘书长会见学生。他感谢客人10月"
         "21日的来访。\n", date(2025, 10, 21)),
        ("Генсек ШОС принял студентов\n\nВо вторник, 21 октября 2025 года, Генеральный "
         "секретарь ШОС принял студентов и поблагодарил за визит 21 октября.\n",
         date(2025, 10, 21)),
        # a range opening the text (its first day)
        ("Форум молодёжи ШОС\n\nС 20 по 22 октября 2025 года в Пекине прошёл форум молодёжи "
         "ШОС. Генеральный секретарь выступил на форуме 21 октября.\n", date(2025, 10, 20)),
        ("SCO Youth Forum held\n\nFrom 20 to 22 October 2025, the SCO Youth Forum was held "
         "in Beijing. The Secretary-General addressed the forum on 21 October.\n",
         date(2025, 10, 20)),
    ],
    ids=["repeated", "ahead", "in-title", "dateline", "weekday", "zh", "ru", "ru-range",
         "en-range"],
)  # fmt: skip
def test_a_release_opening_with_its_dated_day_keeps_it_in_a_fresh_clone(text, published):
    """A fresh clone (or an archive copied in) gives every file today's time: a
    year-less day near it ("on 21 October", "due on 5 November") took the file's year,
    ruled out the day the release opens with, and the release was dated a year late."""
    clone = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    e = normalise(Release("x.txt", text, context_date=clone), SETTINGS, NOW)
    assert day(e) == published and e.date_source == "text"


@pytest.mark.parametrize(
    "text",
    [
        "SCO Secretariat reviews implementation of Astana Summit decisions\n\nFollowing the "
        "decisions of the Astana Summit of 4 July 2024, on 10 July the SCO Secretariat held a "
        "meeting of the permanent representatives.\n",
        "Заседание Совета постоянных представителей\n\nВ развитие решений Астанинского "
        "саммита 4 июля 2024 года 10 июля в Секретариате ШОС прошло заседание.\n",
        # within the first 30 characters, but after words of a sentence (second review)
        "SCO Secretariat holds a meeting\n\nAfter the Astana Summit on 4 July 2024, on 10 "
        "July the SCO Secretariat held a meeting of representatives.\n",
        "Заседание представителей\n\nПо итогам саммита 4 июля 2024 года 10 июля в "
        "Секретариате ШОС прошло заседание представителей.\n",
        "上合组织秘书处召开会议\n\n为落实上合组织阿斯塔纳峰会2024年7月4日通过的决定，7月10日上合组织"
        "秘书处召开常驻代表会议。\n",
    ],
    ids=["en", "ru", "en-near", "ru-near", "zh"],
)
def test_a_date_recalled_in_the_first_sentence_gives_no_year_to_a_fresh_files_day(text):
    """A date the release recalls inside its first sentence is no release date: "10
    July", read in the year of a file written that day, stays there (it was moved to
    2024, next to the summit recalled, and the release dated a year early)."""
    fresh = datetime(2025, 7, 10, 9, 0, tzinfo=UTC)
    e = normalise(Release("x.txt", text, context_date=fresh), SETTINGS, NOW)
    assert day(e) == date(2025, 7, 10) and e.date_source == "text"


@pytest.mark.parametrize(
    ("body", "written", "published"),
    [
        ("Today the SCO marks the 25th anniversary of its founding on 15 June 2001.",
         datetime(2026, 6, 15, 9, 0, tzinfo=UTC), date(2026, 6, 15)),
        ("On 15 June, the Secretariat celebrated the 25th anniversary of the SCO, founded "
         "on 15 June 2001.", datetime(2026, 6, 16, 9, 0, tzinfo=UTC), date(2026, 6, 15)),
        ("15 июня в Секретариате отметили 25-летие ШОС, основанной 15 июня 2001 года.",
         datetime(2026, 6, 16, 9, 0, tzinfo=UTC), date(2026, 6, 15)),
        ("On Tuesday the Secretary-General recalled the Charter signed on 7 June 2002.",
         datetime(2026, 6, 10, 9, 0, tzinfo=UTC), date(2026, 6, 9)),
    ],
)  # fmt: skip
def test_an_anniversary_read_by_a_fresh_file_is_this_years(body, written, published):
    """With "today" no longer a judge of other dates, nor a year-less date near the
    file's own, an anniversary piece must not take the founding's date: the stated
    date alone was taken however far from the file (2001-06-15), and a year-less "15
    June" took the founding's year."""
    title = "День ШОС" if "ШОС" in body else "SCO Day"
    e = normalise(Release("a.txt", f"{title}\n\n{body}\n", context_date=written), SETTINGS, NOW)
    assert day(e) == published


@pytest.mark.parametrize(
    "text",
    [
        "Beijing, 12 March 2025\n\nSCO round table held\n\nOn 10 March, the SCO "
        "Secretariat held a round table.\n",
        "Пекин, 12 марта 2025 г.\n\nКруглый стол в Секретариате ШОС\n\nВ понедельник, 10 "
        "марта, в Секретариате ШОС прошёл круглый стол. Сегодня подведены итоги.\n",
        "北京，2025年3月12日\n\n上合组织秘书处举行圆桌会议\n\n3月10日，上合组织秘书处举行圆桌会议。\n",
    ],
    ids=["en", "ru", "zh"],
)
def test_year_less_and_relative_dates_go_by_the_dateline(text):
    """Under a dateline of 12 March 2025, "On 10 March" (or "в понедельник", "сегодня")
    was read by the file's date, in the year the file was copied, and ruled the dateline
    out: the release was dated by the file. The dateline's date is what they go by; it
    dates the release, the body's date is the event's."""
    late = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    e = normalise(Release("x.txt", text, context_date=late), SETTINGS, NOW)
    assert (day(e), e.date_source, e.event_date) == (date(2025, 3, 12), "text", date(2025, 3, 10))


FOUNDING = "The SCO was founded on 15 June 2001 in Shanghai."


@pytest.mark.parametrize(
    ("text", "written", "published", "event"),
    [
        # the body's one date is a founding: the dateline's day is the event; copied
        # late, the dateline still dates it
        *(
            (f"Beijing, 15 June 2025\n\nSCO Day\n\n{FOUNDING}\n", datetime(*when, 9, tzinfo=UTC),
             date(2025, 6, 15), date(2025, 6, 15))
            for when in ((2025, 6, 15), (2026, 11, 20))
        ),
        # a coming summit, read before the dateline, is no event of it either
        ("Beijing, 12 March 2025\n\nSCO prepares its summit\n\nThe summit will be held on 4 "
         "July in Astana.\n", datetime(2026, 11, 20, 9, 0, tzinfo=UTC), date(2025, 3, 12),
         date(2025, 3, 12)),
        # no dateline, a fresh file: "today" still rules out a founding 25 years back
        (f"SCO Day\n\n{FOUNDING} Today it marks its 25th anniversary.\n",
         datetime(2026, 6, 15, 9, 0, tzinfo=UTC), date(2026, 6, 15), date(2026, 6, 15)),
    ],
)  # fmt: skip
def test_a_dateline_judges_the_bodys_dates(text, written, published, event):
    """The dateline's date was only a weak clue to the body's dates: a body's lone date
    (a founding, a summit to come read a year early) became the event, and a copy made
    late was dated by the file."""
    e = normalise(Release("x.txt", text, context_date=written), SETTINGS, NOW)
    assert (day(e), e.event_date) == (published, event)


def test_no_entry_is_dated_after_it_was_first_seen():
    now = datetime(2025, 3, 12, 2, 0, tzinfo=UTC)
    later_today = datetime(2025, 3, 12, 20, 0)  # metadata, local time: hours ahead of now
    e = entry("bare_stated.txt", context=now, now=now, published=later_today)
    assert e.published == now


def test_the_first_day_of_1990_in_the_sites_zone_is_plausible():
    """Midnight of 1 January 1990 in Beijing is 1989 in UTC: a release's own `date`
    of that day was passed over for the file's time (formats.md: before 1990 only)."""
    now = datetime(2025, 3, 12, 2, 0, tzinfo=UTC)
    e = entry("bare_stated.txt", context=now, now=now, published=datetime(1990, 1, 1))
    assert e.published == datetime(1990, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    e = entry("bare_stated.txt", context=now, now=now, published=datetime(1989, 12, 31, 23))
    assert e.published.year == 2025  # before 1990: passed over for the next clue


def test_yearless_prefers_a_stated_year_only_for_a_file_written_long_after():
    # the reference is the page's date: the latest such day before it
    assert yearless(3, 10, date(2025, 3, 12), [2001]) == date(2025, 3, 10)
    # a file written long after: the year the text states elsewhere wins
    assert yearless(3, 3, date(2026, 12, 1), [2024, 2001]) == date(2024, 3, 3)
    assert yearless(12, 27, date(2025, 11, 20)) == date(2024, 12, 27)
    assert yearless(11, 21, date(2025, 11, 20)) == date(2025, 11, 21)  # a day for time zones
    assert yearless(2, 29, date(2025, 3, 1)) == date(2024, 2, 29)


texts = st.lists(
    st.sampled_from([
        "On 27 December", "On 3 March", "yesterday", "on Monday", "next Friday",
        "On 15 June 2001", "3 June 2020", "20 June 2030", "12.03.2025", "2025年3月12日",
        "12 марта", "the delegation", "\n\n", "tomorrow",
    ]),
    min_size=1, max_size=6,
)  # fmt: skip
moments = st.datetimes(
    min_value=datetime(1995, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(body=texts, seen=moments, written=st.one_of(st.none(), moments))
def test_never_dated_after_the_moment_first_seen(body, seen, written):
    text = "SCO Secretary-General meets envoy\n\n" + " ".join(body) + " the envoy came."
    release = Release("prop.txt", text, context_date=written)
    try:
        e = normalise(release, SETTINGS, seen)
    except Exception as exc:  # no date at all: the one error normalise may raise
        assert type(exc).__name__ == "NormaliseError"
        return
    assert e.published <= seen
    if e.event_date is not None:
        assert e.event_date <= e.published.astimezone(SHANGHAI).date() + timedelta(days=1)


def test_a_date_scofeed_takes_is_in_whole_seconds_in_the_sites_zone():
    """The moment first seen (a stated date still to come) and the file's time were in
    UTC, and the first with its microseconds: a release first seen at 01:00 on 1 January
    in Beijing (17:00 UTC on 31 December) was filed in December's archive."""
    seen = datetime(2026, 12, 31, 17, 0, 0, 334484, tzinfo=UTC)
    text = "SCO statement\n\nThe Secretariat issued a statement."
    soon = Release("soon.md", text, published=datetime(2027, 1, 1, 23, 0, tzinfo=SHANGHAI))
    filed = Release("f.txt", text, context_date=seen)
    for release in (soon, filed):
        e = normalise(release, SETTINGS, seen + timedelta(minutes=5 * (release is filed)))
        assert e.published.isoformat() == "2027-01-01T01:00:00+08:00", release.origin


# -- date-stamp lines ------------------------------------------------------------------

STAMPS = [
    ("12.03.2025", datetime(2025, 3, 12)),
    ("March 12, 2025", datetime(2025, 3, 12)),
    ("2025-03-12 10:30", datetime(2025, 3, 12, 10, 30)),
    ("12 марта 2025", datetime(2025, 3, 12)),
    ("2025年3月12日", datetime(2025, 3, 12)),
    ("Wednesday, 12 March 2025", datetime(2025, 3, 12)),
]
BODY = (
    "On 10 March, SCO Secretary-General Nurlan Yermekbayev received the Ambassador of "
    "Kazakhstan.\n\nThe parties discussed the Organisation's current activities."
)


@pytest.mark.parametrize(("stamp", "when"), STAMPS)
@pytest.mark.parametrize("where", ["top", "bottom"])
def test_a_date_stamp_line_dates_the_release_and_leaves_the_text(stamp, when, where):
    title = "SCO Secretary-General receives the Ambassador of Kazakhstan"
    if where == "top":
        text = f"{title}\n\n{stamp}\n\n{BODY}\n"
    else:
        text = f"{title}\n\n{BODY}\n\n{stamp}\n"
    release = Release("stamp.txt", text, context_date=datetime(2025, 3, 20, tzinfo=UTC))
    e = normalise(release, SETTINGS, NOW)
    assert e.published == when.replace(tzinfo=SHANGHAI) and e.date_source == "page"
    assert e.event_date == date(2025, 3, 10)
    assert stamp not in e.content_html and stamp not in e.summary
    assert e.summary.startswith("On 10 March") and len(e.paragraphs) == 2


def test_a_date_stamp_line_in_a_page_leaves_its_html():
    path = DATA / "stamp_page.html"
    (release,) = htmlpage.read_page(
        "page", path.read_text(encoding="utf-8"), url="https://eng.sectsco.org/news/1.html"
    )
    e = normalise(release, SETTINGS, NOW)
    assert e.published == datetime(2025, 3, 12, 10, 30, tzinfo=SHANGHAI)
    # the page reader gives its page's dates as the release's own (metadata)
    assert e.date_source == "metadata" and e.event_date == date(2025, 3, 10)
    assert "12.03.2025" not in e.content_html and "<p>On 10 March" in e.content_html
    assert e.summary.startswith("On 10 March")


def test_a_date_in_a_sentence_is_no_stamp():
    assert date_stamp("On 3 March the SG met the envoy", date(2025, 3, 20)) is None
    assert date_stamp("12.03.2025 " + "x" * 60, date(2025, 3, 20)) is None


def test_a_stamp_padded_past_the_length_of_one_is_still_one():
    # a long line is no stamp unless stripping its white space leaves it short enough
    padded = " " * 40 + "12.03.2025" + " " * 40
    assert date_stamp(padded, date(2025, 3, 20)).day == date(2025, 3, 12)
    assert date_stamp("\n" * 70 + "12.03.2025", date(2025, 3, 20)).day == date(2025, 3, 12)


# -- whole headlines -------------------------------------------------------------------


def test_a_headline_with_an_exclamation_and_a_quoted_question_is_kept_whole():
    e = entry("headline_marks.txt", context=datetime(2025, 3, 6, tzinfo=UTC))
    first = (DATA / "headline_marks.txt").read_text(encoding="utf-8").splitlines()[0]
    assert e.title == first
    assert e.paragraphs[0].startswith("On 5 March 2025")


def test_a_headline_over_the_cap_is_cut_at_a_word():
    title = "SCO " + " ".join(["Secretary-General meets envoys!"] * 12)
    e = normalise(Release("x.txt", f"{title}\n\nThe envoys came.", context_date=NOW), SETTINGS, NOW)
    assert len(e.title) <= 300 and e.title.endswith("…")
    assert title.startswith(e.title[:-1].rstrip())


def test_without_a_headline_the_first_sentence_still_stands_in():
    text = (
        "On 3 March 2025, SCO Secretary-General Nurlan Yermekbayev met the Ambassador of "
        "India. They discussed the SCO's current activities and plans for the year ahead.\n"
    )
    e = normalise(Release("x.txt", text, context_date=NOW), SETTINGS, NOW)
    assert e.title.startswith("SCO Secretary-General Nurlan Yermekbayev met the Ambassador")
    assert "They discussed" not in e.title


# -- polling the SCO site: the page's date ---------------------------------------------

LEADS = [
    "On {d} {m}, SCO Secretary-General Nurlan Yermekbayev met with the Ambassador.",
    "Yesterday, SCO Secretary-General Nurlan Yermekbayev received a delegation.",
    "On {d} {m} {y}, the SCO Secretariat hosted a round table on digital cooperation.",
    "On 15 June 2001, the SCO was founded. On {d} {m}, the Secretariat marked the date.",
    "From {d} to {d2} {m}, experts of the SCO member states met in Beijing.",
    "The Secretary-General said on {wd} that cooperation was growing.",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def sco_page(rng: random.Random, published: date) -> tuple[str, str, str]:
    """A page as the SCO site serves it, its URL, and its lead paragraph: the date in
    the path, the event some days before, sometimes a date stamp, sometimes a <time>."""
    event = published - timedelta(days=rng.randint(0, 9))
    lead = rng.choice(LEADS).format(
        d=event.day, d2=min(event.day + 1, 28), m=MONTHS[event.month - 1], y=event.year,
        wd=rng.choice(WEEKDAYS),
    )  # fmt: skip
    shape = rng.choice(["/{s}/{n}.html", "/news/{s}/{n}.html", "/{s}/-Meeting-{n}.html"])
    path = shape.format(s=published.strftime("%Y%m%d"), n=rng.randint(100000, 999999))
    url = "https://" + rng.choice(["eng", "rus", "chn"]) + ".sectsco.org" + path
    stamp = rng.choice(
        ["", f"<p>{published:%d.%m.%Y}</p>", f"<div>{published:%Y-%m-%d} 10:00</div>"]
    )
    when = rng.choice(["", f'<time datetime="{published.isoformat()}">{published}</time>'])
    page = (
        "<!DOCTYPE html><html lang=en><head><title>News - SCO</title></head><body>"
        f'<nav><a href="/">Home</a></nav><div class="news-detail"><h1>SCO news {path}</h1>'
        f"{when}{stamp}<p>{lead}</p><p>The parties discussed the SCO's current activities "
        "and the plans for the coming year.</p></div></body></html>"
    )
    return page, url, lead


def test_pages_polled_from_the_sco_site_are_published_on_the_page_date():
    rng = random.Random(14)
    total, on_page_date = 60, 0
    for _ in range(total):
        published = date(2019, 1, 1) + timedelta(days=rng.randint(0, 2500))
        page, url, lead = sco_page(rng, published)
        seen = datetime.combine(published, datetime.min.time(), UTC) + timedelta(days=1)
        # as the page-list poller reads a linked page (sources.remote._article)
        (release,) = htmlpage.read_page(url, page, url=url, context=seen)
        e = normalise(release, SETTINGS, seen)
        on_page_date += day(e) == published
        assert e.event_date is None or e.event_date <= published
        assert f"{published:%d.%m.%Y}" not in e.content_html  # no date stamp left
        assert f"{published:%Y-%m-%d} 10:00" not in e.content_html
    assert on_page_date / total >= 0.95


def test_text_releases_saved_with_their_page_url_are_published_on_the_page_date():
    rng = random.Random(1414)
    total, on_page_date = 60, 0
    for i in range(total):
        published = date(2019, 1, 1) + timedelta(days=rng.randint(0, 2500))
        _page, url, lead = sco_page(rng, published)
        text = f"---\ntitle: SCO news {i}\nurl: {url}\n---\n{lead}\n\nThe parties met.\n"
        written = datetime.combine(published, datetime.min.time(), UTC) + timedelta(days=30)
        (release,) = sources.read(f"r{i}.md", ".md", text.encode(), written, 1_000_000)
        e = normalise(release, SETTINGS, NOW)
        on_page_date += day(e) == published
    assert on_page_date / total >= 0.95


def test_a_date_stamp_line_in_markdown_leaves_its_html():
    text = (
        "---\ntitle: SCO Secretary-General receives the Ambassador of Kazakhstan\n---\n"
        f"**12.03.2025**\n\n{BODY}\n"
    )
    (release,) = sources.read("stamp.md", ".md", text.encode(), NOW, 1_000_000)
    e = normalise(release, SETTINGS, NOW)
    assert e.published == datetime(2025, 3, 12, tzinfo=SHANGHAI) and e.date_source == "page"
    assert "12.03.2025" not in e.content_html
    assert e.content_html.startswith("<p>On 10 March")


# -- a dateline whose year the evidence contradicts ---------------------------------------

WRITTEN = datetime(2025, 3, 13, 9, 0, tzinfo=UTC)  # the file's time: the day after


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # its year mistyped ahead: after the file was written (read by a build of 2026)
        ("Beijing, 12 March 2026\n\nSCO Secretariat holds a round table\n\nOn 12 March, "
         "the SCO Secretariat held a round table on regional security.\n", "after_file"),
        ("Пекин, 12 марта 2026 г.\n\nВ Секретариате ШОС состоялся круглый стол\n\n12 марта "
         "в Секретариате ШОС прошёл круглый стол по региональной безопасности.\n",
         "after_file"),
        # mistyped behind: the body states this year's date, the file agrees with it
        ("Beijing, 12 March 2015\n\nSCO Secretariat holds a round table\n\nOn 12 March "
         "2025, the SCO Secretariat held a round table on regional security.\n",
         "far_from_text"),
        ("北京，2015年3月12日\n\n上合组织秘书处举行圆桌会议\n\n2025年3月12日，上合组织秘书处举行地区安全"
         "圆桌会议。\n", "far_from_text"),
    ],
    ids=["ahead-en", "ahead-ru", "behind-en", "behind-zh"],
)  # fmt: skip
def test_a_dateline_whose_year_the_evidence_contradicts_is_not_trusted(text, reason, caplog):
    """The dateline's date was taken as it stood: it dated the release (2026-03-12 in a
    file of March 2025, or 2015-03-12), and the body's year-less dates went by it."""
    caplog.set_level("INFO", logger="scofeed.normalise.dating")
    e = normalise(Release("x.txt", text, context_date=WRITTEN), SETTINGS, NOW)
    assert (day(e), e.date_source, e.event_date) == (date(2025, 3, 12), "text", date(2025, 3, 12))
    (line,) = [r.getMessage() for r in caplog.records if "dateline" in r.getMessage()]
    assert "origin=x.txt" in line and f"reason={reason}" in line


def test_a_year_less_body_under_a_mistyped_dateline_goes_by_the_file():
    text = (
        "Beijing, 12 March 2015\n\nSCO Secretariat holds a round table\n\nOn 10 March, the "
        "SCO Secretariat held a round table. The ministers will meet on 20 March 2025.\n"
    )
    e = normalise(Release("x.txt", text, context_date=WRITTEN), SETTINGS, NOW)
    assert (day(e), e.event_date) == (date(2025, 3, 10), date(2025, 3, 10))


def test_a_dateline_far_from_the_metadata_date_vouches_for_no_event():
    """Metadata dates the release 12 March 2025; a dateline of 2024 made the body's
    "10 March 2024" its event, a year before it was published."""
    text = (
        "Beijing, 12 March 2024\n\nSCO Secretariat holds a round table\n\nOn 10 March 2024, "
        "the SCO Secretariat held a round table.\n"
    )
    meta = datetime(2025, 3, 12, 10, 0)
    e = normalise(Release("x.txt", text, context_date=WRITTEN, published=meta), SETTINGS, NOW)
    assert (e.date_source, e.event_date) == ("metadata", None)
    # a dateline that agrees with the metadata still vouches for the body's date
    agreeing = text.replace("12 March 2024", "12 March 2025").replace("2024,", "2025,")
    e = normalise(Release("x.txt", agreeing, published=meta), SETTINGS, NOW)
    assert e.event_date == date(2025, 3, 10)


def test_a_late_copy_keeps_a_dateline_the_body_agrees_with():
    """Far from the file's date is no fault: an archive copied a year and more later."""
    text = (
        "Beijing, 12 March 2025\n\nSCO Secretariat holds a round table\n\nOn 12 March 2025, "
        "the SCO Secretariat held a round table.\n"
    )
    late = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    e = normalise(Release("x.txt", text, context_date=late), SETTINGS, NOW)
    assert day(e) == date(2025, 3, 12)


def test_an_updated_time_ahead_of_the_clock_is_the_moment_read():
    """A stated ``updated`` hours ahead was kept (the entry and the feed dated after
    the clock), where ``published`` is clamped to the moment the release is read."""
    now = datetime(2025, 3, 12, 2, 0, 30, 500_000, tzinfo=UTC)
    ahead = datetime(2025, 3, 12, 20, 0, tzinfo=UTC)
    e = entry("bare_stated.txt", context=now, now=now, published=datetime(2025, 3, 11),
              updated=ahead)  # fmt: skip
    assert e.updated == now.replace(microsecond=0)


@pytest.mark.parametrize(
    ("said", "stored"),
    [
        ("On 12 March 2026 at 10:00 Moscow time, the SCO met.", "2026-03-12T10:00:00+03:00"),
        ("On 12 March 2026 в 10:00 по московскому времени, the SCO met.",
         "2026-03-12T10:00:00+03:00"),
        ("On 12 March 2026 at 09:30 GMT+5, the SCO met.", "2026-03-12T09:30:00+05:00"),
        ("On 12 March 2026 at 10:00, the SCO met.", "2026-03-12T10:00:00+08:00"),  # the site's
        # a Chinese time (10时, 下午3时30分, 10点半) was not read at all, nor its zone
        ("2026年3月12日莫斯科时间10时，秘书长在北京举行记者会。", "2026-03-12T10:00:00+03:00"),
        ("2026年3月12日下午3时30分，秘书长在北京举行记者会。", "2026-03-12T15:30:00+08:00"),
        ("2026年3月12日上午10点半，秘书长在北京举行记者会。", "2026-03-12T10:30:00+08:00"),
    ],
)  # fmt: skip
def test_a_time_in_a_named_zone_dates_the_release_at_that_moment(said, stored):
    """A release of a site in Beijing saying "10:00 Moscow time" was dated 10:00 in
    Beijing, five hours before the moment it states. It is dated in the zone it names
    (an offset kept as stated, as a feed's date is), and in the site's zone without one."""
    text = f"Press conference of the Secretary-General\n\n{said}\n"
    e = normalise(Release(origin="z.txt", text=text), SETTINGS, NOW)
    assert (e.published.isoformat(), e.date_source) == (stored, "text")
