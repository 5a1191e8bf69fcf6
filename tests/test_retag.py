"""Re-tagging: a change of the [tags] rules reaches the entries already stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser

from conftest import webhook_toml
from scofeed.build import build
from scofeed.config import load
from scofeed.ingest import ingest
from scofeed.normalise import normalise, retagged_tags, settings_from
from scofeed.sources import read
from scofeed.store import published as published_rows

NOW = datetime(2026, 1, 1, tzinfo=UTC)
EVENT = "SCO holds a forum\n\nOn 3 June 2021, the forum on energy opened in Astana.\n"
OTHER = "SCO meets envoy\n\nOn 4 June 2021, the envoy came to the Secretariat.\n"
HOOK = webhook_toml("hook", "http://127.0.0.1:9/")  # nothing is sent in a build


def _tags(site) -> dict[str, tuple[str, ...]]:
    store = site.store()
    try:
        return {e.origin: e.tags for e in published_rows.latest(store.db)}
    finally:
        store.close()


def test_a_tag_rule_added_or_removed_reaches_stored_entries_and_sends_nothing(site):
    """A rule added to [tags] tagged only releases read from then on: the new tag's
    feed stayed empty, even with the file touched (its bytes are the same, it is not
    read again), and a removed rule's tag stayed on old entries."""
    (site.sources / "forum.txt").write_text(EVENT, encoding="utf-8")
    (site.sources / "envoy.txt").write_text(OTHER, encoding="utf-8")
    site.write_config('security = ["envoy"]\n' + HOOK)  # in the base config's [tags]
    first = build(site.config(), site.store(), NOW)
    assert first.retagged == 0
    assert _tags(site)["forum.txt"] == () and _tags(site)["envoy.txt"] == ("security",)
    store = site.store()
    queued = store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    revisions = {e.id: (e.revision, e.updated) for e in published_rows.latest(store.db)}
    store.close()

    site.write_config('energy = ["energy", "oil"]\n' + HOOK)  # security dropped
    report = build(site.config(), site.store(), NOW + timedelta(days=1))
    assert (report.retagged, report.new, report.updated, report.deliveries) == (2, 0, 0, 0)
    tags = _tags(site)
    assert (tags["forum.txt"], tags["envoy.txt"]) == (("energy",), ())
    store = site.store()
    assert store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == queued
    assert {e.id: (e.revision, e.updated) for e in published_rows.latest(store.db)} == revisions
    # the entry's content hash is what reading its file again now gives: unchanged
    cfg = site.config()
    [again] = read("forum.txt", ".txt", EVENT.encode(), NOW, 10**6)
    fresh = normalise(again, settings_from(cfg), NOW)
    stored = next(e for e in published_rows.latest(store.db) if e.origin == "forum.txt")
    assert (fresh.tags, fresh.content_hash) == (stored.tags, stored.content_hash)
    store.close()
    # the tag's feed holds it; the dropped tag's feed is gone with its rule
    feed = feedparser.parse((site.feeds / "tags/energy/atom.xml").read_bytes())
    assert [e.title for e in feed.entries] == ["SCO holds a forum"]
    assert [t.term for t in feed.entries[0].tags] == ["energy"]
    assert not (site.feeds / "tags/security/atom.xml").exists()
    # the same rules again: nothing to do
    assert build(site.config(), site.store(), NOW + timedelta(days=2)).retagged == 0


def test_tags_a_release_states_stay_through_a_change_of_rules():
    """A stated tag is kept; a rule's tag that the text no longer matches goes."""
    cfg = load(None, [])
    [release] = read("a.md", ".md", b"---\ntags: [Summit]\n---\n" + EVENT.encode(), NOW, 10**6)
    old = (("energy", ("energy",)),)
    entry = normalise(release, replace(settings_from(cfg), tags=old), NOW)
    assert entry.tags == ("Summit", "energy")
    new = (("astana", ("astana",)),)
    args = (entry.title, entry.content_html, entry.tags)
    assert retagged_tags(*args, old, new) == ("Summit", "astana")
    assert retagged_tags(*args, old, old) == entry.tags


STATED = "---\ntags: [diplomacy]\n---\n"


def test_a_rule_removed_keeps_the_same_tag_a_release_states(site):
    """Two releases state "diplomacy"; a rule gives it too, to the one naming an
    ambassador. The rule removed took the tag from that one: a stated tag a rule also
    gave could not be told apart once stored, and reading the file again did not bring
    it back. The tags a release states are stored apart now; an entry stored before they
    were is given them by ``build --reread``. Found by a review of config changes."""
    (site.sources / "envoy.md").write_text(STATED + OTHER.replace("envoy came", "ambassador came"))
    (site.sources / "forum.md").write_text(STATED + EVENT)
    site.write_config('diplomacy = ["ambassador"]\n')
    build(site.config(), site.store(), NOW)
    assert _tags(site)["envoy.md"] == _tags(site)["forum.md"] == ("diplomacy",)
    site.write_config("")  # the rule removed
    report = build(site.config(), site.store(), NOW + timedelta(days=1))
    assert (report.retagged, report.updated) == (0, 0)
    assert _tags(site)["envoy.md"] == _tags(site)["forum.md"] == ("diplomacy",)


def test_stated_tags_unknown_to_an_older_store_are_given_by_a_reread(site):
    (site.sources / "envoy.md").write_text(STATED + OTHER.replace("envoy came", "ambassador came"))
    site.write_config('diplomacy = ["ambassador"]\n')
    build(site.config(), site.store(), NOW)
    store = site.store()
    with store.db:  # as an older scofeed stored it
        store.db.execute("UPDATE entries SET stated_tags = NULL")
    store.close()
    build(site.config(), site.store(), NOW + timedelta(days=1), reread=True)
    store = site.store()
    [(stated,)] = store.db.execute("SELECT stated_tags FROM entries WHERE origin = 'envoy.md'")
    assert stated == '["diplomacy"]'
    store.close()
    site.write_config("")
    build(site.config(), site.store(), NOW + timedelta(days=2))
    assert _tags(site)["envoy.md"] == ("diplomacy",)


def test_a_stated_tag_lost_before_the_store_knew_it_comes_back_at_a_reread(site):
    """An entry stored before stated tags were kept loses a stated tag a removed rule
    also gave (the store cannot tell them apart yet). ``build --reread`` learnt the
    stated tags but left the tag lost, until some later change of rules brought it back
    at random. The reread re-tags it now: no new version, nothing delivered."""
    (site.sources / "envoy.md").write_text(STATED + OTHER.replace("envoy came", "ambassador came"))
    site.write_config('diplomacy = ["ambassador"]\n' + HOOK)
    build(site.config(), site.store(), NOW)
    store = site.store()
    with store.db:  # as an older scofeed stored it
        store.db.execute("UPDATE entries SET stated_tags = NULL")
    queued = store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    store.close()
    site.write_config(HOOK)  # the rule removed: the stated tag goes with it, not known
    build(site.config(), site.store(), NOW + timedelta(days=1))
    assert _tags(site)["envoy.md"] == ()
    report = build(site.config(), site.store(), NOW + timedelta(days=2), reread=True)
    assert (report.new, report.updated) == (0, 0)
    assert _tags(site)["envoy.md"] == ("diplomacy",)
    store = site.store()
    assert store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == queued
    store.close()


def test_a_page_read_again_after_the_rules_changed_is_not_an_edit(site):
    """A poll after a change of the rules, before any build, tagged the page anew and
    took the new tags for an edit (revision 2, release.updated); and a <br> between two
    words of a keyword made the text and the stored content disagree on its tags."""
    page = (
        b"<html><head><title>SCO holds a forum</title></head><body><article>"
        b"<h1>SCO holds a forum</h1><p>On 3 June 2021 the forum opened with green<br>"
        b"energy talks.</p><p>More.</p></article></body></html>"
    )
    [release] = read("https://eng.sectsco.org/20210603/1.html", ".html", page, NOW, 10**6)
    store = site.store()
    [first] = ingest(site.config(), store, [release], NOW)
    assert first.kind == "new" and first.entry.tags == ()
    site.write_config('energy = ["green energy"]\n')
    [again] = ingest(site.config(), store, [release], NOW + timedelta(hours=1))
    assert (again.kind, again.entry.revision, again.entry.tags) == ("unchanged", 1, ("energy",))
    store.close()


def test_a_change_of_rules_that_reaches_no_release_reorders_no_tags(site):
    """A stated tag an old rule gave too lost its place first at each change of the
    rules: an entry whose tags the change did not reach was "retagged" (its archive
    page written again: 6,300 of a 30,000 site's for a rule matching 5), and reading its
    file again then gave the stated order back, a correction of nothing."""
    text = b"---\ntitle: SCO talks\ndate: 2021-06-03\ntags: [security]\n---\n"
    text += b"Talks on economy and security.\n"
    (site.sources / "talks.md").write_bytes(text)
    site.write_config('economic = ["economy"]\nsecurity = ["security"]\n')
    build(site.config(), site.store(), NOW)
    assert _tags(site)["talks.md"] == ("security", "economic")
    site.write_config(
        'economic = ["economy"]\nsecurity = ["security"]\nhealth = ["quarantine-zone"]\n'
    )
    report = build(site.config(), site.store(), NOW + timedelta(days=1))
    assert report.retagged == 0 and _tags(site)["talks.md"] == ("security", "economic")
    # a re-tag's order (a rule added that the release matches) is no edit when read again
    site.write_config('economic = ["economy"]\nsecurity = ["security"]\nforum = ["talks"]\n')
    report = build(site.config(), site.store(), NOW + timedelta(days=2))
    assert report.retagged == 1 and set(_tags(site)["talks.md"]) == {
        "security",
        "economic",
        "forum",
    }
    again = build(site.config(), site.store(), NOW + timedelta(days=3), reread=True)
    assert (again.updated, again.written) == (0, [])


def test_a_tag_a_change_of_rules_takes_away_dates_its_feed_then(site):
    """A rule change taking a tag from the newest entry of its feed: the feed, written
    again, went back to the date of the newest entry left (review)."""
    for name, day in (("a", "2025-05-10"), ("b", "2025-04-10")):
        words = "trade and terrorism" if name == "a" else "trade and zebra-crossings"
        (site.sources / f"{name}.md").write_text(
            f"---\ntitle: SCO {name} talks\ndate: {day}\n---\nTalks on {words}.\n", "utf-8"
        )
    site.write_config('commerce = ["trade"]\n')
    build(site.config(), site.store(), NOW)
    site.write_config('commerce = ["zebra-crossings"]\n')  # a loses the tag, b keeps it
    later = NOW + timedelta(days=1)
    assert build(site.config(), site.store(), later).retagged == 2  # a, and the seed (trade)
    feed = feedparser.parse((site.feeds / "tags/commerce/atom.xml").read_bytes())
    assert [e.title for e in feed.entries] == ["SCO b talks"]
    assert datetime(*feed.feed.updated_parsed[:6], tzinfo=UTC) == later
