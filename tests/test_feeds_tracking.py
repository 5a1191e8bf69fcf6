"""Tracking parameters (utm_*, fbclid, yclid, _openstat...) are left out of the links an
entry shows: its link and the links in its content, in every feed (read back with
feedparser), its page, webhooks and ActivityPub. The store keeps the release as read,
and its id. Real folders, a real SQLite file."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from conftest import entry_of, run_cli, webhook_toml
from scofeed.activitypub import documents
from scofeed.build import build as run_build
from scofeed.deliver.payload import event_data
from scofeed.model import Release
from scofeed.normalise import identity_of, mint_id
from scofeed.render import links
from scofeed.render.links import shown_url, untracked_links
from scofeed.serve.pages import entry_html
from scofeed.store import published as published_rows

NOW = datetime(2026, 3, 13, tzinfo=UTC)
PAGE = "https://eng.sectsco.org/20250312/1234567.html"
SHARED = PAGE + "?utm_source=telegram&utm_medium=social&fbclid=IwAR0x"
CHARTER = "https://eng.sectsco.org/documents/?id=5"
TRACKED = CHARTER + "&utm_campaign=sco_day&yclid=1234567890&_openstat=dGVzdA"
RELEASE = f"""+++
title = "SCO Secretary-General meets the Ambassador of Belarus"
url = "{SHARED}"
date = "2025-03-12"
+++
On 12 March 2025, SCO Secretary-General Nurlan Yermekbayev met the Ambassador of
Belarus. They recalled [the SCO Charter]({TRACKED}) and the
[press service](https://t.me/sco_secretariat?utm_source=site).
"""


def tracked(text: str) -> list[str]:
    return re.findall(r"(?:utm_\w+|fbclid|yclid|_openstat)=", text)


@pytest.fixture
def built(site):
    site.write_config(webhook_toml("hook", "http://127.0.0.1:9/"))
    (site.sources / "belarus.md").write_text(RELEASE, encoding="utf-8")
    report = run_build(site.config(), site.store(), NOW)
    assert report.new == 2 and not report.rejected
    return site


def the_entry(site):
    return entry_of(site, "belarus.md")


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_no_tracking_parameter_reaches_a_feed_reader(built, name):
    parsed = feedparser.parse((built.feeds / name).read_bytes())
    (item,) = [e for e in parsed.entries if "Belarus" in e.title]
    assert item.link == PAGE
    content = item.content[0].value if "content" in item else item.summary
    assert CHARTER in content.replace("&amp;", "&")
    assert "https://t.me/sco_secretariat" in content
    assert tracked(content) == [] and tracked(str(item)) == []


def test_no_tracking_parameter_in_the_json_feed(built):
    feed = json.loads((built.feeds / "feed.json").read_text(encoding="utf-8"))
    (item,) = [i for i in feed["items"] if "Belarus" in i["title"]]
    assert item["url"] == PAGE and CHARTER in item["content_html"].replace("&amp;", "&")
    assert tracked(json.dumps(item)) == []


def test_the_store_keeps_the_release_as_read_and_its_id(built):
    """The id never depended on them (the URL key leaves them out): shown links change,
    the stored entry, its id and its content hash do not."""
    e = the_entry(built)
    assert e.url == SHARED and tracked(e.content_html)
    identity, _key = identity_of(Release("x.md", "t", url=PAGE), "fp")
    assert e.id == mint_id("test.example,2026", identity)


def test_the_page_webhooks_and_activitypub_show_no_tracking_parameter(built):
    e = the_entry(built)
    cfg = built.config()
    page = entry_html(cfg, e)
    data = event_data(e, cfg)
    note = documents.note(cfg, e)
    assert data["url"] == note["url"] == PAGE
    assert CHARTER in page.replace("&amp;", "&")
    assert tracked(page) == tracked(str(data)) == tracked(str(note)) == []


def test_scofeed_show_gives_the_links_readers_get(built):
    """`scofeed show` printed the link, URL and content links as stored, trackers and
    all: after an upgrade the feeds said one link and `show` another. It shows what the
    feeds show, and the URL as read on a line of its own."""
    e = the_entry(built)
    out = run_cli(built, "show", e.id)
    assert out.returncode == 0, out.stderr
    fields = dict(line.split(":", 1) for line in out.stdout.split("\ninputs:")[0].splitlines())
    assert fields["link"].strip() == fields["url"].strip() == PAGE
    assert fields["url (read)"].strip() == SHARED
    content = out.stdout.split("\ncontent:\n", 1)[1]
    assert CHARTER in content.replace("&amp;", "&") and tracked(content) == []


def test_a_reread_changes_no_entry(built):
    """The reading of releases is as it was: a reread revises nothing, makes nothing."""
    site = built
    before = published_rows.latest(site.store().db)
    report = run_build(site.config(), site.store(), NOW + timedelta(days=1), reread=True)
    assert (report.new, report.updated) == (0, 0)
    assert published_rows.latest(site.store().db) == before


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (SHARED, PAGE),
        (PAGE + "?id=7&utm_source=x#part", PAGE + "?id=7#part"),
        (PAGE + "?from=rss&share=1", PAGE + "?from=rss&share=1"),  # a site may need these
        ("https://ya.ru/?ysclid=l1&q=%D0%A8%D0%9E%D0%A1", "https://ya.ru/?q=%D0%A8%D0%9E%D0%A1"),
        (PAGE, PAGE),
    ],
)
def test_shown_url_takes_out_only_trackers_and_keeps_the_rest_as_written(url, shown):
    assert shown_url(url) == shown
    assert untracked_links(f'<p><a href="{url}">x</a></p>') == f'<p><a href="{shown}">x</a></p>'


def test_content_rewritten_once_is_taken_from_the_cache_when_shown_again():
    """An entry is shown again and again (each page view, each feed written that holds
    it): its links are rewritten once, then the same text is taken as it was (a new
    string of the same content, as read from the store each time, finds it)."""
    html = "".join(f"<p><a href='/news/{i}?utm_source=x&amp;id={i}'>{i}</a></p>" for i in range(50))
    first_abs = links.absolute_links(html, "https://sco.example/")
    again_abs = links.absolute_links("".join(html), "https://sco.example/")
    assert first_abs is again_abs and 'href="https://sco.example/news/7?' in first_abs
    assert links.absolute_links(html, "https://other.example/") != first_abs  # its base
    first = links.untracked_links(html)
    assert links.untracked_links(html[:1] + html[1:]) is first and "utm_source" not in first


def test_the_rewritten_content_kept_stays_within_its_budget():
    made: list[str] = []

    def make(text: str):
        return lambda: made.append(text) or text.upper()

    kept = links.Rewritten(budget=100)
    assert kept.get_or_make(("k", "a" * 20), make("a" * 20)) == "A" * 20
    assert kept.get_or_make(("k", "a" * 20), make("a" * 20)) == "A" * 20
    assert len(made) == 1  # kept: made once
    kept.get_or_make(("k", "b" * 20), make("b" * 20))
    kept.get_or_make(("k", "a" * 20), make("a" * 20))  # used: now the most recent
    kept.get_or_make(("k", "c" * 20), make("c" * 20))  # 120 characters: "b..." goes
    kept.get_or_make(("k", "a" * 20), make("a" * 20))
    assert len(made) == 3
    kept.get_or_make(("k", "b" * 20), make("b" * 20))  # made again
    assert len(made) == 4
    huge = "h" * 60  # 120 with what it becomes: never kept, always made
    kept.get_or_make(("k", huge), make(huge))
    kept.get_or_make(("k", huge), make(huge))
    assert len(made) == 6


def _tracked(source: str, campaign: str) -> str:
    return (
        '+++\ntitle = "SCO delegation visits Astana"\ndate = "2025-06-01"\n'
        f'url = "https://eng.sectsco.org/20250601/123.html?id=5&utm_source={source}"\n+++\n'
        "On 1 June 2025, the delegation met in Astana.\n\n"
        f"See [the agenda](https://example.org/agenda?x=1&utm_campaign={campaign}).\n"
    )


def test_a_tracking_parameter_changed_in_a_link_of_the_text_is_no_correction(site):
    """The same change in the release's own url was none, but one in a link of its text
    (shown nowhere) sent every webhook, chat, follower and WebSub subscriber a
    correction of nothing. Found by a review of every channel."""
    site.write_config("\n" + webhook_toml("hook", "http://127.0.0.1:9/"))
    path = site.sources / "r.md"
    now = datetime(2025, 6, 2, tzinfo=UTC)
    run_build(site.config(), site.store(), now)  # the seed
    edits = [_tracked("a", "a"), _tracked("b", "a"), _tracked("b", "b")]
    edits.append(edits[-1].replace("agenda?x=1", "agenda?x=2"))  # a change that shows
    counts = []
    for n, text in enumerate(edits):
        path.write_text(text, encoding="utf-8")
        os.utime(path, (1_750_000_000 + n, 1_750_000_000 + n))  # each seen as changed
        report = run_build(site.config(), site.store(), now)
        counts.append((report.new, report.updated, report.deliveries))
    assert counts == [(1, 0, 1), (0, 0, 0), (0, 0, 0), (0, 1, 1)]
