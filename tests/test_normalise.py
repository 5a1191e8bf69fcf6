"""normalise: a release becomes an entry. The publication date it takes, and that any
text normalises without raising anything but NormaliseError, with stable ids."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scofeed import sources
from scofeed.errors import NormaliseError, RejectedInput
from scofeed.model import Release
from scofeed.normalise import normalise
from tests.normalise_cases import FILE_DATE, NOW, SETTINGS, entry, local

# -- the publication date --------------------------------------------------------------


def test_yesterday_is_resolved_against_the_url_date():
    e = entry("relative_yesterday.md")
    assert local(e) == "2023-04-21T00:00:00+08:00"  # published: the page's date
    assert e.event_date == date(2023, 4, 20)  # what happened: the day before
    assert e.url == "http://eng.sectsco.org./20230421/939274.html"


def test_on_thursday_is_the_thursday_before_the_url_date():
    e = entry("relative_weekday.md")  # 2023-04-21 is a Friday
    assert local(e) == "2023-04-21T00:00:00+08:00"
    assert e.event_date == date(2023, 4, 20)


def test_relative_dates_use_the_file_date_when_there_is_no_url():
    r = Release("x.txt", "SCO meets envoy\n\nYesterday the envoy came.", context_date=FILE_DATE)
    assert local(normalise(r, SETTINGS, NOW)) == "2021-07-04T00:00:00+08:00"


def test_a_text_date_far_from_the_url_date_gives_way_to_the_url_date():
    e = entry("far_date.md")
    assert local(e) == "2023-06-15T00:00:00+08:00"
    assert e.date_source == "url"


def test_a_text_date_near_the_url_date_is_the_event_date_not_the_publication_date():
    e = entry("near_date.md")
    assert local(e) == "2023-06-16T00:00:00+08:00"
    assert e.date_source == "url"
    assert e.event_date == date(2023, 6, 14)


def test_metadata_date_beats_the_text_and_the_url():
    e = entry("near_date.md", published=datetime(2023, 6, 20))
    assert local(e) == "2023-06-20T00:00:00+08:00"
    assert e.date_source == "metadata"


STAMPED = {"glued_time.txt"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("glued_time.txt", "2020-06-03T10:30:00+08:00"),
        ("time_after_comma.txt", "2020-06-03T10:30:00+08:00"),
        ("range_two_months.txt", "2021-06-30T00:00:00+08:00"),
        ("range_month_first.txt", "2017-06-08T00:00:00+08:00"),
        ("range_across_years.txt", "2020-12-30T00:00:00+08:00"),
        ("date_ru.txt", "2021-06-30T00:00:00+08:00"),
        ("date_zh.txt", "2020-06-03T00:00:00+08:00"),
        ("date_zh_fullwidth.txt", "2020-06-03T00:00:00+08:00"),
    ],
)
def test_dates_in_the_text(name, expected):
    stated = datetime.fromisoformat(expected)
    e = entry(name)
    assert local(e) == expected
    # a line that is only a date is the page's date stamp, taken out of the text
    assert e.date_source == ("page" if name in STAMPED else "text")
    assert e.event_date == (None if name in STAMPED else stated.date())


# -- any input -------------------------------------------------------------------------


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


def test_bidirectional_overrides_are_taken_out_of_every_field():
    """U+202E (RIGHT-TO-LEFT OVERRIDE) shows what follows it backwards: a hostile source
    could make a title read as something it does not say. The embeddings and overrides
    go from the title, text, summary, tags and HTML; marks and isolates stay."""
    rlo, lre, pdf, rlm, fsi, pdi = "\u202e", "\u202a", "\u202c", "\u200f", "\u2068", "\u2069"
    overrides = {rlo, lre, pdf, "\u202b", "\u202d"}
    text = (
        f"SCO {rlo}txt.exe statement\n\nOn 3 June 2020 the {lre}ministers{pdf} met "
        f"{fsi}نبيل{pdi}{rlm} in Tashkent."
    )
    for release in (
        Release("a.txt", text, tags=(f"secu{rlo}rity",)),
        Release("b.md", text, html=f"<p>On 3 June 2020 the {rlo}ministers met.</p>"),
        Release("c.md", text, title=f"SCO {rlo}statement"),
    ):
        e = normalise(release, SETTINGS, NOW)
        fields = [e.title, e.summary, e.content_html, *e.tags]
        assert not any(c in f for f in fields for c in overrides), fields
    e = normalise(Release("a.txt", text), SETTINGS, NOW)
    assert e.title == "SCO txt.exe statement"
    assert f"{fsi}نبيل{pdi}{rlm}" in e.content_html  # isolates and marks kept


TABLE_FIRST_MD = """---
title: SCO trade figures for 2024
date: 2025-03-12
---

| Country | Trade, bn USD |
|---|---|
| China | 500 |

Trade among SCO member states grew by 7 per cent in 2024, the Secretariat said.
"""
TABLE_FIRST_HTML = """<html><head><title>SCO trade figures for 2024</title></head><body>
<article><h1>SCO trade figures for 2024</h1><div class="date">12.03.2025</div>
<table><tr><th>Country</th><th>Trade, bn USD</th></tr><tr><td>China</td><td>500</td></tr>
</table><p>Trade among SCO member states grew by 7 per cent in 2024, the Secretariat
said.</p></article></body></html>"""


@pytest.mark.parametrize(
    ("name", "data"), [("t.md", TABLE_FIRST_MD), ("t.html", TABLE_FIRST_HTML)], ids=["md", "html"]
)
def test_a_release_opening_with_a_table_is_summed_up_by_its_first_other_paragraph(name, data):
    """Its summary (in every feed, the index page and the webhook) was the table's
    header row, "Country | Trade, bn USD"."""
    (release,) = sources.read(name, name[name.index(".") :], data.encode(), NOW, 100_000)
    e = normalise(release, SETTINGS, NOW)
    assert (
        e.summary
        == "Trade among SCO member states grew by 7 per cent in 2024, the Secretariat said."
    )
    assert "<table>" in e.content_html  # the table itself stays in the content


@pytest.mark.parametrize(
    "lead",
    [
        "Key points",
        "18.03.2025 15:20\nViews: 345",
        "18.03.2025 15:20 | Views: 345",
        "2025-03-20\u3000来源：上合组织秘书处\u3000浏览次数：100",
        "23 июня 2025 г.\nМосква",
        "Dushanbe, 22 April 2025",
    ],
)
def test_a_heading_or_a_line_of_facts_under_the_headline_is_no_summary(lead):
    """A short line that is no sentence (a heading, the date and views under the
    headline, a dateline) was the summary of every feed and webhook."""
    body = "The SCO Secretariat hosted a cultural evening for the diplomatic corps."
    text = f"SCO Secretariat hosts a cultural evening\n{lead}\n\n{body}\n\nMore text."
    e = normalise(Release("a.txt", text, context_date=FILE_DATE), SETTINGS, NOW)
    assert e.summary == body


def _read(name: str, data: str) -> Release:
    (found,) = sources.read(name, "." + name.rpartition(".")[2], data.encode(), FILE_DATE, 10**6)
    return found


@pytest.mark.parametrize(
    "name, data",
    [
        ("a.md", "---\ntitle: SCO hosts a seminar on glaciers\n---\n\n## What happened?\n\n{}\n"),
        ("b.md", "# SCO hosts a seminar on glaciers\n\n### Summary.\n\n{}\n"),
        ("c.json", '{{"title": "SCO hosts a seminar on glaciers", "html": '
                   '"<h2 id=\\"w\\">Why it matters!</h2><p>{}</p>"}}'),
    ],
)  # fmt: skip
def test_a_heading_ending_as_a_sentence_is_no_summary(name, data):
    """In the plain text a heading is a paragraph like any other: one ending with "?",
    "." or "!" was the summary, every reader's preview of the release."""
    body = "The seminar on glaciers took place in Dushanbe on 25 June 2025."
    e = normalise(_read(name, data.format(body)), SETTINGS, NOW)
    assert e.summary == body
    assert "<h2" in e.content_html  # the heading is still in the content


def test_a_text_paragraph_like_a_heading_is_still_a_summary():
    """Only marked headings are passed over: a text release has none."""
    text = "SCO hosts a seminar on glaciers\n\nWhat happened?\n\nThe seminar took place.\n"
    assert normalise(_read("a.txt", text), SETTINGS, NOW).summary == "What happened?"


def test_a_form_feed_vertical_tab_or_nel_in_a_text_release_parts_the_words():
    """A PDF tool's text has a form feed at each page's end: "declaration.\\fThe" read
    "declaration.The", and a NEL (U+0085) in a headline joined its words the same way."""
    text = (
        "SCO forum\x85on trade opens in Tashkent\n\nOn 13 July 2025, the Council adopted "
        "the declaration.\x0cThe declaration will be published.\n\nMember states\x0b"
        "agreed to review it.\n"
    )
    e = normalise(_read("a.txt", text), SETTINGS, NOW)
    assert e.title == "SCO forum on trade opens in Tashkent"
    assert "the declaration. The declaration will" in e.content_html
    assert "Member states agreed" in e.content_html


@pytest.mark.parametrize(
    "text",
    [
        "SCO Secretary-General names priorities for 2025\n\nThe Secretary-General named "
        "three priorities:\n- security;\n- economic cooperation;\n- culture and "
        "humanitarian ties.\n\nHe spoke at the Secretariat on 12 March 2025.\n",
        # the lead hard-wrapped short under the headline: one paragraph, not lines of facts
        "SCO Secretary-General names three priorities\nThe SCO Secretary-General said the "
        "Organisation\nwould concentrate this year on three priorities:\n\n- security;\n"
        "- economic cooperation;\n- culture.\n\nHe spoke on 12 March 2025.\n",
    ],
    ids=["list", "wrapped-lead"],
)
def test_a_list_is_no_summary_and_its_lead_is(text):
    """A lead ending in ":" before a list was passed over (no sentence, a line long),
    and the list's last item, which ends as one, was the summary ("- culture.")."""
    e = normalise(Release("l.txt", text, context_date=FILE_DATE), SETTINGS, NOW)
    assert e.summary.endswith("priorities:") and not e.summary.startswith("-")
    assert e.summary.startswith("The ")


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("Joint Communiqué of the meeting of Heads of Government\n\nI. Political "
         "cooperation\n\n1. The Heads of Delegation held talks on regional security and "
         "agreed to deepen cooperation on 3 June 2025.\n\n2. The parties agreed to meet "
         "again.\n", "1. The Heads of Delegation held talks"),
        # a bullet is an item however long: the opening paragraph after it is the summary
        ("SCO ministers meet in Bishkek\n\nKey outcomes\n\n- The Ministers approved the "
         "draft SCO Development Strategy until 2035 for the Council of Heads of State;\n- "
         "The Ministers agreed on the plan of events for the next year of the chairmanship;"
         "\n\nOn 21 October 2025, the Council of Foreign Ministers of the SCO met in "
         "Bishkek.\n", "On 21 October 2025, the Council"),
    ],
    ids=["numbered", "bullets"],
)  # fmt: skip
def test_a_communiques_numbered_paragraph_is_its_summary_not_a_heading_or_bullet(text, summary):
    """Numbered paragraphs were all passed over as list items, and the section heading
    above them was the summary; a long bullet is an item all the same."""
    assert normalise(Release("c.txt", text), SETTINGS, NOW).summary.startswith(summary)


def test_a_summary_keeps_a_first_paragraph_parted_by_bars_that_is_a_sentence():
    text = "SCO forum opens\n\nSCO | Forum: the forum opened on 3 June 2020 in Tashkent.\n\nMore."
    e = normalise(Release("a.txt", text), SETTINGS, NOW)
    assert e.summary == "SCO | Forum: the forum opened on 3 June 2020 in Tashkent."
    only_rows = "SCO figures of 3 June 2020\n\nChina | 500\n\nRussia | 240"  # all rows: the first
    assert normalise(Release("b.txt", only_rows), SETTINGS, NOW).summary == "China | 500"
