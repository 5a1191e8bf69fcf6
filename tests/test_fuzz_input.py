"""Fuzzing the readers and the normaliser: arbitrary bytes and structured junk in any
release format give entries or a rejection, never an exception."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scofeed.markup import tag
from scofeed.normalise import Settings
from scofeed.pool import Rejection, prepare
from scofeed.sources.files import Changed

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SETTINGS = Settings("test.example,2026", "http://127.0.0.1:8080/", "SCO", "en", "UTC")
SUFFIXES = [".txt", ".md", ".json", ".html"]
RFC3986 = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# tag(): markup as scofeed.markup defines it (a tag of HTML, a comment, any tag with an
# attribute given a value); a bare word in angle brackets is prose ("SCO <Digital>
# Forum", and what random bytes make of one: "<c>", "<A[>") and stays as written
ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(name: str, data: bytes) -> None:
    item = Changed(name, "/nonexistent/" + name, data, "x", None, len(data), 0)
    _item, outcome = prepare(item, SETTINGS, 2_000_000, NOW)
    if isinstance(outcome, Rejection):
        assert outcome.reason and "\n" not in outcome.reason
        return
    for _release, entry in outcome:
        for text in (entry.title, entry.summary):  # plain text: no tag, no entity
            assert text and not tag().search(text) and not ENTITY.search(text), text
        assert entry.url is None or RFC3986.fullmatch(entry.url)
        assert datetime(1990, 1, 1, tzinfo=UTC) <= entry.published


@FUZZ
@given(st.sampled_from(SUFFIXES), st.binary(max_size=400))
def test_arbitrary_bytes_are_entries_or_a_rejection(suffix, data):
    check("f" + suffix, data)


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
meta = st.fixed_dictionaries(
    {},
    optional={
        k: junk | st.text(max_size=60)
        for k in ("title", "date", "updated", "url", "tags", "lang", "id", "text", "html")
    },
)


@FUZZ
@given(meta)
def test_structured_junk_in_json_is_entries_or_a_rejection(obj):
    check("j.json", json.dumps(obj).encode())


@FUZZ
@given(st.text(max_size=200), st.text(max_size=200))
def test_text_with_markup_and_entities_is_entries_or_a_rejection(title, body):
    data = f"{title}\n\nOn 3 June 2020, {body} &xxe; <b onclick=x>y</b>\n".encode(
        "utf-8", "surrogatepass"
    )
    check("t.txt", data)
