"""normalise.language: the script a release is written in, and captions or navigation
in another script dropped from it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scofeed.model import Release
from scofeed.normalise import clean_text, direction, language_tag, normalise, script_of
from scofeed.normalise.language import _letter_counts, detect_language, dominant_script
from scofeed.normalise.text import blocks
from scofeed.typography import ascii_but_marks
from tests.normalise_cases import NOW, SETTINGS, entry, local


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


def test_a_short_line_in_another_script_inside_the_body_is_content_not_furniture():
    """Every short paragraph in another script was dropped: a Latin company name listed
    in a Russian release, the Chinese half of a release in English and Chinese. Only a
    caption ("Photo: ...") and a short run before or after the release's own paragraphs
    (navigation, a footer) are furniture."""
    ru = (
        "ШОС провела бизнес-форум\n\n12 мая 2021 года в Секретариате ШОС прошёл бизнес-форум, "
        "в котором приняли участие представители компаний:\n\nHuawei Technologies\n\n"
        "Стороны обсудили цифровую экономику и сотрудничество в области связи.\n\n"
        "Photo: SCO Secretariat\n\nAll rights reserved\n"
    )
    e = normalise(Release("ru.txt", ru), SETTINGS, NOW)
    assert [p[:12] for p in e.paragraphs] == ["12 мая 2021 ", "Huawei Techn", "Стороны обсу"]
    both = (
        "SCO Secretary-General meets students\n\nOn 12 May 2021, the SCO Secretary-General "
        "met students of Peking University at the SCO Secretariat in Beijing.\n\n"
        "They discussed the history of the Organisation and its agenda for the coming years.\n\n"
        "2021年5月12日，上合组织秘书长在秘书处会见了北京大学的学生。\n\n"
        "双方讨论了本组织的历史和今后几年的议程，学生们提出了许多问题。秘书长一一作了回答。"
        "会见在友好的气氛中进行。学生们表示希望更多地了解上合组织的工作，并参加秘书处的活动。"
        "秘书长欢迎他们今后再来秘书处参观交流。\n"
    )
    e = normalise(Release("both.txt", both), SETTINGS, NOW)
    assert len(e.paragraphs) == 4 and e.paragraphs[3].startswith("双方讨论了")
    # navigation before a short footer line in the release's script is still at the end
    zh = (
        "上合组织秘书长会见伊朗大使\n\n2025年6月18日，上合组织秘书长在秘书处会见了伊朗驻华"
        "大使，双方讨论了合作问题。\n\nEnglish\n\nРусский\n\n版权所有：上合组织\n"
    )
    assert "English" not in normalise(Release("zh.txt", zh), SETTINGS, NOW).paragraphs


# -- the dominant script's quick answer ------------------------------------------------
# ASCII text with a long lettered line is answered at once; it must give what judging
# the long paragraphs gives.


WORDS = [
    "a",
    "Secretariat",
    "2020",
    "--",
    "...",
    "12,5",
    "x" * 40,
    "-" * 85,
    "7" * 85,
    "Мир",
    "会议",
]


SPACES = [" ", "  ", "\n", "\n\n", "\n \n", "\t", "    "]


texts = st.lists(st.sampled_from(WORDS + SPACES), max_size=80).map("".join)


def full(text: str) -> str | None:
    long = [p for p in blocks(text) if len(p) >= 80]
    return script_of(" ".join(long)) if long else script_of(text)


@given(texts)
def test_fast_answer_matches_the_full_reckoning(raw):
    text = clean_text(raw)
    assert dominant_script(text) == full(text)


def test_a_long_line_without_letters_does_not_count_as_latin():
    text = clean_text("1" * 90 + "\n\nshort words")
    assert dominant_script(text) == full(text) is None


# -- counting letters by script: the byte counts agree with the character classes -----

LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
CJK = re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]")


def by_classes(text: str) -> tuple[int, int, int]:
    return len(LATIN.findall(text)), len(CYRILLIC.findall(text)), len(CJK.findall(text))


def test_letter_counts_of_every_character_are_the_classes():
    """Each code point of the Basic Multilingual Plane (lone surrogates too) and a few
    beyond it, alone and after a non-ASCII one (so the byte counts are taken)."""
    for code in [*range(0x10000), 0x10000, 0x1F600, 0x20000, 0x2A6D6, 0x10FFFF]:
        text = "’" + chr(code)
        assert _letter_counts(text) == by_classes(text), hex(code)


EDGES = "\u00bf\u00c0\u00ff\u0100\u01ff\u0200\u024f\u0250\u03ff\u0400\u04ff\u0500\u33ff\u3400"
EDGES += "\u4cff\u4d00\u4dbf\u4dc0\u4dff\u4e00\u9fff\ua000\uf8ff\uf900\ufaff\ufb00\ud800\udc00"
EDGES += "\U00020000aZ ’é中Ж"


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(alphabet=EDGES, max_size=40), st.text(max_size=40)))
def test_letter_counts_of_mixed_text_are_the_classes(text):
    assert _letter_counts(text) == by_classes(text)


@pytest.mark.parametrize(
    ("text", "site", "language"),
    [
        ("SCO ministers met in Tashkent.", "ru", "en"),  # was "ru": Latin text is not
        ("SCO ministers met in Tashkent.", "zh-Hans", "en"),
        ("SCO\xa0ministers met in “Tashkent”.", "ru", "en"),  # the marks are no letters
        ("SCO ministers met in Tashkent.", "en", "en"),
        ("SCO ministers met in Tashkent.", "kk", "kk"),  # not told by script: the site's
        ("Министры ШОС встретились в Ташкенте.", "en", "ru"),
        ("上合组织外长在塔什干会晤。", "ru", "zh"),
        ("SCO, ШОС, Tashkent, Ташкент", "ru", "ru"),  # mixed: the site's, as before
    ],
)
def test_latin_text_on_a_russian_or_chinese_site_is_english(text, site, language):
    plain = ascii_but_marks(text)
    assert detect_language(text, site) == language
    assert detect_language(text, site, plain) == language


@pytest.mark.parametrize(
    "stated,kept",
    [
        ("az-Arab", "az-Arab"), ("AZ-arab", "az-Arab"), ("uz-Arab", "uz-Arab"),
        ("pa-Arab", "pa-Arab"), ("ks-Arab", "ks-Arab"), ("sd-Arab", "sd-Arab"),
        ("zh-hant", "zh-Hant"), ("sr-LATN", "sr-Latn"), ("uz-Cyrl", "uz-Cyrl"),
        ("zh-Hant-tw", "zh-Hant-TW"), ("en-us", "en-US"), ("es-419", "es-419"),
        ("de-DE-1996", "de-DE"), ("en-GB-x-private", "en-GB"), ("ru", "ru"),
        ("zh-abc-HK", "zh-HK"), ("zh-min-nan-Hant-TW", "zh-Hant-TW"),
        ("../x", None), ("en_GB", None), ("english", None), ("x-klingon", None),
        ("en--GB", None), ("", None), (None, None),
    ],
)  # fmt: skip
def test_a_language_tag_keeps_its_script_and_region_in_canonical_case(stated, kept):
    assert language_tag(stated) == kept


@pytest.mark.parametrize(
    "stated,kept",
    [
        ("zh-yue-HK", "yue-HK"), ("ZH-YUE", "yue"), ("yue", "yue"), ("zh-cmn-Hans", "cmn-Hans"),
        ("zh-cmn-hans-cn", "cmn-Hans-CN"), ("ar-arz-EG", "arz-EG"), ("sgn-ase", "ase"),
        ("iw", "he"), ("IW-il", "he-IL"), ("in", "id"), ("ji", "yi"), ("mo", "ro"),
        ("en-yue", "en"),  # an extended language under another prefix: not kept
        # grandfathered tags are their Preferred-Value: "zh-min-nan" (Min Nan) was "zh"
        ("zh-min-nan", "nan"), ("ZH-Min-Nan", "nan"), ("i-klingon", "tlh"), ("no-bok", "nb"),
        ("sgn-BE-FR", "sfb"), ("art-lojban", "jbo"),
        # a three-letter ISO 639-2 code where a two-letter one exists (RFC 5646 2.2.1):
        # terminological and bibliographic; one with none of its own is kept
        ("rus", "ru"), ("RUS-ru", "ru-RU"), ("zho-Hant", "zh-Hant"), ("chi", "zh"),
        ("fas", "fa"), ("per-IR", "fa-IR"), ("zho-yue", "yue"), ("eng", "en"), ("uzb", "uz"),
        ("cmn", "cmn"), ("hbs", "hbs"),
    ],
)  # fmt: skip
def test_a_language_tag_is_in_its_canonical_form(stated, kept):
    """RFC 5646 section 4.5: an extended language subtag stands for its prefix ("zh-yue"
    is Cantonese, "yue"), a deprecated code is the one that replaced it. "zh-yue-HK"
    was kept as "zh-HK", Chinese: its entry said another language than it states."""
    assert language_tag(stated) == kept


@pytest.mark.parametrize("stated", ["az-Arab", "uz-Arab", "pa-Arab", "ks-Arab", "sd-Arab"])
def test_a_release_in_an_rtl_script_under_an_ltr_language_keeps_its_script(stated):
    """A release stating "az-Arab" was stored as "az": its script was lost, and pages
    and feeds took the Arabic text for left-to-right Azerbaijani."""
    text = "هئیت\n\nاو ۳ ژوئن ۲۰۲۰ گۆروشدو."
    release = Release(origin="x.md", text=text, lang=stated.upper(), published=NOW)
    e = normalise(release, SETTINGS, NOW)
    assert e.language == stated
    assert direction(e.language) == "rtl"


@pytest.mark.parametrize(
    "tag,expected",
    [("az-Arab", "rtl"), ("uz-Arab", "rtl"), ("pa-Arab", "rtl"), ("ks-Arab", "rtl")]
    + [("sd-Arab", "rtl"), ("dv-Thaa", "rtl"), ("ff-Adlm", "rtl"), ("rhg-Rohg", "rtl")]
    + [("syr-Syrc", "rtl"), ("man-Nkoo", "rtl"), ("he-IL", "rtl"), ("ar", "rtl")]
    + [("ar-Latn", "ltr"), ("sd-Deva", "ltr"), ("ks-Deva", "ltr"), ("pa-Guru", "ltr")]
    + [("sr-Latn", "ltr"), ("uz-Cyrl", "ltr"), ("zh-Hant", "ltr"), ("az", "ltr")],
)
def test_direction_is_the_scripts_when_the_tag_names_one(tag, expected):
    assert direction(tag) == expected
