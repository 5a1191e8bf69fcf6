"""Text is cut between user-perceived characters (grapheme clusters), never inside one:
in ``graphemes`` itself, and everywhere a title, summary or tag is cut to a length."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scofeed.graphemes import clip, cut, ellipsized, is_boundary
from scofeed.model import Release
from scofeed.normalise import normalise, shorten
from scofeed.normalise.headline import HEADLINE_MAX, TITLE_MAX, headline_from
from scofeed.serve.pages import clip as page_clip
from tests.normalise_cases import NOW, SETTINGS

# one user-perceived character each, of several code points
CLUSTERS = {
    "family (emoji ZWJ sequence)": "\U0001f469\u200d\U0001f469\u200d\U0001f467",
    "skin tone": "\U0001f44b\U0001f3fd",
    "flag (regional indicators)": "\U0001f1fa\U0001f1ff",
    "subdivision flag (tags)": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074"
    "\U000e007f",
    "keycap": "1\ufe0f\u20e3",
    "variation selector": "\u2764\ufe0f",
    "Devanagari conjunct with its vowel sign": "\u0915\u094d\u0937\u093f",
    "Devanagari letter and its marks": "\u0928\u093e\u0902",
    "Vietnamese letter and its marks (decomposed)": "e\u0302\u0301",
    "Hangul syllable in jamo": "\u1100\u1161\u11a8",
    "Thai sara am": "\u0e19\u0e33",
    "Arabic number sign and its digit": "\u0600\u0661",
    "CR LF": "\r\n",
}


@pytest.mark.parametrize("cluster", CLUSTERS.values(), ids=list(CLUSTERS))
def test_no_cut_inside_a_cluster(cluster):
    text = "ab" + cluster + "cd"
    inside = range(3, 2 + len(cluster))
    assert [i for i in inside if is_boundary(text, i)] == []
    assert is_boundary(text, 2) and is_boundary(text, 2 + len(cluster))
    for at in inside:
        assert cut(text, at) == 2
        assert clip(text, at) == "ab"


def test_flags_pair_from_the_first_regional_indicator():
    """Six regional indicators are three flags: a cut falls between pairs only."""
    flags = "\U0001f1fa\U0001f1ff\U0001f1f0\U0001f1ff\U0001f1f7\U0001f1fa"  # UZ KZ RU
    assert [i for i in range(len(flags) + 1) if is_boundary(flags, i)] == [0, 2, 4, 6]


def test_ascii_and_single_characters_are_cut_anywhere():
    assert [cut("abc", i) for i in range(5)] == [0, 1, 2, 3, 3]
    assert cut("а б в", 3) == 3 and cut("上合组织", 2) == 2


@given(st.text(max_size=40), st.integers(min_value=0, max_value=45))
def test_a_cut_is_never_longer_than_asked_and_lands_on_a_boundary(text, at):
    where = cut(text, at)
    assert where <= max(0, min(at, len(text)))
    assert is_boundary(text, where)


# (function, limit): every place a text is cut to a length, and the room it leaves
CUTTERS = {
    "shorten": lambda s: shorten(s, 12),
    "index summary": lambda s: page_clip(s, 12),
    "webhook and post texts": lambda s: ellipsized(s, 12),
}


# white space (CR LF) is collapsed before any of these cuts
IN_TEXT = {k: v for k, v in CLUSTERS.items() if not v.isspace()}


@pytest.mark.parametrize("cluster", IN_TEXT.values(), ids=list(IN_TEXT))
@pytest.mark.parametrize("name", list(CUTTERS))
def test_every_cut_to_a_length_keeps_clusters_whole(name, cluster):
    """A summary of "abcdefghij" + a family emoji + more, cut at 12 characters, kept
    the first woman and the joiner after her (``text[:11]``); each cutter now cuts
    before the cluster or after it, never inside."""
    for lead in range(7, 12):
        text = "a" * lead + cluster + "z" * 20
        shown = CUTTERS[name](text)
        assert shown.endswith("…") and len(shown) <= 12, (lead, shown)
        shown = shown.removesuffix("…")
        assert text.startswith(shown), (lead, shown)
        assert is_boundary(text, len(shown)), (lead, shown)


def test_titles_summaries_and_made_headlines_keep_clusters_whole():
    """Through ``normalise``: a title line over ``TITLE_MAX``, a summary over its cap,
    and a headline made from a first sentence over ``HEADLINE_MAX`` each cut a family
    emoji in two at their cap."""
    family = CLUSTERS["family (emoji ZWJ sequence)"]
    title = "T" + "x" * (TITLE_MAX - 3) + family + " end"  # the cut falls inside it
    body = "On 3 June 2025, the SCO met. " + "y" * 560 + family + " and more text."
    e = normalise(Release(origin="a.txt", text=f"{title}\n\n{body}\n"), SETTINGS, NOW)
    for shown, whole in ((e.title, title), (e.summary, body)):
        kept = shown.removesuffix("…")
        assert shown.endswith("…") and is_boundary(whole, len(kept)), kept[-3:]
    sentence = "W" * (HEADLINE_MAX - 3) + family + " then words"
    made = headline_from(sentence + ". Next sentence.").removesuffix("…")
    assert made and is_boundary(sentence, len(made)), made[-3:]
