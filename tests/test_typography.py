"""scofeed.typography: text that is ASCII but for the marks English is typed with, and
the fast paths that read it as ASCII. Each fast path must give what the general one
gives: the marks' properties they rest on are checked here against the Unicode tables
and the regex engine, and each path against the general one on typed text."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from scofeed.dates import find_dates
from scofeed.model import Release
from scofeed.normalise import compare_key, split_release, xml_safe
from scofeed.normalise.language import _letter_counts, detect_language, dominant_script
from scofeed.normalise.text import clean_lines
from scofeed.typography import MARKS, ascii_but_marks, ascii_image
from tests.test_normalise_language import by_classes

LOOKALIKES = "\u202f\u2009\u2007\u2011\u2020\u2000«»é\x85\u2028\ufeff\u200bİКЖ月٣\ud800\U0001f600"
XML_UNSAFE = "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"
TYPED = st.text(alphabet=st.sampled_from([*"ab Z09?.-,\n", *MARKS, *LOOKALIKES]), max_size=30)


def test_what_the_fast_paths_rest_on():
    """No mark is a letter, a digit or \\w; none has a case; none changes in NFC, alone
    or next to any ASCII character; none is taken out as unsafe in XML; only the
    no-break space is white space."""
    for mark in MARKS:
        assert not mark.isalnum() and not re.match(r"[\w\d]", mark)
        assert mark.casefold() == mark.lower() == mark.upper() == mark
        assert xml_safe("a" + mark) == "a" + mark
        assert mark.isspace() == (mark == "\xa0") == bool(re.match(r"\s", mark))
        for code in range(128):
            pair = chr(code) + mark + chr(code)
            assert unicodedata.normalize("NFC", pair) == pair


@settings(max_examples=500, deadline=None)
@given(text=TYPED)
def test_ascii_but_marks_and_the_image(text):
    plain = all(c.isascii() or c in MARKS for c in text)
    assert ascii_but_marks(text) == plain
    image = ascii_image(text)
    if not plain:
        assert image is None
        return
    assert image == "".join(c if c.isascii() else "?" for c in text)
    assert ascii_image(text, True) == image


@settings(max_examples=400, deadline=None)
@given(text=TYPED)
def test_key_letters_language_and_xml_as_the_general_paths(text):
    assert compare_key(text) == "".join(filter(str.isalnum, text.casefold()))
    assert _letter_counts(text) == by_classes(text)
    _lat, cyr, cjk = by_classes(text)
    if not cyr and not cjk:
        assert detect_language(text, "en") == "en"
    assert xml_safe(text) == re.sub(  # a vertical tab, a form feed, NEL: a space
        "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]",
        "",
        text.translate({0x0B: " ", 0x0C: " ", 0x85: " "}),
    )


def test_xml_safe_takes_a_control_out_of_typed_text():
    assert xml_safe("“a\x01b”\x7f\xa0") == "“ab”\xa0"


DATES = ["3\xa0June\xa02020", "8–9 June 2017", "30 June — 1 July 2021", "June\xa03,\xa02020",
         "on\xa0Thursday", "today’s", "2020–06–03", "03.06.2020\xa0", "“3 June”", "yesterday…",
         "Wednesday,\xa03\xa0June\xa02020", "3\u202fJune", "2020-06-03\xa010:30"]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(parts=st.lists(st.one_of(st.sampled_from(DATES), TYPED), max_size=6))
def test_the_date_search_over_typed_text_finds_what_the_full_scan_finds(parts):
    text = " ".join(parts)
    ctx = date(2021, 7, 5)
    full = find_dates(text, ctx, reference=ctx, windowed=False)
    assert find_dates(text, ctx, reference=ctx) == full
    if ascii_but_marks(text):
        assert find_dates(text, ctx, reference=ctx, plain=True) == full


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.one_of(st.sampled_from(DATES), TYPED, st.just("")), max_size=8))
def test_a_no_break_space_splits_a_release_as_a_space_does(lines):
    text = "\n".join(["Title\xa0of “it”", *lines, "Body\xa0text that\xa0goes on."])
    typed = split_release(Release(origin="t", text=text))
    assert typed == split_release(Release(origin="t", text=text.replace("\xa0", " ")))
    assert typed == split_release(Release(origin="t", text=text), ascii_but_marks(text))


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(TYPED, max_size=6))
def test_the_script_of_typed_text_as_the_general_reckoning(lines):
    text = "\n".join(clean_lines("\n".join(lines)))
    assert dominant_script(text) == dominant_script(text, plain=False)
