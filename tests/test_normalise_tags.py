"""Tag keywords: the substring search agrees with the whole-word regex it replaced."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from scofeed.normalise.entry import holds_keyword, match_tags

UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def regex_holds(folded: str, word: str) -> bool:
    """The rule as a regex: a letter may not touch an end of the keyword, unless that
    end is in a script without spaces."""
    head = "" if UNSPACED.match(word[:1]) else r"(?<!\w)"
    tail = "" if UNSPACED.match(word[-1:]) else r"(?!\w)"
    return re.search(head + re.escape(word) + tail, folded) is not None


# letters, digits, "_", spaces, punctuation, scripts with and without spaces, and
# characters whose case folds to more than one (ß, İ)
ALPHABET = "ab_1 -.,Zxßİ\u00e9\u0431\u4e2d\u5b89\u3042\uac00\u0661\u00b2\t"
pieces = st.text(alphabet=ALPHABET, max_size=6)


@settings(max_examples=2000, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=40), word=pieces)
def test_holds_keyword_is_the_whole_word_regex(text, word):
    folded = text.casefold()
    assert holds_keyword(folded, word) == regex_holds(folded, word)


@settings(max_examples=500, deadline=None)
@given(before=pieces, word=pieces.filter(bool), after=pieces)
def test_holds_keyword_around_a_stated_word(before, word, after):
    folded = (before + word + after).casefold()
    assert holds_keyword(folded, word.casefold()) == regex_holds(folded, word.casefold())


def test_match_tags_whole_words_any_case_unspaced_scripts():
    rules = (("security", ("security", "安全")), ("trade", ("e-commerce",)))
    assert match_tags("Regional SECURITY talks", rules) == ["security"]
    assert match_tags("Insecurity, securitys, security_x", rules) == []
    assert match_tags("秘书长会见地区安全专家", rules) == ["security"]
    assert match_tags("cross-border E-Commerce.", rules) == ["trade"]
    assert match_tags("e-commerce2", rules) == []
