"""normalise._dominant_script answers ASCII text with a long lettered line at once; it
must give what judging the long paragraphs gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scofeed.normalise import _blocks, _dominant_script, clean_text, script_of

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
    long = [p for p in _blocks(text) if len(p) >= 80]
    return script_of(" ".join(long)) if long else script_of(text)


@given(texts)
def test_fast_answer_matches_the_full_reckoning(raw):
    text = clean_text(raw)
    assert _dominant_script(text) == full(text)


def test_a_long_line_without_letters_does_not_count_as_latin():
    text = clean_text("1" * 90 + "\n\nshort words")
    assert _dominant_script(text) == full(text) is None
