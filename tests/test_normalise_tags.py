"""Tag keywords: the substring search agrees with the whole-word regex it replaced."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from scofeed import sources
from scofeed.config import load
from scofeed.normalise import normalise, settings_from
from scofeed.normalise.entry import TAG_MAX, TAGS_MAX, holds_keyword, match_tags

NOW = datetime(2026, 11, 1, tzinfo=UTC)

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


def test_a_release_stating_too_many_or_too_long_tags_keeps_the_first_ones_shortened(caplog):
    """A broken or hostile source stating hundreds of tags (or one of a thousand
    characters) keeps the first TAGS_MAX, each at most TAG_MAX characters, and one log
    line says so; a release stating few keeps them all as they are."""
    stated = [f"<b>tag</b>  {i}" for i in range(500)]
    stated.insert(1, "x" * 1000)
    text = json.dumps({"title": "Many tags", "text": "On 3 June 2020, a release.", "tags": stated})
    (release,) = sources.read("many.json", ".json", text.encode(), NOW, 10**7)
    with caplog.at_level(logging.INFO, logger="scofeed.normalise.entry"):
        entry = normalise(release, settings_from(load(None, [])), NOW)
    assert len(entry.tags) == TAGS_MAX and entry.tags[0] == "tag 0"
    assert len(entry.tags[1]) == TAG_MAX and entry.tags[1].endswith("…")
    assert entry.tags[2:] == tuple(f"tag {i}" for i in range(1, TAGS_MAX - 1))
    lines = [r.getMessage() for r in caplog.records if "tags_capped" in r.getMessage()]
    assert lines == [f"tags_capped origin=many.json kept={TAGS_MAX} stated=501"]
    (few,) = sources.read("few.json", ".json", text.replace('"x', '"y').encode(), NOW, 10**7)
    few = replace(few, tags=("Energy", "trade"))
    assert normalise(few, settings_from(load(None, [])), NOW).tags == ("Energy", "trade")


def test_a_tag_stated_in_several_cases_is_kept_once_as_first_spelled():
    """ "Sport", "sport" and "SPORT" were three categories of one entry (one tag feed,
    which folds case); a rule's tag that a release states in another case is kept once."""
    text = json.dumps(
        {
            "title": "SCO Marathon held in Xiamen",
            "text": "On 3 June 2025, the SCO Marathon was held in Xiamen. Security was tight.",
            "tags": ["Sport", "sport", "SPORT", "Xiamen", "SECURITY"],
        }
    )
    (release,) = sources.read("t.json", ".json", text.encode(), NOW, 10**7)
    cfg = load(None, [])
    cfg = replace(cfg, tags={"security": ("security",), "culture": ("marathon",)})
    entry = normalise(release, settings_from(cfg), NOW)
    assert entry.tags == ("Sport", "Xiamen", "SECURITY", "culture")
