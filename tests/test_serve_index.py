"""The HTML index through a real waitress server: paging through the whole archive,
every feed linked, entry pages linking their language and tag feeds."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urljoin

import feedparser
import lxml.etree
import lxml.html
import pytest

from scofeed import config as config_mod
from scofeed.activitypub import documents
from scofeed.build import build as build_feeds
from scofeed.config import Config
from scofeed.model import Withdrawal
from scofeed.normalise import id_slug
from scofeed.publish import lists_with
from scofeed.render.catalog import feed_sets
from scofeed.serve import App, HttpServer
from scofeed.serve.pages import PAGE_SIZE, clip
from scofeed.store import Store
from scofeed.store import published as published_rows
from scofeed.store import withdrawals as withdrawal_rows
from tests.multilingual import TAGS, write_releases
from tests.test_serve import NOW

N = PAGE_SIZE * 2 + 7  # three pages, the last one short


@dataclass
class Site:
    host: str
    port: int
    cfg: Config
    store: Store

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def doc(self, path: str) -> lxml.html.HtmlElement:
        status, _, body = self.get(path)
        assert status == 200, path
        return lxml.html.fromstring(body)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("multilingual")
    (root / "sources").mkdir()
    write_releases(root / "sources", N)
    (root / "config.toml").write_text(
        '[site]\nbase_url = "http://127.0.0.1:8080/"\nid_authority = "test.example,2026"\n'
        '[paths]\nsources = "sources"\nfeeds = "feeds"\nstate = "state/test.sqlite3"\n'
        "[limits]\nsettle = 0\n" + TAGS,  # files written just now: built at once
        encoding="utf-8",
    )
    cfg = config_mod.load(root / "config.toml", [])
    store = Store(cfg.paths.state)
    report = build_feeds(cfg, store, NOW)
    assert report.new == N and not report.rejected
    server = HttpServer(App(lambda: cfg, store), "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0]
    yield Site(host, port, cfg, store)
    server.stop()
    store.close()


def _resolve(base: str, href: str) -> str:
    """A relative href as the path a browser would request from ``base``."""
    return urljoin("http://x" + base, href)[len("http://x") :]


def test_pages_walk_the_whole_archive_newest_first_each_entry_once(served):
    expected = ["entries/" + id_slug(e.id) for e in published_rows.latest(served.store.db)]
    seen: list[str] = []
    path, previous = "/", None
    pages = 0
    while path is not None:
        doc = served.doc(path)
        pages += 1
        hrefs = doc.xpath('//ol[@class="entries"]/li/article/h3/a/@href')
        assert 0 < len(hrefs) <= PAGE_SIZE
        seen += [_resolve(path, h).lstrip("/") for h in hrefs]
        prev = doc.xpath('//head/link[@rel="prev"]/@href')
        assert [_resolve(path, h) for h in prev] == ([] if previous is None else [previous])
        assert doc.xpath('//nav//a[@rel="prev"]/@href') == prev
        nxt = doc.xpath('//head/link[@rel="next"]/@href')
        assert doc.xpath('//nav//a[@rel="next"]/@href') == nxt
        previous, path = path, (_resolve(path, nxt[0]) if nxt else None)
    assert pages == 3 and previous == "/page/3"
    assert seen == expected  # every entry exactly once, in order


@pytest.mark.parametrize("path", ["/page/4", "/page/0", "/page/02", "/page/", "/page/x"])
def test_no_page_past_the_end_or_malformed(served, path):
    assert served.get(path)[0] == 404


def test_page_1_is_the_root(served):
    status, headers, _ = served.get("/page/1")
    assert status == 301 and _resolve("/page/1", headers["location"]) == "/"


def test_index_lists_date_title_language_and_summary_per_entry(served):
    doc = served.doc("/")
    articles = doc.xpath('//ol[@class="entries"]/li/article')
    assert len(articles) == PAGE_SIZE
    assert doc.get("lang") == "en"
    assert {a.get("lang") for a in articles} == {"en", "ru", "zh"}
    newest = published_rows.latest(served.store.db, PAGE_SIZE)
    for article, e in zip(articles, newest, strict=True):
        assert article.get("lang") == e.language
        assert article.xpath("string(h3)") == e.title
        assert article.xpath("string(.//time/@datetime)") == e.published.isoformat()
        assert article.xpath("string(.//time)") == e.published.date().isoformat()
        assert e.summary.split()[0] in article.xpath("string(p[last()])")


def test_index_links_every_feed_and_the_opml(served):
    cfg = served.cfg
    for path in ("/", "/page/2"):
        doc = served.doc(path)
        hrefs = {_resolve(path, h) for h in doc.xpath("//aside//a/@href")}
        sets = feed_sets(cfg, published_rows.languages(served.store.db))
        assert len(sets) == 1 + 3 + 2  # main, en ru zh, economy security
        wanted = {"/" + fs.path(f) for fs in sets for f in cfg.feeds.formats}
        assert hrefs == wanted | {"/feeds.opml"}
        # autodiscovery: the main feeds only
        alternates = {_resolve(path, h) for h in doc.xpath('//head/link[@rel="alternate"]/@href')}
        assert alternates == {"/atom.xml", "/rss.xml", "/feed.json"}


def test_entry_page_links_back_to_its_language_and_tag_feeds(served):
    for e in published_rows.latest(served.store.db, 3):
        path = "/entries/" + id_slug(e.id)
        doc = served.doc(path)
        assert doc.xpath("string(//article/@lang)") == e.language
        links = {_resolve(path, h) for h in doc.xpath("//main/nav//a/@href")}
        assert e.tags  # every synthetic release has one
        wanted = {f"/{e.language}/atom.xml"} | {f"/tags/{t}/atom.xml" for t in e.tags}
        assert wanted <= links
        others = ({"en", "ru", "zh"} - {e.language}) | ({"economy", "security"} - set(e.tags))
        assert not any(f"/{o}/" in link for o in others for link in links)
        assert "/" in {_resolve(path, h) for h in doc.xpath("//body/header/p/a/@href")}


def test_index_pages_answer_304_to_their_etag(served):
    status, headers, _ = served.get("/page/2")
    assert status == 200
    again, _, body = served.get("/page/2", If_None_Match=headers["etag"])
    assert again == 304 and body == b""


def test_pages_are_gzipped_for_a_client_that_takes_it(served):
    status, plain, body = served.get("/page/2")
    zipped_status, zipped, packed = served.get("/page/2", Accept_Encoding="gzip")
    assert status == zipped_status == 200
    assert zipped["content-encoding"] == "gzip" and "content-encoding" not in plain
    assert gzip.decompress(packed) == body and len(packed) < len(body) / 3
    assert plain["vary"] == zipped["vary"] == "Accept-Encoding"
    assert zipped["etag"] == plain["etag"][:-1] + '-gz"'  # each encoding its own ETag
    again, _, empty = served.get("/page/2", Accept_Encoding="gzip", If_None_Match=zipped["etag"])
    assert again == 304 and empty == b""
    # an error in plain text is sent as it is
    status, headers, _ = served.get("/page/99", Accept_Encoding="gzip")
    assert status == 404 and "content-encoding" not in headers


def test_pages_answer_if_match_as_files_do(served):
    _, plain, _ = served.get("/")
    _, zipped, _ = served.get("/", Accept_Encoding="gzip")
    for etag in ("*", plain["etag"], zipped["etag"], f'"x", {plain["etag"]}'):
        status, _, body = served.get("/", If_Match=etag)
        assert status == 200 and body, etag
    status, headers, body = served.get("/", If_Match='"not-this-page"')
    assert status == 412 and headers["etag"] == plain["etag"]
    assert body.startswith(b"precondition failed")


def test_summaries_are_clipped_in_any_script():
    assert clip("short  text\n") == "short text"
    latin = clip("word " * 100, 50)
    assert len(latin) <= 50 and latin.endswith("word\u2026")
    chinese = clip("合作" * 200, 50)
    assert len(chinese) == 50 and chinese.endswith("\u2026")


def test_store_pages_match_the_newest_first_order_from_either_end(served):
    db = served.store.db
    ids = [e.id for e in published_rows.latest(db)]
    for offset in range(0, N + 2, 7):
        for limit in (1, 10, PAGE_SIZE):
            page = [e.id for e in published_rows.page(db, offset, limit, N)]
            assert page == ids[offset : offset + limit]
            assert page == [e.id for e in published_rows.page(db, offset, limit)]


def test_withdrawn_entries_leave_the_pages_and_the_languages(site):
    write_releases(site.sources, 6)
    cfg = site.config()
    store = Store(cfg.paths.state)
    try:
        build_feeds(cfg, store, NOW)
        db = store.db
        zh = [e.id for e in published_rows.latest(db) if e.language == "zh"]
        assert published_rows.languages(db) == ["en", "ru", "zh"] and zh
        with store.transaction() as tx:
            for entry_id in zh:
                withdrawal_rows.withdraw(tx, entry_id, Withdrawal(NOW, "test"))
        live = [e.id for e in published_rows.latest(db)]
        assert published_rows.languages(db) == ["en", "ru"]
        assert published_rows.count(db) == len(live) == 7 - len(zh)  # the seed and 6
        for offset in range(len(live)):
            assert [e.id for e in published_rows.page(db, offset, 2, len(live))] == live[offset:][
                :2
            ]
    finally:
        store.close()


def test_a_tags_pages_walk_its_releases_newest_first_each_once(served):
    """``/tags/<slug>/``, where the tag's feeds are, lists the releases with that tag as
    the index lists all of them (50 a page, then ``page/2``...), with the tag's feeds to
    subscribe to; every tag of an entry page links there. A hashtag of the ActivityPub
    post pointed to ``/?tag=...``, the index, which shows every release."""
    db = served.store.db
    tagged = ["entries/" + id_slug(e.id) for e in published_rows.latest(db) if "security" in e.tags]
    assert len(tagged) > PAGE_SIZE  # two pages
    assert published_rows.count(db, lists_with(db, "security")) == len(
        tagged
    )  # the triggers' count
    seen: list[str] = []
    path: str | None = "/tags/security/"
    while path is not None:
        doc = served.doc(path)
        assert doc.xpath("string(//main/h2)").startswith("Releases tagged security")
        assert _resolve(path, doc.xpath("string(//header/h1/a/@href)")) == "/"  # home
        seen += [_resolve(path, h).lstrip("/") for h in doc.xpath("//ol/li/article/h3/a/@href")]
        feeds = {_resolve(path, h) for h in doc.xpath("//aside//a/@href")}
        own = {"/tags/security/" + name for name in ("atom.xml", "rss.xml", "feed.json")}
        assert feeds == own | {"/"}
        alternates = {_resolve(path, h) for h in doc.xpath('//head/link[@rel="alternate"]/@href')}
        assert "/tags/security/atom.xml" in alternates and "/atom.xml" in alternates
        nxt = doc.xpath('//head/link[@rel="next"]/@href')
        path = _resolve(path, nxt[0]) if nxt else None
    assert seen == tagged
    canonical = served.doc("/tags/security/").xpath('string(//link[@rel="canonical"]/@href)')
    assert canonical == served.cfg.site.base_url + "tags/security/"
    for path, where in (
        ("/tags/security", "/tags/security/"),
        ("/tags/security/page/1", "/tags/security/"),
        ("/tags/Security/", "/tags/security/"),  # a folded slug: one page, one address
        ("/tags/SECURITY/page/2", "/tags/security/page/2"),
    ):
        status, headers, _ = served.get(path)
        assert status == 301 and _resolve(path, headers["location"]) == where
    for path in ("/tags/nope/", "/tags/security/page/3", "/tags/../atom.xml", "/tags//"):
        assert served.get(path)[0] == 404, path
    # an entry page links each of its tags to that tag's page
    entry = next(e for e in published_rows.latest(db) if "security" in e.tags)
    page = "/entries/" + id_slug(entry.id)
    links = served.doc(page).xpath('//a[@rel="tag"]/@href')
    assert [_resolve(page, h) for h in links] == ["/tags/security/"]
    # and so do the post's hashtags, to the same page (served at the site's base URL)
    cfg = served.cfg
    note = documents.note(cfg, entry)
    assert [t["href"] for t in note["tag"]] == [cfg.site.base_url + "tags/security/"]
    assert f'href="{cfg.site.base_url}tags/security/"' in note["content"]


def test_a_tags_feeds_stand_for_its_page(served):
    """A tag's feeds said the site's index was the page they stand for (Atom and RSS
    ``link``, JSON Feed ``home_page_url``, OPML ``htmlUrl``), though the index shows
    every release and the tag has a page of its own; the other feeds keep the index."""
    feeds, base = served.cfg.paths.feeds, served.cfg.site.base_url
    page = base + "tags/security/"
    atom = feedparser.parse((feeds / "tags/security/atom.xml").read_bytes()).feed
    rss = feedparser.parse((feeds / "tags/security/rss.xml").read_bytes()).feed
    doc = json.loads((feeds / "tags/security/feed.json").read_bytes())
    assert atom.link == rss.link == doc["home_page_url"] == page
    assert served.get(page[len(base) - 1 :])[0] == 200  # served where they say
    for path in ("atom.xml", "en/atom.xml"):
        assert feedparser.parse((feeds / path).read_bytes()).feed.link == base
    outlines = lxml.etree.parse(str(feeds / "feeds.opml")).iter("outline")
    html = {o.get("xmlUrl").removeprefix(base): o.get("htmlUrl") for o in outlines}
    assert html["tags/security/atom.xml"] == page and html["atom.xml"] == base


@contextlib.contextmanager
def small_site(tmp_path, releases: dict[str, str], config: str = "") -> Iterator[Site]:
    """A site of ``releases`` (file name -> text) built and served on 127.0.0.1, with
    ``config`` added to its config.toml."""
    (tmp_path / "sources").mkdir()
    for name, text in releases.items():
        (tmp_path / "sources" / name).write_text(text, encoding="utf-8")
    (tmp_path / "config.toml").write_text(
        '[site]\nbase_url = "http://127.0.0.1:8080/"\nid_authority = "test.example,2026"\n'
        '[paths]\nsources = "sources"\nfeeds = "feeds"\nstate = "state/test.sqlite3"\n'
        "[limits]\nsettle = 0\n" + config,
        encoding="utf-8",
    )
    cfg = config_mod.load(tmp_path / "config.toml", [])
    store = Store(cfg.paths.state)
    assert build_feeds(cfg, store, NOW).new == len(releases)
    server = HttpServer(App(lambda: cfg, store), "127.0.0.1", 0)
    server.start()
    try:
        yield Site(*server.addresses[0][:2], cfg, store)
    finally:
        server.stop()
        store.close()


def test_a_tag_whose_word_has_marks_is_served_at_its_slug(tmp_path):
    """Devanagari's vowel signs are marks, kept in the tag's slug ("हिन्दी"), and the
    server's path patterns took only letters and digits: the tag's page, its feeds
    (written, listed in feeds.opml) and every hashtag link to them answered 404."""
    film = "---\ntitle: SCO film week\ndate: 2024-05-02\ntags: [हिन्दी]\n---\n\nFilms were shown.\n"
    with small_site(tmp_path, {"hi.md": film}, "[feeds]\nmetadata_tags = true\n") as site:
        folder = "/tags/" + quote("हिन्दी")
        doc = site.doc(folder + "/")
        assert doc.xpath("//ol/li/article/h3/a/text()") == ["SCO film week"]
        # its own feeds come first (readers take the first), their addresses encoded
        # (a client that sends them as written, Python's urllib, failed on the raw ones)
        alternates = doc.xpath("//link[@rel='alternate']/@href")
        assert alternates[0] == "../../" + folder[1:] + "/atom.xml"
        assert all(href.isascii() for href in alternates)
        assert all(href.isascii() for href in doc.xpath("//aside//a/@href"))
        feeds = site.cfg.paths.feeds / "tags/हिन्दी"
        for name in ("atom.xml", "rss.xml", "feed.json"):
            status, _, body = site.get(f"{folder}/{name}")
            assert status == 200 and body == (feeds / name).read_bytes()
        assert site.get(folder)[0] == 301
        assert site.get("/tags/" + quote("हन्द") + "/")[0] == 404  # no release has it


def test_a_tag_without_feeds_has_its_page_all_the_same(tmp_path):
    """A tag given in a release's metadata has no feeds unless ``feeds.metadata_tags``;
    its hashtag and the entry page link to its page, which lists its releases."""
    head = "---\ntitle: Release {i}\ndate: 2024-03-0{d}\ntags: {tags}\n---\nText {i}.\n"
    releases = {
        f"r{i}.md": head.format(i=i, d=i + 1, tags=tags)
        for i, tags in enumerate((["Youth Council"], ["Youth Council", "security"], []))
    }
    with small_site(tmp_path, releases) as site:
        assert not (site.cfg.paths.feeds / "tags").exists()  # no tag has feeds
        doc = site.doc("/tags/youth-council/")
        assert doc.xpath("string(//main/h2)") == "Releases tagged Youth Council"
        assert doc.xpath("//ol/li/article/h3/a/text()") == ["Release 1", "Release 0"]
        assert "Subscribe" not in doc.xpath("string(//aside)")
        assert site.get("/tags/culture/")[0] == 404  # no release has it


def test_a_tag_has_one_address_and_a_tag_not_there_is_a_404_at_once(tmp_path):
    """``/tags/nope``, a tag no release has, answered a 301 to ``/tags/nope/`` and only
    then a 404; and every spelling that folds to a tag's slug (``/tags/Foreign!Ministers/``
    for ``foreign-ministers``) served a copy of its page, a duplicate for caches and
    search engines. A tag not there is a 404 at once, whatever the spelling or page; a
    real tag's other spellings (its page, its page numbers, its feeds) are one 301 to
    its own address, the non-ASCII tag's (percent-encoded) too."""
    text = "---\ntitle: Ministers met\ndate: 2024-05-02\ntags: [{tags}]\n---\n\nThey met.\n"
    releases = {"m.md": text.format(tags="Foreign Ministers, हिन्दी")}
    with small_site(tmp_path, releases, "[feeds]\nmetadata_tags = true\n") as site:
        for path in (
            "/tags/nope",
            "/tags/nope/",
            "/tags/Nope/page/1",
            "/tags/nope/atom.xml",
            "/tags/Nope/atom.xml",
            "/tags/foreign-ministers/page/2",  # past the last page, whatever the spelling
            "/tags/Foreign-Ministers/page/2",
            "/tags/Foreign-Ministers/page/2/",
            "/tags/foreign-ministers/nope.xml",
            "/tags/No%20Such%20Tag/",
            "/tags/%20foreign-ministers/",  # a segment starts with a letter or digit
            "/tags/foreign%09ministers/",  # a control character is no part of a tag
        ):
            status, headers, _ = site.get(path)
            assert (status, "location" in headers) == (404, False), path
        hindi = "/tags/" + quote("हिन्दी")
        fullwidth = "/tags/" + quote("ＦＯＲＥＩＧＮ") + "-ministers/"  # NFKC folds it
        for path, where in (
            ("/tags/foreign-ministers", "/tags/foreign-ministers/"),
            ("/tags/foreign!ministers/", "/tags/foreign-ministers/"),
            ("/tags/Foreign_Ministers", "/tags/foreign-ministers/"),
            ("/tags/FOREIGN--MINISTERS/page/1", "/tags/foreign-ministers/"),
            (fullwidth, "/tags/foreign-ministers/"),
            (hindi, hindi + "/"),
            (hindi + "/page/1", hindi + "/"),
            ("/tags/Foreign-Ministers/atom.xml", "/tags/foreign-ministers/atom.xml"),
            ("/tags/foreign!ministers/feed.json", "/tags/foreign-ministers/feed.json"),
            # the tag as it is written, its space percent-encoded (it was a 404)
            ("/tags/Foreign%20Ministers/", "/tags/foreign-ministers/"),
            ("/tags/Foreign%20Ministers", "/tags/foreign-ministers/"),
            ("/tags/Foreign%20Ministers/atom.xml", "/tags/foreign-ministers/atom.xml"),
        ):
            status, headers, _ = site.get(path)
            assert (status, _resolve(path, headers.get("location", ""))) == (301, where), path
            assert site.get(where)[0] == 200, where
            # a feed's redirect is open to scripts on other sites, as the feed is (a
            # browser follows a CORS request's redirect only so)
            feed = where.endswith((".xml", ".json"))
            assert (headers.get("access-control-allow-origin") == "*") is feed, path
        assert site.get(hindi + "/")[0] == site.get(hindi + "/rss.xml")[0] == 200
