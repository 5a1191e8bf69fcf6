"""The feeds as third-party parsers see them: feedparser and lxml."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import feedparser
import listparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

import scofeed
from scofeed import __version__, render
from scofeed.config import FEED_FILES, load
from scofeed.errors import RenderError
from scofeed.model import Entry, Withdrawal
from scofeed.normalise import clean_reason
from scofeed.render import catalog, opml
from tests.conftest import DATA

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


def entry(n: int, **kw) -> Entry:
    day = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=n)
    base = dict(
        id=f"tag:test.example,2026:release/{n:020d}",
        title=f"Release {n} & <co>",
        summary=f"Summary {n}",
        content_html=f"<p>Body {n} &amp; more</p>",
        published=day,
        updated=day + timedelta(hours=1),
        author="SCO Secretariat",
        language="en",
        link=f"http://127.0.0.1:8080/entries/{n:020d}",
        url=None,
        tags=("economy",),
    )
    base.update(kw)
    return Entry(**base)


CFG = load(None)
ENTRIES = [entry(n) for n in (5, 4, 3, 2, 1)]


def test_atom_parses_with_ids_dates_links_in_order():
    data = render.render("atom", ENTRIES, CFG)
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    assert [e.id for e in parsed.entries] == [e.id for e in ENTRIES]
    root = etree.fromstring(data)
    entry_updated = [
        datetime.fromisoformat(u.text) for u in root.iterfind(f"{ATOM}entry/{ATOM}updated")
    ]
    assert datetime.fromisoformat(parsed.feed.updated) == max(entry_updated)
    assert timedelta(0) < max(entry_updated) - ENTRIES[0].updated < timedelta(seconds=1)
    self_links = root.findall(f"{ATOM}link[@rel='self']")
    assert [(x.get("href"), x.get("type")) for x in self_links] == [
        ("http://127.0.0.1:8080/atom.xml", "application/atom+xml")
    ]
    for node in root.iterfind(f"{ATOM}entry"):
        for tag in ("updated", "published"):
            assert RFC3339.match(node.findtext(f"{ATOM}{tag}"))
        link = node.find(f"{ATOM}link")
        assert link.get("rel") == "alternate" and link.get("type") == "text/html"
        assert node.find(f"{ATOM}content").get("type") == "html"
        assert node.findtext(f"{ATOM}author/{ATOM}name") == "SCO Secretariat"
    assert root.findtext(f"{ATOM}id") == "tag:scofeed.example,2026:feed"


def test_rss_parses_with_guid_dates_self_link():
    data = render.render("rss", ENTRIES, CFG)
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    assert [e.id for e in parsed.entries] == [e.id for e in ENTRIES]
    root = etree.fromstring(data)
    channel = root.find("channel")
    assert channel.findtext("link") == "http://127.0.0.1:8080/"
    self_link = channel.find(f"{ATOM}link")
    assert self_link.get("href") == "http://127.0.0.1:8080/rss.xml"
    assert self_link.get("rel") == "self" and self_link.get("type") == "application/rss+xml"
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")) == ENTRIES[0].updated
    for item, e in zip(channel.iterfind("item"), ENTRIES, strict=True):
        guid = item.find("guid")
        assert guid.text == e.id and guid.get("isPermaLink") == "false"
        assert parsedate_to_datetime(item.findtext("pubDate")) == e.published
        assert item.findtext("description") == e.summary
        assert item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") == e.content_html
        assert item.find("author") is None  # RSS author must be an email; dc:creator instead
        assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == "SCO Secretariat"


def test_json_feed_1_1():
    doc = json.loads(render.render("json", ENTRIES, CFG))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["feed_url"] == "http://127.0.0.1:8080/feed.json"
    assert doc["home_page_url"] == "http://127.0.0.1:8080/"
    assert [i["id"] for i in doc["items"]] == [e.id for e in ENTRIES]
    for item in doc["items"]:
        assert RFC3339.match(item["date_published"]) and RFC3339.match(item["date_modified"])
        assert item["content_html"].startswith("<p>")
        assert item["authors"] == [{"name": "SCO Secretariat"}]


def test_same_ids_in_every_format():
    atom = [e.id for e in feedparser.parse(render.render("atom", ENTRIES, CFG)).entries]
    rss = [e.id for e in feedparser.parse(render.render("rss", ENTRIES, CFG)).entries]
    js = [i["id"] for i in json.loads(render.render("json", ENTRIES, CFG))["items"]]
    assert atom == rss == js


def test_rendering_is_deterministic():
    for fmt in ("atom", "rss", "json"):
        assert render.render(fmt, ENTRIES, CFG) == render.render(fmt, list(ENTRIES), CFG)


def test_empty_feed_is_valid_and_stable():
    """A feed with nothing to be dated by says the date its head gives (since when it
    is published so: scofeed.publish), never a placeholder; without one it is refused."""
    since = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    for fmt in ("atom", "rss"):
        head = catalog.head(CFG, catalog.main_set(CFG), fmt, empty_since=since)
        data = render.render(fmt, [], CFG, head=head)
        parsed = feedparser.parse(data)
        assert not parsed.bozo
        assert datetime(*parsed.feed.updated_parsed[:6], tzinfo=UTC) == since
        assert data == render.render(fmt, [], CFG, head=head)
        with pytest.raises(RenderError, match="an empty feed needs a date"):
            render.render(fmt, [], CFG)


def test_other_language_entry_is_marked():
    data = render.render("atom", [entry(1, language="ru")], CFG)
    node = etree.fromstring(data).find(f"{ATOM}entry")
    assert node.get("{http://www.w3.org/XML/1998/namespace}lang") == "ru"


def test_golden_files():
    """Byte-for-byte regression guard: tests/data/render/ holds the expected output."""
    golden = DATA / "render"
    for fmt, name in FEED_FILES.items():
        expected = (golden / name).read_bytes()
        assert render.render(fmt, ENTRIES[:2], CFG) == expected, name
    # RSS titles write "&" and "<" as hexadecimal references (the RSS Best Practices
    # Profile; the W3C validator warned of "&lt;co&gt;"): a reader gets the same text
    rss = (golden / FEED_FILES["rss"]).read_bytes()
    assert b"<title>Release 5 &#x26; &#x3C;co&gt;</title>" in rss
    assert [i.title for i in feedparser.parse(rss).entries] == [e.title for e in ENTRIES[:2]]


def test_a_new_version_of_scofeed_renders_the_feeds_again(monkeypatch):
    """The feeds name the version that wrote them (``<generator version=...>``), but
    only a change to the rendering code's source rendered them again: a release that
    changed none left every feed naming the one before."""
    before = render.code_version.__wrapped__()
    monkeypatch.setattr(scofeed, "__version__", scofeed.__version__ + ".1")
    assert render.code_version.__wrapped__() != before
    atom = render.render("atom", ENTRIES[:1], CFG)
    assert etree.fromstring(atom).find(f"{ATOM}generator").get("version") == __version__
    # RSS's <generator> is one text: it names the version too (feedgen gave it the name
    # alone, so an RSS reader could not tell which scofeed wrote the feed)
    rss = etree.fromstring(render.render("rss", ENTRIES[:1], CFG))
    assert rss.findtext("channel/generator") == f"scofeed {__version__}"


_text = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=80)


@settings(max_examples=60, deadline=None)
@given(title=_text, summary=_text, tags=st.lists(_text.filter(str.strip), max_size=3))
def test_any_entry_renders_well_formed_xml(title, summary, tags):
    e = entry(1, title=title.strip() or "x", summary=summary, tags=tuple(tags))
    for fmt in ("atom", "rss"):
        etree.fromstring(render.render(fmt, [e], CFG))


def test_relative_links_in_content_are_resolved_against_the_entry_link():
    e = entry(
        1,
        url="https://eng.sectsco.org/20230421/1.html",
        link="https://eng.sectsco.org/20230421/1.html",
        content_html='<p>See <a href="/20230420/2.html">this</a> &amp; '
        '<img src="pic.png" alt="p"> and <a href="https://ok.example/">that</a>.</p>',
    )
    atom = etree.fromstring(render.render("atom", [e], CFG))
    rss = etree.fromstring(render.render("rss", [e], CFG))
    js = json.loads(render.render("json", [e], CFG))
    contents = [
        atom.find(f"{ATOM}entry/{ATOM}content").text,
        rss.find("channel/item/{http://purl.org/rss/1.0/modules/content/}encoded").text,
        js["items"][0]["content_html"],
    ]
    for html in contents:
        assert 'href="https://eng.sectsco.org/20230420/2.html"' in html
        assert 'src="https://eng.sectsco.org/20230421/pic.png"' in html
        assert 'href="https://ok.example/"' in html
        assert "&amp;" in html
    # an entry without a URL of its own: resolved against its page under base_url
    local = entry(2, content_html='<p><a href="/about">about</a></p>')
    data = json.loads(render.render("json", [local], CFG))
    assert (
        data["items"][0]["content_html"] == '<p><a href="http://127.0.0.1:8080/about">about</a></p>'
    )


def test_atom_entries_of_one_day_have_distinct_updated_values():
    """W3C Feed Validator warning DuplicateUpdated: date-only releases of one day would
    all say midnight. Each gets a stable sub-second offset drawn from its id."""
    day = datetime(2023, 4, 21, tzinfo=UTC)
    same_day = [entry(n, published=day, updated=day) for n in range(1, 8)]
    exact = entry(9, published=day, updated=day.replace(hour=10, microsecond=250))
    root = etree.fromstring(render.render("atom", [exact, *same_day], CFG))
    written = [u.text for u in root.iterfind(f"{ATOM}entry/{ATOM}updated")]
    assert len(set(written)) == len(written)
    assert written[0] == exact.updated.isoformat()  # a precise time is left alone
    for text in written[1:]:
        assert timedelta(0) < datetime.fromisoformat(text) - day < timedelta(seconds=1)
    # stable per entry: the same entry says the same time in another company
    alone = etree.fromstring(render.render("atom", [same_day[3]], CFG))
    assert alone.findtext(f"{ATOM}entry/{ATOM}updated") == written[4]
    # RSS and JSON Feed keep the dates as stored
    js = json.loads(render.render("json", same_day, CFG))
    assert {i["date_modified"] for i in js["items"]} == {day.isoformat()}


# -- tombstones of withdrawn entries (RFC 6721) -------------------------------------------

TOMBSTONES = "{http://purl.org/atompub/tombstones/1.0}"


def test_tombstones_follow_the_entries_and_only_atom_has_them():
    gone = entry(9, withdrawal=Withdrawal(datetime(2026, 11, 1, 12, tzinfo=UTC), "Mistake"))
    plain = render.render("atom", ENTRIES, CFG)
    data = render.render("atom", ENTRIES, CFG, [gone])
    assert data != plain and render.render("atom", ENTRIES, CFG, []) == plain
    root = etree.fromstring(data)
    assert root.nsmap["at"] == TOMBSTONES[1:-1]  # declared once, on the feed
    assert [c.tag for c in root][-6:] == [f"{ATOM}entry"] * 5 + [f"{TOMBSTONES}deleted-entry"]
    (stone,) = root.findall(f"{TOMBSTONES}deleted-entry")
    assert (stone.get("ref"), stone.get("when")) == (gone.id, "2026-11-01T12:00:00Z")
    assert RFC3339.match(stone.get("when"))
    assert root.findtext(f"{ATOM}updated") == "2026-11-01T12:00:00+00:00"  # the latest change
    assert not feedparser.parse(data).bozo
    for fmt in ("rss", "json"):
        assert render.render(fmt, ENTRIES, CFG, [gone]) == render.render(fmt, ENTRIES, CFG)


@settings(max_examples=60, deadline=None)
@given(reason=st.text(max_size=200))  # control characters and surrogates too
def test_any_reason_renders_well_formed_xml(reason):
    gone = entry(9, withdrawal=Withdrawal(datetime(2026, 11, 1, tzinfo=UTC), clean_reason(reason)))
    root = etree.fromstring(render.render("atom", ENTRIES, CFG, [gone]))
    assert root.find(f"{TOMBSTONES}deleted-entry").get("ref") == gone.id


def test_edited_trees_give_the_bytes_of_feedgen_serialised_and_parsed_back(monkeypatch):
    """Atom and RSS are edited as the trees feedgen builds (its Atom tree moved into the
    Atom namespace); the bytes are those of its own serialisation parsed back, in every
    kind of document: subscription feeds with hubs and tombstones, archive pages, sets
    in another language, entries with tags, other languages and relative links."""
    from scofeed.render import catalog, xmlfeeds

    cfg = load(None, ["websub.hubs=['https://hub.example/']"])
    gone = entry(9, withdrawal=Withdrawal(datetime(2026, 11, 1, 12, tzinfo=UTC), "A <b> & c"))
    entries = [
        *ENTRIES,
        entry(6, language="ru", tags=("безопасность", "a&b"), title="Заголовок"),
        entry(7, content_html='<p><a href="/x?a=1&amp;b=2">rel</a> <img src="i.png"></p>'),
    ]
    russian = catalog.feed_sets(cfg, ["ru"])[1]
    heads = []
    for fmt in ("atom", "rss"):
        heads += [
            (fmt, catalog.head(cfg, catalog.main_set(cfg), fmt), ()),
            (fmt, catalog.head(cfg, catalog.main_set(cfg), fmt, "2020-01"), ()),
            (
                fmt,
                catalog.archive_head(cfg, catalog.main_set(cfg), fmt, "2020-01", None, "2020-02"),
                (),
            ),
            (fmt, catalog.head(cfg, russian, fmt, None, True), ()),
        ]
    heads.append(("atom", catalog.head(cfg, catalog.main_set(cfg), "atom"), (gone,)))
    built = [render.render(fmt, entries, cfg, w, head) for fmt, head, w in heads]
    monkeypatch.setattr(xmlfeeds, "_atom_tree", lambda fg: etree.fromstring(fg.atom_str()))
    monkeypatch.setattr(xmlfeeds, "_rss_tree", lambda fg: etree.fromstring(fg.rss_str()))
    assert built == [render.render(fmt, entries, cfg, w, head) for fmt, head, w in heads]
    assert (
        sum(b"hub.example" in b for b in built) >= 4 and sum(b"fh:archive" in b for b in built) == 2
    )


def test_an_entrys_tags_reach_feedgen_in_one_call(monkeypatch):
    """feedgen's ``category()`` rebuilds the entry's whole category list on every call:
    a call per tag made rendering quadratic in the tags, and one release stating 20,000
    tags (a 190 kB file) kept a build rendering for over 200 s (1.5 s now)."""
    from feedgen.entry import FeedEntry

    calls = []
    real = FeedEntry.category

    def counted(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(FeedEntry, "category", counted)
    tags = tuple(f"tag {n}" for n in range(50))
    for fmt in ("atom", "rss"):
        calls.clear()
        data = render.render(fmt, [entry(1, tags=tags), entry(2, tags=())], CFG)
        assert len(calls) == 1, fmt
        (first, second) = feedparser.parse(data).entries
        assert [t.term for t in first.tags] == list(tags)
        assert "tags" not in second


def test_a_site_of_its_own_title_keeps_it_in_its_language_feeds():
    """The en, ru and zh feeds' default titles are the SCO Secretariat's own: a site
    titled otherwise (a mirror, an aggregator of its own name) had its language feeds
    say "SCO Secretariat press releases (English)" and "Пресс-релизы Секретариата ШОС",
    claiming to be the Secretariat's. They take the site's title and description then,
    as every other language does; a configured title still wins."""
    stock = catalog.language_set(CFG, "ru")
    assert stock.title == "Пресс-релизы Секретариата ШОС" and stock.title_language == "ru"
    cfg = load(None, ["site.title='SCO & partners'", "site.description='Our own digest.'"])
    for code, name in (("en", "English"), ("ru", "Русский"), ("zh", "中文"), ("ar", "ar")):
        fs = catalog.language_set(cfg, code)
        assert (fs.title, fs.description) == (f"SCO & partners ({name})", "Our own digest.")
        assert fs.title_language is None  # the site's title, in the site's language
    own = load(None, ["site.title='SCO & partners'", "feeds.languages.ru.title='Наш дайджест'"])
    fs = catalog.language_set(own, "ru")
    assert fs.title == "Наш дайджест" and fs.title_language == "ru"


def test_opml_subscribes_to_atom_else_rss_else_json_once_per_set():
    sets = [catalog.main_set(CFG), catalog.language_set(CFG, "ru")]
    for formats, main, others in [
        ('["json", "rss", "atom"]', "atom.xml", {"rssUrl": "rss.xml", "jsonUrl": "feed.json"}),
        ('["json", "rss"]', "rss.xml", {"jsonUrl": "feed.json"}),
        ('["json"]', "feed.json", {}),
    ]:
        cfg = load(None, [f"feeds.formats={formats}"])
        data = opml.render_opml(cfg, sets)
        root = etree.fromstring(data)
        outlines = root.findall("body/outline")
        assert [o.get("xmlUrl") for o in outlines] == [
            cfg.site.base_url + main,
            cfg.site.base_url + "ru/" + main,
        ]
        assert [o.get("language") for o in outlines] == [None, "ru"]
        ns = "{" + opml.NS + "}"
        for o, prefix in zip(outlines, ("", "ru/"), strict=True):
            extra = {k.removeprefix(ns): v for k, v in o.attrib.items() if k.startswith(ns)}
            assert extra == {k: cfg.site.base_url + prefix + v for k, v in others.items()}
        assert (b"xmlns:scofeed" in data) == bool(others)  # declared only when used
        parsed = listparser.parse(data)
        assert not parsed.bozo
        assert [f.url for f in parsed.feeds] == [o.get("xmlUrl") for o in outlines]


@pytest.mark.parametrize(
    ("offset", "shown"),
    [
        (timedelta(hours=5, minutes=45), "+0000"),  # Nepal: RSS gives the instant in UTC
        (timedelta(hours=-9, minutes=-30), "-0930"),  # a half hour: kept as stated
        (timedelta(hours=8, minutes=5, seconds=43), "+0000"),  # local mean time: seconds
    ],
)
def test_an_rss_date_is_in_utc_when_its_offset_is_no_whole_or_half_hour(offset, shown):
    """The W3C Feed Validator warns "Problematical RFC 822 date-time value" for an RSS
    date whose offset's minutes are not 00 or 30 (a site in Asia/Kathmandu, a release
    stating +05:45): RSS gives that instant in UTC, Atom and JSON Feed as stated."""
    zone = timezone(offset)
    stated = datetime(2023, 4, 23, 9, 15, tzinfo=zone)
    e = entry(1, published=stated, updated=stated + timedelta(hours=1))
    channel = etree.fromstring(render.render("rss", [e], CFG)).find("channel")
    for text in (
        channel.findtext("item/pubDate"),
        channel.findtext("pubDate"),
        channel.findtext("lastBuildDate"),
    ):
        assert text.endswith(" " + shown), text
    assert parsedate_to_datetime(channel.findtext("item/pubDate")) == stated  # the instant
    atom = etree.fromstring(render.render("atom", [e], CFG))
    assert datetime.fromisoformat(atom.findtext(f"{ATOM}entry/{ATOM}published")) == stated
    assert atom.findtext(f"{ATOM}entry/{ATOM}published").startswith("2023-04-23T09:15:00")


DC = "{http://purl.org/dc/elements/1.1/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def test_atom_and_rss_write_a_language_in_its_extlang_form():
    """Cantonese is "yue" (the canonical tag) or "zh-yue" (its extlang form, RFC 5646
    section 4.5): the same language. Atom and RSS say "zh-yue", which readers that know
    only ISO 639-1 and 639-2 codes take for Chinese (the W3C Feed Validator refused
    "yue" and "cmn" as an error); JSON Feed keeps the canonical tag."""
    entries = [
        entry(3, language="yue-HK"),
        entry(2, language="cmn-Hans"),
        entry(1, language="arz"),
        entry(4, language="pt-BR"),
    ]
    atom = etree.fromstring(render.render("atom", entries, CFG))
    assert [e.get(XML_LANG) for e in atom.iterfind(f"{ATOM}entry")] == [
        "zh-yue-HK", "zh-cmn-Hans", "ar-arz", "pt-BR",
    ]  # fmt: skip
    rss = etree.fromstring(render.render("rss", entries, CFG))
    assert [i.findtext(f"{DC}language") for i in rss.iterfind("channel/item")] == [
        "zh-yue-HK", "zh-cmn-Hans", "ar-arz", "pt-BR",
    ]  # fmt: skip
    js = json.loads(render.render("json", entries, CFG))
    assert [i["language"] for i in js["items"]] == ["yue-HK", "cmn-Hans", "arz", "pt-BR"]
    # a language's own feeds: Atom's xml:lang and RSS's <language> say it so too
    cantonese = catalog.language_set(CFG, "yue")
    alone = [entry(1, language="yue")]
    for fmt in ("atom", "rss"):
        head = catalog.head(CFG, cantonese, fmt)
        root = etree.fromstring(render.render(fmt, alone, CFG, head=head))
        said = root.get(XML_LANG) if fmt == "atom" else root.findtext("channel/language")
        assert said == "zh-yue"
        assert root.find(f"{ATOM}entry") is None or root.find(f"{ATOM}entry").get(XML_LANG) is None
    js = json.loads(render.render("json", alone, CFG, head=catalog.head(CFG, cantonese, "json")))
    assert js["language"] == "yue"


def test_opml_writes_languages_as_the_feeds_do_and_a_title_as_importers_read_it():
    """Found by a validator run: the OPML's language="yue" and "cmn" were errors
    ("language must be an ISO-639 language code"; Atom and RSS write "zh-yue",
    "zh-cmn"). A title's "&" and "<" stay as written in ``text``: escaped as HTML once
    more (OPML 2.0 says it may hold HTML), listparser read "R&amp;D" (review)."""
    cfg = load(None, ["feeds.metadata_tags=true"])
    sets = [catalog.language_set(cfg, code) for code in ("yue", "cmn", "ru")]
    sets.append(catalog.tag_set(cfg, "R&D <lab>"))
    root = etree.fromstring(opml.render_opml(cfg, sets))
    outlines = root.findall("body/outline")
    assert [o.get("language") for o in outlines] == ["zh-yue", "zh-cmn", "ru", None]
    tag = outlines[-1]
    assert tag.get("text") == tag.get("title") and tag.get("title").endswith("R&D <lab>")
    imported = listparser.parse(opml.render_opml(cfg, sets))
    assert imported.feeds[-1].title.endswith("R&D <lab>")
