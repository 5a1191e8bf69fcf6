"""The core normalisation rules, starting with the seed release."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from scofeed.errors import NormaliseError
from scofeed.model import Release
from scofeed.normalise import Settings, id_slug, normalise
from scofeed.normalise.entry import match_tags
from tests.conftest import SEED

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SETTINGS = Settings(
    authority="test.example,2026",
    base_url="http://127.0.0.1:8080/",
    author="SCO Secretariat",
    language="en",
    timezone="Asia/Shanghai",
    tags=(("economy", ("e-commerce", "digital economy")), ("space", ("outer space",))),
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED_TITLE = "SCO Secretary-General meets with Jingdong vice-president"


def norm(text: str, context: datetime | None = None, **kw):
    return normalise(Release(origin="x.txt", text=text, context_date=context, **kw), SETTINGS, NOW)


@pytest.fixture(scope="module")
def seed():
    return norm(SEED.read_text(encoding="utf-8"))


def test_seed_title(seed):
    assert seed.title == SEED_TITLE


def test_seed_published_is_midnight_in_shanghai(seed):
    assert seed.published == datetime(2020, 6, 3, 0, 0, tzinfo=SHANGHAI)
    assert seed.published.utcoffset().total_seconds() == 8 * 3600
    assert seed.updated == seed.published
    assert seed.date_source == "text"


def test_seed_id_is_a_tag_uri(seed):
    assert seed.id.startswith("tag:test.example,2026:release/")
    assert len(id_slug(seed.id)) == 20
    assert seed.link == "http://127.0.0.1:8080/entries/" + id_slug(seed.id)


def test_seed_summary_and_paragraphs(seed):
    assert seed.summary.startswith("On 3 June 2020, SCO Secretary-General Vladimir Norov met")
    assert seed.summary.endswith("at the initiative of the company.")
    assert len(seed.paragraphs) == 8
    assert seed.content_html.count("<p>") == 8
    assert seed.content_html.startswith("<p>On 3 June 2020")
    assert "&quot;" not in seed.content_html and '"The COVID-19' in seed.content_html


def test_seed_language_author_tags(seed):
    assert seed.language == "en"
    assert seed.author == "SCO Secretariat"
    assert seed.tags == ("economy",)


def test_id_does_not_depend_on_the_file_name_or_the_site():
    text = SEED.read_text(encoding="utf-8")
    a = normalise(Release(origin="a.txt", text=text), SETTINGS, NOW)
    moved = Settings(**{**SETTINGS.__dict__, "base_url": "https://feeds.example.org/sco/"})
    b = normalise(Release(origin="renamed/b.txt", text=text), moved, NOW)
    assert a.id == b.id
    assert b.link.startswith("https://feeds.example.org/sco/entries/")


def test_duplicated_title_line_is_dropped():
    e = norm("Title here\n\nTitle here\n\nOn 3 June 2020, something happened.\n")
    assert e.title == "Title here"
    assert e.paragraphs == ("On 3 June 2020, something happened.",)


def test_title_whitespace_collapsed():
    e = norm("  SCO   holds\tmeeting  \n\nOn 3 June 2020, it met.")
    assert e.title == "SCO holds meeting"


def test_year_less_date_takes_the_year_of_the_file():
    e = norm("Title\n\nOn 17 April, the parties met.", context=datetime(2021, 4, 20, tzinfo=UTC))
    assert e.published == datetime(2021, 4, 17, tzinfo=SHANGHAI)


def test_year_less_date_in_january_file_is_last_year():
    e = norm("Title\n\nOn 28 December, the parties met.", context=datetime(2021, 1, 5, tzinfo=UTC))
    assert e.published.date().isoformat() == "2020-12-28"


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("On 3 June 2020, x", "2020-06-03"),
        ("On 3 June, 2020, x", "2020-06-03"),
        ("On June 3, 2020, x", "2020-06-03"),
        ("On 8-9 June 2017, x", "2017-06-08"),
        ("On 15 September, 2020, x", "2020-09-15"),
    ],
)
def test_date_forms(phrase, expected):
    assert norm(f"Title\n\n{phrase}").published.date().isoformat() == expected


def test_metadata_date_beats_text():
    e = norm("Title\n\nOn 3 June 2020, x", published=datetime(2020, 6, 5, 9, 30, tzinfo=UTC))
    assert e.published == datetime(2020, 6, 5, 9, 30, tzinfo=UTC)
    assert e.date_source == "metadata"


def test_mtime_is_the_last_fallback(caplog):
    mtime = datetime(2024, 2, 1, 10, 0, tzinfo=UTC)
    with caplog.at_level("INFO"):
        e = norm("Title\n\nNo date at all here.", context=mtime)
    assert e.published == mtime and e.date_source == "mtime"
    assert "date_fallback origin=x.txt source=mtime" in caplog.text


def test_no_date_anywhere_is_an_error():
    with pytest.raises(NormaliseError, match="no date"):
        norm("Title\n\nNo date at all here.")


def test_russian_release():
    text = (
        "Генеральный секретарь ШОС встретился с послом\n\n"
        "3 июня 2020 года Генеральный секретарь ШОС Владимир Норов встретился с послом.\n\n"
        "Стороны обсудили сотрудничество."
    )
    e = norm(text)
    assert e.language == "ru"
    assert e.published.date().isoformat() == "2020-06-03"
    assert len(e.paragraphs) == 2


def test_chinese_release():
    text = (
        "上合组织秘书长会见京东副总裁\n\n"
        "2020年6月3日，上合组织秘书长诺罗夫会见了京东副总裁。\n\n"
        "双方讨论了合作。"
    )
    e = norm(text)
    assert e.language == "zh"
    assert e.published.date().isoformat() == "2020-06-03"
    assert e.title == "上合组织秘书长会见京东副总裁"


def test_crlf_bom_trailing_spaces_and_space_lines_change_nothing(seed):
    raw = SEED.read_text(encoding="utf-8")
    messy = "\ufeff" + "\r\n".join(line + "   " for line in raw.split("\n"))
    messy = messy.replace("\r\n\r\n", "\r\n \r\n", 3)
    e = norm(messy)
    assert (e.id, e.title, e.summary, e.content_html, e.content_hash) == (
        seed.id,
        seed.title,
        seed.summary,
        seed.content_html,
        seed.content_hash,
    )


def test_html_is_escaped_in_plain_text():
    e = norm("A <b>bold</b> title\n\nOn 3 June 2020, <script>alert(1)</script> & more.")
    assert "<script>" not in e.content_html
    assert "&lt;script&gt;" in e.content_html and "&amp; more" in e.content_html


def test_empty_and_title_only_are_errors():
    with pytest.raises(NormaliseError, match="empty"):
        norm("\n \n\t\n")
    with pytest.raises(NormaliseError, match="no body"):
        norm("Just a title\n")


def test_control_characters_never_reach_the_entry():
    e = norm("Tit\x01le\x0b\n\nOn 3 June 2020, a\x00b.", title=None)
    assert e.title == "Title" and "\x00" not in e.content_html


def test_updated_tracks_content_hash_not_time():
    a = norm("Title\n\nOn 3 June 2020, x.")
    b = normalise(
        Release(origin="x.txt", text="Title\n\nOn 3 June 2020, x."),
        SETTINGS,
        datetime(2030, 1, 1, tzinfo=UTC),
    )
    c = norm("Title\n\nOn 3 June 2020, y.")
    assert a.content_hash == b.content_hash and a.updated == b.updated
    assert a.content_hash != c.content_hash


def test_tag_keywords_are_whole_words_except_in_unspaced_scripts():
    rules = (("security", ("security", "安全")), ("energy", ("energy",)))
    assert match_tags("Regional security talks", rules) == ["security"]
    assert match_tags("Insecurity and energyless", rules) == []
    # Chinese has no spaces between words: the keyword matches inside a run of text
    assert match_tags("上合组织秘书长会见地区安全专家", rules) == ["security"]


def test_a_stated_language_is_used_only_when_it_is_a_language_code():
    # a remote feed's <language> is a claim: "../../x" would name a folder of feeds/
    text = "A headline\n\nOn 3 June 2020 the Secretariat met."
    for claimed, wanted in (("ru", "ru"), ("../../escaped", "en"), ("en_GB", "en"), ("", "en")):
        e = normalise(Release(origin="x.txt", text=text, lang=claimed or None), SETTINGS, NOW)
        assert e.language == wanted, claimed


def test_stated_tags_lose_what_xml_cannot_carry():
    text = "A headline\n\nOn 3 June 2020 the Secretariat met."
    e = normalise(
        Release(origin="x.txt", text=text, tags=("trade\u0001", "\u0002", "a  b")), SETTINGS, NOW
    )
    assert e.tags[:2] == ("trade", "a b")
