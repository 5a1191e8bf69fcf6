"""Recent official pages fetched again: a 304 costs nothing, a changed page becomes one
correction delivered to a real receiver, a page answering 404 is listed in status and
kept. A real site on 127.0.0.1 counts the conditional requests."""

from __future__ import annotations

import dataclasses
import http.server
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from standardwebhooks import Webhook

import test_daemon
from conftest import SECRET, webhook_toml
from scofeed.added import add_url
from scofeed.cli import main
from scofeed.deliver import runner
from scofeed.poll import poll_due
from scofeed.recheck import recheck_due
from scofeed.schedule import Idle, JobContext, Said, job_table, poll_job, recheck_job
from scofeed.store import pages as page_rows
from scofeed.store import published as published_rows
from servers import serve

DAY = 86400
start = test_daemon.start  # the daemon-as-a-subprocess fixture
START = datetime.now(UTC).replace(microsecond=0)  # real time: webhook endpoints start now
PUBLISHED = (START - timedelta(days=3)).strftime("%Y%m%d")
ARTICLE = f"/{PUBLISHED}/813122.html"


def article(paragraph: str) -> bytes:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>SCO Secretary-General meets students - SCO</title></head><body>
<div class="news-detail"><h1>SCO Secretary-General meets students</h1>
<p>{paragraph}</p>
<p>The parties discussed cooperation in education and the digital economy.</p>
<p>Share: <a href="#">Telegram</a> <a href="#">VK</a></p>
</div></body></html>""".encode()


@dataclass
class Page:
    status: int = 200
    body: bytes = b""
    etag: str = '"v1"'


@dataclass
class OfficialSite:
    """The Secretariat's site in miniature: a listing and pages, each with an ETag;
    it answers If-None-Match with 304 and counts the requests of each kind."""

    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[tuple[str, str | None, int]] = field(default_factory=list)

    def start(self) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                page = outer.pages.get(self.path) or Page(404, b"not here", '"gone"')
                asked = self.headers.get("If-None-Match")
                status = 304 if asked is not None and asked == page.etag else page.status
                outer.requests.append((self.path, asked, status))
                self.send_response(status)
                self.send_header("ETag", page.etag)
                body = b"" if status == 304 else page.body
                if status != 304:
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        serve(self.server)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def of(self, path: str) -> list[tuple[str | None, int]]:
        return [(asked, status) for p, asked, status in self.requests if p == path]


@pytest.fixture
def official():
    s = OfficialSite()
    s.start()
    listing = f'<html><body><a href="{ARTICLE}">Students</a></body></html>'.encode()
    s.pages["/news/"] = Page(body=listing, etag='"list"')
    s.pages[ARTICLE] = Page(body=article("On 20 May, the Secretary-General met students."))
    yield s
    s.server.shutdown()
    s.server.server_close()


def configure(site, official, receiver, extra: str = "") -> None:
    site.write_config(
        webhook_toml("hook", receiver.url)
        + f'\n[[sources]]\nname = "sco-en"\nkind = "page-list"\nurl = "{official.url("/news/")}"\n'
        'preset = "sco"\ninterval = 600\ndelay = 0\ntimeout = 2\n' + extra
    )


def deliver(cfg, store, at: datetime) -> None:
    runner.run_due(cfg, store, now=at, rng=random.Random(7))


def events(receiver) -> list[str]:
    return [Webhook(SECRET).verify(r.body, r.headers)["type"] for r in receiver.received]


def polled(site, official, receivers):
    receiver = receivers([200])
    configure(site, official, receiver)
    cfg, store = site.config(), site.store()
    assert poll_due(cfg, store, START).results[0].new == 1
    deliver(cfg, store, START)
    assert events(receiver) == ["release.published"]
    return cfg, store, receiver


def test_an_unchanged_page_costs_a_304_and_delivers_nothing(site, official, receivers):
    cfg, store, receiver = polled(site, official, receivers)
    at = START + timedelta(seconds=cfg.recheck.interval + 1)  # every page is due by then
    report = recheck_due(cfg, store, at)
    assert (report.checked, report.unchanged, report.updated) == (1, 1, 0)
    # the poll kept the page's ETag: the recheck asked with it and got a 304
    assert official.of(ARTICLE) == [(None, 200), ('"v1"', 304)]
    deliver(cfg, store, at)
    assert events(receiver) == ["release.published"]
    # the next check is one interval later, and the store says so after a restart too
    assert recheck_due(cfg, site.store(), at + timedelta(hours=1)).checked == 0
    assert len(official.of(ARTICLE)) == 2


def test_a_changed_page_becomes_one_correction(site, official, receivers):
    cfg, store, receiver = polled(site, official, receivers)
    official.pages[ARTICLE] = Page(
        body=article("On 20 May, the Secretary-General met students of the Academy."),
        etag='"v2"',
    )
    at = START + timedelta(seconds=cfg.recheck.interval + 1)
    report = recheck_due(cfg, store, at)
    assert (report.checked, report.updated) == (1, 1)
    assert official.of(ARTICLE)[-1] == ('"v1"', 200)
    deliver(cfg, store, at)
    assert events(receiver) == ["release.published", "release.updated"]
    doc = Webhook(SECRET).verify(receiver.received[-1].body, receiver.received[-1].headers)
    assert "students of the Academy" in json.dumps(doc, ensure_ascii=False)
    atom = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    (entry,) = atom.entries
    assert "students of the Academy" in entry.content[0].value
    assert "Telegram" not in entry.content[0].value  # page furniture stays out
    # the new version's ETag is kept: the check after that is a 304, no second delivery
    later = at + timedelta(seconds=cfg.recheck.interval + 1)
    assert recheck_due(cfg, store, later).unchanged == 1
    assert official.of(ARTICLE)[-1] == ('"v2"', 304)
    deliver(cfg, store, later)
    assert len(receiver.received) == 2


def test_a_page_now_404_is_listed_in_status_and_kept(site, official, receivers, capsys):
    cfg, store, receiver = polled(site, official, receivers)
    del official.pages[ARTICLE]
    at = START + timedelta(seconds=cfg.recheck.interval + 1)
    report = recheck_due(cfg, store, at)
    assert report.gone == [official.url(ARTICLE)]
    assert published_rows.count(store.db) == 1  # kept: nothing withdrawn
    assert len(feedparser.parse((site.feeds / "atom.xml").read_bytes()).entries) == 1
    deliver(cfg, store, at)
    assert events(receiver) == ["release.published"]
    assert main(["--config", str(site.config_path), "status"]) == 0
    out = capsys.readouterr().out
    assert "official pages gone: 1 (entries kept)" in out
    (line,) = [x for x in out.splitlines() if official.url(ARTICLE) in x]
    assert " 404 " in line
    # the page comes back: it leaves the list
    official.pages[ARTICLE] = Page(body=article("On 20 May, the Secretary-General met students."))
    assert recheck_due(cfg, store, at + timedelta(days=2)).gone == []
    assert page_rows.gone(store.db) == []


def test_pages_older_than_the_window_are_not_fetched_again(site, official, receivers):
    cfg, store, _receiver = polled(site, official, receivers)
    late = START + timedelta(days=cfg.recheck.days + 1)
    assert recheck_due(cfg, store, late, force=True).checked == 0
    assert len(official.of(ARTICLE)) == 1
    # that run may have been a clock ahead (a wrong NTP step): the page was forgotten at
    # the window's edge, never checked again once the clock was right; now it is kept
    assert recheck_due(cfg, store, START + timedelta(hours=1), force=True).checked == 1
    # and forgotten a year past the window
    forgotten = late + timedelta(days=366)
    assert recheck_due(cfg, store, forgotten, force=True).checked == 0
    assert store.db.execute("SELECT COUNT(*) FROM page_checks").fetchone()[0] == 0


def test_a_page_first_read_with_a_wrong_year_is_rechecked_and_the_fix_comes_in(
    site, official, receivers
):
    """A new page whose date said 2016 for this year (a typo the Secretariat fixes the
    next day) was watched as published in 2016: never in the window, never checked,
    soon forgotten, and the entry stayed dated 2016 at the bottom of the feeds. A page
    is recent from when its entry was first seen, too."""

    def dated(year: int) -> bytes:
        stamp = f'<meta property="article:published_time" content="{year}{PUBLISHED[4:]}">'
        return article("The Secretary-General met students.").replace(
            b"<head>", b"<head>" + stamp.encode()
        )

    official.pages[ARTICLE] = Page(body=dated(2016))
    receiver = receivers([200])
    configure(site, official, receiver)
    cfg, store = site.config(), site.store()
    assert poll_due(cfg, store, START).results[0].new == 1
    (entry,) = published_rows.latest(store.db)
    assert entry.published.year == 2016
    official.pages[ARTICLE] = Page(body=dated(START.year), etag='"v2"')
    report = recheck_due(cfg, store, START + timedelta(days=1), force=True)
    assert (report.checked, report.updated) == (1, 1)
    (entry,) = published_rows.latest(store.db)
    assert entry.published.year == START.year
    assert recheck_due(cfg, store, START + timedelta(days=2), force=True).checked == 1
    # and out of the window once its first sight is: as any page
    later = START + timedelta(days=cfg.recheck.days + 1)
    assert recheck_due(cfg, store, later, force=True).checked == 0


def test_the_pages_of_a_disabled_source_are_not_fetched(site, official, receivers):
    cfg, store, _receiver = polled(site, official, receivers)
    off = dataclasses.replace(cfg, sources=(dataclasses.replace(cfg.sources[0], enabled=False),))
    at = START + timedelta(seconds=cfg.recheck.interval + 1)
    report = recheck_due(off, store, at)
    assert (report.checked, report.skipped) == (0, 1)
    assert len(official.of(ARTICLE)) == 1
    assert recheck_due(cfg, store, at + timedelta(seconds=cfg.recheck.interval)).checked == 1


def test_an_added_page_is_rechecked_through_its_file(site, official, receivers):
    receiver = receivers([200])
    # a disabled source on the same host gives the page its per-host delay (0 here)
    configure(site, official, receiver, "enabled = false\n")
    for seed in site.sources.iterdir():
        seed.unlink()  # only the added page in sources/
    cfg, store = site.config(), site.store()
    result = add_url(cfg, store, official.url(ARTICLE), START)
    deliver(cfg, store, START)
    assert result.kind == "new" and events(receiver) == ["release.published"]
    before = result.path.read_bytes()
    at = START + timedelta(seconds=cfg.recheck.interval + 1)
    assert recheck_due(cfg, store, at).unchanged == 1
    assert official.of(ARTICLE)[-1] == ('"v1"', 304) and result.path.read_bytes() == before
    official.pages[ARTICLE] = Page(
        body=article("On 20 May, the Secretary-General met students of the Academy."),
        etag='"v2"',
    )
    later = at + timedelta(seconds=cfg.recheck.interval + 1)
    report = recheck_due(cfg, store, later)
    assert report.updated == 1
    assert "atom.xml" in report.written  # rewritten by the build of its file
    doc = json.loads(result.path.read_text(encoding="utf-8"))
    assert "students of the Academy" in doc["text"]
    assert doc["date"] == json.loads(before)["date"]  # the date stays
    deliver(cfg, store, later)
    assert events(receiver) == ["release.published", "release.updated"]


def test_the_command_prints_the_feeds_an_added_pages_correction_rewrote(
    site, official, receivers, capsys
):
    """``scofeed add URL``, the page edited, ``scofeed recheck --force``: the feed files
    the correction rewrote are printed, as for a page-list page (the add page's build
    writes them, so the publish after the round finds nothing left to write)."""
    configure(site, official, receivers([200]), "enabled = false\n")
    for seed in site.sources.iterdir():
        seed.unlink()
    config = ["--config", str(site.config_path)]
    assert main([*config, "add", official.url(ARTICLE)]) == 0
    capsys.readouterr()
    official.pages[ARTICLE] = Page(body=article("A corrected first paragraph."), etag='"v2"')
    atom = site.feeds / "atom.xml"
    before = atom.read_bytes()
    assert main([*config, "recheck", "--force"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("checked=1 unchanged=0 updated=1"), out
    [written] = [line for line in out if line.startswith("written ")]
    assert "atom.xml" in written.split() and atom.read_bytes() != before


def test_the_daemon_job_and_the_command(site, official, receivers, capsys, caplog):
    cfg, store, receiver = polled(site, official, receivers)
    assert "recheck" in [j.name for j in job_table(cfg)]
    assert "recheck" not in [j.name for j in job_table(site.config("recheck.enabled=false"))]
    woken: list[str] = []
    ctx = JobContext(cfg, store, wake=woken.append)
    assert recheck_job(ctx, START) is None  # nothing due yet: not recorded
    official.pages[ARTICLE] = Page(body=article("A corrected first paragraph."), etag='"v2"')
    summary = recheck_job(ctx, START + timedelta(seconds=cfg.recheck.interval + 1))
    assert isinstance(summary, str) and "updated=1" in summary
    assert isinstance(summary, Said)  # its own line said it: the scheduler's is DEBUG
    assert "deliver" in woken
    # the next check finds the page the same (a 304): an idle tick, logged only at
    # DEBUG (it wrote three INFO lines a day per page: the fetch, the recheck, the job)
    with caplog.at_level(logging.DEBUG):
        caplog.clear()
        idle = recheck_job(ctx, START + timedelta(seconds=2 * cfg.recheck.interval + 2))
    assert isinstance(idle, Idle) and "unchanged=1" in idle.summary
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []
    assert any("status=304" in r.getMessage() for r in caplog.records)
    # so is a poll of the unchanged listing, by the source's job
    with caplog.at_level(logging.DEBUG):
        caplog.clear()
        polled_again = poll_job("sco-en")(ctx, START + timedelta(days=2))
    assert isinstance(polled_again, Idle) and "unchanged" in polled_again.summary
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []
    assert main(["--config", str(site.config_path), "recheck"]) == 0
    assert "no page is due" in capsys.readouterr().out
    assert main(["--config", str(site.config_path), "recheck", "--force"]) == 0
    assert "checked=1 unchanged=1" in capsys.readouterr().out
    assert official.of(ARTICLE)[-1] == ('"v2"', 304)
    # --force with nothing recent enough says that, not "use --force"
    with site.store().transaction() as db:  # first seen as long ago as it was published
        db.execute("UPDATE entries SET first_seen = first_seen - 3 * 86400")
    args = ["--config", str(site.config_path), "--set", "recheck.days=1", "recheck", "--force"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "no page published or first seen in the last 1 day to check" in out
    assert "--force" not in out


def test_the_daemon_rechecks_and_delivers_a_correction(start, site, official, receivers):
    receiver = receivers([200])
    for seed in site.sources.iterdir():
        seed.unlink()  # the only releases are the page's
    source = (
        f'\n[[sources]]\nname = "sco-en"\nkind = "page-list"\nurl = "{official.url("/news/")}"\n'
        'preset = "sco"\ninterval = 600\ndelay = 0\ntimeout = 2\n'
    )
    recheck = "\n[recheck]\ninterval = 1\n"  # a check a second: the job ticks as often
    daemon = start(extra=recheck + webhook_toml("hook", receiver.url) + source)
    receiver.wait_for(1, timeout=20)
    test_daemon.wait_for(lambda: ('"v1"', 304) in official.of(ARTICLE), what="a 304 recheck")
    official.pages[ARTICLE] = Page(body=article("A corrected first paragraph."), etag='"v2"')
    receiver.wait_for(2, timeout=20)
    assert events(receiver) == ["release.published", "release.updated"]
    assert daemon.stop() == 0
