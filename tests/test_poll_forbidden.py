"""Article pages that a site refuses for a while (a 403 from a firewall or a bot check,
a 401, a 429): tried again at later polls, less and less often, and given up (listed
in `scofeed status`) only when refused for a week. Real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from werkzeug import Request, Response

import test_remote
from conftest import rewind
from scofeed.cli import main
from scofeed.poll import PAGE_GIVE_UP, poll_due
from scofeed.store import Store
from scofeed.store import files as file_rows
from scofeed.store import published as published_rows
from scofeed.store import sources as source_rows
from scofeed.store import status as status_rows
from test_remote import HTML, NOW, SCO, add_source, paths, serve_listing

web = test_remote.web  # a threaded HTTP server on 127.0.0.1

PAGE = "/20220125/813122.html"
LISTING = f'<html><body><a href="{PAGE}">one</a></body></html>'


def serve_refusing(web, answers: list[Response]) -> list[str]:
    """The listing, and an article page that answers ``answers`` one by one, then the
    article; the times the page was asked for, by status answered."""
    serve_listing(web, "/news/", LISTING)
    asked: list[str] = []

    def article(request: Request) -> Response:
        if answers:
            resp = answers.pop(0)
            asked.append(str(resp.status_code))
            return resp
        asked.append("200")
        return Response((SCO / "article_en.html").read_bytes(), content_type=HTML)

    web.expect_request(PAGE).respond_with_handler(article)
    return asked


@pytest.mark.parametrize(
    ("status", "reason"), [(403, "HTTP 403 Forbidden"), (401, "HTTP 401 Unauthorized")]
)
def test_an_article_page_refused_for_a_while_comes_in_when_the_site_lets_us_in(
    site, web, status, reason
):
    """A 403 (or 401) on an article page was a refusal for good: never fetched again
    until `poll --force`, and the listing's validators kept, so the release was lost."""
    asked = serve_refusing(web, [Response("blocked", status=status)] * 2)
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    (first,) = poll_due(cfg, store, NOW).results
    assert first.rejected == [(web.url_for(PAGE), f"temporary: {reason}")]
    assert first.next_poll == NOW + timedelta(seconds=600)  # the source's own schedule
    (second,) = poll_due(cfg, store, NOW + timedelta(seconds=600)).results
    assert second.new == 0 and len(second.rejected) == 1
    web.clear_log()
    (third,) = poll_due(cfg, store, NOW + timedelta(seconds=1800)).results
    assert (third.status, third.new, third.rejected) == ("ok", 1, [])
    assert [(req.path, resp.status_code) for req, resp in web.log] == [
        ("/news/", 200),  # not a 304: an article was missing
        (PAGE, 200),
    ]
    assert asked == [str(status), str(status), "200"]
    assert file_rows.rejects(store.db) == [] and published_rows.count(store.db) == 1


def test_a_403_with_retry_after_waits_as_asked(site, web):
    serve_refusing(web, [Response("wait", status=403, headers={"Retry-After": "7200"})])
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    (first,) = poll_due(cfg, store, NOW).results
    assert first.next_poll == NOW + timedelta(seconds=7200)
    assert poll_due(cfg, store, NOW + timedelta(seconds=700)).results == []
    (later,) = poll_due(cfg, store, NOW + timedelta(seconds=7200)).results
    assert later.new == 1


def test_a_page_refused_for_ever_is_asked_less_and_less_then_given_up(site, web, capsys):
    """A page answering 403 for ever was to be asked at every poll for ever: each retry
    waits twice as long (at most a day), and after a week it is given up, listed with
    the rejected inputs, and asked no more (until `poll --force`)."""
    refusals = [Response("blocked", status=403)] * 10_000
    asked = serve_refusing(web, refusals)
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    hour = timedelta(hours=1)
    polls = int(PAGE_GIVE_UP / 3600) + 48
    for n in range(polls):  # hourly, for nine days (interval 600 s: due at each)
        poll_due(cfg, store, NOW + n * hour)
    # the waits: 10 min, 20 min, 40 min ... a day: about a dozen requests, not 216
    assert 8 <= len(asked) <= 16, len(asked)
    (gone,) = status_rows.rejected(store.db)
    assert gone.origin == web.url_for(PAGE)
    assert gone.reason.startswith("given up after ") and gone.reason.endswith(
        "days (last: HTTP 403 Forbidden)"
    )
    assert not gone.reason.startswith("temporary:")
    before = len(asked)
    web.clear_log()
    poll_due(cfg, store, NOW + polls * hour)
    assert len(asked) == before and PAGE not in paths(web)
    assert main(["--config", str(site.config_path), "status"]) == 0
    out = capsys.readouterr().out
    assert "given up after" in out and "HTTP 403 Forbidden" in out

    refusals.clear()  # the site lets us in again: --force fetches the page again
    (forced,) = poll_due(cfg, store, NOW + polls * hour, force=True).results
    assert forced.new == 1 and file_rows.rejects(store.db) == []


def test_a_page_waiting_its_turn_costs_the_listing_no_whole_download(site, web):
    """A listing linking a page that answers 404 for good (refused for now: it may not
    be up yet): the listing was downloaded whole at every poll for the week it was
    tried, ~170 times where it answers 304. It is read whole only when the page's turn
    comes; the page is given up after the week as any page refused for now."""
    serve_refusing(web, [Response("not here", status=404)] * 10_000)
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    polls = int(PAGE_GIVE_UP / 3600) + 48
    for n in range(polls):  # hourly, for nine days
        poll_due(cfg, store, NOW + n * timedelta(hours=1))
    listing = [resp.status_code for req, resp in web.log if req.path == "/news/"]
    assert listing.count(200) <= 20 and listing.count(304) >= polls - 20, listing
    (gone,) = status_rows.rejected(store.db)
    assert gone.reason.startswith("given up after ") and "HTTP 404 NOT FOUND" in gone.reason


def test_a_page_refused_for_now_comes_in_after_its_source_is_renamed(site, web):
    """The source renamed in the config while its page was refused for now: its turns
    were the old name's, which no poll took, the listing answered 304, and the release
    never came; `scofeed status` showed nothing. A source of the same site takes them."""
    asked = serve_refusing(web, [Response("blocked", status=403)])
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    assert len(poll_due(cfg, store, NOW).results[0].rejected) == 1
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(text.replace('name = "sco-en"', 'name = "sco-news"'))
    cfg = site.config()
    for n in range(1, 24):  # hourly, a day
        poll_due(cfg, store, NOW + n * timedelta(hours=1))
    assert asked == ["403", "200"] and published_rows.count(store.db) == 1


def test_a_page_that_recovers_starts_a_new_run_of_refusals(site, web):
    """Refusals count in a row: a page that came in and is refused again later (by a
    recheck, say) does not inherit an old run; and a refusal for good ends a run."""
    db = site.store().db
    url = "https://example.org/20220125/1.html"
    first = source_rows.fail_for_now(db, url, "s", "temporary: HTTP 403 Forbidden", 100.0)
    again = source_rows.fail_for_now(db, url, "s", "temporary: server error 503", 200.0)
    assert (first.since, first.tries) == (100.0, 1)
    assert (again.at, again.since, again.tries) == (200.0, 100.0, 2)
    file_rows.reject(db, url, "s", "HTTP 400 Bad Request", 300.0, None)
    assert source_rows.failed_for_now(db, [url]) == {}
    fresh = source_rows.fail_for_now(db, url, "s", "temporary: HTTP 403 Forbidden", 400.0)
    assert (fresh.since, fresh.tries) == (400.0, 1)


def test_a_page_refused_for_now_before_the_upgrade_starts_its_run_then(site):
    """Migration 22: a page refused for now by an older scofeed counts as refused once,
    at that time; one refused for good stays so."""
    cfg = site.config()
    store = site.store()
    file_rows.reject(store.db, "https://x.org/1.html", "s", "temporary: HTTP 429", 100.0, None)
    file_rows.reject(store.db, "https://x.org/2.html", "s", "HTTP 400 Bad Request", 200.0, None)
    store.close()
    db = sqlite3.connect(cfg.paths.state)
    rewind(db, 21)
    db.commit()
    db.close()
    store = Store(cfg.paths.state)
    try:
        rows = store.db.execute("SELECT origin, since, tries FROM rejects ORDER BY origin")
        assert [tuple(r) for r in rows] == [
            ("https://x.org/1.html", 100.0, 1),
            ("https://x.org/2.html", None, 0),
        ]
        again = source_rows.fail_for_now(
            store.db, "https://x.org/1.html", "s", "temporary: HTTP 403 Forbidden", 300.0
        )
        assert (again.since, again.tries) == (100.0, 2)
    finally:
        store.close()
