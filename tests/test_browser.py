"""The index and an entry page in a real headless browser (Debian's ``chromium``),
served by ``scofeed serve`` as a subprocess: a screenshot at 320 px wide, and the
rendered DOM checked for the entries, their dates and languages, the feed links and
the way to page 2. Skipped, with the reason, where chromium is not installed
(``.ci/run`` installs it)."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import struct
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import lxml.html
import pytest

from scofeed import config as config_mod
from scofeed.build import build as build_feeds
from scofeed.store import Store
from servers import serve
from tests.conftest import free_port, scofeed_serving
from tests.multilingual import TAGS, write_releases
from tests.test_serve import NOW

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install chromium; .ci/run does it)",
)
N = 60  # two index pages, and a release with a table (dated before them: on page 2)
TABLE = """---
title: Trade of the member states
date: 2020-05-01
---
Trade in 2019, by member state.

| Member state | Exports (USD bn) | Imports (USD bn) | Partners | Federation |
| --- | --- | --- | --- | --- |
| Kazakhstan | 58 | 38 | Republic | Federation |
| Uzbekistan | 17 | 24 | Republic | Federation |
"""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser")
    (root / "sources").mkdir()
    write_releases(root / "sources", N)
    (root / "sources" / "table.md").write_text(TABLE, encoding="utf-8")
    port = free_port()
    config = root / "config.toml"
    config.write_text(
        f'[site]\nbase_url = "http://127.0.0.1:{port}/"\nid_authority = "test.example,2026"\n'
        '[paths]\nsources = "sources"\nfeeds = "feeds"\nstate = "state/test.sqlite3"\n'
        "[limits]\nsettle = 0\n" + TAGS,  # files written just now: built at once
        encoding="utf-8",
    )
    cfg = config_mod.load(config, [])
    store = Store(cfg.paths.state)
    assert build_feeds(cfg, store, NOW).new == N + 1
    store.close()
    with scofeed_serving(config, "serve", port) as url:
        yield url


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        + ["--no-first-run", f"--user-data-dir={tmp / 'profile'}", "--window-size=320,800"]
        + list(args),
        capture_output=True,
        timeout=60,
        check=True,
    )


def dom(tmp: Path, url: str, *args: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(_chromium(tmp, *args, "--dump-dom", url).stdout)


def screenshot(tmp: Path, url: str, name: str) -> tuple[int, int]:
    """The PNG's width and height, after checking it is one."""
    path = tmp / name
    _chromium(tmp, f"--screenshot={path}", url)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    return width, height


def test_index_and_entry_page_in_headless_chromium(base_url, tmp_path):
    assert screenshot(tmp_path, base_url, "index.png") == (320, 800)
    index = dom(tmp_path, base_url)
    assert index.get("lang") == "en"
    articles = index.xpath('//ol[@class="entries"]/li/article')
    assert len(articles) == 50
    assert {a.get("lang") for a in articles} == {"en", "ru", "zh"}
    for article in articles:
        assert article.xpath("string(h3/a)").strip()
        assert article.xpath("string(.//time/@datetime)").startswith("2020-06-")
    titles = [a.xpath("string(h3/a)") for a in articles]
    assert "上合组织秘书长会见代表团第26号" in titles  # dated 27 June: among the newest
    feed_links = set(index.xpath("//aside//a/@href"))
    for prefix in ("", "en/", "ru/", "zh/", "tags/economy/", "tags/security/"):
        assert prefix + "atom.xml" in feed_links
    assert "feeds.opml" in feed_links
    autodiscovery = index.xpath('//head/link[@rel="alternate"]/@href')
    assert sorted(autodiscovery) == ["atom.xml", "feed.json", "rss.xml"]

    # page 2 is reachable from page 1 and holds the rest
    (next_href,) = index.xpath('//nav//a[@rel="next"]/@href')
    page2 = dom(tmp_path, urljoin(base_url, next_href))
    rest = page2.xpath('//ol[@class="entries"]/li/article')
    assert len(rest) == N + 1 - 50
    assert not set(a.xpath("string(h3/a)") for a in rest) & set(titles)

    # an entry page in Russian: its language and tag feeds, and the way back
    ru = next(a for a in articles if a.get("lang") == "ru")
    entry_url = urljoin(base_url, ru.xpath("string(h3/a/@href)"))
    assert screenshot(tmp_path, entry_url, "entry.png") == (320, 800)
    entry = dom(tmp_path, entry_url)
    assert entry.xpath("string(//article/@lang)") == "ru"
    assert entry.xpath("string(//h1)") == ru.xpath("string(h3/a)")
    links = {urljoin(entry_url, h) for h in entry.xpath("//a/@href")}
    assert {base_url, base_url + "ru/atom.xml", base_url + "tags/security/atom.xml"} <= links


@pytest.fixture
def other_site(tmp_path) -> Iterator[tuple[str, Path]]:
    """Another origin (another port): a plain static server of ``tmp_path/site``."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    serve(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()


READER = """<!doctype html><html><head><meta charset="utf-8"></head><body><pre id="out">
pending</pre><script>
(async () => {
  const out = document.getElementById("out");
  try {
    const first = await fetch(FEED);
    const etag = first.headers.get("ETag");
    const length = (await first.text()).length;
    const again = await fetch(FEED, {headers: {"If-None-Match": etag}});
    out.textContent = JSON.stringify({first: first.status, etag, length, again: again.status});
  } catch (e) {
    out.textContent = JSON.stringify({error: String(e)});
  }
})();
</script></body></html>
"""


def test_a_page_on_another_site_reads_and_revalidates_a_feed(base_url, other_site, tmp_path):
    """A reader running in the browser on another origin: ``fetch`` of the feed, then
    again with the ``If-None-Match`` of the ETag it read. The browser asks first (a CORS
    preflight, OPTIONS: the header is not one a page may send unasked) and reads the ETag
    only where the answer exposes it; the preflight once got a 405, and the page an error."""
    page_url, root = other_site
    (root / "reader.html").write_text(
        READER.replace("FEED", json.dumps(base_url + "atom.xml")), encoding="utf-8"
    )
    shown = dom(tmp_path, page_url + "reader.html", "--virtual-time-budget=10000")
    result = json.loads(shown.xpath("string(//pre)"))
    assert result["first"] == 200 and result["again"] == 304, result
    assert result["etag"].startswith('"') and result["length"] > 1000


FEDIVERSE = """<!doctype html><html><head><meta charset="utf-8"></head><body><pre id="out">
pending</pre><script>
(async () => {
  const out = document.getElementById("out");
  const got = {};
  for (const [name, url] of Object.entries(URLS)) {
    try {
      const answer = await fetch(url, {headers: {Accept: ACCEPT}});
      got[name] = [answer.status, (await answer.json()).type || null];
    } catch (e) {
      got[name] = String(e);
    }
  }
  out.textContent = JSON.stringify(got);
})();
</script></body></html>
"""


def test_a_page_on_another_site_reads_the_actor_with_activitypubs_accept(other_site, tmp_path):
    """A fediverse tool in the browser asks for the actor and its outbox with the Accept
    ActivityPub names (``application/ld+json; profile="..."``), which the browser sends
    only after a preflight: the preflight got a 405, and the page "Failed to fetch"."""
    root = tmp_path / "ap"
    (root / "sources").mkdir(parents=True)
    write_releases(root / "sources", 2)
    port = free_port()
    config = root / "config.toml"
    config.write_text(
        f'[site]\nbase_url = "http://127.0.0.1:{port}/"\nid_authority = "test.example,2026"\n'
        "[limits]\nsettle = 0\n[activitypub]\nenabled = true\n",
        encoding="utf-8",
    )
    page_url, site_root = other_site
    accept = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    with scofeed_serving(config, "run", port) as url:
        urls = {"actor": url + "@releases", "outbox": url + "@releases/outbox"}
        (site_root / "fedi.html").write_text(
            FEDIVERSE.replace("URLS", json.dumps(urls)).replace("ACCEPT", json.dumps(accept)),
            encoding="utf-8",
        )
        shown = dom(tmp_path, page_url + "fedi.html", "--virtual-time-budget=10000")
    got = json.loads(shown.xpath("string(//pre)"))
    assert got == {"actor": [200, "Service"], "outbox": [200, "OrderedCollection"]}, got


# what a page of ours does in the browser, measured: every word of a table cell on one
# line (its boxes one line high), the words a range covers measured one by one
MEASURE = """<script>
const broken = [];
for (const cell of document.querySelectorAll("td, th")) {
  const text = cell.firstChild;
  if (!text || text.nodeType !== Node.TEXT_NODE) continue;
  for (const m of text.data.matchAll(/\\S+/g)) {
    const range = document.createRange();
    range.setStart(text, m.index);
    range.setEnd(text, m.index + m[0].length);
    if (range.getClientRects().length > 1) broken.push(m[0]);
  }
}
document.body.insertAdjacentHTML("beforeend", `<pre id="broken">${JSON.stringify(broken)}</pre>`);
</script>"""


def test_a_tables_words_are_not_broken_on_a_phone(base_url, tmp_path):
    """At 390 px, "overflow-wrap: anywhere" on the body broke a table's words in any
    place ("Membe|r state", "Federati|on") to fit: a table scrolls sideways instead."""
    page = dom(tmp_path, urljoin(base_url, "page/2"))
    (href,) = page.xpath('//h3/a[text()="Trade of the member states"]/@href')
    with urllib.request.urlopen(urljoin(urljoin(base_url, "page/2"), href)) as answer:
        html = answer.read().decode("utf-8")
    # the server's CSP runs no script: the page, measured, from a file of its own
    local = tmp_path / "entry.html"
    local.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    measured = dom(tmp_path, local.as_uri(), "--window-size=390,800")
    cells = measured.xpath("count(//td)")
    assert cells == 10
    assert json.loads(measured.xpath("string(//pre[@id='broken'])")) == []
