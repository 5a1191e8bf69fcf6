"""normalise's quick checks must agree with the slow forms they stand in front of."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from scofeed.dates import is_date_line
from scofeed.normalise import (
    _ASCII_SPACES_BUT_SPACE,
    _CHROME_WORDS,
    _CRUMB_ASCII,
    _CRUMB_GLYPH,
    _XML_UNSAFE,
    _is_chrome,
    _key,
    _opens_alike,
    collapse,
    content_hash,
    script_of,
    xml_safe,
)

openers = st.sampled_from(["a", "A", "b", "Z", "1", "É", "é", "ſ", "İ", "K", " ", "_", "-", ""])
paras = st.tuples(openers, st.text(max_size=12)).map("".join)


@settings(max_examples=400, deadline=None)
@given(a=paras, b=paras)
def test_paragraphs_told_apart_by_their_opening_have_different_keys(a, b):
    if not _opens_alike(a, b):
        assert _key(a) != _key(b)


values = st.one_of(st.none(), st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3))


@settings(max_examples=200, deadline=None)
@given(fields=st.dictionaries(st.text(max_size=8), values, max_size=7))
def test_content_hash_is_the_hash_of_json_dumps(fields):
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    assert content_hash(fields) == hashlib.sha256(blob.encode()).hexdigest()


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_xml_safe_on_ascii_deletes_what_the_pattern_deletes(text):
    assert xml_safe(text) == _XML_UNSAFE.sub("", text)


pieces = ["a", "é", "中", " ", "  ", "\n", "\t", "\xa0", "\u2028", "\u3000", "\x1f", "\x85"]
pieces += ["\x0b", "\x0c", "\r", "\x1c", "\x7f", "b c"]
spaced = st.lists(st.sampled_from(pieces), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(spaced, st.text(max_size=30)))
def test_collapse_is_split_and_join(text):
    assert collapse(text) == " ".join(text.split())


def test_no_white_space_but_the_ascii_space_is_printable():
    """What collapse's quick checks rest on, for every code point."""
    assert [c for c in map(chr, range(0x110000)) if c.isspace() and c.isprintable()] == [" "]
    ascii_spaces = bytes(b for b in range(128) if chr(b).isspace() and b != 32)
    assert ascii_spaces == _ASCII_SPACES_BUT_SPACE


def _is_chrome_slow(line: str, dominant: str | None) -> bool:
    """_is_chrome as first written, without its quick checks."""
    text = collapse(line)
    if is_date_line(text) or _key(text) in _CHROME_WORDS:
        return True
    if len(text) <= 120:
        for pattern, least in ((_CRUMB_GLYPH, 2), (_CRUMB_ASCII, 3)):
            parts = [p for p in pattern.split(text) if p.strip()]
            if len(parts) >= least and all(len(p.split()) <= 4 for p in parts):
                return True
    if len(text) < 120 and dominant is not None:
        own = script_of(text)
        return own is not None and own != dominant
    return False


chrome_words = ["Home", "News", "»", "›", ">", "|", "/", " ", "  ", "3 June 2020", "новости"]
chrome_words += ["新闻", "a", "Пекин", "北京"]
chrome_lines = st.lists(st.sampled_from(chrome_words), max_size=10).map("".join)


@settings(max_examples=500, deadline=None)
@given(
    line=st.one_of(chrome_lines, st.text(max_size=40)),
    dominant=st.sampled_from([None, "latin", "cyrillic", "cjk"]),
)
def test_chrome_quick_checks_agree_with_the_slow_form(line, dominant):
    assert _is_chrome(line, dominant) == _is_chrome_slow(line, dominant)
