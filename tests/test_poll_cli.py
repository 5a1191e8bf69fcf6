"""What an operator sees from `scofeed poll` and `scofeed recheck`, run as real
subprocesses against an SCO-like site on 127.0.0.1: one line per refused page on
standard error, naming its address and the reason."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import forkserver
import test_remote
from test_remote import HTML, SCO, add_source, serve_listing

web = test_remote.web  # a threaded HTTP server on 127.0.0.1

LISTING = (
    '<html><body><a href="/20220125/813122.html">one</a>'
    '<a href="/20220126/813123.html">two</a><a href="/20220127/813124.html">three</a>'
    "</body></html>"
)


def scofeed(site, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args]
    return forkserver.run(cmd, capture_output=True, text=True, cwd=site.root, timeout=60)


def test_each_refused_page_is_one_line_on_stderr(site, web):
    serve_listing(web, "/news/", LISTING)
    web.expect_request("/20220125/813122.html").respond_with_data(
        (SCO / "article_en.html").read_bytes(), content_type=HTML
    )
    web.expect_request("/20220126/813123.html").respond_with_data("gone", status=410)
    web.expect_request("/20220127/813124.html").respond_with_data(
        b"%PDF-1.4", content_type="application/pdf"
    )
    add_source(site, web.url_for("/news/"))
    proc = scofeed(site, "poll")
    assert proc.returncode == 1
    assert proc.stdout.startswith("sco-en (page-list): ok fetched=4 new=1 ")
    assert proc.stderr.splitlines() == [
        f"rejected {web.url_for('/20220126/813123.html')}: HTTP 410 GONE",
        f"rejected {web.url_for('/20220127/813124.html')}: content type application/pdf "
        "where text/html or application/xhtml+xml was expected",
    ]


def test_a_feed_of_many_bad_items_is_not_a_line_each_past_twenty(site, web):
    """A feed of 100,000 items without a body wrote 100,000 lines at each poll, on
    stderr and in the log. Twenty get a line, the rest one line; each is recorded."""
    items = "".join(
        f"<item><title>Item {n}</title><link>https://sco.example/{n}</link>"
        "<pubDate>Mon, 05 May 2025 10:00:00 GMT</pubDate></item>"
        for n in range(50)
    )
    rss = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    )
    web.expect_request("/feed.xml").respond_with_data(rss, content_type="application/rss+xml")
    add_source(site, web.url_for("/feed.xml"), name="agency", kind="feed")
    proc = scofeed(site, "-v", "poll")
    assert proc.returncode == 1 and " rejected=50 " in proc.stdout
    printed = [line for line in proc.stderr.splitlines() if line.startswith("rejected ")]
    assert len(printed) == 21
    assert printed[-1] == "rejected 30 more from agency (`scofeed status` lists them)"
    logged = [line for line in proc.stderr.splitlines() if " rejected origin=" in line]
    assert (
        len(logged) == 20
        and sum("not each logged" in line for line in proc.stderr.splitlines()) == 1
    )
    status = scofeed(site, "status").stdout
    assert "rejected inputs: 50" in status


def test_recheck_says_each_gone_or_failed_page_once(site, web):
    today = datetime.now(UTC) - timedelta(days=1)
    day = today.strftime("%Y%m%d")
    pages = [f"/{day}/940001.html", f"/{day}/940002.html", f"/{day}/940003.html"]
    serve_listing(web, "/news/", "".join(f'<a href="{p}">x</a>' for p in pages))
    for n, path in enumerate(pages):
        body = (
            f'<html lang="en"><body><div class="news-detail"><h1>SCO release {n}</h1>'
            f"<p>The text of release number {n}.</p></div></body></html>"
        )
        web.expect_request(path).respond_with_data(body, content_type=HTML)
    add_source(site, web.url_for("/news/"))
    assert scofeed(site, "poll").returncode == 0
    web.clear()
    web.expect_request(pages[0]).respond_with_data("", status=304)
    web.expect_request(pages[1]).respond_with_data("gone", status=404)
    web.expect_request(pages[2]).respond_with_data(b"%PDF", content_type="application/pdf")
    proc = scofeed(site, "recheck", "--force")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "checked=3 unchanged=1 updated=0 gone=1 failed=1",
        f"gone {web.url_for(pages[1])}",
    ]
    assert proc.stderr.splitlines() == [
        f"failed {web.url_for(pages[2])}: content type application/pdf "
        "where text/html or application/xhtml+xml was expected"
    ]


def test_a_source_failing_as_a_whole_is_a_line_on_stderr_naming_its_address(site, web):
    """A listing answering 429 was only its stdout line's "error: ..." (the source's
    name, not its address), where the docs promise a line on standard error naming the
    URL, as a refused page has."""
    web.expect_request("/news/").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )
    add_source(site, web.url_for("/news/") + "?token=x")
    proc = scofeed(site, "poll")
    assert proc.returncode == 1
    assert proc.stdout.startswith("sco-en (page-list): error: ")
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"failed sco-en {web.url_for('/news/')}?***: ")
    assert "429" in line
