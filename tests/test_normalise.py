"""Real-world normalisation: each messy case has its own fixture in tests/data/normalise."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scofeed import sources
from scofeed.errors import NormaliseError
from scofeed.model import Entry, Release
from scofeed.normalise import (
    Settings,
    canonical_url,
    fingerprint,
    headline_from,
    normalise,
    sanitise,
    split_release,
)

FIXTURES = Path(__file__).parent / "data" / "normalise"
SETTINGS = Settings(
    authority="test.example,2026",
    base_url="http://127.0.0.1:8080/",
    author="SCO Secretariat",
    language="en",
    timezone="Asia/Shanghai",
)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
FILE_DATE = datetime(2021, 7, 5, 9, 0, tzinfo=UTC)  # stands in for the file's mtime


def release(name: str, **changes: Any) -> Release:
    path = FIXTURES / name
    found = sources.read(name, path.suffix, path.read_bytes(), FILE_DATE, 1_000_000)
    assert len(found) == 1
    return replace(found[0], **changes)


def entry(name: str, **changes: Any) -> Entry:
    return normalise(release(name, **changes), SETTINGS, NOW)


def local(entry: Entry) -> str:
    return entry.published.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()


# -- headlines -------------------------------------------------------------------------


def test_headline_after_breadcrumb_date_line_and_section_name():
    e = entry("headline_after_chrome.txt")
    assert e.title == "SCO Secretary-General meets with Jingdong vice-president"
    assert e.paragraphs[0].startswith("SCO Secretary-General Vladimir Norov met")
    assert len(e.paragraphs) == 2
    # the date line before the headline still dates the release, time included
    assert local(e) == "2020-06-03T10:30:00+08:00"
    assert e.date_source == "text"


def test_missing_headline_becomes_the_first_sentence_without_its_date_clause():
    e = entry("headline_missing.txt")
    assert e.title.startswith("SCO Secretary-General Vladimir Norov met with Jingdong")
    assert e.title.endswith("…")  # shortened at a word boundary
    assert len(e.title) <= 110
    assert "On 3 June" not in e.title
    # nothing is lost: the lead paragraph stays in the body, wrapped lines joined
    assert e.paragraphs[0].startswith("On 3 June 2020, SCO Secretary-General")
    assert e.paragraphs[0].endswith("friendly atmosphere.")
    assert local(e) == "2020-06-03T00:00:00+08:00"


def test_missing_headline_in_chinese_is_the_first_sentence_shortened():
    e = entry("headline_missing_zh.txt")
    assert e.title.startswith("上海合作组织秘书长弗拉基米尔")
    assert len(e.title) <= 40
    assert e.language == "zh"
    assert len(e.paragraphs) == 2
    assert local(e) == "2020-06-03T00:00:00+08:00"


def test_short_headline_followed_by_its_body_is_still_the_headline():
    release = Release("x", "SCO meets envoy\nThe envoy came to the SCO.\n")
    title, paras, _preamble = split_release(release)
    assert title == "SCO meets envoy"
    assert paras == ["The envoy came to the SCO."]


def test_headline_from_keeps_abbreviations_inside_the_sentence():
    para = "Mr. Norov met Dr. Xu Feng at the SCO Secretariat in Beijing. They spoke."
    assert headline_from(para) == "Mr. Norov met Dr. Xu Feng at the SCO Secretariat in Beijing"


# -- other scripts ---------------------------------------------------------------------


def test_navigation_and_captions_in_other_scripts_are_dropped_from_an_english_release():
    e = entry("foreign_lines_en.txt")
    assert e.title == "SCO Secretary-General receives the Ambassador of Pakistan"
    assert len(e.paragraphs) == 3
    joined = " ".join(e.paragraphs)
    assert "Фото" not in joined and "照片" not in joined and "Главная" not in joined
    assert e.language == "en"


def test_a_latin_caption_is_dropped_from_a_russian_release():
    e = entry("foreign_lines_ru.txt")
    assert e.title == "Генеральный секретарь ШОС принял посла Пакистана"
    assert [p[:10] for p in e.paragraphs] == ["12 мая 202", "Стороны об"]
    assert e.language == "ru"
    assert local(e) == "2021-05-12T00:00:00+08:00"


# -- dates -----------------------------------------------------------------------------


def test_yesterday_is_resolved_against_the_url_date():
    e = entry("relative_yesterday.md")
    assert local(e) == "2023-04-20T00:00:00+08:00"
    assert e.url == "http://eng.sectsco.org./20230421/939274.html"


def test_on_thursday_is_the_thursday_before_the_url_date():
    e = entry("relative_weekday.md")  # 2023-04-21 is a Friday
    assert local(e) == "2023-04-20T00:00:00+08:00"


def test_relative_dates_use_the_file_date_when_there_is_no_url():
    r = Release("x.txt", "SCO meets envoy\n\nYesterday the envoy came.", context_date=FILE_DATE)
    assert local(normalise(r, SETTINGS, NOW)) == "2021-07-04T00:00:00+08:00"


def test_a_text_date_far_from_the_url_date_gives_way_to_the_url_date():
    e = entry("far_date.md")
    assert local(e) == "2023-06-15T00:00:00+08:00"
    assert e.date_source == "url"


def test_a_text_date_near_the_url_date_is_the_publication_date():
    e = entry("near_date.md")
    assert local(e) == "2023-06-14T00:00:00+08:00"
    assert e.date_source == "text"


def test_metadata_date_beats_the_text_and_the_url():
    e = entry("near_date.md", published=datetime(2023, 6, 20))
    assert local(e) == "2023-06-20T00:00:00+08:00"
    assert e.date_source == "metadata"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("glued_time.txt", "2020-06-03T10:30:00+08:00"),
        ("time_after_comma.txt", "2020-06-03T10:30:00+08:00"),
        ("range_two_months.txt", "2021-06-30T00:00:00+08:00"),
        ("range_month_first.txt", "2017-06-08T00:00:00+08:00"),
        ("range_across_years.txt", "2020-12-30T00:00:00+08:00"),
        ("date_ru.txt", "2021-06-30T00:00:00+08:00"),
        ("date_zh.txt", "2020-06-03T00:00:00+08:00"),
        ("date_zh_fullwidth.txt", "2020-06-03T00:00:00+08:00"),
    ],
)
def test_dates_in_the_text(name, expected):
    e = entry(name)
    assert local(e) == expected
    assert e.date_source == "text"


# -- layout ----------------------------------------------------------------------------


def test_hard_wrapped_lines_are_joined_into_paragraphs():
    e = entry("hard_wrapped.txt")
    assert e.paragraphs == (
        "On 3 June 2020, SCO Secretary-General Vladimir Norov met with Jingdong "
        "Vice-President Xu Feng at the initiative of the company.",
        "The officials discussed cooperation in online trade and e-commerce within the SCO space.",
    )


def test_lines_of_punctuation_or_space_are_dropped():
    e = entry("punctuation_lines.txt")
    assert e.paragraphs == (
        "On 3 June 2020, SCO Secretary-General Vladimir Norov met with Jingdong "
        "Vice-President Xu Feng.",
        "The officials discussed cooperation in online trade.",
    )


def test_a_paragraph_repeated_back_to_back_is_kept_once():
    e = entry("repeated_paragraph.txt")
    assert e.title == "SCO Secretary-General meets with Jingdong vice-president"
    assert len(e.paragraphs) == 2
    assert e.paragraphs[1] == "The officials discussed cooperation in online trade."


def test_a_release_of_chrome_only_has_no_body():
    with pytest.raises(NormaliseError, match="no body"):
        normalise(Release("x.txt", "Home > News\n"), SETTINGS, NOW)


# -- urls and fingerprints --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://eng.sectsco.org/20220125/813122.html",
        "https://eng.sectsco.org/20220125/813122.html",
        "https://eng.sectsco.org./20220125/813122.html",
        "HTTPS://ENG.SECTSCO.ORG:443/20220125/813122.html",
        "http://eng.sectsco.org:80/20220125/813122.html#top",
        "https://eng.sectsco.org/20220125/813122.html?utm_source=tg&utm_medium=social",
        "https://eng.sectsco.org//20220125/813122.html/",
        " https://eng.sectsco.org/20220125/813122.html?fbclid=abc&spm=1.2 ",
    ],
)
def test_canonical_url_spells_one_address_one_way(url):
    assert canonical_url(url) == "https://eng.sectsco.org/20220125/813122.html"


def test_canonical_url_keeps_what_matters():
    assert canonical_url("https://x.org:8443/a?b=2&a=1") == "https://x.org:8443/a?a=1&b=2"
    assert canonical_url("https://rus.sectsco.org/a") != canonical_url("https://eng.sectsco.org/a")
    assert canonical_url("http://x:bad-port/") == "http://x:bad-port/"  # unparsable: trimmed


def test_fingerprint_ignores_space_punctuation_and_case():
    a = fingerprint("SCO Secretary-General meets envoy", "On 3 June 2020, they met.")
    b = fingerprint("sco secretary general  meets ENVOY!", "On 3 June 2020 they met")
    assert a == b
    assert a != fingerprint("SCO Secretary-General meets envoy", "On 4 June 2020 they met.")


# -- hostile markup ---------------------------------------------------------------------


def test_sanitise_neutralises_scripts_handlers_and_javascript_links():
    dirty = (
        '<p onclick="steal()">Hi <a href="javascript:alert(1)">x</a>'
        '<img src="https://x.org/a.png" onerror="alert(1)"></p><script>alert(1)</script>'
        '<iframe src="https://evil.example"></iframe><a href="https://ok.org/">ok</a>'
    )
    clean = sanitise(dirty)
    for bad in ("script", "onclick", "onerror", "javascript", "iframe", "alert"):
        assert bad not in clean.lower()
    assert 'href="https://ok.org/"' in clean
    assert 'src="https://x.org/a.png"' in clean


@pytest.mark.parametrize(
    "headline",
    [
        "Title & <b>bold</b>",
        "Trade > 5% growth",
        "Norov meets Wang Yi | Beijing",
        "SCO / BRICS forum",
    ],
)
def test_headlines_with_separator_characters_are_not_page_furniture(headline):
    e = normalise(Release("h.txt", f"{headline}\n\nOn 6 May 2021 text here.\n"), SETTINGS, NOW)
    assert e.title == headline
    assert e.paragraphs == ("On 6 May 2021 text here.",)


def test_two_part_breadcrumbs_with_breadcrumb_glyphs_are_still_furniture():
    text = "Home › News\n\nSCO holds forum\n\nOn 6 May 2021 the forum met.\n"
    assert normalise(Release("c.txt", text), SETTINGS, NOW).title == "SCO holds forum"
