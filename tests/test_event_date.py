"""The event date end to end: stored (and migrated), in JSON Feed as the ``_scofeed``
extension, on the entry page, in webhook data and in ``scofeed show``; and feeds whose
entries have no event date keep their bytes."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import UTC, date, datetime

import feedparser

import forkserver
from scofeed.build import build
from scofeed.deliver import payload
from scofeed.normalise import id_slug
from scofeed.render import render
from scofeed.serve.pages import entry_html
from scofeed.store import Store, published
from scofeed.store.schema import MIGRATIONS

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RELEASE = """---
title: SCO Secretary-General meets Ambassador of Pakistan
url: https://eng.sectsco.org/20250312/1234567.html
---
On 3 March, SCO Secretary-General Nurlan Yermekbayev met with the Ambassador of Pakistan.

The parties discussed preparations for the meeting of the Council of Heads of State.
"""


def built(site):
    (site.sources / "pakistan.md").write_text(RELEASE, encoding="utf-8")
    cfg = site.config()
    store = Store(cfg.paths.state)
    build(cfg, store, NOW)
    latest = published.latest(store.db, 10)
    (e,) = [x for x in latest if x.url and "1234567" in x.url]
    return cfg, store, e


def test_event_date_is_stored_and_shown_everywhere(site):
    cfg, store, e = built(site)
    assert e.published.date() == date(2025, 3, 12) and e.event_date == date(2025, 3, 3)
    feed = json.loads((site.feeds / "feed.json").read_bytes())
    (item,) = [i for i in feed["items"] if i["id"] == e.id]
    ext = item["_scofeed"]
    assert ext["event_date"] == "2025-03-03" and ext["about"].startswith("https://")
    assert item["date_published"].startswith("2025-03-12")
    assert feedparser.parse((site.feeds / "atom.xml").read_bytes()).bozo == 0
    page = entry_html(cfg, e)
    assert '<time datetime="2025-03-03">2025-03-03</time>' in page
    data = json.loads(payload.standard("release.published", e, cfg, 0))
    assert set(data) == {"type", "timestamp", "data"}  # Standard Webhooks shape
    assert data["data"]["event_date"] == "2025-03-03"
    shown = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "show", id_slug(e.id)],
        capture_output=True, text=True, cwd=site.root, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert "event date: 2025-03-03" in shown
    assert "published:  2025-03-12" in shown


def test_an_entry_without_an_event_date_renders_as_before(site):
    cfg, store, e = built(site)
    store.db.execute("UPDATE entries SET event_date = NULL")
    store.db.commit()
    plain = published.latest(store.db, 10)
    assert all(x.event_date is None for x in plain)
    feed = render("json", plain, cfg).decode()
    assert "_scofeed" not in feed
    assert "Event date" not in entry_html(cfg, plain[0])
    assert (
        json.loads(payload.standard("release.published", plain[0], cfg, 0))["data"]["event_date"]
        is None
    )


def test_a_store_from_before_the_event_date_is_migrated(site):
    cfg, store, _e = built(site)
    path = cfg.paths.state
    # a store at the version before the event date, holding the same rows: made by the
    # migrations before it, then filled from the built store's common columns
    step = next(i for i, m in enumerate(MIGRATIONS) if "ADD COLUMN event_date" in m)
    store.close()
    path.rename(path.with_name("new.sqlite3"))
    old_db = sqlite3.connect(path)
    for sql in MIGRATIONS[:step]:
        old_db.executescript(sql)
    old_db.execute(f"PRAGMA user_version = {step}")
    old_db.execute("ATTACH DATABASE ? AS new", (str(path.with_name("new.sqlite3")),))
    for (table,) in old_db.execute("SELECT name FROM main.sqlite_master WHERE type='table'"):
        cols = ", ".join(r[1] for r in old_db.execute(f"PRAGMA main.table_info({table})"))
        old_db.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM new.{table}")
    old_db.commit()
    old_db.close()
    again = Store(path)
    assert again.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    old = published.latest(again.db, 10)
    assert old and all(x.event_date is None for x in old)
    # feeds of entries stored before the upgrade render as they did: no extension
    build(cfg, again, NOW)
    before = {p.name: p.read_bytes() for p in site.feeds.iterdir() if p.is_file()}
    assert b"_scofeed" not in before["feed.json"]
    # and an unchanged release read again (a new mtime, the same bytes) changes nothing
    os.utime(site.sources / "pakistan.md", (1.9e9, 1.9e9))
    report = build(cfg, again, NOW)
    assert report.updated == 0
    assert {p.name: p.read_bytes() for p in site.feeds.iterdir() if p.is_file()} == before
