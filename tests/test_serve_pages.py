"""What a visitor sees on the HTML pages, through a real waitress server: the day each
release is shown on (in the site's time zone), the writing direction of right-to-left
releases, and the headers of the plain-text error answers."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
import lxml.html
import pytest

from scofeed.model import Withdrawal
from scofeed.normalise import id_slug
from scofeed.render import CONTENT_TYPES
from scofeed.serve import App, HttpServer
from scofeed.serve.pages import Page, direction, index_html, withdrawn_html
from scofeed.store import Store
from scofeed.store import published as published_rows
from tests.conftest import BASE_CONFIG
from tests.test_serve import Served, serving

RELEASES = {
    # 23:30 UTC on 10 March is 07:30 on 11 March in Beijing (site.timezone)
    "late.md": "---\ntitle: Late evening release in UTC\ndate: 2024-03-10T23:30:00+00:00\n"
    "---\nThe Secretariat published this late in the evening, UTC, on digital economy.\n",
    # no date anywhere: dated by the file's mtime (in whole seconds)
    "undated.txt": "Undated release\n\nThe Secretariat held a meeting on cooperation.\n",
    # a stated time with microseconds (a CMS's export; an entry stored when file times
    # kept them)
    "precise.md": "---\ntitle: Precisely timed release\ndate: 2026-03-31T23:33:20.123456+00:00\n"
    "---\nThe Secretariat published this at a precise moment, on transport.\n",
    "russian.txt": "Генеральный секретарь ШОС встретился с делегацией\n\n"
    "5 марта 2024 года Генеральный секретарь ШОС провёл встречу в Секретариате.\n",
    "chinese.txt": "上合组织秘书长会见代表团\n\n2024年3月6日，上合组织秘书长在秘书处会见代表团。\n",
    "official.md": "---\ntitle: Official page release\ndate: 2024-03-08\n"
    "url: https://eng.sectsco.org/news/20240308/1.html\n---\nOn the official site, with "
    "[the Charter](/documents/charter.html) and ![a photo](img/p.jpg).\n",
    "arabic.md": "---\ntitle: منظمة شنغهاي للتعاون تعقد اجتماعا\ndate: 2024-03-09\nlang: ar\n"
    "---\nعقدت منظمة شنغهاي للتعاون اجتماعا في بكين لمناقشة التعاون الاقتصادي.\n",
}


@pytest.fixture
def pages(site):
    for name, text in RELEASES.items():
        (site.sources / name).write_text(text, encoding="utf-8")
    os.utime(site.sources / "undated.txt", (1775000000.123456, 1775000000.123456))
    yield from serving(site)


def _entry(served: Served, title: str) -> tuple[str, lxml.html.HtmlElement]:
    e = next(e for e in published_rows.latest(served.store.db) if e.title == title)
    return id_slug(e.id), e


def _doc(served: Served, path: str) -> lxml.html.HtmlElement:
    status, _, body = served.get(path)
    assert status == 200, path
    return lxml.html.fromstring(body)


def test_dates_are_the_day_in_the_sites_time_zone(pages):
    """A release stamped 23:30 UTC came out on the next day in Beijing: the index and its
    page say 2024-03-11 (they said 2024-03-10, the day of the stamp's own offset)."""
    assert pages.cfg.site.timezone == "Asia/Shanghai"
    slug, e = _entry(pages, "Late evening release in UTC")
    index = _doc(pages, "/")
    (item,) = index.xpath(f'//article[h3/a/@href="entries/{slug}"]')
    assert item.xpath("string(.//time/@datetime)") == "2024-03-10T23:30:00+00:00"
    assert item.xpath("string(.//time)") == "2024-03-11"
    page = _doc(pages, f"/entries/{slug}")
    assert page.xpath("string(//article//time)") == "2024-03-11"


def test_right_to_left_releases_are_marked_rtl(pages):
    """An Arabic release on an English site: its article is dir="rtl" on the index and
    on its page (without it the text ran left to right, its full stop on the wrong end)."""
    slug, _ = _entry(pages, "منظمة شنغهاي للتعاون تعقد اجتماعا")
    index = _doc(pages, "/")
    assert (index.get("lang"), index.get("dir")) == ("en", "ltr")
    (item,) = index.xpath(f'//article[h3/a/@href="entries/{slug}"]')
    assert (item.get("lang"), item.get("dir")) == ("ar", "rtl")
    assert {a.get("dir") for a in index.xpath("//article[@lang!='ar']")} == {"ltr"}
    page = _doc(pages, f"/entries/{slug}")
    (article,) = page.xpath("//article")
    assert (article.get("lang"), article.get("dir")) == ("ar", "rtl")


# HTML's valid global date and time string: at most three digits of a second
HTML_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,3})?)?(?:Z|[+-]\d\d:\d\d)")


def test_time_elements_hold_valid_html_datetimes(pages):
    """A release dated 2026-03-31T23:33:20.123456+00:00 was stamped so: six digits of a
    second, which HTML's datetime syntax does not allow."""
    slug, e = _entry(pages, "Precisely timed release")
    assert e.date_source == "metadata" and e.published.microsecond
    for path in ("/", f"/entries/{slug}"):
        stamps = _doc(pages, path).xpath("//time/@datetime")
        assert stamps and all(HTML_DATETIME.fullmatch(s) for s in stamps), stamps
    index = _doc(pages, "/")
    (item,) = index.xpath(f'//article[h3/a/@href="entries/{slug}"]')
    assert item.xpath("string(.//time/@datetime)") == "2026-03-31T23:33:20.123+00:00"


def test_feed_titles_in_another_language_are_marked_with_it(pages):
    """The Russian and Chinese feeds' own titles on the English index and on an entry
    page carry their lang (they had none: read out, and shaped, as English); a title in
    the site's language (the English feeds, Arabic's fallback title) needs none."""
    for path in ("/", "/entries/" + _entry(pages, "上合组织秘书长会见代表团")[0]):
        doc = _doc(pages, path)
        marked = {
            (span.get("lang"), span.get("dir")): span.text for span in doc.xpath("//li/span[@lang]")
        }
        if path == "/":
            assert marked == {
                ("ru", "ltr"): "Пресс-релизы Секретариата ШОС",
                ("zh", "ltr"): "上海合作组织秘书处新闻稿",
            }
            arabic = doc.xpath('//aside//li[a/@href="ar/atom.xml"]')[0]
            assert arabic.text.startswith("SCO Secretariat press releases (ar)")
        else:
            assert marked == {("zh", "ltr"): "上海合作组织秘书处新闻稿"}


def test_the_pages_own_words_inside_a_foreign_entry_keep_the_sites_language(pages):
    """On the page of a Russian or Arabic release, the page's English words (the date
    line with the site's author, Event date, Tags) were inside the article's lang="ru"
    (read out in Russian) or dir="rtl" (laid out right to left); they are marked en."""
    for title in ("Генеральный секретарь ШОС встретился с делегацией",
                  "منظمة شنغهاي للتعاون تعقد اجتماعا"):  # fmt: skip
        slug, e = _entry(pages, title)
        page = _doc(pages, f"/entries/{slug}")
        (article,) = page.xpath("//article")
        assert article.get("lang") == e.language
        words = article.xpath("p[time] | p[starts-with(., 'Tags:')]")
        assert words and all((p.get("lang"), p.get("dir")) == ("en", "ltr") for p in words)
        assert "SCO Secretariat" in words[0].text_content()
        # the release's own text inherits the article's language
        text = [p for p in article.xpath("p") if p not in words]
        assert text and all(p.get("lang") is None for p in text)
    # an English release on the English site: nothing to mark
    slug, _ = _entry(pages, "Late evening release in UTC")
    page = _doc(pages, f"/entries/{slug}")
    assert page.xpath("//article//@lang") == ["en"]


def test_an_entry_page_offers_its_own_feeds_to_feed_readers(pages):
    """Given the address of a Russian release, a reader's autodiscovery found only the
    main (every language) feeds; it now also finds the release's language feeds (with
    hreflang) and its tags' feeds, after the main ones, each served with its type."""
    for title, own in (
        ("Генеральный секретарь ШОС встретился с делегацией", [("ru/", "ru")]),
        ("Late evening release in UTC", [("en/", "en"), ("tags/economy/", None)]),
    ):
        slug, _ = _entry(pages, title)
        path = f"/entries/{slug}"
        links = _doc(pages, path).xpath('//head/link[@rel="alternate"]')
        wanted = [
            (prefix + name, CONTENT_TYPES[fmt].split(";")[0], hreflang)
            for prefix, hreflang in [("", None), *own]
            for fmt, name in (("atom", "atom.xml"), ("rss", "rss.xml"), ("json", "feed.json"))
        ]
        found = [
            (urljoin("http://x" + path, a.get("href"))[len("http://x/") :], a.get("type"),
             a.get("hreflang"))
            for a in links
        ]  # fmt: skip
        assert found == wanted
        titles = [a.get("title") for a in links]
        assert len(set(titles)) == len(titles) and all(t.endswith(")") for t in titles)
        for href, kind, _ in found:
            status, headers, _ = pages.get("/" + href)
            assert status == 200 and headers["content-type"].startswith(kind), href
    # the index offers the main feeds only (every set is listed on the page and in OPML)
    index = _doc(pages, "/").xpath('//head/link[@rel="alternate"]/@href')
    assert index == ["atom.xml", "rss.xml", "feed.json"]


def test_pages_name_their_canonical_address(pages):
    """Every page is reachable under more than one address (a query string, the host
    it was asked by), and an entry page repeats an official page: each now names its
    canonical one (none had any)."""
    base = pages.cfg.site.base_url
    assert _doc(pages, "/?utm_source=x").xpath('//head/link[@rel="canonical"]/@href') == [base]
    page3 = lxml.html.fromstring(index_html(pages.cfg, [], [], Page(3, 4)))
    assert page3.xpath('//head/link[@rel="canonical"]/@href') == [base + "page/3"]
    for title, wanted in (
        ("Official page release", "https://eng.sectsco.org/news/20240308/1.html"),
        ("Undated release", None),
    ):
        slug, _ = _entry(pages, title)
        doc = _doc(pages, f"/entries/{slug}")
        canonical = doc.xpath('//head/link[@rel="canonical"]/@href')
        assert canonical == [wanted or f"{base}entries/{slug}"]


def test_relative_links_in_a_release_point_into_its_own_page(pages):
    """A release from an official page links '/documents/charter.html': the feeds
    resolve it against the page's URL, but the entry page served it as it was, so it
    pointed into our site (a 404) and its photo did not load."""
    slug, e = _entry(pages, "Official page release")
    assert 'href="/documents/charter.html"' in e.content_html
    doc = _doc(pages, f"/entries/{slug}")
    (link,) = doc.xpath('//article//a[. = "the Charter"]/@href')
    assert link == "https://eng.sectsco.org/documents/charter.html"
    assert doc.xpath("//article//img/@src") == ["https://eng.sectsco.org/news/20240308/img/p.jpg"]


@pytest.mark.parametrize(
    "tag,expected",
    [("ar", "rtl"), ("he", "rtl"), ("fa-IR", "rtl"), ("ur", "rtl"), ("az-Arab", "rtl")]
    + [("iw", "rtl"), ("ji", "rtl"), ("prs", "rtl"), ("pnb", "rtl"), ("nqo", "rtl")]
    + [("en", "ltr"), ("ru", "ltr"), ("zh-Hans", "ltr"), ("ku-Latn", "ltr"), ("uz", "ltr")],
)
def test_direction_of_a_language_tag(tag, expected):
    assert direction(tag) == expected


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("path", ["/", "/page/1", "/atom.xml", "/healthz"])
def test_a_refused_method_is_plain_text_like_every_error(pages, method, path):
    """A 405 said what it was in a body of no stated type (the other errors are
    text/plain; with nosniff, a browser may not show a body of no type). A published
    file also allows OPTIONS (a CORS preflight), which it answers."""
    status, headers, body = pages.get(path, method=method)
    if path == "/atom.xml" and method == "OPTIONS":
        assert status == 204 and body == b"" and "content-length" not in headers
        assert headers["access-control-allow-origin"] == "*"
        assert headers["access-control-allow-methods"] == "GET, HEAD"
        assert "If-None-Match" in headers["access-control-allow-headers"]
        assert headers["allow"] == "GET, HEAD, OPTIONS"
        return
    allowed = "GET, HEAD, OPTIONS" if path == "/atom.xml" else "GET, HEAD"
    assert status == 405 and headers["allow"] == allowed
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert body == b"method not allowed\n"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("path", ["/nope", "/entries/nope", "/page/99", "/../config.toml"])
def test_any_method_on_a_path_nothing_is_served_at_is_404(pages, method, path):
    """A POST to a path that serves nothing said 405, "method not allowed", as if a GET
    would find something there."""
    status, headers, _ = pages.get(path, method=method)
    assert status == 404 and "allow" not in headers, (method, path)


def test_a_get_of_the_hub_is_plain_text_too(site):
    cfg = site.config()
    store = Store(cfg.paths.state)
    server = HttpServer(App(lambda: cfg, store, on_hub_request=lambda: None), "127.0.0.1", 0)
    server.start()
    try:
        host, port = server.addresses[0]
        served = Served(host, port, cfg, store, site.feeds)
        status, headers, body = served.get(cfg.websub.hub_path)
        assert status == 405 and headers["allow"] == "POST"
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert body == b"the hub takes POST requests\n"
    finally:
        server.stop()
        store.close()


def test_a_site_in_another_language_marks_the_pages_english_words(site):
    """With ``site.language = "ru"`` the pages' own words ("Latest releases", "Tags:",
    the pager) were read out as Russian, and on an English release's page they were
    marked lang="ru" inside its English article. They are marked en wherever the text
    around them is not English; the site's title and author keep the site's language."""
    for name, text in RELEASES.items():
        (site.sources / name).write_text(text, encoding="utf-8")
    russian = '[site]\nlanguage = "ru"\ntitle = "Пресс-релизы ШОС"\nauthor = "Секретариат ШОС"\n'
    site.config_path.write_text(BASE_CONFIG.replace("[site]\n", russian), encoding="utf-8")
    served = serving(site)
    pages = next(served)
    try:
        index = _doc(pages, "/")
        assert index.get("lang") == "ru"
        assert index.xpath("//header/h1")[0].get("lang") is None  # the site's title
        for heading in ("Latest releases", "Subscribe"):
            (h2,) = index.xpath(f"//h2[. = '{heading}']")
            assert (h2.get("lang"), h2.get("dir")) == ("en", "ltr")
        for title, words in (
            ("Late evening release in UTC", None),  # inside its English article
            ("Генеральный секретарь ШОС встретился с делегацией", "en"),
        ):
            slug, e = _entry(pages, title)
            page = _doc(pages, f"/entries/{slug}")
            assert page.xpath("//article/@lang") == [e.language], title
            line = page.xpath("//article/p[time]")[0]  # the dates and author
            assert line.get("lang") == words
            (author,) = line.xpath("span[@lang]")
            assert (author.get("lang"), author.text) == ("ru", "Секретариат ШОС")
            heading = page.xpath("//nav/h2")[0]
            assert heading.get("lang") == "en"
            assert page.xpath("//nav/@aria-labelledby") == [heading.get("id")]
    finally:
        next(served, None)


PROSE_TITLES = {
    "lt.txt": ("x<y and y>z: the SCO sets a rule", "x<y and y>z: the SCO sets a rule\n\n"
               "On 2 March 2025, the SCO met in Beijing to talk about it.\n"),
    "lt.md": ("x<y and y>z: a Markdown heading", "# x<y and y>z: a Markdown heading\n\n"
              "On 3 March 2025, the SCO met in Minsk to talk about it.\n"),
    "lt.json": ("x<y and y>z: a JSON title",
                '{"title": "x<y and y>z: a JSON title", "date": "2025-03-04", '
                '"text": "The SCO met in Baku to talk about it."}'),
}  # fmt: skip


def test_a_plain_text_title_with_words_between_angle_brackets_is_shown_exactly(site):
    """ "x<y and y>z" in a .txt title, a Markdown heading or a JSON title lost "y and
    y": ``<y and y>`` was taken for a tag (a name with attributes) and left out, and
    CommonMark's raw HTML took it for an element. Plain text stays plain text: every
    feed (feedparser reads Atom and RSS) and the pages show the title exactly."""
    for name, (_title, text) in PROSE_TITLES.items():
        (site.sources / name).write_text(text, encoding="utf-8")
    titles = {title for title, _text in PROSE_TITLES.values()}
    for served in serving(site):
        stored = {e.title: e for e in published_rows.latest(served.store.db)}
        assert titles <= set(stored)
        for fmt in ("atom.xml", "rss.xml"):
            parsed = feedparser.parse(served.get("/" + fmt)[2])
            assert not parsed.bozo, fmt
            assert titles <= {e.title for e in parsed.entries}, fmt
        doc = json.loads(served.get("/feed.json")[2])
        assert titles <= {item["title"] for item in doc["items"]}
        index = _doc(served, "/")
        assert titles <= {h.text_content() for h in index.xpath("//article/h3")}
        for title in titles:
            page = _doc(served, f"/entries/{id_slug(stored[title].id)}")
            assert page.xpath("string(//article/h1)") == title
            assert page.xpath("string(//title)").startswith(title)


AZERBAIJANI = {
    # Azerbaijani in Arabic script (as in Iran), in Latin script, and with no script
    "az_arab.md": "---\ntitle: آذربایجان هیئتی شانگهای تشکیلاتیندا\ndate: 2025-06-02\n"
    "lang: AZ-arab\n---\nآذربایجان هیئتی شانگهای همکارلیق تشکیلاتی‌نین دبیرلیگینده اولدو.\n",
    "az_latn.md": "---\ntitle: Azərbaycan nümayəndə heyəti ŞƏT-də\ndate: 2025-06-03\n"
    "lang: az-Latn\n---\nAzərbaycan nümayəndə heyəti ŞƏT Katibliyində olub.\n",
    "az.md": "---\ntitle: ŞƏT Baş katibi Bakıda\ndate: 2025-06-04\nlang: az\n---\n"
    "ŞƏT Baş katibi Bakıda görüşlər keçirib.\n",
}


def test_a_script_subtag_is_kept_and_the_languages_feed_holds_every_script(site):
    """A release stating "az-Arab" (a right-to-left script under a mostly left-to-right
    language code) was stored as "az" and shown left to right on the pages and in the
    feeds. Its tag is kept: the pages mark it dir="rtl", Atom says xml:lang="az-Arab"
    and JSON Feed "language": "az-Arab". The language's feeds are the code's: the "az"
    feeds ([feeds.languages.az]) hold it beside the az and az-Latn releases; no feeds
    are made for "az-Arab" or "az-Latn"."""
    site.write_config('[feeds.languages.az]\ntitle = "ŞƏT (Azərbaycanca)"\n')
    for name, text in AZERBAIJANI.items():
        (site.sources / name).write_text(text, encoding="utf-8")
    for served in serving(site):
        entries = {e.origin: e for e in published_rows.latest(served.store.db)}
        languages = {name: entries[name].language for name in AZERBAIJANI}
        assert languages == {"az_arab.md": "az-Arab", "az_latn.md": "az-Latn", "az.md": "az"}
        arab = entries["az_arab.md"]
        assert not (site.feeds / "az-Arab").exists() and not (site.feeds / "az-Latn").exists()
        # the az feeds hold all three, each marked with its own tag
        atom = feedparser.parse(served.get("/az/atom.xml")[2])
        assert not atom.bozo and atom.feed.title == "ŞƏT (Azərbaycanca)"
        tagged = {e.id: e.title_detail.language for e in atom.entries}
        assert tagged == {entries[n].id: languages[n] for n in AZERBAIJANI}
        rss = feedparser.parse(served.get("/az/rss.xml")[2])
        assert not rss.bozo and {e.id for e in rss.entries} == set(tagged)
        items = json.loads(served.get("/az/feed.json")[2])["items"]
        assert {i["id"]: i["language"] for i in items} == {
            entries[n].id: languages[n] for n in AZERBAIJANI
        }
        main = feedparser.parse(served.get("/atom.xml")[2])
        assert {e.id: e.title_detail.language for e in main.entries}[arab.id] == "az-Arab"
        # the pages: right to left for az-Arab, left to right for the others
        index = _doc(served, "/")
        for name, dir_ in (("az_arab.md", "rtl"), ("az_latn.md", "ltr"), ("az.md", "ltr")):
            slug = id_slug(entries[name].id)
            (item,) = index.xpath(f'//article[h3/a/@href="entries/{slug}"]')
            assert (item.get("lang"), item.get("dir")) == (languages[name], dir_)
            page = _doc(served, f"/entries/{slug}")
            (article,) = page.xpath("//article")
            assert (article.get("lang"), article.get("dir")) == (languages[name], dir_)
            # the entry page offers the az feeds
            assert page.xpath('//link[@rel="alternate"][@hreflang="az"]/@href')
        # feeds.opml lists one az set
        opml = (site.feeds / "feeds.opml").read_text(encoding="utf-8")
        assert opml.count('language="az"') == 1 and "az-Arab" not in opml


PERSIAN = (
    "---\ntitle: نشست سازمان همکاری شانگهای\ndate: 2024-03-09\nlang: fa\n"
    "tags: ['سازمان همکاری شانگهای (سهش)', 'نشست ۲۰۲۶!']\n---\n"
    "نشست سازمان همکاری شانگهای در پکن برگزار شد.\n"
)


def test_tag_names_are_isolated_from_the_english_words_around_them(site):
    """A Persian tag's "!" stood at the end of the next tag's link, the tags swapped
    places and "(سهش)" turned round in the English lines: each name is a ``<bdi>``, on
    the entry's page, the tag's page heading and the feed titles naming it."""
    site.write_config("[feeds]\nmetadata_tags = true\n")
    (site.sources / "fa.md").write_text(PERSIAN, encoding="utf-8")
    for served in serving(site):
        slug, entry = _entry(served, "نشست سازمان همکاری شانگهای")
        page = _doc(served, f"/entries/{slug}")
        links = page.xpath("//a[@rel='tag']")
        assert [a.xpath("string(bdi)") for a in links] == list(entry.tags)
        assert all(len(a) == 1 and not (a.text or "").strip() for a in links)
        titles = page.xpath("//nav[@aria-labelledby='in-feeds']//li/bdi/text()")
        assert sorted(titles) == sorted(entry.tags)
        tag_page = _doc(served, links[1].get("href").replace("..", "", 1))
        (heading,) = tag_page.xpath("//h2[starts-with(., 'Releases tagged')]")
        assert heading.xpath("string(bdi)") == entry.tags[1]


def test_an_entry_page_and_a_withdrawn_ones_stand_in_landmarks(pages):
    """The link home stood bare in the body of every entry page, and the withdrawn
    page had no <main>: a screen reader moving by landmarks skipped them."""
    slug, entry = _entry(pages, "Official page release")
    page = _doc(pages, f"/entries/{slug}")
    body = page.xpath("//body")[0]
    assert [child.tag for child in body] == ["header", "main"]
    assert page.xpath("//header/p/a/@href") == ["../"]
    gone = replace(entry, withdrawal=Withdrawal(datetime(2024, 3, 9, tzinfo=UTC), "A mistake"))
    doc = lxml.html.fromstring(withdrawn_html(pages.cfg, gone))
    assert [child.tag for child in doc.xpath("//body")[0]] == ["header", "main"]
    assert doc.xpath("string(//main/h1)") == "This release was withdrawn"
