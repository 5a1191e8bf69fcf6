"""normalise's quick checks must agree with the slow forms they stand in front of."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from scofeed.normalise import _XML_UNSAFE, _key, _opens_alike, collapse, content_hash, xml_safe

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
spaced = st.lists(st.sampled_from(pieces), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(spaced, st.text(max_size=30)))
def test_collapse_is_split_and_join(text):
    assert collapse(text) == " ".join(text.split())


def test_no_white_space_but_the_ascii_space_is_printable():
    """What collapse's quick check rests on, for every code point."""
    assert [c for c in map(chr, range(0x110000)) if c.isspace() and c.isprintable()] == [" "]
