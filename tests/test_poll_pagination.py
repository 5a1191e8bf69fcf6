"""Catching up through a listing's next pages: releases that left the first listing
page while scofeed was not polling come in from the next ones, within max_pages, on
the same host, never the same page twice. Real HTTP servers on 127.0.0.1; the pure
next-page finder on the shapes real sites write."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from werkzeug import Request, Response

import test_remote
from conftest import run_cli
from scofeed.errors import ConfigError
from scofeed.poll import poll_due
from scofeed.sources.htmlpage import SCO_ARTICLE
from scofeed.sources.pagination import next_page
from scofeed.store import published as published_rows
from test_remote import HTML, NOW, SCO, add_source, paths

web = test_remote.web  # a threaded HTTP server on 127.0.0.1

PER_PAGE = 3
HOUR = timedelta(hours=1)


def article_path(n: int) -> str:
    return f"/202512{n:02d}/9400{n:02d}.html"


class Site:
    """An SCO-shaped news listing, newest first, PER_PAGE articles a page, paged with
    ``/news/?page=N`` and a "Next page" link (as tests/data/sco/listing.html)."""

    def __init__(self, web, newest: int, next_link=None) -> None:
        self.newest = newest
        self.next_link = next_link or (lambda n: f'<a href="/news/?page={n + 1}">Next page</a>')
        web.expect_request("/news/").respond_with_handler(lambda r: self.listing(r))
        web.expect_request(re.compile(r"/202512\d\d/9400\d\d\.html")).respond_with_handler(
            self.article
        )

    def listing(self, request: Request) -> Response:
        n = int(request.args.get("page", "1"))
        etag = f'"{self.newest}-{n}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        numbers = range(self.newest - (n - 1) * PER_PAGE, 0, -1)[:PER_PAGE]
        if not numbers:
            return Response("<html><body><p>No more news.</p></body></html>", content_type=HTML)
        items = "".join(f'<li><a href="{article_path(i)}">Release {i}</a></li>' for i in numbers)
        more = self.next_link(n) if numbers[-1] > 1 else ""
        body = f'<html><body><ul class="news-list">{items}</ul><div class="pager">{more}</div>'
        return Response(body + "</body></html>", content_type=HTML, headers={"ETag": etag})

    def article(self, request: Request) -> Response:
        n = int(request.path[-7:-5])
        body = (
            f'<html lang="en"><body><div class="news-detail"><h1>SCO release number {n}</h1>'
            f"<p>The SCO Secretariat published release number {n} in December 2025.</p>"
            "</div></body></html>"
        )
        return Response(body, content_type=HTML)


def pages_read(server) -> list[str]:
    return [
        req.full_path.rstrip("?") for req, _ in server.log if req.path == "/news/"
    ]  # fmt: skip


def titles(store) -> set[int]:
    return {int(e.title.rsplit(" ", 1)[1]) for e in published_rows.latest(store.db, 100)}


def polled_then_published(site, web, sco, newest: int, extra: str = ""):
    """The source added and polled once (releases up to ``sco.newest``), then the site
    publishes up to ``newest``: the config and store, the server's log cleared."""
    add_source(site, web.url_for("/news/"), extra=extra)
    cfg, store = site.config(), site.store()
    poll_due(cfg, store, NOW)
    sco.newest = newest
    web.clear_log()
    return cfg, store


def test_releases_that_left_the_first_page_during_a_downtime_come_in(site, web):
    """Only the first listing page was read: five releases published while scofeed was
    down pushed two of them to page 2, and those never came in."""
    sco = Site(web, newest=6)
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    (first,) = poll_due(cfg, store, NOW).results
    assert first.rejected == []
    assert first.new == 3 and pages_read(web) == ["/news/"]  # a first poll: no backfill

    sco.newest = 11  # five new ones: page 1 is 11 10 9, page 2 is 8 7 6
    web.clear_log()
    (second,) = poll_due(cfg, store, NOW + HOUR).results
    assert (second.status, second.new, second.rejected) == ("ok", 5, [])
    assert pages_read(web) == ["/news/", "/news/?page=2"]  # 6, last on page 2, is known
    assert titles(store) == set(range(4, 12))
    # oldest first: release 7 came in before release 11
    articles = [req.path for req, _ in web.log if req.path != "/news/"]
    assert articles == [article_path(n) for n in (7, 8, 9, 10, 11)]

    web.clear_log()  # nothing new: one listing page, a 304-free but short poll
    (third,) = poll_due(cfg, store, NOW + 2 * HOUR).results
    assert third.new == 0 and pages_read(web) == ["/news/"]


def test_what_max_items_left_comes_in_though_pushed_off_the_first_page(site, web, monkeypatch):
    """A poll taking the newest of its new releases (max_items) leaves an older one on
    the first page; more releases before the next poll pushed it to page 2, behind a
    first page whose last link was known: no poll read page 2 again, and it was lost,
    with nothing in `scofeed status`. Until a poll takes in all it finds, the next
    ones read past the first page, as after a catch-up cut short."""
    monkeypatch.setitem(globals(), "PER_PAGE", 4)
    sco = Site(web, newest=2)
    cfg, store = polled_then_published(site, web, sco, 5, extra="max_items = 2\n")
    (second,) = poll_due(cfg, store, NOW + HOUR).results
    assert second.new == 2 and titles(store) == {1, 2, 4, 5}  # 3 left for the next poll
    sco.newest = 7  # page 1 is 7 6 5 4, its last link known; 3 is on page 2
    for hours in (2, 3):
        poll_due(cfg, store, NOW + hours * HOUR)
    assert titles(store) == set(range(1, 8))
    web.clear_log()  # all taken in: the first page alone again
    poll_due(cfg, store, NOW + 4 * HOUR)
    assert pages_read(web) == ["/news/"]


def test_max_pages_bounds_the_catch_up(site, web, caplog):
    sco = Site(web, newest=3)
    # nine new: pages 1 to 3, 3 on page 4 is known
    cfg, store = polled_then_published(site, web, sco, 12, extra="max_pages = 2\n")
    with caplog.at_level(logging.INFO, logger="scofeed.poll"):
        (result,) = poll_due(cfg, store, NOW + HOUR).results
    assert pages_read(web) == ["/news/", "/news/?page=2"]
    assert result.new == 6 and titles(store) == {1, 2, 3, *range(7, 13)}
    assert "poll_catch_up_capped source=sco-en pages=2 max_pages=2" in caplog.text


def test_max_items_leaves_the_newest_for_the_next_poll_which_finds_them(site, web):
    sco = Site(web, newest=3)
    add_source(site, web.url_for("/news/"), extra="max_items = 2\n")
    cfg, store = site.config(), site.store()
    poll_due(cfg, store, NOW)
    poll_due(cfg, store, NOW + HOUR)  # 3 was left by max_items at the first poll
    assert titles(store) == {1, 2, 3}
    sco.newest = 8  # five new: 8 7 6 on page 1, 5 4 on page 2
    for n in range(2, 6):
        poll_due(cfg, store, NOW + n * HOUR)
    assert titles(store) == set(range(1, 9))


@pytest.mark.parametrize(
    ("next_link", "read", "new"),
    [
        (lambda n: '<a href="/news/">Next page</a>', ["/news/"], 3),  # back to the first
        (lambda n: '<a href="/news/?page=2">Next page</a>', ["/news/", "/news/?page=2"], 6),
        (lambda n: f'<a href="http://other.example/news/?page={n + 1}">Next</a>', ["/news/"], 3),
    ],
    ids=["back-to-the-first", "page-2-to-itself", "another-host"],
)
def test_a_next_link_to_a_page_read_or_to_another_host_ends_the_catch_up(
    site, web, next_link, read, new
):
    sco = Site(web, newest=3, next_link=next_link)
    cfg, store = polled_then_published(site, web, sco, 9)
    (result,) = poll_due(cfg, store, NOW + HOUR).results
    assert result.new == new and pages_read(web) == read


def test_a_next_page_that_fails_ends_the_catch_up_not_the_poll_and_the_next_goes_on(site, web):
    """Page 2 failing for now at the poll that needed it: page 1's articles come in, and
    the next poll (page 1 unchanged, its last link now known: no 304 either) goes on
    to page 2 instead of losing what it holds."""
    sco = Site(web, newest=3)
    busy = [Response("busy", status=503)]
    page_1 = sco.listing

    def listing(request: Request) -> Response:
        if request.args.get("page") == "2" and busy:
            return busy.pop()
        return page_1(request)

    sco.listing = listing  # type: ignore[method-assign]
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    poll_due(cfg, store, NOW)
    sco.newest = 9
    (result,) = poll_due(cfg, store, NOW + HOUR).results
    assert (result.status, result.new, result.rejected) == ("ok", 3, [])
    assert titles(store) == {1, 2, 3, 7, 8, 9}
    web.clear_log()
    (again,) = poll_due(cfg, store, NOW + 2 * HOUR).results
    assert again.new == 3 and titles(store) == set(range(1, 10))
    assert pages_read(web) == ["/news/", "/news/?page=2", "/news/?page=3"]  # 1 is known
    assert [resp.status_code for req, resp in web.log if req.path == "/news/"] == [200] * 3
    web.clear_log()  # done: back to one conditional GET of page 1
    (third,) = poll_due(cfg, store, NOW + 3 * HOUR).results
    assert third.status == "unchanged" and paths(web) == ["/news/"]


def test_a_next_page_answering_retry_after_leaves_the_host_alone_until_then(site, web):
    sco = Site(web, newest=3, next_link=lambda n: '<a href="/archive/2">Next page</a>')
    web.expect_request("/archive/2").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7200"}
    )
    cfg, store = polled_then_published(site, web, sco, 9)
    (result,) = poll_due(cfg, store, NOW + HOUR).results
    assert paths(web) == ["/news/", "/archive/2"]  # no article page: the host said wait
    assert result.next_poll == NOW + HOUR + timedelta(seconds=7200)
    web.clear()
    Site(web, newest=9)
    (later,) = poll_due(cfg, store, NOW + 3 * HOUR).results
    assert later.new == 3  # the first page's: its catch-up held back once
    (caught,) = poll_due(cfg, store, NOW + 4 * HOUR).results
    assert caught.new == 3 and titles(store) == set(range(1, 10))


def test_a_next_page_answering_429_at_every_poll_holds_back_no_release_for_good(
    site, web, monkeypatch
):
    """A site answering 429 with Retry-After for every next page: each poll's catch-up
    was refused, and with it every article of that poll, the first page's too; the
    catch-up went on the next poll, and so on: nothing more came in, for good. A poll
    after a next page asked to wait takes the first page's articles, the next one tries
    the catch-up again."""
    monkeypatch.setitem(globals(), "PER_PAGE", 4)
    sco = Site(web, newest=2, next_link=lambda n: '<a href="/archive/2">Next page</a>')
    web.expect_request("/archive/2").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "60"}
    )
    cfg, store = polled_then_published(site, web, sco, 5, extra="max_items = 2\n")
    for hours in range(1, 6):
        poll_due(cfg, store, NOW + hours * HOUR)
    assert titles(store) == set(range(1, 6))
    sco.newest = 9  # a whole first page new: a catch-up, refused at each try
    for hours in range(6, 16):
        poll_due(cfg, store, NOW + hours * HOUR)
    assert titles(store) == set(range(1, 10))


def test_a_page_refused_for_now_that_left_the_first_page_comes_in_at_its_turn(site, web):
    """Release 4 listed before its page was up (a 404, refused for now), then pushed to
    page 2 by three more: its turns came while no poll read page 2 (its first page's
    last link known), so it was never tried again, nor given up: lost. A page whose turn
    comes is tried at its address, linked or not."""
    asked = []

    def late(request: Request) -> Response:
        asked.append(request.path)
        if len(asked) <= 2:
            return Response("not here", status=404)
        return sco.article(request)

    web.expect_request(article_path(4)).respond_with_handler(late)  # before Site's own
    sco = Site(web, newest=3)
    cfg, store = polled_then_published(site, web, sco, 4)
    poll_due(cfg, store, NOW + 10 * timedelta(minutes=1))  # 4 listed, not up: refused
    sco.newest = 7  # three more: 4 is on page 2
    for n in range(2, 6 * 24):  # ten-minute polls for a day
        poll_due(cfg, store, NOW + n * 10 * timedelta(minutes=1))
    assert titles(store) == set(range(1, 8)) and len(asked) == 3


def test_a_page_refused_for_now_on_a_source_polled_every_3_days_comes_in(site, web):
    """A source polled every 3 days, release 4 listed before its page was up (a 404
    until day 14): its turns stopped a week past its first refusal, before the fifth
    that gives a page up, and the unchanged listing answered 304 from then on: release
    4 never came in, 'temporary' in status for good. Every turn is taken now."""
    up = NOW + timedelta(days=14)
    clock = {"now": NOW}

    def late(request: Request) -> Response:
        if clock["now"] < up:
            return Response("not here", status=404)
        return sco.article(request)

    web.expect_request(article_path(4)).respond_with_handler(late)  # before Site's own
    sco = Site(web, newest=3)
    add_source(site, web.url_for("/news/"))
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(text.replace("interval = 600", "interval = 259200"))
    cfg, store = site.config(), site.store()
    poll_due(cfg, store, NOW)
    sco.newest = 4
    for hours in range(1, 30 * 24, 6):
        clock["now"] = NOW + hours * HOUR
        poll_due(cfg, store, clock["now"])
    assert 4 in titles(store)


def test_a_page_refused_for_now_linked_beside_its_new_address_is_no_refusal(site, web):
    """Release 4 refused for now at its address, then linked at a new one beside it (the
    same article): the new one came in, the old one was never tried nor cleared, and
    being due made every poll read the listing whole, for days. It is no refusal now."""
    web.expect_request(article_path(4)).respond_with_data("not here", status=404)
    web.expect_request("/news" + article_path(4)).respond_with_handler(lambda r: sco.article(r))
    sco = Site(web, newest=3)
    cfg, store = polled_then_published(site, web, sco, 4)
    poll_due(cfg, store, NOW + timedelta(minutes=10))  # 4 refused for now
    listing = sco.listing

    def both(request: Request) -> Response:
        resp = listing(request)
        if resp.status_code == 200:
            resp.set_data(resp.get_data(as_text=True).replace(
                f'<li><a href="{article_path(4)}">',
                f'<li><a href="/news{article_path(4)}">Release 4</a></li>'
                f'<li><a href="{article_path(4)}">',
            ))  # fmt: skip
        return resp

    sco.listing = both
    statuses = [
        poll_due(cfg, store, NOW + n * timedelta(minutes=10)).results[0].status
        for n in range(2, 6 * 24)
    ]
    assert 4 in titles(store) and statuses.count("unchanged") > len(statuses) - 10


def test_a_next_page_redirected_to_the_first_ends_the_catch_up(site, web):
    """A site that answers a page past its last by sending the reader to the first."""
    sco = Site(web, newest=3, next_link=lambda n: '<a href="/old/">Next page</a>')
    web.expect_request("/old/").respond_with_data("", status=302, headers={"Location": "/news/"})
    cfg, store = polled_then_published(site, web, sco, 9)
    (result,) = poll_due(cfg, store, NOW + HOUR).results
    assert result.new == 3 and paths(web).count("/news/") == 2  # itself, then the redirect
    assert paths(web)[:3] == ["/news/", "/old/", "/news/"]


def test_a_site_serving_its_first_page_for_any_page_number_ends_the_catch_up(site, web):
    """``?page=N`` answered with page 1's articles and a "Next" to ``?page=N+1``: each
    page was read as new, up to max_pages (5 pages, 4 of them the first again). Found by
    fuzzing the listing reader (round 2, second pass)."""
    sco = Site(web, newest=3)
    page_1 = sco.listing

    def listing(request: Request) -> Response:
        n = int(request.args.get("page", "1"))
        if n == 1:
            return page_1(request)
        first = page_1(Request.from_values("/news/")).get_data(as_text=True)
        ahead = first.replace('?page=2"', f'?page={n + 1}"')
        return Response(ahead, content_type=HTML)

    sco.listing = listing  # type: ignore[method-assign]
    cfg, store = polled_then_published(site, web, sco, 9)
    (result,) = poll_due(cfg, store, NOW + HOUR).results
    assert (result.status, result.new, result.rejected) == ("ok", 3, [])
    assert pages_read(web) == ["/news/", "/news/?page=2"]


@pytest.mark.parametrize(
    "body", ["", "  \n", "<!-- no more news -->", '<?xml version="1.0"?>', "\x00"]
)
def test_next_page_of_a_page_with_nothing_to_parse_is_none(body):
    """lxml's "Document is empty" was raised to the caller (a ParserError)."""
    assert next_page(body, BASE + "?page=2", SCO_ARTICLE) is None


@pytest.mark.parametrize(
    "answer",
    [
        Response("", content_type=HTML),
        Response(status=204),
        Response("<!-- no more news -->", content_type=HTML),
        Response(
            '<html><body><div class="pager"><a href="/news/?page=3">Next page</a>'
            "</div></body></html>",
            content_type=HTML,
        ),
    ],
    ids=["empty", "no-content", "a-comment", "a-next-link-and-no-articles"],
)
def test_an_empty_next_page_ends_the_catch_up_and_the_poll_goes_on(site, web, answer):
    sco = Site(web, newest=3)
    page_1 = sco.listing

    def listing(request: Request) -> Response:
        return answer if request.args.get("page") else page_1(request)

    sco.listing = listing  # type: ignore[method-assign]
    cfg, store = polled_then_published(site, web, sco, 9)
    (result,) = poll_due(cfg, store, NOW + HOUR).results
    assert (result.status, result.new, result.rejected) == ("ok", 3, [])
    assert pages_read(web) == ["/news/", "/news/?page=2"]
    web.clear_log()  # stopped for good: the next poll is one conditional GET
    (again,) = poll_due(cfg, store, NOW + 2 * HOUR).results
    assert again.status == "unchanged" and pages_read(web) == ["/news/"]


def test_max_pages_must_be_above_zero(site):
    site.write_config(
        '\n[[sources]]\nname = "a"\nkind = "page-list"\nurl = "http://a.example/"\n'
        'preset = "sco"\nmax_pages = 0\n'
    )
    with pytest.raises(ConfigError, match=r"^sources\[0\]\.max_pages: "):
        site.config()


def test_max_pages_on_a_feed_source_is_an_error_not_ignored(site):
    """A feed is one document, read whole: ``max_pages`` there was accepted and did
    nothing, so an operator who set it to bound a feed's catch-up was never told."""
    site.write_config(
        '\n[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://a.example/f.xml"\nmax_pages = 3\n'
    )
    with pytest.raises(ConfigError, match=r"^sources\[0\]\.max_pages: only page-list sources"):
        site.config()
    site.write_config('\n[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://a.example/f.xml"\n')
    assert site.config().sources[0].max_pages is None
    site.write_config(
        '\n[[sources]]\nname = "a"\nkind = "page-list"\nurl = "http://a.example/"\npreset = "sco"\n'
    )
    (src,) = site.config().sources
    assert src.max_pages is None and src.pages == 5
    shown = run_cli(site, "config", "show")  # the effective value, as every default is
    assert shown.returncode == 0 and "\nmax_pages = 5\n" in shown.stdout


BASE = "https://eng.sectsco.org/news/"


def html(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


SITE = "https://eng.sectsco.org"


@pytest.mark.parametrize(
    ("base", "page", "expected"),
    [
        (BASE, (SCO / "listing.html").read_text(encoding="utf-8"), BASE + "?page=2"),
        (BASE, html("", '<link rel="next" href="/news/?page=2">'), BASE + "?page=2"),
        (BASE, html('<a rel="next" href="?page=2">2</a>'), BASE + "?page=2"),
        (
            BASE + "?page=2",
            html('<a href="?page=1">1</a> <a href="?page=3">3</a>'),
            BASE + "?page=3",
        ),
        (BASE + "?PAGEN_1=2", html('<a href="/news/?PAGEN_1=3">3</a>'), BASE + "?PAGEN_1=3"),
        (
            BASE,
            html('<a class="modern-page-next" href="/x/?PAGEN_1=2">След.</a>'),
            SITE + "/x/?PAGEN_1=2",
        ),
        (
            "https://x.org/news/page/2/",
            html('<a href="/news/page/3/">3</a>'),
            "https://x.org/news/page/3/",
        ),
        (BASE, html('<a href="/archive/2">Следующая</a>'), SITE + "/archive/2"),
        (BASE, html('<a href="/archive/2">下一页</a>'), SITE + "/archive/2"),
        (BASE, html('<a href="/archive/2">»</a>'), SITE + "/archive/2"),
        (BASE, html('<a href="/archive/2" aria-label="Next page">›</a>'), SITE + "/archive/2"),
        (BASE, html('<li class="next"><a href="/a/2">more</a></li>'), SITE + "/a/2"),
        # Drupal counts from 0: its second page is ?page=1, its "Next" says so
        (
            BASE,
            html('<a href="?page=2">3</a> <a href="?page=1" title="Go to next page">Next ›</a>'),
            BASE + "?page=1",
        ),
        (
            BASE,
            html('<a href="/news/?page=9">9</a> <a href="/news/?page=2">2</a>'),
            BASE + "?page=2",
        ),
        # not a next page: another listing, another host, an article, the last page,
        # the previous page, the page itself
        (BASE, html('<a href="/events/?page=2">2</a>'), None),
        (BASE, html('<a href="https://other.example/news/?page=2">Next</a>'), None),
        (BASE, html('<a href="/20251221/940001.html">Next</a>'), None),
        (BASE, html('<a href="/news/?page=9">Last »</a>'), None),
        (BASE + "?page=3", html('<a href="?page=2">« Previous</a>'), None),
        (BASE, html('<a href="/news/">Next</a>'), None),
    ],
)
def test_next_page_on_the_shapes_sites_write(base, page, expected):
    assert next_page(page, base, SCO_ARTICLE) == expected
