"""Feed items as releases: links that are not web addresses never become entry links,
and relative links inside item content are made absolute against the feed's URL."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import run_cli as cli
from scofeed.errors import RejectedInput
from scofeed.ingest import ingest
from scofeed.model import Release
from scofeed.normalise import normalise, read_alike
from scofeed.sources import feed
from scofeed.sources.feed import read_feed
from tests.normalise_cases import NOW, SETTINGS

FEED_URL = "https://agency.example/sco/rss.xml"

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title><link>https://agency.example/</link>
<description>d</description>
<item><title>Hostile link</title><link>javascript:alert(1)</link><guid>g1</guid>
<description>Body one.</description></item>
<item><title>Data link</title><link>data:text/html,hi</link>
<description>Body two.</description></item>
<item><title>Relative</title><link>/sco/3.html</link>
<description>See &lt;a href="/sco/other.html"&gt;this&lt;/a&gt; and
&lt;img src="pic.png" alt="p"&gt;.</description></item>
</channel></rss>"""


def test_rss_item_links_that_are_not_web_addresses_are_dropped():
    one, two, three = read_feed(FEED_URL, RSS, FEED_URL)
    assert one.url is None and "javascript" not in one.origin
    assert one.key == "g1"  # the guid identifies it instead
    assert two.url is None and not two.origin.startswith("data:")
    assert three.url == "https://agency.example/sco/3.html"


def test_relative_links_in_item_content_are_made_absolute():
    *_, three = read_feed(FEED_URL, RSS, FEED_URL)
    assert 'href="https://agency.example/sco/other.html"' in three.html
    assert 'src="https://agency.example/sco/pic.png"' in three.html


def test_a_link_holding_a_control_character_loses_it_not_the_feed():
    """ "gallery&#1;.html" in an item's HTML: lxml refused to write the address made
    absolute, and the ValueError lost every item of the feed, poll after poll."""
    rss = RSS.replace(
        b"<description>Body two.</description>",
        b'<description>&lt;a href="gallery&amp;#1;.html"&gt;here&lt;/a&gt; and '
        b'&lt;a href="/sco/next.html"&gt;next&lt;/a&gt;</description>',
    )
    one, two, three = read_feed(FEED_URL, rss, FEED_URL)
    assert 'href="https://agency.example/sco/gallery.html"' in two.html
    assert 'href="https://agency.example/sco/next.html"' in two.html
    assert 'src="https://agency.example/sco/pic.png"' in three.html


ZONELESS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title><link>https://agency.example/</link>
<description>d</description>
<item><title>Weekday, no zone</title><link>https://agency.example/sco/1.html</link>
<pubDate>Wed, 25 Nov 2025 23:30:00</pubDate><description>Body one.</description></item>
<item><title>Date only</title><link>https://agency.example/sco/2.html</link>
<pubDate>25 Nov 2025</pubDate><description>Body two.</description></item>
<item><title>Zoned</title><link>https://agency.example/sco/3.html</link>
<pubDate>Wed, 25 Nov 2025 23:30:00 +0300</pubDate><description>Body three.</description></item>
</channel></rss>"""


def test_a_feed_date_stating_no_zone_is_in_the_sites_zone():
    """formats.md: a date-only or zone-less value is in ``site.timezone``. feedparser
    took one for UTC (8 hours off in Beijing, the next day's evening item on the day
    before), and refused RSS's weekday form without a zone, so the item was rejected
    for having no date."""
    weekday, day_only, zoned = read_feed(FEED_URL, ZONELESS, FEED_URL)
    assert weekday.published == datetime(2025, 11, 25, 23, 30)  # naive: normalise zones it
    assert day_only.published == datetime(2025, 11, 25)
    assert zoned.published == datetime(2025, 11, 25, 20, 30, tzinfo=UTC)  # as before
    shanghai = ZoneInfo(SETTINGS.timezone)
    entry = normalise(weekday, SETTINGS, NOW)
    assert entry.published == datetime(2025, 11, 25, 23, 30, tzinfo=shanghai)
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "t",
        "items": [
            {"id": "1", "url": "https://agency.example/sco/4.html", "content_text": "Four.",
             "date_published": "2025-11-25"},
            {"id": "2", "url": "https://agency.example/sco/5.html", "content_text": "Five.",
             "date_published": "2025-11-25t23:30:00z"},
        ],
    }  # fmt: skip
    day, lower = read_feed(FEED_URL, json.dumps(doc).encode(), FEED_URL)
    assert day.published == datetime(2025, 11, 25)
    assert lower.published == datetime(2025, 11, 25, 23, 30, tzinfo=UTC)  # RFC 3339's "t", "z"


def test_json_feed_item_url_must_be_a_web_address():
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "x",
        "items": [
            {"id": "a", "url": "javascript:alert(1)", "title": "A", "content_text": "Text a."},
            {
                "id": "b",
                "url": "javascript:void(0)",
                "external_url": "https://mirror.example/b",
                "title": "B",
                "content_text": "Text b.",
            },
        ],
    }
    a, b = read_feed(FEED_URL, json.dumps(doc).encode(), FEED_URL)
    assert a.url is None and a.key == "a"
    assert b.url == "https://mirror.example/b"


def test_json_feed_text_fields_of_another_type_are_not_given():
    """A title given as a list, content as an object, a tag as an object were published
    as their Python form ("['list', 'title']", "{'x': 1}") and made a tag feed of
    "{'a': 1}"; JSON Feed gives each as a string. Such a field is as if not given, and
    a string beside it is read. Found by fuzzing."""
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "x",
        "language": ["en"],
        "items": [
            {"id": {"a": 1}, "url": "https://mirror.example/a", "title": ["list", "title"],
             "content_html": {"x": 1}, "content_text": "SCO forum opened.",
             "tags": [{"a": 1}, "energy", 7], "language": 5},
            {"id": "b", "title": "SCO forum closes", "content_text": ["no"],
             "summary": "The forum closed.", "date_published": "2025-06-03T10:00:00Z"},
        ],
    }  # fmt: skip
    a, b = read_feed(FEED_URL, json.dumps(doc).encode(), FEED_URL)
    assert (a.title, a.html, a.text, a.tags, a.lang, a.alias) == (
        None, None, "SCO forum opened.", ("energy",), None, None,
    )  # fmt: skip
    assert (b.title, b.text, b.key) == ("SCO forum closes", "The forum closed.", "b")


def _one_item(tags: str, namespaces: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0" {namespaces}><channel><title>t</title>'
        "<link>https://agency.example/</link><description>d</description>"
        "<item><title>Ministers meet</title><link>https://agency.example/1.html</link>"
        f"<description>The ministers met on 3 June 2024.</description>{tags}</item>"
        "</channel></rss>"
    ).encode()


MEDIA = 'xmlns:media="http://search.yahoo.com/mrss/"'
DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'


@pytest.mark.parametrize(
    ("tags", "namespaces"),
    [
        ("".join(f"<category>t{i}</category>" for i in range(16_000)), ""),
        ("".join(f"<dc:subject>t{i}</dc:subject>" for i in range(3_000)), DC),
        ("<media:keywords>" + ",".join(f"k{i}" for i in range(8_000)) + "</media:keywords>", MEDIA),
    ],
    ids=["categories", "dc:subject", "media:keywords"],
)
def test_an_item_of_thousands_of_tags_is_refused_unparsed(tags, namespaces):
    """feedparser checks each of an item's tags against those before it: an item of
    16,000 categories took ~2.4 s, of 80,000 ~170 s, in the poll job, until the time
    budget stopped it. Counted in the bytes first, it is refused at once."""
    data = _one_item(tags, namespaces)
    with pytest.raises(RejectedInput) as caught:
        read_feed(FEED_URL, data, FEED_URL)
    assert caught.value.reason.startswith("an item has ")
    assert caught.value.reason.endswith(
        " tags (categories, subjects, keywords), over 2000: refused unparsed"
    )


def test_many_items_of_a_few_tags_each_are_read():
    """The count is per item: 600 items of five categories are 3,000 in the feed."""
    items = "".join(
        f"<item><title>Release {n}</title><link>https://agency.example/r{n}.html</link>"
        f"<description>Body {n}.</description>"
        + "".join(f"<category>t{i}</category>" for i in range(5))
        + "</item>"
        for n in range(600)
    )
    data = _one_item("").replace(b"</channel>", items.encode() + b"</channel>")
    releases = read_feed(FEED_URL, data, FEED_URL)
    assert len(releases) == 601 and releases[1].tags == ("t0", "t1", "t2", "t3", "t4")


def test_the_keywords_count_never_runs_on_past_a_tag_left_open():
    """``<[^>]*`` ran from each of 100,000 "<keywords" with no ">" to the end of the
    data (5 s for 360 kB, one call into ``re`` that no time budget interrupts): a tag
    is taken to end at its first "<" or ">"."""
    assert feed._KEYWORDS.search(b"<media:keywords<x>a,b,c</x>") is None
    assert feed._KEYWORDS.search(b"<media:keywords>a,b,c</media:keywords>")[1] == b"a,b,c"


def test_a_feed_cut_short_is_read_as_far_as_it_goes_and_said_so(caplog):
    """A feed whose XML breaks off (a transfer cut short) gave its whole items and
    reported "ok", with nothing saying the XML was broken; a benign word of
    feedparser's (a content type that is not XML's) says nothing."""
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>A</title>'
    one = (
        "<item><title>One</title><link>http://agency.example/1.html</link>"
        "<description>On 1 May 2024 the ministers met.</description></item>"
    )
    with caplog.at_level("INFO", logger="scofeed.sources.feed"):
        cut = (head + one + "<item><title>cut").encode()
        releases = read_feed("http://agency.example/feed", cut, "http://agency.example/")
    assert releases[0].title == "One"
    (line,) = [r.getMessage() for r in caplog.records if "feed_malformed" in r.getMessage()]
    assert line.startswith("feed_malformed origin=http://agency.example/feed reason=")
    caplog.clear()
    whole = (head + one + "</channel></rss>").encode()
    with caplog.at_level("INFO", logger="scofeed.sources.feed"):
        read_feed("http://agency.example/feed", whole, "http://agency.example/", charset="latin-1")
    assert not [r for r in caplog.records if "feed_malformed" in r.getMessage()]


def test_an_item_an_older_scofeed_dated_in_utc_is_no_correction(site):
    """An item whose date states no zone was read as UTC; this version reads it in
    site.timezone, and its first poll after the upgrade sent every such item out as
    corrected (upgrade test, review). Read so, the stored entry stands."""
    older = ZONELESS.replace(b"Wed, 25 Nov 2025 23:30:00<", b"Wed, 25 Nov 2025 23:30:00 GMT<")
    cfg, store = site.config(), site.store()
    first, *_ = read_feed(FEED_URL, older, FEED_URL)
    (stored,) = ingest(cfg, store, [first], NOW)
    assert stored.kind == "new" and stored.entry.published.utcoffset().total_seconds() == 0
    fresh, *_ = read_feed(FEED_URL, ZONELESS, FEED_URL)
    (again,) = ingest(cfg, store, [fresh], NOW)
    assert again.kind == "unchanged"
    # a real edit of the item is one all the same
    edited = ZONELESS.replace(b"Body one.", b"Body one, corrected.")
    (edit,) = ingest(cfg, store, [read_feed(FEED_URL, edited, FEED_URL)[0]], NOW)
    assert edit.kind == "updated"


ATOM_TEXT = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:t</id>
<updated>2025-03-14T00:00:00Z</updated>
<entry><title>Forum discusses page markup</title><id>urn:t1</id>
<link href="https://agency.example/sco/1.html"/><updated>2025-03-13T10:00:00Z</updated>
<content type="text">On 13 March 2025, the forum discussed the &lt;script&gt; element.

Its second paragraph: x &lt; y.</content></entry>
<entry><title>Forum closes</title><id>urn:t2</id>
<link href="https://agency.example/sco/2.html"/><updated>2025-03-14T10:00:00Z</updated>
<summary>On 14 March 2025, the &lt;b&gt; forum closed.</summary></entry>
<entry><title>Forum report</title><id>urn:t3</id>
<link href="https://agency.example/sco/3.html"/><updated>2025-03-15T10:00:00Z</updated>
<content type="html">&lt;p&gt;On 15 March 2025, the &lt;b&gt;report&lt;/b&gt; came out.&lt;/p&gt;
</content></entry>
<entry><title>Forum closes its doors</title><id>urn:t4</id>
<link href="https://agency.example/sco/4.html"/><updated>2025-03-16T10:00:00Z</updated>
<content>&lt;p&gt;On 16 March 2025, a &lt;b&gt;sloppy&lt;/b&gt; generator.&lt;/p&gt;</content>
</entry>
<entry><title>Forum opens its doors</title><id>urn:t5</id>
<link href="https://agency.example/sco/5.html"/><updated>2025-03-17T10:00:00Z</updated>
<content>&lt;p&gt;On 17 March 2025, it opened.&lt;p&gt;Its end tags left out.</content>
</entry>
<entry><title>Plain text</title><id>urn:t6</id>
<link href="https://agency.example/sco/6.html"/><updated>2025-03-18T10:00:00Z</updated>
<content type="text">On 18 March 2025, a text of two paragraphs, x &lt; y.

Its second paragraph.</content>
</entry></feed>"""


def test_atom_text_content_is_text_but_for_markup_and_loses_nothing():
    """Atom ``type="text"`` content (and a summary, text by default) was read as HTML:
    "the &lt;script&gt; element" took the rest of the release with it, and the
    paragraphs of a plain text ran together. Text holding no tag is text now (RFC 4287),
    its paragraphs kept; one holding tags is HTML, as readers and generators take it,
    but for a raw-text tag never closed, shown as written. Found by a review of content
    fidelity (and, for the markup, by reviews of the first fix)."""
    one, two, three, four, five, six = read_feed(FEED_URL, ATOM_TEXT, FEED_URL)
    content = normalise(one, SETTINGS, NOW).content_html
    assert "the &lt;script&gt; element." in content and "Its second paragraph" in content
    assert "forum closed." in normalise(two, SETTINGS, NOW).content_html
    assert "<b>report</b>" in normalise(three, SETTINGS, NOW).content_html  # HTML stays HTML
    assert "<b>sloppy</b>" in normalise(four, SETTINGS, NOW).content_html  # type left out
    assert "<p>Its end tags left out.</p>" in normalise(five, SETTINGS, NOW).content_html
    assert six.html is None  # no tag: read as a .txt release's text
    assert normalise(six, SETTINGS, NOW).content_html == (
        "<p>On 18 March 2025, a text of two paragraphs, x &lt; y.</p>\n<p>Its second paragraph.</p>"
    )


def test_an_atom_text_item_an_older_scofeed_read_as_html_is_no_correction():
    """Read as HTML before, an untyped Atom content's paragraphs ran together into one
    block; read as text now, each is a <p>. The first poll after the upgrade sent every
    such item out as corrected. Found by a review of this change."""
    value = "On 13 March 2025, the ministers met.\n\nThey agreed on x < y &amp; more."
    url = "https://agency.example/sco/1.html"
    before = Release(origin=url, text=value, html=value, url=url, published=NOW, title="Talks")
    now = Release(origin=url, text=value, url=url, published=NOW, title="Talks")
    stored, fresh = normalise(before, SETTINGS, NOW), normalise(now, SETTINGS, NOW)
    assert stored.content_html != fresh.content_html
    assert "<" not in stored.content_html and fresh.content_html.count("<p>") == 2
    assert read_alike(stored, fresh)
    edited = replace(now, text=value.replace("met", "met in Astana"))
    assert not read_alike(stored, normalise(edited, SETTINGS, NOW))


@pytest.mark.parametrize(
    "markup",
    [
        "On 15 March 2025, the forum opened.&lt;br /&gt;&lt;br /&gt;Delegations came.",
        "&lt;P&gt;On 16 March 2025, they met.&lt;/P&gt;&lt;P&gt;They talked.&lt;/P&gt;",
        "On 17 March 2025, it was adopted.&lt;p&gt;The heads of state signed.",
        '&lt;div class="field-item"&gt;On 18 March 2025, it opened.&lt;/div&gt;',
    ],
)
def test_untyped_atom_content_a_generator_marked_up_is_html(markup):
    """Generators leave ``type="html"`` out, writing breaks, upper-case tags, a <p>
    mid-text: such content was read as HTML before and must stay so (a review found
    the first fix showed readers "&lt;br /&gt;" and sent it out as a correction)."""
    atom = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        "<id>urn:t</id><updated>2025-03-19T00:00:00Z</updated><entry><title>Forum</title>"
        '<id>urn:x</id><link href="https://agency.example/sco/x.html"/>'
        f"<updated>2025-03-19T00:00:00Z</updated><content>{markup}</content></entry></feed>"
    )
    (item,) = read_feed(FEED_URL, atom.encode(), FEED_URL)
    assert item.html is not None
    assert "&lt;" not in normalise(item, SETTINGS, NOW).content_html


# -- an item's own language ---------------------------------------------------------------
ATOM_LANGS = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>t</title><id>tag:a,2026:f</id>
<updated>2026-11-02T00:00:00Z</updated>
<entry xml:lang="ru"><title>One</title><id>tag:a,2026:1</id><link href="/1"/>
<updated>2026-11-01T00:00:00Z</updated><content type="html">Body one.</content></entry>
<entry><title>Two</title><id>tag:a,2026:2</id><link href="/2"/>
<updated>2026-11-01T00:00:00Z</updated><summary>Body two.</summary></entry>
<entry><title>Three</title><id>tag:a,2026:3</id><link href="/3"/>
<updated>2026-11-01T00:00:00Z</updated>
<content type="html" xml:lang="fa">Body three.</content></entry>
</feed>"""

RSS_LANGS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
<link>https://agency.example/</link><description>d</description><language>en</language>
<item><title>One</title><link>https://agency.example/1</link><dc:language>ru</dc:language>
<pubDate>Sun, 01 Nov 2026 00:00:00 GMT</pubDate><description>Body one.</description></item>
<item><title>Two</title><link>https://agency.example/2</link>
<pubDate>Sun, 01 Nov 2026 00:00:00 GMT</pubDate><description>Body two.</description></item>
<item><dc:language> fa </dc:language><title>Three</title><link>https://agency.example/3</link>
<pubDate>Sun, 01 Nov 2026 00:00:00 GMT</pubDate><description>Body three.</description></item>
</channel></rss>"""


# RSS 1.0 has no <language>: xml:lang on rdf:RDF says the feed's, on an item its own
RDF_LANGS = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" xml:lang="en">
<channel rdf:about="https://agency.example/"><title>t</title><link>https://agency.example/</link>
<description>d</description><items><rdf:Seq><rdf:li resource="https://agency.example/1"/>
<rdf:li resource="https://agency.example/2"/><rdf:li resource="https://agency.example/3"/>
</rdf:Seq></items></channel>
<item rdf:about="https://agency.example/1" xml:lang="ru"><title>One</title>
<link>https://agency.example/1</link><dc:date>2026-11-01T00:00:00Z</dc:date>
<description>Body one.</description></item>
<item rdf:about="https://agency.example/2"><title>Two</title><link>https://agency.example/2</link>
<dc:date>2026-11-01T00:00:00Z</dc:date><description>Body two.</description></item>
<item rdf:about="https://agency.example/3"><title>Three</title>
<link>https://agency.example/3</link><dc:date>2026-11-01T00:00:00Z</dc:date>
<description xml:lang="fas">Body three.</description></item>
</rdf:RDF>"""


@pytest.mark.parametrize(
    "data",
    [ATOM_LANGS, RSS_LANGS, RDF_LANGS],
    ids=["atom xml:lang", "rss dc:language", "rss 1.0 xml:lang"],
)
def test_an_item_in_another_language_than_the_feeds_keeps_its_own(data):
    """An Atom entry's ``xml:lang`` (or its content's) and an RSS item's
    ``<dc:language>`` are the item's language, as a JSON Feed item's ``language`` is:
    every item was stored in the feed's language (a Russian item of an English feed in
    the English feeds, a Persian one shown left to right). RSS 1.0's xml:lang was not
    read at all: every item was in the site's language. A three-letter code ('fas') is
    the two-letter one's language."""
    items = read_feed(FEED_URL, data, FEED_URL)
    assert [r.lang for r in items] == ["ru", "en", "fas" if data is RDF_LANGS else "fa"]
    assert [normalise(r, SETTINGS, NOW).language for r in items] == ["ru", "en", "fa"]


def test_an_rss_1_0_channels_xml_lang_is_the_feeds_language():
    """In RSS 1.0 the items are the channel's siblings: an xml:lang on the channel alone
    reaches none of them, and is the feed's language, as RSS 2.0's <language> is."""
    data = RDF_LANGS.replace(b' xml:lang="en">', b">", 1).replace(
        b'<channel rdf:about="https://agency.example/">',
        b'<channel rdf:about="https://agency.example/" xml:lang="kk">',
    )
    assert [r.lang for r in read_feed(FEED_URL, data, FEED_URL)] == ["ru", "kk", "fas"]


def test_a_scofeed_site_polled_by_another_gives_each_entry_its_language(site):
    """What a scofeed site's own Atom and RSS feeds say of an entry's language (``xml:lang``,
    ``dc:language`` where it is not the feed's) is read back as that language."""
    (site.sources / "a.md").write_text(
        "---\ntitle: Council met\ndate: 2026-11-01\n---\nThe Council met in Astana.\n",
        encoding="utf-8",
    )
    (site.sources / "b.md").write_text(
        "---\ntitle: Совет собрался\ndate: 2026-11-02\nlang: ru\n---\nСовет собрался в Астане.\n",
        encoding="utf-8",
    )
    assert cli(site, "build").returncode == 0
    for name in ("atom.xml", "rss.xml", "feed.json"):
        items = read_feed(FEED_URL, (site.feeds / name).read_bytes(), FEED_URL)
        got = {r.title: normalise(r, SETTINGS, NOW).language for r in items}
        assert (got["Council met"], got["Совет собрался"]) == ("en", "ru"), name


@pytest.mark.parametrize("said", ["French", "fr_FR", "fr, en", ""])
def test_an_items_language_that_is_no_tag_leaves_the_feeds(said):
    """An item's ``dc:language`` (or a JSON Feed item's ``language``) that is no language
    tag says nothing: the feed's counts (it shadowed the feed's ``fr``, and the entry
    was read as the site's language)."""
    rss = RSS_LANGS.replace(b"<language>en</language>", b"<language>fr</language>")
    rss = rss.replace(
        b"<dc:language>ru</dc:language>", f"<dc:language>{said}</dc:language>".encode()
    )
    first = read_feed(FEED_URL, rss, FEED_URL)[0]
    assert first.lang == "fr"
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "language": "fr",
           "items": [{"id": "1", "url": "https://agency.example/1", "title": "One",
                      "content_text": "Body one.", "date_published": "2026-11-01T00:00:00Z",
                      "language": said}]}  # fmt: skip
    (item,) = read_feed(FEED_URL, json.dumps(doc).encode(), FEED_URL)
    assert item.lang == "fr"
