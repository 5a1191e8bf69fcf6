"""Withdrawals (issue 14, point 7): `scofeed withdraw` / `restore` and `withdrawn:` metadata.

Real parts throughout: the CLI, a SQLite file, feeds parsed by feedparser and lxml, the
entry page through the real HTTP server, webhooks POSTed to a real local receiver and
verified with standardwebhooks.
"""

from __future__ import annotations

import http.client
import json
import random
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import feedparser
import pytest
from lxml import etree
from standardwebhooks import Webhook

from conftest import SECRET, run_cli, webhook_toml
from scofeed.activitypub.outbox import planner as ap_planner
from scofeed.activitypub.service import Service
from scofeed.build import build
from scofeed.cli import main
from scofeed.deliver import payload, runner
from scofeed.publish import publish_feeds
from scofeed.render import catalog
from scofeed.serve import App, HttpServer
from scofeed.serve.pages import withdrawn_html
from scofeed.store import activitypub as ap_rows
from scofeed.store import deliveries as delivery_rows
from scofeed.store import entries as entry_rows
from scofeed.store import published as published_rows
from scofeed.store import withdrawals as withdrawal_rows
from scofeed.websub import Hub, hub, receive
from scofeed.withdraw import restore, withdraw
from websub_subscriber import Subscriber

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
AT = "{http://purl.org/atompub/tombstones/1.0}"

SECOND = """---
title: SCO Secretariat hosts a round table on trade
date: 2024-05-02
tags: [economy]
---
On 2 May 2024 the SCO Secretariat hosted a round table on trade and transport.
"""


def cli(site, *args: str) -> int:
    return main(["--config", str(site.config_path), *args])


def feeds(site) -> dict[str, bytes]:
    return {n: (site.feeds / n).read_bytes() for n in ("atom.xml", "rss.xml", "feed.json")}


def ids_in(site) -> dict[str, set[str]]:
    """The entry ids each feed holds, as feedparser and (for JSON) json read them."""
    out = {}
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((site.feeds / name).read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
        out[name] = {e.id for e in parsed.entries}
    doc = json.loads((site.feeds / "feed.json").read_bytes())
    out["feed.json"] = {item["id"] for item in doc["items"]}
    return out


def tombstones(site) -> list[etree._Element]:
    root = etree.fromstring((site.feeds / "atom.xml").read_bytes())
    return root.findall(f"{AT}deleted-entry")


@pytest.fixture
def two(site):
    """A site with the seed and a Markdown release, built; returns the second's id."""
    (site.sources / "2024-05-02-trade.md").write_text(SECOND, encoding="utf-8")
    assert cli(site, "build") == 0
    store = site.store()
    (e,) = [
        e for e in published_rows.latest(store.db) if e.title.startswith("SCO Secretariat hosts")
    ]
    store.close()
    return e.id


def test_withdraw_by_slug_leaves_every_feed_and_puts_a_tombstone_in_atom(site, two, capsys):
    before = feeds(site)
    slug = two.rsplit("/", 1)[-1]
    assert cli(site, "withdraw", slug, "--reason", "Published by mistake") == 0
    assert f"withdrawn {two}" in capsys.readouterr().out
    for name, ids in ids_in(site).items():
        assert two not in ids, name
        assert len(ids) == 1, name  # the seed stays
    (stone,) = tombstones(site)
    assert stone.get("ref") == two
    when = datetime.fromisoformat(stone.get("when").replace("Z", "+00:00"))
    assert abs(when - datetime.now(UTC)) < timedelta(minutes=5)
    assert stone.findtext(f"{AT}comment") == "Published by mistake"
    assert stone.findtext(f"{AT}by/{ATOM}name") == "SCO Secretariat"
    # feedparser reads the feed whole and knows nothing of the withdrawn entry
    parsed = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    assert not parsed.bozo and two not in {e.id for e in parsed.entries}
    # list hides it, list --withdrawn shows it with why, show says so, status counts it
    capsys.readouterr()
    assert cli(site, "list") == 0
    assert two not in capsys.readouterr().out
    assert cli(site, "list", "--withdrawn") == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(two + "\t") and line.endswith("\tPublished by mistake")
    assert cli(site, "show", slug) == 0
    assert "withdrawn: " in capsys.readouterr().out
    assert cli(site, "status") == 0
    assert "withdrawn entries: 1" in capsys.readouterr().out
    # a second withdraw changes nothing
    assert cli(site, "withdraw", two) == 0
    assert capsys.readouterr().out.startswith("already withdrawn")
    # restore: back in every feed, no tombstone, updated at the restore (later than the
    # tombstone's when: a reader that took it in sees a later word), so the feeds'
    # dates move on instead of going back to what they were before the withdrawal
    assert cli(site, "restore", two) == 0
    assert all(two in ids for ids in ids_in(site).values())
    assert tombstones(site) == []
    atom = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    (back,) = [e for e in atom.entries if e.id == two]
    assert datetime.fromisoformat(back.updated) >= when
    assert datetime.fromisoformat(atom.feed.updated) >= when
    assert feeds(site) != before
    # and a build with nothing changed writes nothing
    assert cli(site, "build") == 0
    assert "written=0" in capsys.readouterr().out


def test_the_full_tag_id_works_and_an_unknown_one_is_refused(site, two, capsys):
    assert cli(site, "withdraw", two) == 0
    assert two not in ids_in(site)["atom.xml"]
    (stone,) = tombstones(site)
    assert stone.find(f"{AT}comment") is None  # no reason given: no comment
    assert cli(site, "restore", "nosuchslug") == 1
    assert "no entry with id 'nosuchslug'" in capsys.readouterr().err


def test_a_tombstone_lasts_the_configured_days(site, two):
    site.write_config("\n[feeds]\ntombstone_days = 3\n")
    cfg, store = site.config(), site.store()
    withdraw(cfg, store, two, "Duplicate of an earlier release", NOW)
    assert [s.get("when") for s in tombstones(site)] == ["2026-11-01T12:00:00Z"]
    root = etree.fromstring((site.feeds / "atom.xml").read_bytes())
    assert root.findtext(f"{ATOM}updated").startswith("2026-11-01T12:00:00")
    assert publish_feeds(cfg, store, NOW + timedelta(days=3)) == []  # still there: nothing new
    assert len(tombstones(site)) == 1
    written = publish_feeds(cfg, store, NOW + timedelta(days=3, seconds=1))
    # only the Atom feeds of the sets the entry was in had the tombstone
    assert written == ["atom.xml", "en/atom.xml", "tags/economy/atom.xml"]
    en = etree.fromstring((site.feeds / "en/atom.xml").read_bytes())
    assert en.find(f"{AT}deleted-entry") is None
    assert tombstones(site) == []
    assert two not in ids_in(site)["atom.xml"]  # gone from the feed, still withdrawn
    assert entry_rows.get(store.db, two).withdrawal is not None


def test_tombstone_days_0_means_no_tombstones(site, two):
    site.write_config("\n[feeds]\ntombstone_days = 0\n")
    withdraw(site.config(), site.store(), two, "x", NOW)
    assert tombstones(site) == []
    assert b"tombstones" not in (site.feeds / "atom.xml").read_bytes()


def test_metadata_withdraws_and_an_unchanged_rescan_does_not_resurrect(site, two, capsys):
    path = site.sources / "2024-05-02-trade.md"
    flagged = SECOND.replace("tags:", "withdrawn: true\nwithdrawn_reason: Wrong date\ntags:")
    path.write_text(flagged, encoding="utf-8")
    assert cli(site, "build") == 0
    assert two not in ids_in(site)["atom.xml"]
    (stone,) = tombstones(site)
    assert (stone.get("ref"), stone.findtext(f"{AT}comment")) == (two, "Wrong date")
    e = entry_rows.get(site.store().db, two)
    assert e.withdrawal is not None and e.withdrawal.by == "metadata"
    # the same file read again (a cold scan: the files index forgotten) stays withdrawn
    store = site.store()
    store.db.execute("DELETE FROM files")
    assert cli(site, "build") == 0
    assert two not in ids_in(site)["rss.xml"]
    # the flag removed from the file: the entry is back
    path.write_text(SECOND, encoding="utf-8")
    assert cli(site, "build") == 0
    assert two in ids_in(site)["rss.xml"]
    assert tombstones(site) == []
    # `withdrawn: "the reason"` is the short form
    path.write_text(SECOND.replace("tags:", 'withdrawn: "Superseded"\ntags:'), encoding="utf-8")
    assert cli(site, "build") == 0
    assert [s.findtext(f"{AT}comment") for s in tombstones(site)] == ["Superseded"]


def test_a_withdrawn_entry_stays_withdrawn_when_its_file_is_edited(site, two, receivers):
    r = receivers([200])
    site.write_config(webhook_toml("hub", r.url))
    cfg, store = site.config(), site.store()
    withdraw(cfg, store, two, "On hold", NOW)
    path = site.sources / "2024-05-02-trade.md"
    path.write_text(SECOND + "\nA second paragraph added later.\n", encoding="utf-8")
    build(cfg, store, NOW + timedelta(hours=1))
    e = entry_rows.get(store.db, two)
    assert e.withdrawal is not None and e.revision == 2  # the edit kept, not published
    assert two not in ids_in(site)["feed.json"]
    # `withdrawn: false` does not undo an operator's `scofeed withdraw` either
    path.write_text(SECOND.replace("tags:", "withdrawn: false\ntags:"), encoding="utf-8")
    build(cfg, store, NOW + timedelta(hours=2))
    assert entry_rows.get(store.db, two).withdrawal is not None
    events = [d.event for d in delivery_rows.listing(store.db)]
    assert "release.updated" not in events
    restore(cfg, store, two, NOW + timedelta(hours=3))
    assert entry_rows.get(store.db, two).withdrawal is None
    assert two in ids_in(site)["feed.json"]


def test_a_release_first_seen_withdrawn_is_published_nowhere(site, receivers):
    r = receivers([200])
    site.write_config(webhook_toml("hub", r.url))
    flagged = SECOND.replace("tags:", "withdrawn: true\ntags:")
    (site.sources / "2024-05-02-trade.md").write_text(flagged, encoding="utf-8")
    cfg, store = site.config(), site.store()
    report = build(cfg, store, NOW)
    assert report.entries == 1 and report.new == 1  # the seed only
    assert all(len(ids) == 1 for ids in ids_in(site).values())
    assert [d.event for d in delivery_rows.listing(store.db)] == ["release.published"]  # the seed's


@pytest.mark.parametrize("how", ["metadata", "restore"])
def test_a_release_first_seen_withdrawn_is_published_when_released(site, receivers, how):
    """Its release is its first publication: release.published (also to an endpoint
    that takes only that event), never a "restored" for something nobody saw."""
    r = receivers([200])
    site.write_config(
        webhook_toml("hub", r.url) + webhook_toml("pub", r.url, events=["release.published"])
    )
    path = site.sources / "2024-05-02-trade.md"
    path.write_text(SECOND.replace("tags:", "withdrawn: true\ntags:"), encoding="utf-8")
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    (e,) = withdrawal_rows.withdrawn(store.db)
    if how == "metadata":
        path.write_text(SECOND, encoding="utf-8")
        build(cfg, store, NOW + timedelta(hours=1))
    else:
        restore(cfg, store, e.id, NOW + timedelta(hours=1))
    mine = [(d.endpoint, d.event) for d in delivery_rows.listing(store.db) if d.entry_id == e.id]
    assert sorted(mine) == [("hub", "release.published"), ("pub", "release.published")]
    # withdrawn again and restored once more: now it was seen, so it is a restore
    withdraw(cfg, store, e.id, "again", NOW + timedelta(hours=2))
    restore(cfg, store, e.id, NOW + timedelta(hours=3))
    events = sorted(d.event for d in delivery_rows.listing(store.db) if d.endpoint == "hub")
    assert events == [
        "release.published",
        "release.published",
        "release.restored",
        "release.withdrawn",
    ]


def test_a_language_feed_lives_on_with_the_tombstone_of_its_last_entry(site):
    ru = "---\ntitle: Круглый стол в Секретариате ШОС\ndate: 2024-05-02\nlang: ru\n---\n" + (
        "2 мая 2024 года в Секретариате ШОС прошёл круглый стол по торговле.\n"
    )
    (site.sources / "2024-05-02-ru.md").write_text(ru, encoding="utf-8")
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    (e,) = [e for e in published_rows.latest(store.db) if e.language == "ru"]
    withdraw(cfg, store, e.id, "published by mistake", NOW + timedelta(hours=1))
    root = etree.fromstring((site.feeds / "ru" / "atom.xml").read_bytes())
    assert not root.findall(f"{ATOM}entry")
    assert [t.get("ref") for t in root.findall(f"{AT}deleted-entry")] == [e.id]
    # once the tombstone has gone, so has the feed of a language with no entries
    publish_feeds(cfg, store, NOW + timedelta(days=cfg.feeds.tombstone_days + 1))
    assert not (site.feeds / "ru").exists()


def test_deleting_the_file_does_not_withdraw(site, two, capsys):
    (site.sources / "2024-05-02-trade.md").unlink()
    assert cli(site, "build") == 0
    assert all(two in ids for ids in ids_in(site).values())
    assert tombstones(site) == []
    assert entry_rows.get(site.store().db, two).withdrawal is None


def test_a_withdrawn_entrys_page_varies_by_accept_like_a_live_ones(site, two):
    """With ActivityPub on, an entry's URL answers a browser (HTML) and a fediverse
    server (a Note, or a Tombstone once withdrawn) alike: the 410 page says so too, or
    a shared cache could hand the HTML to a server asking for JSON."""
    site.write_config("[activitypub]\nenabled = true\n")
    cfg, store = site.config(), site.store()
    service = Service.open(cfg, store)
    server = HttpServer(App(lambda: cfg, store, activitypub=service.routes), "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0]
    path = "/entries/" + two.rsplit("/", 1)[-1]

    def vary() -> tuple[int, str | None]:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request("GET", path, headers={"Accept": "text/html"})
            resp = conn.getresponse()
            resp.read()
            return resp.status, resp.getheader("Vary")
        finally:
            conn.close()

    try:
        assert vary() == (200, "Accept-Encoding, Accept")
        withdraw(cfg, store, two, "Published by mistake", NOW)
        assert vary() == (410, "Accept-Encoding, Accept")
    finally:
        server.stop()
        service.close()
        store.close()


def test_the_entry_page_answers_410_through_the_real_server(site, two):
    cfg, store = site.config(), site.store()
    withdraw(cfg, store, two, "Published by mistake <b>", NOW)
    server = HttpServer(App(lambda: cfg, store), "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0]

    def get(path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()

    try:
        slug = two.rsplit("/", 1)[-1]
        status, body = get("/entries/" + slug)
        assert status == 410
        assert "This release was withdrawn" in body
        # the time in site.timezone (default Asia/Shanghai), as every page gives dates
        assert '<time datetime="2026-11-01T20:00:00+08:00">2026-11-01 20:00 UTC+08:00' in body
        assert "Published by mistake &lt;b&gt;" in body
        assert "round table" not in body  # neither title nor text shown again
        status, index = get("/")
        assert status == 200 and slug not in index
        restore(cfg, store, two, NOW + timedelta(minutes=1))
        status, body = get("/entries/" + slug)
        assert status == 200 and "round table on trade" in body
        status, index = get("/")
        assert slug in index
    finally:
        server.stop()
        store.close()


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("UTC", '"2026-11-01T12:00:00+00:00">2026-11-01 12:00 UTC<'),
        ("Asia/Kathmandu", '"2026-11-01T17:45:00+05:45">2026-11-01 17:45 UTC+05:45<'),
        # the first Sunday of November: 12:00 UTC is after the clocks went back
        ("America/New_York", '"2026-11-01T07:00:00-05:00">2026-11-01 07:00 UTC-05:00<'),
    ],
)
def test_the_410_page_gives_the_time_in_the_sites_time_zone(site, two, zone, shown):
    """The 410 page stated its time in UTC while every other page gives its dates in
    site.timezone: a withdrawal at 20:00 in Beijing read as 12:00. It is the site's
    time, with its offset from UTC (an abbreviation such as CST names several zones)."""
    cfg = site.config(f'site.timezone="{zone}"')
    store = site.store()
    try:
        withdraw(cfg, store, two, "Published by mistake", NOW)
        page = withdrawn_html(cfg, entry_rows.get(store.db, two.rsplit("/", 1)[-1]))
    finally:
        store.close()
    assert f"It was withdrawn on <time datetime={shown}/time>" in page


def test_release_withdrawn_reaches_who_got_the_entry_and_who_subscribes(site, receivers):
    got, late, other = receivers([200]), receivers([200]), receivers([200])
    # "got" took the entry when it was published (and only wants published events)
    site.write_config(webhook_toml("got", got.url, events=["release.published"]))
    (site.sources / "2024-05-02-trade.md").write_text(SECOND, encoding="utf-8")
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    runner.run_due(cfg, store, now=NOW, rng=random.Random(1))
    assert len(got.wait_for(2)) == 2
    (e,) = [e for e in published_rows.latest(store.db) if "round table" in e.content_html]
    # later: "late" subscribes to withdrawals, "other" only to new releases
    site.write_config(
        webhook_toml("got", got.url, events=["release.published"])
        + webhook_toml("late", late.url, events=["release.withdrawn"])
        + webhook_toml("other", other.url, events=["release.published"])
    )
    cfg = site.config()
    later = NOW + timedelta(hours=1)
    outcome = withdraw(cfg, store, e.id, "Published by mistake", later)
    assert outcome.queued == 2
    runner.run_due(cfg, store, now=later, rng=random.Random(1))
    for receiver, count in ((got, 3), (late, 1)):
        last = receiver.wait_for(count)[-1]
        doc = Webhook(SECRET).verify(last.body, last.headers)
        assert doc["type"] == "release.withdrawn"
        data = doc["data"]
        assert data["id"] == e.id and data["title"] == e.title
        assert data["withdrawn"] == {"at": "2026-11-01T13:00:00Z", "reason": "Published by mistake"}
        assert data["summary"] is None and data["content_html"] is None
    assert other.received == []
    # restore: release.restored to the same endpoints, with the entry in full
    restore(cfg, store, e.id, later + timedelta(minutes=5))
    runner.run_due(cfg, store, now=later + timedelta(minutes=5), rng=random.Random(1))
    last = got.wait_for(4)[-1]
    doc = Webhook(SECRET).verify(last.body, last.headers)
    assert doc["type"] == "release.restored" and "round table" in doc["data"]["content_html"]
    # a second withdrawal is a new event (its own webhook-id), not a repeat of the first
    withdraw(cfg, store, e.id, "Again", later + timedelta(minutes=10))
    runner.run_due(cfg, store, now=later + timedelta(minutes=10), rng=random.Random(1))
    msgs = got.wait_for(5)
    assert (
        Webhook(SECRET).verify(msgs[-1].body, msgs[-1].headers)["data"]["withdrawn"]["reason"]
        == "Again"
    )
    assert len({m.headers["webhook-id"] for m in msgs}) == 5
    assert other.received == []


def test_chat_messages_say_withdrawn_with_the_reason(site, two):
    cfg, store = site.config(), site.store()
    withdraw(cfg, store, two, "Published by mistake", NOW)
    e = entry_rows.get(store.db, two)
    slack = json.loads(payload.build("slack", "release.withdrawn", e, cfg, NOW.timestamp()))
    assert slack["text"].startswith("Withdrawn: SCO Secretariat hosts")
    assert "Published by mistake" in slack["blocks"][0]["text"]["text"]
    discord = json.loads(payload.build("discord", "release.withdrawn", e, cfg, NOW.timestamp()))
    (embed,) = discord["embeds"]
    assert embed["title"].startswith("Withdrawn: ")
    assert embed["description"] == "Published by mistake"
    restored = json.loads(payload.build("discord", "release.restored", e, cfg, 0))
    assert restored["embeds"][0]["title"].startswith("Restored: ")


def test_activitypub_gets_a_delete_when_enabled(site, two):
    site.write_config("\n[activitypub]\nenabled = true\n")
    cfg, store = site.config(), site.store()
    with store.transaction() as db:
        ap_rows.add_follower(
            db, "https://social.example/users/a", "https://social.example/users/a/inbox",
            "https://social.example/inbox", "https://social.example/f/1", NOW.timestamp(),
        )  # fmt: skip
    withdraw(cfg, store, two, "x", NOW)
    (d,) = [d for d in ap_rows.listing(store.db) if d.kind == "Delete"]
    doc = json.loads(d.body)
    assert doc["type"] == "Delete" and doc["object"]["type"] == "Tombstone"
    assert doc["object"]["id"].endswith("/entries/" + two.rsplit("/", 1)[-1])
    assert d.inbox == "https://social.example/inbox"
    # a restore sends nothing to the fediverse (servers refuse a deleted post back)
    restore(cfg, store, two, NOW + timedelta(minutes=1))
    assert [d.kind for d in ap_rows.listing(store.db)] == ["Delete"]
    assert ap_planner(cfg, NOW)(store.db, entry_rows.get(store.db, two), "release.restored") == 0


def test_json_metadata_and_a_bad_withdrawn_value(site, capsys):
    item = {"title": "SCO Secretariat hosts a round table on trade", "date": "2024-05-02"}
    item["text"] = "On 2 May 2024 the SCO Secretariat hosted a round table on trade."
    (site.sources / "a.json").write_text(json.dumps([{**item, "withdrawn": True}]))
    (site.sources / "b.json").write_text(json.dumps({**item, "title": "Other", "withdrawn": 3}))
    assert cli(site, "build") == 1
    err = capsys.readouterr().err
    assert "b.json: 'withdrawn' must be true, false or the reason as text" in err
    assert all(len(ids) == 1 for ids in ids_in(site).values())  # the seed only
    capsys.readouterr()
    assert cli(site, "list", "--withdrawn") == 0
    assert "round table" in capsys.readouterr().out


def test_websub_subscribers_get_the_feed_with_the_tombstone(site):
    site.write_config("\n[websub]\nallow_private = true\n")
    (site.sources / "2024-05-02-trade.md").write_text(SECOND, encoding="utf-8")
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    (e,) = [e for e in published_rows.latest(store.db) if "round table" in e.content_html]
    clock = [NOW.timestamp()]
    h = Hub(max_workers=2, clock=lambda: clock[0], rng=random.Random(1))
    s = Subscriber()
    try:
        h.run_due(cfg, store, wait=True)  # the hub records the current bodies
        fields = {"mode": "subscribe", "topic": cfg.feed_url("atom"), "callback": s.url}
        body = urlencode({f"hub.{k}": v for k, v in fields.items()}).encode()
        receive(cfg, store, body, hub.FORM_TYPE, clock[0])
        h.run_due(cfg, store, wait=True)
        assert s.verifications
        withdraw(cfg, store, e.id, "Published by mistake", NOW)
        h.run_due(cfg, store, wait=True)
        s.wait("posts")
        (post,) = s.posts
        assert post.body == (site.feeds / "atom.xml").read_bytes()
        root = etree.fromstring(post.body)
        assert [t.get("ref") for t in root.findall(f"{AT}deleted-entry")] == [e.id]
        assert e.id not in {x.findtext(f"{ATOM}id") for x in root.findall(f"{ATOM}entry")}
    finally:
        s.close()
        h.shutdown(5)


def test_a_reason_with_control_characters_and_markup_stays_well_formed(site, two):
    """And without bidirectional overrides: a U+202E left open turned the rest of the
    tombstone's, the 410 page's and ``scofeed list``'s line around, whether the reason
    came from ``scofeed withdraw`` or from a release's ``withdrawn`` metadata."""
    reason = "Bad\x00 release\x1b <script>alert(1)</script> &amp;\n\nsecond \u202eline " + "x" * 900
    withdraw(site.config(), site.store(), two, reason, NOW)
    (stone,) = tombstones(site)  # lxml parsed it
    comment = stone.findtext(f"{AT}comment")
    assert comment.startswith("Bad release <script>alert(1)</script> &amp; second line x")
    assert len(comment) <= 500
    assert not feedparser.parse((site.feeds / "atom.xml").read_bytes()).bozo
    (site.sources / "gone.md").write_text(
        "---\ntitle: SCO notice\ndate: 2024-05-03\n"
        "withdrawn: 'sent \u202eby mistake'\n---\nText.\n",
        encoding="utf-8",
    )
    build(site.config(), site.store(), NOW)
    reasons = {e.withdrawal.reason for e in withdrawal_rows.withdrawn(site.store().db)}
    assert reasons == {comment, "sent by mistake"}


def feed_dates(site, prefix: str = "") -> tuple[datetime, datetime]:
    """(Atom feed-level updated, RSS lastBuildDate) as feedparser reads them."""
    out = []
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((site.feeds / prefix / name).read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
        out.append(datetime(*parsed.feed.updated_parsed[:6], tzinfo=UTC))
    return out[0], out[1]


def test_an_archive_page_is_dated_no_earlier_than_its_months_last_withdrawal(site):
    """A page's newest entry withdrawn: the page changed, yet its date went back to the
    entry before (Atom updated, RSS lastBuildDate), telling readers it had not."""
    site.write_config("[feeds]\nentries = 1\n")  # the months' pages
    for name, day in (("a", "5 January 2026"), ("b", "20 January 2026"), ("c", "3 February 2026")):
        (site.sources / f"{name}.txt").write_text(
            f"SCO meeting {name}\n\nOn {day}, the SCO met in Astana.\n", encoding="utf-8"
        )
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    jan_20 = datetime(2026, 1, 19, 16, tzinfo=UTC)  # midnight in Beijing
    assert feed_dates(site, "archive/2026-01") == (jan_20, jan_20)
    (b,) = [e.id for e in published_rows.latest(store.db) if e.origin == "b.txt"]
    withdraw(cfg, store, b, "x", NOW)
    assert feed_dates(site, "archive/2026-01") == (NOW, NOW)
    other = {p: p.read_bytes() for p in site.feeds.rglob("*") if p.is_file()}
    assert build(cfg, store, NOW + timedelta(minutes=5)).written == []  # stable
    assert {p: p.read_bytes() for p in site.feeds.rglob("*") if p.is_file()} == other


def test_feeds_an_edit_takes_an_entry_out_of_are_dated_no_earlier_than_the_edit(site):
    """A date corrected into an older month, a tag's keyword edited out: the feeds and
    the month's page the entry left were rewritten, yet their date went back to the
    newest entry left (years back at times), telling readers they had not changed."""
    site.write_config("[feeds]\nentries = 1\n")  # the base config tags "digital economy"
    what = "digital economy"
    for name, day in (("a", "5 January 2026"), ("b", "3 February 2026")):
        (site.sources / f"{name}.txt").write_text(
            f"SCO meeting {name}\n\nOn {day}, the SCO met in Astana on {what}.\n",
            encoding="utf-8",
        )
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    feb_3 = datetime(2026, 2, 2, 16, tzinfo=UTC)  # midnight in Beijing
    assert feed_dates(site, "archive/2026-02") == (feb_3, feb_3)
    assert feed_dates(site, "tags/economy") == (feb_3, feb_3)
    (site.sources / "b.txt").write_text(
        "SCO meeting b\n\nOn 7 January 2026, the SCO met in Astana on culture.\n",
        encoding="utf-8",
    )
    edited = NOW + timedelta(hours=1)
    assert build(cfg, store, edited).updated == 1
    assert not (site.feeds / "archive/2026-02").exists()  # its one entry left: no page
    assert feed_dates(site, "tags/economy") == (edited, edited)  # not 5 January's
    assert feed_dates(site) == (edited, edited)
    other = {p: p.read_bytes() for p in site.feeds.rglob("*") if p.is_file()}
    assert build(cfg, store, edited + timedelta(minutes=5)).written == []  # stable
    assert {p: p.read_bytes() for p in site.feeds.rglob("*") if p.is_file()} == other


def test_an_edit_leaves_the_feeds_it_stays_in_as_they_were(site):
    """An old release's date corrected into another month (or a tag of its lost) took
    it out of one archive page: every feed it was in (the main feed, its language's,
    its tags') was dated by the edit and written again, pushed to every subscriber
    with nothing in it changed. Only what it left is dated so."""
    site.write_config("[feeds]\nentries = 1\n")  # the base config tags "digital economy"
    dates = ("2 January 2026", "5 January 2026", "3 February 2026", "4 March 2026")
    for name, day in zip("zabc", dates, strict=True):
        (site.sources / f"{name}.txt").write_text(
            f"SCO meeting {name}\n\nOn {day}, the SCO met in Astana on digital economy.\n",
            encoding="utf-8",
        )
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    kept = ("atom.xml", "rss.xml", "tags/economy/atom.xml", "en/atom.xml")
    before = {name: (site.feeds / name).read_bytes() for name in kept}
    (site.sources / "a.txt").write_text(  # into February: still older than c
        "SCO meeting a\n\nOn 5 February 2026, the SCO met in Astana on digital economy.\n",
        encoding="utf-8",
    )
    edited = NOW + timedelta(hours=1)
    report = build(cfg, store, edited)
    assert report.updated == 1
    assert {name: (site.feeds / name).read_bytes() for name in kept} == before
    assert sorted(p for p in report.written if "archive/2026-0" in p)  # its two months
    assert feed_dates(site, "archive/2026-01") == (edited, edited)  # the page it left
    (site.sources / "a.txt").write_text(  # now it leaves the economy tag: that feed moves
        "SCO meeting a\n\nOn 5 February 2026, the SCO met in Astana on culture.\n",
        encoding="utf-8",
    )
    later = edited + timedelta(hours=1)
    assert build(cfg, store, later).updated == 1
    assert feed_dates(site, "tags/economy") == (later, later)
    assert {name: (site.feeds / name).read_bytes() for name in kept[:2]} == {
        name: before[name] for name in kept[:2]
    }


@pytest.mark.parametrize("corrected", ["3 January 2026", "1 March 2026"])
def test_a_date_corrected_out_of_a_feeds_newest_never_takes_its_date_back(site, corrected):
    """The newest release's date corrected to an earlier one (another month, or the same
    month) takes it out of the feeds' newest entries: their date went back to the
    newest entry left (a year and more), as if nothing had changed since, while the
    hub pushed them."""
    site.write_config("[feeds]\nentries = 1\n")
    for name, day in (("b", "3 February 2026"), ("d", "2 March 2026"), ("c", "4 March 2026")):
        (site.sources / f"{name}.txt").write_text(
            f"SCO meeting {name}\n\nOn {day}, the SCO met in Astana on digital economy.\n",
            encoding="utf-8",
        )
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    (site.sources / "c.txt").write_text(
        f"SCO meeting c\n\nOn {corrected}, the SCO met in Astana on digital economy.\n",
        encoding="utf-8",
    )
    edited = NOW + timedelta(hours=1)
    assert build(cfg, store, edited).updated == 1
    newest = feedparser.parse((site.feeds / "atom.xml").read_bytes()).entries[0].title
    assert newest == "SCO meeting d"  # c left the feeds, d (older than the edit) shown
    for prefix in ("", "en", "tags/economy"):
        assert feed_dates(site, prefix) == (edited, edited), prefix


def test_a_feed_written_again_never_says_an_earlier_date_than_its_file_did(site):
    """A corrected entry (its updated the feed's newest date) pushed out of the feeds'
    newest by an older release coming in took their date back to the entries left; a
    tag feed stood empty since a time got, as its first entry, an older release, and
    went back to that release's date (a randomized check found both)."""
    site.write_config('health = ["zebra-pox"]\n[feeds]\nentries = 2\n')  # in [tags]
    cfg, store = site.config(), site.store()
    for name, day in (("a", "2025-12-10"), ("b", "2025-12-05")):
        (site.sources / f"{name}.md").write_text(
            f"---\ntitle: SCO meeting {name}\ndate: {day}\n---\nThe SCO met in Astana.\n",
            encoding="utf-8",
        )
    build(cfg, store, NOW)
    assert (site.feeds / "tags/health/atom.xml").is_file()  # empty: dated NOW
    corrected = NOW + timedelta(hours=1)
    (site.sources / "b.md").write_text(
        "---\ntitle: SCO meeting b\ndate: 2025-12-05\n---\nThe SCO met in Astana, in full.\n",
        encoding="utf-8",
    )
    assert build(cfg, store, corrected).updated == 1
    assert feed_dates(site) == (corrected, corrected)  # b's correction: the newest date
    (site.sources / "c.md").write_text(  # older than the correction: b leaves the newest 2
        "---\ntitle: SCO meeting c\ndate: 2025-12-20\n---\nThe SCO met on the zebra-pox.\n",
        encoding="utf-8",
    )
    report = build(cfg, store, corrected + timedelta(hours=1))
    assert "atom.xml" in report.written and "tags/health/atom.xml" in report.written
    titles = [e.title for e in feedparser.parse((site.feeds / "atom.xml").read_bytes()).entries]
    assert titles == ["SCO meeting c", "SCO meeting a"]
    assert feed_dates(site) == (corrected, corrected)  # not 20 December 2025's
    assert min(feed_dates(site, "tags/health")) >= NOW  # not back before it stood empty
    assert build(cfg, store, corrected + timedelta(hours=2)).written == []
    # the dry run reads the dates from feeds/ as the build does (not its scratch folder)
    store.close()
    dry = run_cli(site, "build", "--dry-run")
    assert dry.returncode == 0 and " 0 of " in dry.stdout, dry.stdout


def test_a_withdrawn_releases_file_edited_into_another_month_leaves_its_page_dated(site):
    """A withdrawn entry's file edited (which is stored) into another month: its
    withdrawal dated the month page it was in, and moved with it, that page going
    back to its newest entry left (a randomized check found it)."""
    site.write_config("[feeds]\nentries = 1\n")
    for name, day in (("z", "2 January 2026"), ("a", "5 January 2026"), ("b", "3 February 2026"),
                      ("c", "4 March 2026")):  # fmt: skip
        (site.sources / f"{name}.txt").write_text(
            f"SCO meeting {name}\n\nOn {day}, the SCO met in Astana.\n", encoding="utf-8"
        )
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    a = next(e.id for e in published_rows.latest(store.db) if e.title == "SCO meeting a")
    withdrawn_at = NOW + timedelta(hours=1)
    withdraw(cfg, store, a, "On hold", withdrawn_at)
    assert min(feed_dates(site, "archive/2026-01")) >= withdrawn_at
    (site.sources / "a.txt").write_text(
        "SCO meeting a\n\nOn 5 February 2026, the SCO met in Astana.\n", encoding="utf-8"
    )
    build(cfg, store, withdrawn_at + timedelta(hours=1))
    assert min(feed_dates(site, "archive/2026-01")) >= withdrawn_at  # not 2 January's


def test_an_edit_of_a_withdrawn_releases_file_rewrites_no_feed_it_is_not_in(site):
    """With no tombstones, a withdrawn release is in no feed: its file's date corrected
    re-dated every feed it had been in to the edit's time, and each was written again
    and pushed, with nothing in it changed (review)."""
    site.write_config("[feeds]\nentries = 3\ntombstone_days = 0\n")
    for name, day in (("a", "2026-01-01"), ("b", "2026-01-02"), ("c", "2026-01-03")):
        (site.sources / f"{name}.md").write_text(
            f"---\ntitle: SCO talk {name}\ndate: {day}\ntags: [Summit]\n---\nTalks.\n", "utf-8"
        )
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    a = next(e.id for e in published_rows.latest(store.db) if e.title == "SCO talk a")
    withdraw(cfg, store, a, "On hold", NOW + timedelta(days=1))
    (site.sources / "a.md").write_text(
        "---\ntitle: SCO talk a\ndate: 2025-12-31T10:00:00\n---\nTalks.\n", "utf-8"
    )  # an earlier date, the tag gone
    report = build(cfg, store, NOW + timedelta(days=2))
    assert [p for p in report.written if "archive" not in p] == []


def test_a_feed_file_stating_a_date_out_of_reach_is_not_kept_and_stops_nothing(site):
    """A feed file whose date was edited by hand (year 9999 at -23:45) failed every
    build (OverflowError), and one far ahead would have pinned the feed's date."""
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    rss, atom = site.feeds / "rss.xml", site.feeds / "atom.xml"
    rss.write_text(re.sub(r"<lastBuildDate>[^<]*", "<lastBuildDate>Fri, 31 Dec 9999 23:59:59 -2345",
                          rss.read_text("utf-8")), "utf-8")  # fmt: skip
    atom.write_text(re.sub(r"<updated>[^<]*", "<updated>2099-01-01T00:00:00+00:00",
                           atom.read_text("utf-8"), count=1), "utf-8")  # fmt: skip
    (site.sources / "new.txt").write_text("SCO news\n\nOn 3 June 2026, news.\n", "utf-8")
    later = NOW + timedelta(hours=1)
    assert build(cfg, store, later).new == 1
    assert max(feed_dates(site)) <= later


def test_a_restore_after_the_clock_went_back_is_dated_after_its_tombstone(site, two):
    """Withdrawn at a clock a day ahead, restored at the right time: the entry's updated
    and the feeds' date went back before the tombstone's ``when``."""
    cfg, store = site.config(), site.store()
    ahead = NOW + timedelta(days=1)
    withdraw(cfg, store, two, "x", ahead)
    restore(cfg, store, two, NOW)
    assert entry_rows.get(store.db, two).updated == ahead + timedelta(seconds=1)
    assert feed_dates(site) == (ahead + timedelta(seconds=1),) * 2


def test_a_feed_whose_entries_are_all_withdrawn_is_dated_by_the_last_withdrawal(site, two):
    """Not a placeholder (it said 2000-01-01 in RSS), and stable: a rebuild with nothing
    changed writes nothing, and the date outlives the tombstone."""
    cfg, store = site.config(), site.store()
    seed = next(e.id for e in published_rows.latest(store.db) if e.id != two)
    withdraw(cfg, store, two, "x", NOW)
    # the newest entry withdrawn: the feeds are dated by that, not by the older seed
    assert feed_dates(site) == (NOW, NOW)
    last = NOW + timedelta(hours=1)
    withdraw(cfg, store, seed, "y", last)
    assert all(not ids for ids in ids_in(site).values())
    assert feed_dates(site) == (last, last)
    assert feed_dates(site, "en") == (last, last)  # the language set, kept by its tombstones
    assert json.loads((site.feeds / "feed.json").read_bytes())["items"] == []
    before = {p: p.read_bytes() for p in site.feeds.rglob("*") if p.is_file()}
    assert publish_feeds(cfg, store, last + timedelta(minutes=5)) == []
    assert build(cfg, store, last + timedelta(minutes=5)).written == []
    assert {p: p.read_bytes() for p in site.feeds.rglob("*") if p.is_file()} == before
    # once the tombstones are gone, the main feeds still say when they were emptied
    written = publish_feeds(cfg, store, last + timedelta(days=cfg.feeds.tombstone_days + 1))
    assert "atom.xml" in written and "rss.xml" not in written
    assert tombstones(site) == []
    assert feed_dates(site) == (last, last)
    # a restore updates its entry: the feeds are dated by it (never back to before)
    back = last + timedelta(days=60)
    restore(cfg, store, seed, back)
    assert entry_rows.get(store.db, seed).updated == back
    assert feed_dates(site) == (back, back)
    # the date is in the subscription feeds' keys, not in every head's repr, on which
    # publish keys all files: a store with no withdrawal keeps the keys it had
    head = catalog.head(cfg, catalog.main_set(cfg), "atom", last_withdrawal=NOW)
    assert head.last_withdrawal == NOW and repr(head) == repr(
        catalog.head(cfg, catalog.main_set(cfg), "atom")
    )


def test_a_restore_outside_the_subscription_feeds_moves_their_date_on(site):
    """A release too old for the subscription feeds (``feeds.entries``), withdrawn and
    restored: its withdrawal dated the feeds (their tombstone), but its restore took
    their date back to their newest entry's, though the Atom feed had changed (its
    tombstone gone) and the RSS feed was dated later a moment before: a date going back
    tells a reader nothing changed. A restore dates its sets' feeds as a withdrawal
    does, stably."""
    site.write_config("[feeds]\nentries = 1\n")
    (site.sources / "000_8062ea63522097a7.txt").unlink()
    for name, day in (("a", "5 January 2026"), ("b", "3 February 2026")):
        (site.sources / f"{name}.txt").write_text(
            f"SCO meeting {name}\n\nOn {day}, the SCO met in Astana.\n", encoding="utf-8"
        )
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    (a,) = [e.id for e in published_rows.latest(store.db) if e.origin == "a.txt"]
    feb_3 = datetime(2026, 2, 2, 16, tzinfo=UTC)  # midnight in Beijing
    assert feed_dates(site) == (feb_3, feb_3) == feed_dates(site, "en")
    withdrawn_at, restored_at = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    withdraw(cfg, store, a, "x", withdrawn_at)
    assert feed_dates(site) == (withdrawn_at, withdrawn_at) == feed_dates(site, "en")
    restore(cfg, store, a, restored_at)
    assert feed_dates(site) == (restored_at, restored_at) == feed_dates(site, "en")
    assert feed_dates(site, "archive/2026-01") == (restored_at, restored_at)
    files = {p: p.read_bytes() for p in site.feeds.rglob("*") if p.is_file()}
    assert build(cfg, store, NOW + timedelta(hours=3)).written == []  # stable
    assert {p: p.read_bytes() for p in site.feeds.rglob("*") if p.is_file()} == files
    # withdrawn again: dated by that, later still
    again = NOW + timedelta(hours=4)
    withdraw(cfg, store, a, "y", again)
    assert feed_dates(site) == (again, again)


def test_a_withdrawal_by_the_flag_tells_the_entrys_own_updated(site, two, receivers):
    """Withdrawn by ``withdrawn: true`` in its file after an edit, the entry's webhook
    said the revision of the edit and the ``updated`` of its first version (the file's
    freshly read one), where `scofeed withdraw` says the stored one: a receiver
    ordering events by ``updated`` saw time go back. An empty reason is null."""
    r = receivers([200])
    site.write_config(webhook_toml("hub", r.url))
    cfg, store = site.config(), site.store()
    path = site.sources / "2024-05-02-trade.md"
    edited = SECOND + "\nA second paragraph added later.\n"
    path.write_text(edited, encoding="utf-8")
    build(cfg, store, NOW + timedelta(hours=1))
    e = entry_rows.get(store.db, two)
    assert e.revision == 2 and e.updated > e.published
    path.write_text(edited.replace("tags:", "withdrawn: true\ntags:"), encoding="utf-8")
    build(cfg, store, NOW + timedelta(hours=2))
    (sent,) = [d for d in delivery_rows.listing(store.db) if d.event == "release.withdrawn"]
    data = json.loads(sent.body)["data"]
    assert data["revision"] == 2
    assert datetime.fromisoformat(data["updated"]) == e.updated
    assert data["withdrawn"]["reason"] is None


def test_a_withdrawal_in_the_second_of_a_correction_is_dated_after_it(site, two):
    """Corrected, then withdrawn in the same second (a script's `add --update`, then
    `withdraw`): the tombstone's ``when`` (whole seconds) came before the entry's last
    Atom ``updated`` (within the second after, an offset of its id), and a reader
    comparing the two kept the entry (RFC 6721 4)."""
    cfg, store = site.config(), site.store()
    (site.sources / "2024-05-02-trade.md").write_text(
        SECOND.replace("trade and transport", "trade, transport and energy"), encoding="utf-8"
    )
    corrected = NOW + timedelta(hours=1, microseconds=200_000)
    assert build(cfg, store, corrected).updated == 1
    root = etree.fromstring((site.feeds / "atom.xml").read_bytes())
    (shown,) = [e.findtext(f"{ATOM}updated") for e in root.iter(f"{ATOM}entry")
                if e.findtext(f"{ATOM}id") == two]  # fmt: skip
    withdraw(cfg, store, two, "x", corrected + timedelta(microseconds=300_000))
    (stone,) = tombstones(site)
    assert datetime.fromisoformat(stone.get("when")) > datetime.fromisoformat(shown)
