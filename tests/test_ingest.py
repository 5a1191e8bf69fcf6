"""ingest: one release, one entry; what counts as a new version of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scofeed.ingest import ingest
from scofeed.sources import read
from scofeed.store import entries as entry_rows

NOW = datetime(2026, 1, 1, tzinfo=UTC)
URL = "https://chn.sectsco.org/20210603/1.html"


def _page(lang: str, text: str = "秘书处举行论坛。") -> bytes:
    return (
        f'<html lang="{lang}"><head><title>上合组织举行论坛</title></head><body><article>'
        f"<h1>上合组织举行论坛</h1><p>2021年6月3日，{text}</p></article></body></html>"
    ).encode()


def test_a_language_tag_grown_by_its_region_or_script_is_stored_not_delivered(site):
    """A page of the SCO's Chinese site says lang="zh-CN", which scofeed stored as "zh"
    before tags kept their region and script. Read again (a recheck, a poll), it is the
    same release: its tag is stored, and nothing is delivered (it was a correction to
    every subscriber and follower). An edit of its text still is one."""
    cfg = site.config()
    store = site.store()
    events: list[str] = []

    def planner(_db, _entry, event: str) -> int:
        events.append(event)
        return 1

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
