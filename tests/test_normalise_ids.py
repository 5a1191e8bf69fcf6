"""normalise.ids: one identity per release, canonical URLs, fingerprints, content hashes."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scofeed.model import Release
from scofeed.normalise import (
    canonical_url,
    content_hash,
    fingerprint,
    identity_of,
    mint_id,
    normalise,
)
from tests.normalise_cases import NOW, SETTINGS


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


@given(st.text(max_size=60))
def test_canonical_url_never_raises_and_is_idempotent(url):
    once = canonical_url(url)
    assert canonical_url(once) == once


def test_fingerprint_ignores_space_punctuation_and_case():
    a = fingerprint("SCO Secretary-General meets envoy", "On 3 June 2020, they met.")
    b = fingerprint("sco secretary general  meets ENVOY!", "On 3 June 2020 they met")
    assert a == b
    assert a != fingerprint("SCO Secretary-General meets envoy", "On 4 June 2020 they met.")


values = st.one_of(st.none(), st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3))


@settings(max_examples=200, deadline=None)
@given(fields=st.dictionaries(st.text(max_size=8), values, max_size=7))
def test_content_hash_is_the_hash_of_json_dumps(fields):
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    assert content_hash(fields) == hashlib.sha256(blob.encode()).hexdigest()


def test_identity_is_the_key_else_the_canonical_url_else_the_fingerprint():
    url = "http://eng.sectsco.org./20220125/813122.html?utm_source=tg"
    canonical = "https://eng.sectsco.org/20220125/813122.html"
    keyed = Release("a.md", "x", url=url, key="sco-813122")
    assert identity_of(keyed, "f" * 32) == ("key:sco-813122", canonical)
    assert identity_of(Release("b.html", "x", url=url), "f" * 32) == (f"url:{canonical}", canonical)
    assert identity_of(Release("c.txt", "x"), "f" * 32) == ("fp:" + "f" * 32, None)


def test_the_entry_id_is_minted_from_the_identity():
    release = Release("c.txt", "SCO meets envoy\n\nOn 6 May 2021 the envoy came.\n", key="k1")
    entry = normalise(release, SETTINGS, NOW)
    identity, _url = identity_of(release, entry.fingerprint)
    assert entry.id == mint_id(SETTINGS.authority, identity)


ascii_text = st.text(alphabet=st.characters(max_codepoint=127), max_size=30)
lines = st.lists(st.text(alphabet='ab "\\\t\x7f', max_size=6), max_size=4).map("\n".join)
hash_values = st.one_of(
    st.none(), ascii_text, lines, st.text(max_size=20), st.lists(ascii_text, max_size=3)
)


@settings(max_examples=300, deadline=None)
@given(fields=st.dictionaries(st.one_of(ascii_text, st.text(max_size=8)), hash_values, max_size=7))
def test_content_hash_of_ascii_text_and_line_ends_is_the_hash_of_json_dumps(fields):
    # the hand-built JSON (ASCII text checked in C, line ends escaped by a replace)
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    assert content_hash(fields) == hashlib.sha256(blob.encode()).hexdigest()


def test_content_hash_of_other_values_falls_back_to_json_dumps():
    others = (
        {"n": 1, "when": date(2020, 6, 3), "t": ("a",), "f": 0.5},
        {3: "x", 4: None},
        MappingProxyType({"a": "b"}),  # not a dict: the encoder writes its str()
    )
    for fields in others:
        blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
        assert content_hash(fields) == hashlib.sha256(blob.encode()).hexdigest()
