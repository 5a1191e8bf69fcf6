"""A news listing saved into sources/ (or given to ``scofeed add``) where a release page
belongs: refused, named, recorded, and nothing published lost (``sources.newslist``).
Every release page of tests/data still reads as it did."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from conftest import DATA, free_port, run_cli, webhook_toml
from scofeed.build import build as run_build
from scofeed.errors import RejectedInput
from scofeed.sources.htmlpage import PRESETS, read_html, read_page

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LISTING = (DATA / "sco" / "listing.html").read_text(encoding="utf-8")
ARTICLE = (DATA / "sco" / "article_en.html").read_text(encoding="utf-8")
HOST = "https://eng.sectsco.org"
SAID = "a listing of releases, not a release page (it links to "


def build(site, now=NOW):
    return run_build(site.config(), site.store(), now)


def with_head(page: str, head: str) -> str:
    return page.replace("</head>", head + "</head>", 1)


@pytest.mark.parametrize(
    "path", sorted(p for p in DATA.rglob("*.htm*") if p.name != "listing.html"), ids=str
)
def test_every_release_page_of_the_tests_reads_as_before(path):
    text = path.read_text(encoding="utf-8")
    assert read_html(path.name, text, NOW) == read_page(
        path.name, text, selectors=PRESETS["sco"], context=NOW
    )


def test_a_saved_listing_with_no_address_is_refused_naming_its_links():
    with pytest.raises(RejectedInput) as caught:
        read_html("news.html", LISTING, NOW)
    assert str(caught.value) == (
        f"news.html: {SAID}/20220125/813122.html and 2 more): "
        "keep the page of one release in sources/"
    )


@pytest.mark.parametrize(
    "head",
    [
        f'<meta property="og:url" content="{HOST}/news/">',
        f'<link rel="canonical" href="{HOST}/news/?page=3">',
    ],
)
def test_a_saved_listing_whose_address_is_no_articles_is_refused(head):
    with pytest.raises(RejectedInput, match=f"it links to {HOST}/20220125/813122.html and 2"):
        read_html("news.html", with_head(LISTING, head), NOW)


def test_a_listing_saved_by_a_browser_is_refused_by_the_address_it_was_saved_from():
    url = f"{HOST}/news/"
    saved = f"<!-- saved from url=({len(url):04d}){url} -->\n" + LISTING
    with pytest.raises(RejectedInput, match=f"it links to {HOST}/20220125/813122.html"):
        read_html("news.html", saved, NOW)


RELATED = """<ul>
  <li><a href="/20240301/1.html">SCO Secretary-General meets the Ambassador of India</a></li>
  <li><a href="/20240302/2.html">SCO Secretariat hosts a reception for Women's Day</a></li>
</ul>"""
IN_BODY = '  <script>alert("inline")</script>'  # the end of article_en.html's article


def test_a_release_page_listing_other_releases_is_read_when_its_address_is_an_articles():
    """A list of other releases left in the article (no heading nor class names it
    furniture) does not make a release page a listing: its address is an article's."""
    page = with_head(
        ARTICLE.replace(IN_BODY, RELATED, 1),
        f'<link rel="canonical" href="{HOST}/20220125/813122.html">',
    )
    (release,) = read_html("a.html", page, NOW)
    assert release.title == "SCO Secretary-General meets with Ambassador of Pakistan"
    assert "/20240302/2.html" in (release.html or "")


def test_a_release_linking_other_releases_in_its_sentences_is_read_with_no_address():
    sentences = (
        '<p>It follows <a href="/20240301/1.html">the meeting in March</a> and the '
        '<a href="/20240302/2.html">reception</a> held a day later at the Secretariat.</p>'
    )
    (release,) = read_html("a.html", ARTICLE.replace(IN_BODY, sentences, 1), NOW)
    assert "reception held a day later" in release.text


def test_a_listing_dropped_into_sources_is_rejected_and_nothing_published_is_lost(site):
    """A release page overwritten by the listing keeps its entry; the listing saved
    beside it is no entry: nothing is new, updated or queued for the webhook."""
    site.write_config(webhook_toml("hook", f"http://127.0.0.1:{free_port()}/"))
    shutil.copy(DATA / "sco" / "article_en.html", site.sources / "release.html")
    first = build(site)
    assert (first.new, first.rejected) == (2, [])
    feed = (site.feeds / "atom.xml").read_bytes()
    db = site.store().db
    queued = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]

    (site.sources / "news.html").write_text(LISTING, encoding="utf-8")
    (site.sources / "release.html").write_text(LISTING, encoding="utf-8")
    report = build(site, NOW + timedelta(hours=1))
    assert (report.new, report.updated) == (0, 0)
    assert sorted(
        (r.origin, r.reason.startswith(SAID), r.kept is None) for r in report.rejected
    ) == [
        ("news.html", True, True),
        ("release.html", True, False),  # its last good version kept
    ]
    assert (site.feeds / "atom.xml").read_bytes() == feed
    titles = [e.title for e in feedparser.parse(feed).entries]
    assert "News" not in titles and len(titles) == 2
    assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == queued

    shown = run_cli(site, "status").stdout.splitlines()
    rejects = [line.split()[1:3] for line in shown if SAID in line and " local " in line]
    assert sorted(rejects) == [["local", "news.html"], ["local", "release.html"]]


def test_cli_build_and_add_name_the_listing_in_one_line(site, tmp_path):
    (site.sources / "news.html").write_text(LISTING, encoding="utf-8")
    built = run_cli(site, "build")
    assert built.returncode == 1
    assert [line for line in built.stderr.splitlines() if "news.html" in line] == [
        f"rejected news.html: {SAID}/20220125/813122.html and 2 more): "
        "keep the page of one release in sources/"
    ]
    saved = tmp_path / "saved.html"
    saved.write_text(LISTING, encoding="utf-8")
    added = run_cli(site, "add", str(saved))
    assert (added.returncode, added.stderr.count("\n")) == (1, 1)
    assert f"{SAID}/20220125/813122.html and 2 more)" in added.stderr
