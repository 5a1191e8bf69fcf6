"""Property tests: normalising arbitrary text never raises anything but NormaliseError,
and the same input always gives the same entry id."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scofeed import sources
from scofeed.errors import NormaliseError, RejectedInput
from scofeed.model import Release
from scofeed.normalise import Settings, canonical_url, normalise

SETTINGS = Settings("test.example,2026", "http://127.0.0.1:8080/", "A", "en", "Asia/Shanghai")
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# pieces real releases are made of, so the interesting paths are reached often
PIECES = [
    "SCO meets envoy", "On 3 June 2020,", "3 June 202010:30", "Yesterday", "on Thursday",
    "30 June - 1 July 2021", "December 30 - January 2, 2021", "3 июня 2020 года",
    "в четверг", "二〇二〇年六月三日", "２０２０年６月３日", "昨天", "Home > News", "* * *",
    "Фото: пресс-служба", "照片：上合组织", "Mr. Norov met Dr. Xu.", "\n", "\n\n", "\r\n",
    " ", "\ufeff", "\u00a0", ".", "。", "29 February 2021", "31.02.2020", "June 31, 2020",
]  # fmt: skip
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=40)), max_size=25).map("".join)
maybe = st.one_of(st.none(), st.text(max_size=30))
contexts = st.one_of(
    st.none(), st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1))
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=texts,
    title=maybe,
    url=st.one_of(st.none(), st.text(max_size=40), st.sampled_from(
        ["http://eng.sectsco.org./20220125/813122.html", "https://x:99999/", "http://[::1"]
    )),
    context=contexts,
)  # fmt: skip
def test_normalise_never_raises_anything_else_and_ids_are_stable(text, title, url, context):
    release = Release("prop.txt", text, title=title, url=url, context_date=context)
    try:
        first = normalise(release, SETTINGS, NOW)
    except NormaliseError:
        return
    second = normalise(release, SETTINGS, NOW)
    assert first.id == second.id
    assert first == second
    assert first.id.startswith("tag:test.example,2026:release/")
    assert first.title and first.published.tzinfo is not None


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=300) | texts.map(str.encode), suffix=st.sampled_from([".md", ".json"])
)
def test_readers_only_refuse_with_rejected_input(data, suffix):
    try:
        found = sources.read("prop" + suffix, suffix, data, NOW, 10_000)
    except RejectedInput:
        return
    for release in found:
        try:
            normalise(release, SETTINGS, NOW)
        except NormaliseError:
            pass


@given(st.text(max_size=60))
def test_canonical_url_never_raises_and_is_idempotent(url):
    once = canonical_url(url)
    assert canonical_url(once) == once
