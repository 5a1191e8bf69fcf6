"""A news listing saved into sources/ (or given to ``scofeed add``) where a release page
belongs: refused, named, recorded, and nothing published lost (``sources.newslist``).
Every release page of tests/data still reads as it did."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from conftest import DATA, free_port, run_cli, webhook_toml
from scofeed.build import build as run_build
from scofeed.errors import RejectedInput
from scofeed.sources.htmlpage import PRESETS, read_page
from scofeed.sources.newslist import read_html

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
    "path", sorted(p for p in DATA.rglob("*.htm*") if not p.name.startswith("listing")), ids=str
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


# one <article> per release: a thumbnail, a headline, a date, a summary, "Read more"
ITEMS = (DATA / "sco" / "listing_items.html").read_text(encoding="utf-8")
ITEMS_SAID = (
    f"{SAID}/news/20220125/813122.html and 2 more): keep the page of one release in sources/"
)


def as_divs(page: str) -> str:
    return page.replace("<article ", "<div ").replace("</article>", "</div>")


def as_list_of_wrapped_headings(page: str) -> str:
    """``<li>`` items whose link wraps the heading: ``<a href><h2>Title</h2></a>``."""
    page = page.replace('<div class="news-list">', '<ul class="news-list">', 1)
    page = page.replace("</article>\n  </div>", "</article>\n  </ul>", 1)
    page = page.replace("<article ", "<li ").replace("</article>", "</li>")
    return re.sub(
        r'<h2 class="news-title"><a href="([^"]+)">([^<]+)</a></h2>',
        r'<a href="\1"><h2 class="news-title">\2</h2></a>',
        page,
    )


def as_flat(page: str) -> str:
    """No element per item: headline, date, summary, headline, date, summary..."""
    return re.sub(r"\s*</?article[^>]*>", "", page)


SHAPES = {
    "articles": ITEMS,
    "divs": as_divs(ITEMS),
    "wrapped": as_list_of_wrapped_headings(ITEMS),
    "flat": as_flat(ITEMS),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_listing_of_items_with_summaries_is_refused_each_release_counted_once(shape):
    """Each item links its release three times (thumbnail, headline, "Read more"): the
    three releases are named as three."""
    with pytest.raises(RejectedInput) as caught:
        read_html("news.html", SHAPES[shape], NOW)
    assert str(caught.value) == f"news.html: {ITEMS_SAID}"


def test_a_listing_of_items_saved_with_its_address_names_its_links_in_full():
    page = with_head(ITEMS, f'<link rel="canonical" href="{HOST}/news/">')
    with pytest.raises(RejectedInput, match=f"it links to {HOST}/news/20220125/813122.html and 2"):
        read_html("news.html", page, NOW)


def test_cli_build_refuses_a_listing_of_items_in_one_line_and_publishes_nothing(site):
    shutil.copy(DATA / "sco" / "article_en.html", site.sources / "release.html")
    (site.sources / "news.html").write_text(ITEMS, encoding="utf-8")
    built = run_cli(site, "build")
    assert built.returncode == 1
    assert [line for line in built.stderr.splitlines() if "news.html" in line] == [
        f"rejected news.html: {ITEMS_SAID}"
    ]
    titles = [e.title for e in feedparser.parse(site.feeds / "atom.xml").entries]
    assert "News" not in titles
    assert "SCO Secretary-General meets with Ambassador of Pakistan" in titles


# a release's body ending in a bulleted list of other releases, a sentence each: its
# links are no headlines (each is followed by a sentence), and the list is not most
# of the release's text
BULLETED = """<p>During the month the Secretariat also held the following events:</p>
  <ul>
    <li><a href="/news/20220121/812455.html">SCO Secretariat hosts a round table on digital
    cooperation</a>: experts discussed the digital economy.</li>
    <li><a href="https://eng.sectsco.org/news/20220118/811902.html">SCO Secretary-General
    receives students</a>, who asked about regional security.</li>
    <li><a href="/20220112/810077.html">SCO marks the Day of Diplomatic Service</a>: the
    staff were congratulated.</li>
  </ul>"""


def test_a_release_with_a_bulleted_list_of_other_releases_is_read_with_no_address():
    (release,) = read_html("a.html", ARTICLE.replace(IN_BODY, BULLETED, 1), NOW)
    assert release.title == "SCO Secretary-General meets with Ambassador of Pakistan"
    assert "the staff were congratulated" in release.text


def test_a_release_that_is_mostly_a_bulleted_list_of_other_releases_is_read():
    """A week's digest: the list is most of the text, but a link followed by a sentence
    is no headline, so its items are no listing's."""
    digest = f"""<html lang="en"><head><title>The week at the SCO Secretariat - SCO</title></head>
<body><div class="news-detail"><h1>The week at the SCO Secretariat</h1>
<div class="date">21.01.2022</div><p>This week:</p>{BULLETED.split("</p>", 1)[1]}
</div></body></html>"""
    (release,) = read_html("digest.html", digest, NOW)
    assert release.title == "The week at the SCO Secretariat"
    assert "who asked about regional security" in release.text


def test_a_release_with_a_related_list_in_its_article_is_read_with_no_address():
    """The list of other releases no furniture rule took out is a small part of what
    the page says: the page is the release, not a listing."""
    (release,) = read_html("a.html", ARTICLE.replace(IN_BODY, RELATED, 1), NOW)
    assert "Women's Day" in release.text and "Moin ul Haque" in release.text


def test_a_release_with_a_sidebar_of_item_cards_is_read_with_no_address():
    """A column of latest releases beside the article, cards of the listing's shape, is
    not the article read from the page."""
    cards = ITEMS[ITEMS.index('<div class="news-list">') : ITEMS.index('<div class="news-pager">')]
    page = ARTICLE.replace(
        '<div class="news-detail">', f'<div class="col">{cards}</div>\n<div class="news-detail">', 1
    )
    (release,) = read_html("a.html", page, NOW)
    assert release.title == "SCO Secretary-General meets with Ambassador of Pakistan"
    assert "Moin ul Haque" in release.text and "round table" not in release.text


def test_a_release_of_thousands_of_links_on_one_line_is_read_within_its_budget(site):
    """A chronicle whose body is one paragraph of links to the year's releases: each
    link's line was read to its end, past every other link, to judge it a headline
    (3,000 links: ~15 s, rejected at the 5 s budget). A line is read only as far as
    it takes to see that the link is not most of it."""
    links = " · ".join(
        f'<a href="/news/2022{n % 12 + 1:02d}01/{800000 + n}.html">SCO event number {n}</a>'
        for n in range(3_000)
    )
    page = f"""<html lang="en"><head><title>The year at the SCO - SCO</title></head>
<body><div class="news-detail"><h1>The year at the SCO</h1><div class="date">30.12.2022</div>
<p>The Secretariat's releases of the year: {links}.</p></div></body></html>"""
    (site.sources / "chronicle.html").write_text(page, encoding="utf-8")
    assert build(site).rejected == []
    titles = [e.title for e in feedparser.parse(site.feeds / "atom.xml").entries]
    assert "The year at the SCO" in titles


@pytest.mark.parametrize(
    ("own", "links"),
    [
        ("https://sectsco.org", "https://www.sectsco.org"),
        ("http://www.sectsco.org", "//sectsco.org"),
    ],
)
def test_a_listing_whose_links_name_its_host_with_or_without_www_is_refused(own, links):
    """ "www." or not, one site: its links were taken for another host's, and the
    listing for a release page."""
    page = ITEMS.replace('href="/news/2022', f'href="{links}/news/2022')
    page = with_head(page, f'<link rel="canonical" href="{own}/news/">')
    with pytest.raises(RejectedInput, match=re.escape(SAID)):
        read_html("news.html", page, NOW)


ZH = (DATA / "sco" / "article_zh.html").read_text(encoding="utf-8")
# the "previous" and "next" lines under a release on Chinese (and other) sites
PREV_NEXT = (
    '<p>上一篇：<a href="/20230420/939200.html">上海合作组织秘书长会见印度驻华大使</a></p>'
    '<p>下一篇：<a href="/20230422/939300.html">上合组织秘书处举办开放日活动</a></p>'
)


def test_a_short_release_with_previous_and_next_lines_is_read_with_no_address():
    """A release of one sentence (a photo's caption) and the two lines naming the
    releases before and after it: two headlines, most of its text, were a listing's."""
    caption = "<p>上合组织秘书长出席数字论坛。</p>"
    page = re.sub(r"(</h1>).*?(</div>)", rf"\1{caption}{PREV_NEXT}\2", ZH, flags=re.S)
    (release,) = read_html("a.html", page, NOW)
    assert release.title == "上海合作组织秘书长出席数字论坛"
    assert "上合组织秘书长出席数字论坛。" in release.text
    # the two lines name other releases: page furniture, not this release's text
    assert "上一篇" not in release.text and "开放日活动" not in release.text
