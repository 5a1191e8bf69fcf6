"""ingest: one release, one entry; what counts as a new version of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scofeed.build import build as run_build
from scofeed.ingest import ingest
from scofeed.model import Planner
from scofeed.sources import read
from scofeed.store import entries as entry_rows

NOW = datetime(2026, 1, 1, tzinfo=UTC)
URL = "https://chn.sectsco.org/20210603/1.html"


def _page(lang: str, text: str = "秘书处举行论坛。") -> bytes:
    return (
        f'<html lang="{lang}"><head><title>上合组织举行论坛</title></head><body><article>'
        f"<h1>上合组织举行论坛</h1><p>2021年6月3日，{text}</p></article></body></html>"
    ).encode()


def recorded() -> tuple[list[str], Planner]:
    """A planner that queues nothing but notes each event it is asked to plan."""
    events: list[str] = []

    def planner(_db, _entry, event: str) -> int:
        events.append(event)
        return 1

    return events, planner


def test_a_language_tag_grown_by_its_region_or_script_is_stored_not_delivered(site):
    """A page of the SCO's Chinese site says lang="zh-CN", which scofeed stored as "zh"
    before tags kept their region and script. Read again (a recheck, a poll), it is the
    same release: its tag is stored, and nothing is delivered (it was a correction to
    every subscriber and follower). An edit of its text still is one."""
    cfg = site.config()
    store = site.store()
    events, planner = recorded()
    try:
        [old] = read(URL, ".html", _page("zh"), NOW, 10**6)  # as stored before
        [first] = ingest(cfg, store, [old], NOW, planner)
        assert (first.kind, first.entry.language, events) == ("new", "zh", ["release.published"])
        [grown] = read(URL, ".html", _page("zh-CN"), NOW, 10**6)
        [again] = ingest(cfg, store, [grown], NOW + timedelta(days=1), planner)
        assert (again.kind, again.entry.revision) == ("unchanged", 1)
        assert events == ["release.published"]
        stored = entry_rows.get(store.db, first.entry.id)
        assert (stored.language, stored.revision) == ("zh-CN", 1)
        assert stored.content_hash == again.entry.content_hash
        [edited] = read(URL, ".html", _page("zh-CN", "秘书处举行了论坛。"), NOW, 10**6)
        [third] = ingest(cfg, store, [edited], NOW + timedelta(days=2), planner)
        assert (third.kind, third.entry.revision) == ("updated", 2)
        assert events == ["release.published", "release.updated"]
    finally:
        store.close()


def test_an_input_read_again_with_its_tag_grown_does_not_take_its_entry_back(site):
    """A page stored as "zh" (before tags kept their region), whose entry another input
    has revised since (a page naming it as its canonical address), read again unchanged
    but for its tag now kept whole ("zh-CN"): read again, not edited. It neither takes the
    entry back to its old text nor sends that as a correction."""
    cfg = site.config()
    store = site.store()
    events, planner = recorded()
    other = "https://chn.sectsco.org/20210603/2.html"

    def named(page: bytes) -> bytes:  # the address the page gives as its own
        return page.replace(b"<head>", f'<head><link rel="canonical" href="{URL}">'.encode())

    try:
        [old] = read(URL, ".html", named(_page("zh")), NOW, 10**6)
        [first] = ingest(cfg, store, [old], NOW, planner)
        [copy] = read(other, ".html", named(_page("zh", "秘书处举行了论坛。")), NOW, 10**6)
        [second] = ingest(cfg, store, [copy], NOW + timedelta(days=1), planner)
        assert (second.kind, second.entry.id) == ("updated", first.entry.id)
        [grown] = read(URL, ".html", named(_page("zh-CN")), NOW, 10**6)

        [again] = ingest(cfg, store, [grown], NOW + timedelta(days=2), planner)

        assert again.kind == "duplicate"
        assert events == ["release.published", "release.updated"]
        stored = entry_rows.get(store.db, first.entry.id)
        assert (stored.revision, stored.content_hash) == (2, second.entry.content_hash)
    finally:
        store.close()


@pytest.mark.parametrize("reread", [False, True], ids=["build", "reread"])
def test_a_copy_with_the_tag_grown_leaves_its_entrys_tag_alone(site, reread):
    """A release in a file saying `lang: en`, and a copy of it in another file saying
    `en-AU`: one entry, the first file's. The copy is noted and changes nothing, its
    language tag neither (it made the entry say 'en-AU', quietly, while its own file
    says 'en'); nor when both are read again by ``scofeed build --reread``."""
    text = "On 5 March 2024 the SCO held a long meeting on cooperation.\n"
    (site.sources / "own.md").write_text(
        f"---\ntitle: SCO meeting\ndate: 2024-03-05\nlang: en\n---\n{text}", encoding="utf-8"
    )
    run_build(site.config(), site.store(), NOW)
    (site.sources / "copy.md").write_text(
        f"---\ntitle: SCO meeting\ndate: 2024-03-05\nlang: en-AU\n---\n{text}", encoding="utf-8"
    )
    report = run_build(site.config(), site.store(), NOW + timedelta(days=1))
    if reread:
        report = run_build(site.config(), site.store(), NOW + timedelta(days=2), reread=True)

    assert (report.entries, report.new, report.updated) == (2, 0, 0)  # the seed's, and this
    db = site.store().db
    sql = "SELECT entry_id FROM entry_origins WHERE origin = 'copy.md'"
    (entry_id,) = db.execute(sql).fetchone()
    entry = entry_rows.get(db, entry_id)
    assert (entry.language, entry.revision, entry.origin) == ("en", 1, "own.md")
