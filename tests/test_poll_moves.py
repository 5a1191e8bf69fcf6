"""An SCO release whose page moves to a new address on a real site on 127.0.0.1: the
Secretariat corrects a headline and the page's slug follows it
(``/20251220/-SCO-Youth-Forum-940001.html`` becomes
``/20251220/-SCO-Youth-Forum-opens-in-Dushanbe-940001.html``). The listing then links
the new address; the release is the same (its date and number in the path), so it is
a correction of its entry, never a second entry."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import timedelta

import feedparser
import pytest

import forkserver
import test_remote
from conftest import rewind, shown_inputs
from scofeed.added import add_url
from scofeed.poll import poll_due
from scofeed.recheck import recheck_due
from scofeed.store import pages as page_rows
from scofeed.store import published as published_rows
from test_remote import HTML, NOW, add_source, paths, serve_listing

web = test_remote.web  # a threaded HTTP server on 127.0.0.1

OLD = "/20251220/-SCO-Youth-Forum-940001.html"
NEW = "/20251220/-SCO-Youth-Forum-opens-in-Dushanbe-940001.html"
TEXT = (
    "<p>On 20 December 2025 the SCO Youth Forum opened in Dushanbe.</p>"
    "<p>Delegates from ten member states attended.</p>"
)


def page(title: str, body: str = TEXT) -> str:
    return (
        f'<html lang="en"><head><title>{title} - SCO</title></head><body>'
        f'<div class="news-detail"><h1>{title}</h1><div class="date">20.12.2025</div>'
        f"{body}</div></body></html>"
    )


def listing(*links: str) -> str:
    return "<html><body>" + "".join(f'<a href="{p}">x</a>' for p in links) + "</body></html>"


def polled_once(site, web):
    """The site's listing with the release at its old address, polled once: one entry."""
    serve_listing(web, "/news/", listing(OLD))
    web.expect_request(OLD).respond_with_data(page("SCO Youth Forum"), content_type=HTML)
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    assert [r.new for r in poll_due(cfg, store, NOW).results] == [1]
    (entry,) = published_rows.latest(store.db)
    return cfg, store, entry


def test_a_page_whose_address_follows_its_corrected_title_is_one_entry(site, web):
    serve_listing(web, "/news/", listing(OLD))
    web.expect_request(OLD).respond_with_data(page("SCO Youth Forum"), content_type=HTML)
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    (first,) = poll_due(cfg, store, NOW).results
    assert first.new == 1
    (entry,) = published_rows.latest(store.db)

    web.clear()
    serve_listing(web, "/news/", listing(NEW), etag='"v2"')
    web.expect_request(NEW).respond_with_data(
        page("SCO Youth Forum opens in Dushanbe"), content_type=HTML
    )
    web.expect_request(OLD).respond_with_data("", status=301, headers={"Location": NEW})
    (second,) = poll_due(cfg, store, NOW + timedelta(hours=1)).results
    assert (second.new, second.updated, second.rejected) == (0, 1, [])
    (corrected,) = published_rows.latest(store.db)
    assert corrected.id == entry.id and corrected.revision == 2
    assert corrected.title == "SCO Youth Forum opens in Dushanbe"
    assert corrected.url == web.url_for(NEW)
    atom = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    assert [(e.id, e.title) for e in atom.entries if "Youth" in e.title] == [
        (entry.id, "SCO Youth Forum opens in Dushanbe")
    ]
    # the moved page is watched for corrections in place of the old address
    assert [p.url for p in page_rows.due(store.db, 1e12, 0, 10)] == [web.url_for(NEW)]
    # `scofeed show` lists the old address as what it is: a name the page went by
    assert shown_inputs(site, entry.id) == [
        ("former", web.url_for(OLD)), ("current", web.url_for(NEW))
    ]  # fmt: skip

    # the next poll knows the new address; a recheck changes nothing
    web.clear_log()
    (third,) = poll_due(cfg, store, NOW + timedelta(hours=2)).results
    assert (third.new, third.updated) == (0, 0) and paths(web) == ["/news/"]
    report = recheck_due(cfg, store, NOW + timedelta(hours=3), force=True)
    assert (report.checked, report.updated, report.gone, report.failed) == (1, 0, [], [])
    assert published_rows.count(store.db) == 1


def test_the_same_article_listed_under_two_addresses_is_fetched_once(site, web):
    serve_listing(web, "/news/", listing(OLD, "/news" + OLD, NEW))
    for path in (OLD, "/news" + OLD, NEW):
        web.expect_request(path).respond_with_data(page("SCO Youth Forum"), content_type=HTML)
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    (result,) = poll_due(cfg, store, NOW).results
    assert (result.new, result.fetched) == (1, 2)
    assert paths(web) == ["/news/", OLD]


def test_the_same_page_listed_later_in_another_folder_is_no_correction(site, web):
    """The listing, linking /20251220/...940001.html when it was polled, later links
    /news/20251220/...940001.html, which the site serves with the same bytes: it was
    fetched as a move, and the entry revised (revision up, `updated` moved, pushed to
    every subscriber) with not a word changed. The same file name in another folder is
    the same page: not fetched again. A new file name is still a move (above)."""
    cfg, store, entry = polled_once(site, web)
    web.clear()
    serve_listing(web, "/news/", listing("/news" + OLD), etag='"v2"')
    web.expect_request("/news" + OLD).respond_with_data(page("SCO Youth Forum"), content_type=HTML)
    (again,) = poll_due(cfg, store, NOW + timedelta(hours=1)).results
    assert (again.new, again.updated, again.rejected) == (0, 0, [])
    assert paths(web) == ["/news/"]
    (kept,) = published_rows.latest(store.db)
    assert (kept.id, kept.revision, kept.updated, kept.link) == (
        entry.id, 1, entry.updated, entry.link
    )  # fmt: skip


def test_a_page_moved_to_another_folder_for_good_is_read_there(site, web):
    """The same file name in another folder is the page already read, but not once a
    recheck found the old address gone (404): the page moved for good, so the new
    address is read as the move it is, its link taken and watched in its place."""
    cfg, store, entry = polled_once(site, web)
    web.clear()
    serve_listing(web, "/news/", listing("/news" + OLD), etag='"v2"')
    web.expect_request(OLD).respond_with_data("gone", status=404)
    web.expect_request("/news" + OLD).respond_with_data(page("SCO Youth Forum"), content_type=HTML)
    report = recheck_due(cfg, store, NOW + timedelta(minutes=30), force=True)
    assert [g for g in report.gone] == [web.url_for(OLD)]
    (moved,) = poll_due(cfg, store, NOW + timedelta(hours=1)).results
    assert (moved.new, moved.updated) == (0, 1)
    (kept,) = published_rows.latest(store.db)
    assert kept.id == entry.id and kept.link == web.url_for("/news" + OLD)
    assert [p.url for p in page_rows.due(store.db, 1e12, 0, 10)] == [web.url_for("/news" + OLD)]


@pytest.mark.parametrize("polled_first", [False, True])
def test_a_move_the_site_undoes_is_read_as_a_move_back(site, web, polled_first):
    """A headline corrected (the page moved to its new slug), then the correction undone:
    the listing links the old address again, which serves the first headline, and the
    new one is gone. The old address was taken for known and never read: the entry kept
    the dropped headline and linked a dead page, and every recheck said it was gone."""
    cfg, store, entry = polled_once(site, web)
    web.clear()
    serve_listing(web, "/news/", listing(NEW), etag='"v2"')
    web.expect_request(NEW).respond_with_data(
        page("SCO Youth Forum opens in Dushanbe"), content_type=HTML
    )
    web.expect_request(OLD).respond_with_data("gone", status=404)
    assert poll_due(cfg, store, NOW + timedelta(hours=1)).results[0].updated == 1
    web.clear()  # undone
    serve_listing(web, "/news/", listing(OLD), etag='"v3"')
    web.expect_request(OLD).respond_with_data(page("SCO Youth Forum"), content_type=HTML)
    web.expect_request(NEW).respond_with_data("gone", status=404)
    if polled_first:  # a poll before the recheck: OLD taken for known, the listing's
        # validators kept, and every poll after the recheck a 304
        poll_due(cfg, store, NOW + timedelta(hours=1, minutes=30))
    report = recheck_due(cfg, store, NOW + timedelta(hours=2), force=True)
    assert report.gone == [web.url_for(NEW)]
    (back,) = poll_due(cfg, store, NOW + timedelta(hours=3)).results
    assert (back.new, back.updated) == (0, 1)
    (kept,) = published_rows.latest(store.db)
    assert (kept.id, kept.title, kept.revision) == (entry.id, "SCO Youth Forum", 3)
    assert kept.link == web.url_for(OLD)
    web.clear_log()  # and known again: not read at the next poll
    assert poll_due(cfg, store, NOW + timedelta(hours=4)).results[0].updated == 0
    assert OLD not in paths(web)


def test_other_articles_of_the_same_day_stay_apart(site, web):
    """Only the number ends an article's address: two releases of a day with numbers
    that end alike, or a slug that ends in a year, are two entries."""
    others = {
        "/20251220/940001.html": "SCO Youth Forum",
        "/20251220/1940001.html": "SCO Energy Ministers meet in Tashkent",
        "/20251220/-Summit-2026.html": "SCO Summit 2026 opens",
        "/20251220/-Forum-2026.html": "SCO Forum 2026 closes",
        "/20251221/940001.html": "SCO Council of Foreign Ministers",
    }
    serve_listing(web, "/news/", listing(*others))
    for path, title in others.items():
        body = f"<p>On 20 December 2025 it happened: {title}.</p>"
        web.expect_request(path).respond_with_data(page(title, body), content_type=HTML)
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    (result,) = poll_due(cfg, store, NOW).results
    assert (result.new, result.rejected) == (5, [])


def test_poll_as_a_subprocess_says_updated_not_new(site, web):
    serve_listing(web, "/news/", listing(OLD))
    web.expect_request(OLD).respond_with_data(page("SCO Youth Forum"), content_type=HTML)
    add_source(site, web.url_for("/news/"))
    cmd = [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "poll"]
    proc = forkserver.run(cmd, capture_output=True, text=True, cwd=site.root, timeout=60)
    assert proc.returncode == 0, proc.stderr
    web.clear()
    serve_listing(web, "/news/", listing(NEW), etag='"v2"')
    web.expect_request(NEW).respond_with_data(
        page("SCO Youth Forum opens in Dushanbe"), content_type=HTML
    )
    proc = forkserver.run([*cmd, "--force"], capture_output=True, text=True, cwd=site.root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sco-en (page-list): ok fetched=2 new=0 updated=1 ")


SCO_LISTING = (test_remote.SCO / "listing.html").read_text(encoding="utf-8")


def test_a_page_redirected_to_the_listing_never_becomes_its_release(site, web):
    """A CMS sends the address of an article it took down to the news listing. The
    listing read as an article made the entry 'News', its text the list of headlines,
    announced as a correction (a recheck) or published as a release (a poll)."""
    cfg, store, entry = polled_once(site, web)
    atom = (site.feeds / "atom.xml").read_bytes()

    web.clear()
    serve_listing(web, "/news/", SCO_LISTING.replace("/20220125/813122.html", NEW), '"v2"')
    web.expect_request(OLD).respond_with_data("", status=301, headers={"Location": "/news/"})
    web.expect_request(NEW).respond_with_data("", status=302, headers={"Location": "/news/"})
    for path in ("/news/20170217/220257.html", "/20230421/-SCO-Digital-Forum-939274.html"):
        web.expect_request(path).respond_with_data("", status=302, headers={"Location": "/"})
    web.expect_request("/").respond_with_data(SCO_LISTING, content_type=HTML)
    report = recheck_due(cfg, store, NOW + timedelta(hours=1), force=True)
    (failed,) = report.failed
    assert failed == (
        web.url_for(OLD),
        f"temporary: redirected to {web.url_for('/news/')}, which is not an article page",
    )
    assert report.updated == 0 and published_rows.latest(store.db) == [entry]

    (result,) = poll_due(cfg, store, NOW + timedelta(hours=2)).results
    assert result.new == result.updated == 0 and len(result.rejected) == 3
    assert all("which is not an article page" in why for _url, why in result.rejected)
    assert published_rows.latest(store.db) == [entry]
    assert (site.feeds / "atom.xml").read_bytes() == atom


def test_an_added_page_redirected_to_the_listing_leaves_its_file_alone(site, web):
    """The same for a page given to `scofeed add URL`: the recheck rewrote its file in
    sources/ with the listing's headlines and announced that as a correction."""
    web.expect_request(OLD).respond_with_data(page("SCO Youth Forum"), content_type=HTML)
    add_source(site, web.url_for("/news/"), extra="enabled = false\n")  # its delay: 0
    cfg, store = site.config(), site.store()
    result = add_url(cfg, store, web.url_for(OLD), NOW)
    assert result.kind == "new"
    before = result.path.read_bytes()
    web.clear()
    web.expect_request(OLD).respond_with_data("", status=301, headers={"Location": "/news/"})
    web.expect_request("/news/").respond_with_data(SCO_LISTING, content_type=HTML)
    report = recheck_due(cfg, store, NOW + timedelta(hours=1), force=True)
    assert [why for _url, why in report.failed] == [
        f"temporary: redirected to {web.url_for('/news/')}, which is not an article page"
    ]
    assert report.updated == 0 and result.path.read_bytes() == before


NOT_FOUND = {
    "en": ("Page not found", "The page you requested does not exist or has been removed."),
    "ru": ("Страница не найдена", "Запрошенная страница не существует или была удалена."),
    "zh": ("页面不存在", "您访问的页面不存在或已被删除。"),
    "404": ("404", "Sorry, nothing here. Go back to the home page."),
}


@pytest.mark.parametrize("lang", NOT_FOUND)
def test_a_not_found_page_answered_with_a_200_is_a_gone_page_not_a_correction(site, web, lang):
    """A CMS that answers a page it took down with its 'Page not found' page and a 200
    (a soft 404): the recheck made that the release's text, 'Page not found', and
    announced it as a correction; a poll published it as a release."""
    cfg, store, entry = polled_once(site, web)
    title, text = NOT_FOUND[lang]
    soft404 = (
        f'<html lang="en"><head><title>{title} - SCO</title></head><body>'
        f"<main><h1>{title}</h1><p>{text}</p></main></body></html>"
    )
    web.clear()
    serve_listing(web, "/news/", listing(OLD, "/20251221/940002.html"), '"v2"')
    for path in (OLD, "/20251221/940002.html"):
        web.expect_request(path).respond_with_data(soft404, content_type=HTML)
    report = recheck_due(cfg, store, NOW + timedelta(hours=1), force=True)
    assert (report.updated, report.failed, report.gone) == (0, [], [web.url_for(OLD)])
    assert published_rows.latest(store.db) == [entry]
    assert [p.url for p in page_rows.gone(store.db)] == [web.url_for(OLD)]

    (result,) = poll_due(cfg, store, NOW + timedelta(hours=2)).results
    assert (result.new, result.updated) == (0, 0)
    assert result.rejected == [
        (
            web.url_for("/20251221/940002.html"),
            "temporary: a 'page not found' page (answered with a 200); linked from the "
            "listing: not up yet?",
        )
    ]
    assert published_rows.latest(store.db) == [entry]


def rss(link: str, title: str, guid: str = "agency-c1", permalink: bool = False) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Agency</title><link>http://agency.example/</link><description>d</description>"
        f"<item><title>{title}</title><link>{link}</link>"
        f'<guid isPermaLink="{str(permalink).lower()}">{guid}</guid>'
        "<pubDate>Sat, 20 Dec 2025 10:00:00 GMT</pubDate>"
        "<description>&lt;p&gt;The SCO culture forum opened on 20 December 2025.&lt;/p&gt;"
        "&lt;p&gt;Artists from the member states took part.&lt;/p&gt;</description>"
        "</item></channel></rss>"
    )


def moved_item(site, web, path: str, feed: Callable[[str, str], str], content_type: str):
    """A feed at ``path`` (``feed(link, title)`` its body) polled with an item, then with
    the item at a new link under a corrected title: the item revises its entry (revision
    2, the new title and link), never publishing the release twice. The config, the
    store and the entry."""
    serve_listing(web, path, feed("http://agency.example/c1", "SCO culture forum"), '"a"',
                  content_type)  # fmt: skip
    add_source(site, web.url_for(path), name="agency", kind="feed")
    cfg, store = site.config(), site.store()
    (first,) = poll_due(cfg, store, NOW).results
    assert first.new == 1
    (entry,) = published_rows.latest(store.db)
    web.clear()
    moved = feed("http://agency.example/c1-xian", "SCO culture forum opens in Xian")
    serve_listing(web, path, moved, '"b"', content_type)
    (second,) = poll_due(cfg, store, NOW + timedelta(hours=1)).results
    assert (second.new, second.updated) == (0, 1), second
    (after,) = published_rows.latest(store.db)
    assert (after.id, after.revision) == (entry.id, 2)
    assert (after.title, after.url) == (
        "SCO culture forum opens in Xian",
        "http://agency.example/c1-xian",
    )
    return cfg, store, entry


def test_a_feed_item_whose_link_follows_its_corrected_title_is_one_entry(site, web):
    """A feed item is known by its link; a CMS whose links follow the title (a slug)
    gives a corrected item a new link, under the same guid. Its guid is kept beside
    its link, so the item at its new link revises its entry (revision 2, the new title
    and link, release.updated), never publishing the release twice."""
    rss_type = "application/rss+xml"
    cfg, store, entry = moved_item(site, web, "/rss", rss, rss_type)

    # another item under another guid, with the same words, is still the same release
    # by its fingerprint (a copy), not taken for this one by its guid
    web.clear()
    other = rss("http://agency.example/c2", "SCO culture forum opens in Xian", "agency-c2")
    serve_listing(web, "/rss", other, '"c"', rss_type)
    (third,) = poll_due(cfg, store, NOW + timedelta(hours=2)).results
    assert third.new == 0
    assert [e.id for e in published_rows.latest(store.db)] == [entry.id]

    # `scofeed show`: each guid kept is an alias of its item's link, never a copy; the
    # item's old link is a former name; the other item is a copy
    feed = web.url_for("/rss")
    inputs = [
        ("former", "http://agency.example/c1"),
        ("current", "http://agency.example/c1-xian"),
        ("alias", f"{feed}#agency-c1"),
        ("copy", "http://agency.example/c2"),
        ("alias", f"{feed}#agency-c2"),
    ]
    assert shown_inputs(site, entry.id) == inputs
    # a store from before names were kept (migration 23) learns its aliases; a former
    # name stored then is not known (it was a row like any other)
    with store.transaction() as db:
        rewind(db, 22)
    store.close()
    site.store().close()  # upgraded by a command that writes (`show` only reads)
    assert shown_inputs(site, entry.id) == [("copy", inputs[0][1]), *inputs[1:]]


def test_a_json_feed_item_whose_url_follows_its_corrected_title_is_one_entry(site, web):
    """The same for JSON Feed: its item's ``id`` (here a number, which JSON Feed 1.1
    reads as a string) is kept beside its ``url``, so the item at its new url revises
    its entry."""

    def doc(url: str, title: str) -> str:
        item = {"id": 41, "url": url, "title": title, "date_published": "2025-12-20T10:00:00Z"}
        item["content_html"] = "<p>The SCO culture forum opened.</p><p>Artists took part.</p>"
        return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [item]})

    moved_item(site, web, "/j", doc, "application/feed+json")
