"""Our feeds as readers no one here wrote read them. newsboat (a terminal feed reader:
its own parser, its own SQLite cache) reloads the feeds from ``scofeed run`` on
127.0.0.1, and what its cache holds is what a newsboat user sees: every entry once, with
its title, link, date, author and text, and a correction held once, corrected. Three
npm feed parsers that readers and aggregators are built on (rss-parser,
@rowanmanning/feed-parser, feedsmith) read the Atom, RSS and JSON Feed files, and the
JSON Feed is checked against JSON Feed 1.1's own field list. Each is compared with what
the store holds. Skipped, with the reason, where newsboat, node or npm is missing or the
npm packages cannot be installed (offline): they are installed once into a cache folder
outside the repository (tests/npm.py)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
import pytest
import requests

import forkserver
from scofeed import config as config_mod
from scofeed.build import build as build_feeds
from scofeed.model import Entry
from scofeed.store import Store, read_only
from scofeed.store import published as published_rows
from tests.conftest import SEED, free_port, scofeed_serving
from tests.npm import NODE, node_modules
from tests.test_daemon import wait_for
from tests.test_serve import NOW

NEWSBOAT = shutil.which("newsboat")
# exact versions: what a parser makes of a feed does not move under the tests
PACKAGES = ("rss-parser@3.13.0", "@rowanmanning/feed-parser@2.1.5", "feedsmith@3.0.1")
SCRIPT = Path(__file__).with_name("readers.cjs")
LANGUAGES = ("ru", "zh", "fa")

RELEASES = {
    "academy.md": (  # markup in the title, links relative to the site, a time of day
        '+++\ntitle = "SCO & partners: \\"Diplomatic Academy\\" — students\' visit"\n'
        'date = 2023-04-21T10:30:00+08:00\ntags = ["education"]\n+++\n'
        "SCO Secretary-General **Zhang Ming** met students of the Diplomatic Academy.\n\n"
        "See [the programme](/20230421/programme.html) and ![photo](pic.png).\n"
    ),
    "ru.txt": "Генеральный секретарь ШОС встретился со студентами\n\n"
    "21 апреля 2023 года Генеральный секретарь ШОС встретился со студентами «Академии».\n",
    "zh.txt": "上合组织秘书长会见学生\n\n2023年4月22日，上合组织秘书长会见了外交学院学生。\n",
    "fa.json": json.dumps(  # written right to left
        {
            "title": "دبیرکل سازمان همکاری شانگهای با دانشجویان دیدار کرد",
            "date": "2023-04-24",
            "lang": "fa",
            "text": "دبیرکل سازمان همکاری شانگهای روز ۲۴ آوریل ۲۰۲۳ با دانشجویان دیدار کرد.",
        },
        ensure_ascii=False,
    ),
    "kathmandu.json": json.dumps(  # its own address (not ASCII, a tracking parameter),
        {  # links relative to it, a +05:45 offset, an emoji flag
            "title": "Talks on A<B & C>D in Kathmandu 🇳🇵",
            "date": "2023-04-23T09:15:00+05:45",
            "url": "https://rus.sectsco.org/новости/20230423/встреча деп.html?utm_source=x&id=5",
            "html": "<p>Talks with <a href='../docs/a b.pdf'>a paper</a>, "
            "<a href='//cdn.example.org/x.png'>a picture</a>, <a href='#top'>the top</a> "
            "and <img src='s.png' alt='s'>.</p><p>Second &amp; last paragraph.</p>",
        },
        ensure_ascii=False,
    ),
}


def write_site(root: Path, port: int, extra: str = "") -> Path:
    """The seed and ``RELEASES`` in sources/, a config whose base URL is 127.0.0.1:port
    (``extra``: more of it)."""
    (root / "sources").mkdir()
    shutil.copy(SEED, root / "sources" / SEED.name)
    for name, text in RELEASES.items():
        (root / "sources" / name).write_text(text, encoding="utf-8")
    config = root / "config.toml"
    config.write_text(
        f'[site]\nbase_url = "http://127.0.0.1:{port}/"\nid_authority = "test.example,2026"\n'
        '[paths]\nsources = "sources"\nfeeds = "feeds"\nstate = "state/test.sqlite3"\n'
        "[limits]\nsettle = 0\n[schedule]\nscan_interval = 1\n" + extra,
        encoding="utf-8",
    )
    return config


def live_entries(config: Path) -> list[Entry]:
    """The published entries, newest first, as the store holds them."""
    db = read_only(config_mod.load(config, []).paths.state)
    db.row_factory = sqlite3.Row
    try:
        return published_rows.latest(db)
    finally:
        db.close()


def in_set(entries: list[Entry], path: str, newest: int | None = None) -> list[Entry]:
    """The entries a feed of ``path`` (``atom.xml``, ``ru/rss.xml``...) lists, the
    ``newest`` of them when it holds no more."""
    lang = path.split("/")[0] if "/" in path else None
    return [e for e in entries if lang is None or e.language == lang][:newest]


# -- what a reader must show of an entry -----------------------------------------------


def shown_link(link: str) -> str:
    """The entry's link as the feeds show it: without the ``utm_*`` tracking parameters."""
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query) if not k.startswith("utm_")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def words(html: str) -> str:
    return " ".join(lxml.html.fromstring(f"<div>{html}</div>").text_content().split())


def targets(html: str) -> list[str]:
    return lxml.html.fromstring(f"<div>{html}</div>").xpath("//a/@href | //img/@src")


def check_item(item: dict, entry: Entry, reader: str) -> None:
    """One item as a reader read it (``id``, ``title``, ``link``, ``published`` as a
    datetime, ``authors``, ``content``) against the stored entry. Every link in the text
    must be absolute, and lead where the same link on the entry's own page leads (the
    reader does not know that page's address)."""
    where = f"{reader}: {entry.title!r}"
    assert item["id"] == entry.id, where
    assert item["title"] == entry.title, where
    assert unquote(item["link"]) == unquote(shown_link(entry.link)), where
    assert item["published"] == entry.published, where
    assert item["authors"] == [entry.author], where
    assert words(item["content"]) == words(entry.content_html), where
    got, stored = targets(item["content"]), targets(entry.content_html)
    assert len(got) == len(stored), where
    for href, original in zip(got, stored, strict=True):
        assert urlsplit(href).scheme in ("http", "https", "mailto"), (where, href)
        assert unquote(href) == unquote(urljoin(unquote(item["link"]), original)), where


# -- newsboat ----------------------------------------------------------------------------


@contextlib.contextmanager
def daemon(tmp: Path) -> Iterator[str]:
    """``scofeed run`` on a free port over a site of ``RELEASES``; yields its address."""
    port = free_port()
    config = write_site(tmp, port)
    with scofeed_serving(config, "run", port, ready=lambda r: r.json()["status"] == "ok") as url:
        yield url


def newsboat(folder: Path, urls: list[str]) -> dict[str, list[dict]]:
    """``newsboat -x reload`` of ``urls`` into the cache in ``folder`` (kept from one
    call to the next, as a user's is), then every item of its cache by feed URL, oldest
    row first. One cache per feed: newsboat keeps one item per guid across all its
    feeds, under whichever feed it read it from last."""
    folder.mkdir(exist_ok=True)
    (folder / "urls").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (folder / "config").write_text("", encoding="utf-8")
    done = subprocess.run(
        [NEWSBOAT or "newsboat", "-u", "urls", "-c", "cache.db", "-C", "config", "-x", "reload"],
        cwd=folder,
        env={**os.environ, "HOME": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    db = sqlite3.connect(folder / "cache.db")
    db.row_factory = sqlite3.Row
    try:
        feeds = {r["rssurl"]: dict(r) for r in db.execute("SELECT * FROM rss_feed")}
        assert set(feeds) == set(urls), (feeds, done.stdout + done.stderr)  # all read
        items: dict[str, list[dict]] = {url: [] for url in urls}
        for row in db.execute("SELECT * FROM rss_item WHERE deleted = 0 ORDER BY id"):
            items[row["feedurl"]].append(dict(row) | {"feed": feeds[row["feedurl"]]})
        return items
    finally:
        db.close()


def as_newsboat_shows(row: dict) -> dict:
    """A newsboat cache row in ``check_item``'s terms (its ``pubDate``: seconds, UTC)."""
    return {
        "id": row["guid"],
        "title": row["title"],
        "link": row["url"],
        "published": datetime.fromtimestamp(row["pubDate"], UTC),
        "authors": [row["author"]],
        "content": row["content"],
    }


def check_newsboat(items: list[dict], entries: list[Entry], reader: str) -> None:
    """Every entry once (an id newsboat holds twice, or an old id kept beside a new
    one, is a duplicate to its user), each as stored."""
    guids = [row["guid"] for row in items]
    assert len(guids) == len(set(guids)), (reader, guids)
    assert sorted(guids) == sorted(e.id for e in entries), reader
    stored = {e.id: e for e in entries}
    for row in items:
        check_item(as_newsboat_shows(row), stored[row["guid"]], reader)


needs_newsboat = pytest.mark.skipif(
    NEWSBOAT is None, reason="newsboat is not installed (apt-get install newsboat)"
)


@needs_newsboat
def test_newsboat_shows_every_entry_once_in_atom_rss_and_each_language(tmp_path):
    with daemon(tmp_path) as url:
        entries = live_entries(tmp_path / "config.toml")
        assert {e.language for e in entries} == {"en", *LANGUAGES}
        for kind in ("atom.xml", "rss.xml"):
            paths = [kind] + [f"{lang}/{kind}" for lang in LANGUAGES]
            for path in paths:  # one cache each: see newsboat()
                items = newsboat(tmp_path / path.replace("/", "-"), [url + path])[url + path]
                check_newsboat(items, in_set(entries, path), f"newsboat {path}")
                feed = items[0]["feed"]
                assert feed["url"] == url  # the site's page, not the feed
                # newsboat lays out a feed right to left by its language: Persian
                assert feed["is_rtl"] == (path.startswith("fa/")), path
        # JSON Feed: newsboat 2.21 reads RSS and Atom only (its log: "XML root node is
        # NULL"), so nothing is asserted of it here; the npm parsers read it below


@needs_newsboat
def test_newsboat_holds_a_correction_once_and_corrected(tmp_path):
    with daemon(tmp_path) as url:
        feeds = ["atom.xml", "rss.xml"]
        for path in feeds:
            newsboat(tmp_path / path, [url + path])
        academy = tmp_path / "sources" / "academy.md"
        academy.write_text(
            RELEASES["academy.md"]
            .replace("students' visit", "students' visit (corrected)")
            .replace("met students", "met 40 students"),
            encoding="utf-8",
        )
        wait_for(lambda: "(corrected)" in requests.get(url + "rss.xml", timeout=5).text, 30, "it")
        wait_for(lambda: "(corrected)" in requests.get(url + "atom.xml", timeout=5).text, 30, "it")
        entries = live_entries(tmp_path / "config.toml")
        corrected = next(e for e in entries if "(corrected)" in e.title)
        assert corrected.revision == 2 and corrected.updated > corrected.published
        for path in feeds:
            items = newsboat(tmp_path / path, [url + path])[url + path]
            check_newsboat(items, entries, f"newsboat {path} after a correction")
            (held,) = [row for row in items if row["guid"] == corrected.id]
            assert "met 40 students" in held["content"]
            # its date is still the day it was published, not the day of the correction
            assert held["pubDate"] == int(corrected.published.timestamp())
        # a withdrawal: newsboat promises nothing of an item gone from a feed (2.21 keeps
        # it, and reads no RFC 6721 tombstone: docs/formats.md), so only the rest is
        # checked: still there once each, unchanged
        gone = next(e for e in entries if e.language == "zh")
        withdrawn = forkserver.run(
            [sys.executable, "-m", "scofeed", "--config", str(tmp_path / "config.toml")]
            + ["withdraw", gone.id, "--reason", "Published by mistake"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert withdrawn.returncode == 0, withdrawn.stderr
        left = live_entries(tmp_path / "config.toml")
        assert gone.id not in {e.id for e in left}
        wait_for(lambda: gone.id not in requests.get(url + "rss.xml", timeout=5).text, 30, "it")
        for path in feeds:
            items = newsboat(tmp_path / path, [url + path])[url + path]
            rest = [row for row in items if row["guid"] != gone.id]
            check_newsboat(rest, left, f"newsboat {path} after a withdrawal")


# -- npm feed parsers ------------------------------------------------------------------


NEWEST = 4  # of the 6 releases: the main feed pages back to archives


@dataclass
class Built:
    entries: list[Entry]
    base: str  # the site's base URL
    feeds: Path  # its feeds/ folder


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    """The site of ``RELEASES`` built once. Its main feed holds the newest ``NEWEST``,
    the rest is in its monthly archive pages."""
    root = tmp_path_factory.mktemp("readers")
    port = free_port()
    config = write_site(root, port, f"[feeds]\nentries = {NEWEST}\n")
    cfg = config_mod.load(config, [])
    store = Store(cfg.paths.state)
    try:
        assert build_feeds(cfg, store, NOW).new == len(RELEASES) + 1
    finally:
        store.close()
    return Built(live_entries(config), f"http://127.0.0.1:{port}/", root / "feeds")


@pytest.fixture(scope="module")
def parsed(built: Built) -> dict[str, dict[str, dict]]:
    """The feed files (main and each language, in each format) as the npm parsers read
    them: {path: {parser: feed}}."""
    modules = node_modules(PACKAGES)
    paths = [
        f"{lang}/{kind}" if lang else kind
        for lang in ("", *LANGUAGES)
        for kind in ("atom.xml", "rss.xml", "feed.json")
    ]
    done = subprocess.run(
        [NODE or "node", str(SCRIPT), *(str(built.feeds / p) for p in paths)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(modules)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    return {p: out[str(built.feeds / p)] for p in paths}


def when(value: str | None) -> datetime | None:
    assert value is None or not value.startswith("invalid"), value
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_npm_parsers_read_every_entry_of_each_feed_as_stored(built, parsed):
    base = built.base
    for path, by_parser in parsed.items():
        expected = in_set(built.entries, path, NEWEST)
        language = path.split("/")[0] if "/" in path else "en"
        for parser, feed in by_parser.items():
            reader = f"{parser} {path}"
            assert feed["self"] == base + path, reader
            assert feed["link"] == base, reader
            assert feed["title"], reader
            assert feed["language"] in (language, None), reader
            if parser == "rowanmanning":  # it reads Atom's xml:lang and RSS <language>
                assert feed["language"] == language, reader
            assert [i["id"] for i in feed["items"]] == [e.id for e in expected], reader
            for item, entry in zip(feed["items"], expected, strict=True):
                check_item(item | {"published": when(item["published"])}, entry, reader)
                updated = when(item["updated"])
                if path.endswith("atom.xml") and parser != "rss-parser":  # it reads no
                    # updated; the others: the stored one, a sub-second offset after it
                    assert updated is not None, reader
                    assert entry.updated <= updated < entry.updated + timedelta(seconds=1)
                elif updated is not None:  # RSS has none (rowanmanning: the pubDate)
                    assert updated == entry.published, reader


# JSON Feed 1.1 (https://jsonfeed.org/version/1.1): every top-level and item key it
# defines; any other must start with an underscore (an extension)
JSON_FEED_KEYS = {
    "version", "title", "home_page_url", "feed_url", "description", "user_comment",
    "next_url", "icon", "favicon", "author", "authors", "language", "expired", "hubs",
    "items",
}  # fmt: skip
JSON_ITEM_KEYS = {
    "id", "url", "external_url", "title", "content_html", "content_text", "summary",
    "image", "banner_image", "date_published", "date_modified", "author", "authors",
    "tags", "language", "attachments",
}  # fmt: skip
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z")


def test_json_feed_has_json_feed_1_1s_fields_only(built):
    base, feeds = built.base, built.feeds
    files = sorted(feeds.rglob("*.json"))
    assert len(files) > len(LANGUAGES) + 1  # the archive pages too
    for file in files:
        path = file.relative_to(feeds).as_posix()
        raw = json.loads(file.read_text(encoding="utf-8"))
        assert raw["version"] == "https://jsonfeed.org/version/1.1", path
        assert {k for k in raw if not k.startswith("_")} <= JSON_FEED_KEYS, path
        assert isinstance(raw["title"], str) and raw["title"], path
        assert raw["feed_url"] == base + path and raw["home_page_url"] == base, path
        for hub in raw.get("hubs", []):
            assert set(hub) == {"type", "url"} and urlsplit(hub["url"]).scheme == "http"
        for author in raw.get("authors", []):
            assert isinstance(author, dict) and {"name", "url", "avatar"} & set(author)
        ids = [item["id"] for item in raw["items"]]
        assert len(set(ids)) == len(ids) and all(isinstance(i, str) for i in ids), path
        for item in raw["items"]:
            assert {k for k in item if not k.startswith("_")} <= JSON_ITEM_KEYS, item
            assert isinstance(item.get("content_html", item.get("content_text")), str), item
            for key in ("date_published", "date_modified"):
                assert key not in item or RFC3339.match(item[key]), (key, item[key])
            for author in item.get("authors", []):
                assert isinstance(author, dict) and {"name", "url", "avatar"} & set(author)


def test_json_feed_next_url_reaches_every_entry_once(built):
    """A reader that follows ``next_url`` from feed.json (JSON Feed's paging) gets each
    entry once on the archive pages, never the same page twice."""
    feeds, seen, ids = built.feeds, [], []
    page = json.loads((feeds / "feed.json").read_text(encoding="utf-8"))
    while "next_url" in page:
        url = page["next_url"]
        assert url.startswith(built.base) and url not in seen and url != page["feed_url"]
        seen.append(url)
        page = json.loads((feeds / url.removeprefix(built.base)).read_text(encoding="utf-8"))
        assert page["feed_url"] == url
        ids += [item["id"] for item in page["items"]]
    assert seen, "feed.json holds every entry: no archive page to follow"
    assert ids == [e.id for e in built.entries]  # each once, newest first
