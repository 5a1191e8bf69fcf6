"""One release, one entry: every way the same release arrives twice, and edits."""

from __future__ import annotations

import importlib
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import rewind, shown_inputs
from scofeed.build import Tuning
from scofeed.build import build as build_feeds
from scofeed.model import Entry, Release
from scofeed.normalise import identity_of, url_key
from scofeed.poll import poll_due
from scofeed.store import published as published_rows
from servers import HTTPServer

SEED = Path(__file__).resolve().parents[1] / "sources" / "000_8062ea63522097a7.txt"

T0 = datetime(2026, 1, 1, tzinfo=UTC)
# the module (the package's own ``sanitise`` is the function)
sanitise_module = importlib.import_module("scofeed.normalise.sanitise")
entry_module = importlib.import_module("scofeed.normalise.entry")
SEED_TITLE = "SCO Secretary-General meets with Jingdong vice-president"


def seed_paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8-sig")
    return [p.strip() for p in text.split("\n\n")[1:] if p.strip()]


def md(url: str | None = None, title: str = SEED_TITLE, paras: list[str] | None = None, **meta):
    head = [f'title = "{title}"'] + ([f'url = "{url}"'] if url else [])
    head += [f'{k} = "{v}"' for k, v in meta.items()]
    body = "\n\n".join(paras if paras is not None else seed_paragraphs())
    return "+++\n" + "\n".join(head) + "\n+++\n" + body + "\n"


def build(site, now=T0):
    report = build_feeds(site.config(), store := site.store(), now)
    return report, published_rows.latest(store.db)


def test_the_seed_as_txt_and_as_md_is_one_entry(site):
    (site.sources / "seed-copy.md").write_text(md(), encoding="utf-8")
    report, entries = build(site)
    assert (report.entries, report.new, report.updated) == (1, 1, 0)
    assert entries[0].title == SEED_TITLE
    assert not report.rejected


def test_http_and_https_and_trailing_dot_host_are_one_entry(site):
    urls = [
        "http://eng.sectsco.org/20200603/650000.html",
        "https://eng.sectsco.org/20200603/650000.html",
        "https://eng.sectsco.org./20200603/650000.html?utm_source=telegram",
        "https://ENG.sectsco.org:443/20200603/650000.html#main",
    ]
    # a different first paragraph in each: only the URL can tell they are one release
    for i, url in enumerate(urls):
        paras = [f"Copy {i}: SCO officials met on 3 June 2020.", "Second paragraph."]
        (site.sources / f"copy{i}.md").write_text(md(url, f"Copy {i}", paras), encoding="utf-8")
    report, entries = build(site)
    assert report.entries == 2  # the seed and the one release
    assert report.new == 2
    # same address, new content: an edit of that release (files are read in name order)
    assert report.updated == 3
    [sco] = [e for e in entries if e.url]
    assert (sco.title, sco.url, sco.revision) == ("Copy 3", urls[3], 4)


def test_identical_copies_under_two_spellings_of_the_url_change_nothing(site):
    (site.sources / "a.md").write_text(md("http://eng.sectsco.org/20200603/1.html"), "utf-8")
    first, _ = build(site)
    (site.sources / "b.md").write_text(md("https://eng.sectsco.org./20200603/1.html"), "utf-8")
    second, entries = build(site, T0 + timedelta(hours=1))
    assert (second.new, second.updated, second.entries) == (0, 0, 1)
    assert entries[0].revision == 1


def test_a_republished_copy_with_other_spacing_punctuation_and_case_is_one_entry(site):
    paras = seed_paragraphs()
    messy_first = "ON 3 JUNE 2020 SCO Secretary General  Vladimir Norov met with Jingdong " + (
        "Vice President Xu Feng, at the initiative of the company!!"
    )
    copy = md(
        "https://news.example/world/sco-jingdong",
        "SCO Secretary General meets with JINGDONG vice president",
        [messy_first, *paras[1:3]],
    )
    (site.sources / "republished.md").write_text(copy, encoding="utf-8")
    (site.sources / "republished.txt").write_text(
        "sco secretary-general meets with jingdong vice-president.\n\n"
        + "\n".join(paras[0].split(" "))  # hard-wrapped after every word
        + "\n",
        encoding="utf-8",
    )
    report, entries = build(site)
    assert (report.entries, report.new, report.updated) == (1, 1, 0)
    assert report.duplicates == 2
    assert entries[0].title == SEED_TITLE  # the first version stands


def test_a_different_release_is_not_mistaken_for_a_copy(site):
    paras = seed_paragraphs()
    other = md(
        None, SEED_TITLE, ["On 4 June 2020, the Secretary-General met someone else.", *paras[1:]]
    )
    (site.sources / "other.md").write_text(other, encoding="utf-8")
    report, _ = build(site)
    assert (report.entries, report.new) == (2, 2)


def test_an_edited_release_bumps_revision_and_updated_and_is_never_new(site):
    path = site.sources / "a.md"
    url = "https://eng.sectsco.org/20200603/650000.html"
    path.write_text(md(url, "SCO meets envoy", ["On 3 June 2020 they met.", "Two."]), "utf-8")
    first, entries = build(site)
    before = next(e for e in entries if e.url)
    assert before.revision == 1 and before.updated == before.published
    path.write_text(
        md(url, "SCO meets envoy", ["On 3 June 2020 they met.", "Two, fixed."]), "utf-8"
    )
    later = T0 + timedelta(days=3)
    second, entries = build(site, later)
    assert (second.new, second.updated, second.entries) == (0, 1, 2)
    after = next(e for e in entries if e.url)
    assert after.id == before.id
    assert after.revision == 2
    assert after.updated == later
    assert after.published == before.published
    third, _ = build(site, later + timedelta(days=1))
    assert (third.new, third.updated, third.written) == (0, 0, [])


@pytest.mark.parametrize("named_by", ["url", "id"])
def test_a_file_overwritten_with_a_release_of_another_address_or_id_is_a_new_release(
    site, named_by
):
    """A page saved over another of another address (``curl -o sources/latest.html``
    each day) revised the first release into the second: its id and place in the feeds
    taken, announced as "updated", the first gone from every feed. Its address (or
    id) says it is another release: a new entry, and the first stays as it was."""

    def release(n: int, day: int) -> str:
        url = f"https://eng.sectsco.org/202003{day:02}/6500{n}0.html"
        name = {"id": f"sco-{n}"} if named_by == "id" else {}
        paras = [f"On {day} March 2020, the Secretary-General met envoy {n}.", "They talked."]
        return md(url if named_by == "url" else None, f"SCO meets envoy {n}", paras, **name)

    path = site.sources / "latest.md"
    path.write_text(release(1, 3), encoding="utf-8")
    _, entries = build(site)
    (first,) = [e for e in entries if e.title == "SCO meets envoy 1"]
    path.write_text(release(2, 5), encoding="utf-8")
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated, report.entries) == (1, 0, 3)
    assert [e for e in entries if e.title == "SCO meets envoy 1"] == [first]
    (second,) = [e for e in entries if e.title == "SCO meets envoy 2"]
    assert second.id != first.id and second.revision == 1
    # the file is the second release's input now: an edit of it revises the second
    path.write_text(release(2, 5).replace("They talked.", "They talked at length."), "utf-8")
    report, entries = build(site, T0 + timedelta(days=2))
    assert (report.new, report.updated) == (0, 1)
    assert [e.revision for e in entries if e.id == second.id] == [2]
    assert [e for e in entries if e.title == "SCO meets envoy 1"] == [first]


@pytest.mark.parametrize(
    ("url", "first"),
    [
        # the same address spelled otherwise (http, a tracking parameter)
        ("http://eng.sectsco.org/20200603/650000.html?utm_source=x", "On 3 June 2020 they met."),
        # another address (the site's new scheme, a URL corrected), the same text...
        ("https://sco.example/news/2020/06/03/envoy", "On 3 June 2020 they met."),
        # ...or the same title on the same day, its first paragraph corrected
        ("https://sco.example/news/2020/06/03/envoy", "On 3 June 2020 the two met."),
    ],
)  # fmt: skip
def test_a_file_rewritten_with_its_address_changed_but_its_text_its_own_is_an_edit(
    site, url, first
):
    """Another address, but the entry's text (or its title on its day): the same
    release, an edit that takes the new address, never a second entry."""
    path = site.sources / "a.md"
    old = "https://eng.sectsco.org/20200603/650000.html"
    path.write_text(md(old, "SCO meets envoy", ["On 3 June 2020 they met.", "Two."]), "utf-8")
    _, entries = build(site)
    (before,) = [e for e in entries if e.url]
    path.write_text(md(url, "SCO meets envoy", [first, "3."]), "utf-8")
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated, report.entries) == (0, 1, 2)
    (after,) = [e for e in entries if e.url]
    assert after.id == before.id and after.revision == 2


def test_an_edit_arriving_in_another_file_with_the_same_id_updates_the_entry(site, caplog):
    """It is an edit; while the first file is still there too, each edit of either
    flips the entry between them (a translation given its original's id), which the log
    says: nothing else showed it."""
    (site.sources / "a.md").write_text(
        md(None, "SCO meets envoy", ["Met on 3 June 2020."], id="r1")
    )
    build(site)
    (site.sources / "b.md").write_text(
        md(None, "SCO meets the envoy", ["They met on 3 June 2020."], id="r1", updated="2020-06-04")
    )
    with caplog.at_level("WARNING", logger="scofeed"):
        report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated, report.entries) == (0, 1, 2)
    edited = next(e for e in entries if e.title == "SCO meets the envoy")
    assert edited.revision == 2
    assert edited.updated.isoformat() == "2020-06-04T00:00:00+08:00"
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("id_in_two")]
    assert said == [f"id_in_two_files origin=b.md other=a.md entry={edited.id}"]
    # the first file gone: b.md is the release's only file, and its edit says nothing
    (site.sources / "a.md").unlink()
    (site.sources / "b.md").write_text(
        md(None, "SCO meets the envoy", ["They met on 3 June 2020 in Beijing."], id="r1")
    )
    caplog.clear()
    with caplog.at_level("WARNING", logger="scofeed"):
        report, _ = build(site, T0 + timedelta(days=2))
    assert report.updated == 1
    assert not [r for r in caplog.records if r.getMessage().startswith("id_in_two")]


def test_an_edit_stating_an_updated_time_no_later_than_the_entry_is_dated_when_seen(site):
    """A source that corrects a release twice but keeps its ``updated`` (a front-matter
    key nobody bumped, a feed item's unchanged <updated>): the second correction is
    dated when it was seen, so ``updated`` moves on with every revision (readers and
    Mastodon key on it); a later stated time is taken as it is."""
    path = site.sources / "a.md"

    def edit(body: str, updated: str, now: datetime) -> Entry:
        path.write_text(md(None, "SCO meets envoy", [body], id="r1", updated=updated))
        _, entries = build(site, now)
        return next(e for e in entries if e.origin == "a.md")

    first = edit("Met on 3 June 2020.", "2020-06-04", T0)
    second = edit("They met on 3 June 2020.", "2020-06-04", T0 + timedelta(days=1))
    assert second.revision == 2 and second.updated == T0 + timedelta(days=1)
    assert first.updated < second.updated
    third = edit("They met on 3 June 2020, it says.", "2020-06-04", T0 + timedelta(days=2))
    assert third.revision == 3 and third.updated == T0 + timedelta(days=2)
    bumped = "2026-01-03T12:00:00+08:00"  # later than the third revision: taken as stated
    fourth = edit("They met on 3 June 2020 in Beijing.", bumped, T0 + timedelta(days=3))
    assert fourth.revision == 4 and fourth.updated.isoformat() == bumped


def test_an_edited_seed_txt_updates_its_entry(site):
    _, entries = build(site)
    seed_id = entries[0].id
    text = SEED.read_text(encoding="utf-8").replace("warm and friendly", "warm, friendly")
    (site.sources / SEED.name).write_text(text, encoding="utf-8")
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated) == (0, 1)
    assert entries[0].id == seed_id and entries[0].revision == 2


def test_a_copy_of_an_edited_releases_first_version_is_a_duplicate_not_a_crash(site):
    # a release without id or URL is known by the fingerprint of its first version;
    # once edited, a copy of that first version (a backup, a colleague's file, `git
    # checkout` of the old text) mints the very id the entry holds
    first = "SCO meets envoy of India\n\nOn 3 June 2020, the SG met the envoy.\n"
    (site.sources / "a.txt").write_text(first, encoding="utf-8")
    _, entries = build(site)
    entry_id = next(e.id for e in entries if e.origin == "a.txt")
    edited = "SCO meets the envoy of India\n\nOn 3 June 2020, the SG met the envoy of India.\n"
    (site.sources / "a.txt").write_text(edited, encoding="utf-8")
    build(site, T0 + timedelta(days=1))
    (site.sources / "original.txt").write_text(first, encoding="utf-8")
    report, entries = build(site, T0 + timedelta(days=2))
    assert (report.new, report.updated, report.duplicates, report.rejected) == (0, 0, 1, [])
    [entry] = [e for e in entries if e.id == entry_id]
    assert len(entries) == 2  # the seed and this one
    assert (entry.title, entry.revision) == ("SCO meets the envoy of India", 2)


def test_an_item_put_at_the_head_of_a_json_list_does_not_crash_the_build(site):
    items = [{"title": f"SCO item {n}", "text": f"Item {n} on 3 June 2020."} for n in (1, 2)]
    (site.sources / "list.json").write_text(json.dumps(items), encoding="utf-8")
    build(site)
    new = {"title": "SCO item 0", "text": "Item 0 on 4 June 2020."}
    (site.sources / "list.json").write_text(json.dumps([new, *items]), encoding="utf-8")
    report, entries = build(site, T0 + timedelta(days=1))
    assert report.rejected == []
    assert len({e.id for e in entries}) == len(entries)


@pytest.mark.parametrize("named_by", ["id", "url"])
def test_a_release_put_at_the_head_of_a_json_list_is_new_and_the_others_stay(site, named_by):
    """Items with an id (or a URL) are known by it, not by their place in the list: a
    newest-first list that grows at its head adds one entry and leaves the others be."""

    def item(n: int) -> dict[str, str]:
        name = {"id": f"sco-{n}"} if named_by == "id" else {"url": f"https://sco.int/{n}"}
        return {**name, "title": f"SCO item {n}", "text": f"Item {n} on {n + 3} June 2020."}

    (site.sources / "list.json").write_text(json.dumps([item(2), item(1)]), encoding="utf-8")
    build(site)
    (site.sources / "list.json").write_text(
        json.dumps([item(3), item(2), item(1)]), encoding="utf-8"
    )
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated, report.rejected) == (1, 0, [])
    titles = {e.title: e.revision for e in entries if e.title.startswith("SCO item")}
    assert titles == {"SCO item 1": 1, "SCO item 2": 1, "SCO item 3": 1}


def test_a_copy_read_again_does_not_take_an_edited_release_back_to_its_old_text(site):
    """A copy of a release (same fingerprint, another file) is a duplicate; once the
    release's own file is edited, reading the unchanged copy again (put back after a
    `git checkout`, a restore from backup, a cold re-read) is no edit: the edit stands."""
    first = "SCO meets envoy of India\n\nOn 3 June 2020, the SG met the envoy.\n\nOn trade.\n"
    (site.sources / "a.txt").write_text(first, encoding="utf-8")
    build(site)
    (site.sources / "copy.txt").write_text(first, encoding="utf-8")
    build(site, T0 + timedelta(hours=1))
    edited = first.replace("On trade.", "On trade and culture.")
    (site.sources / "a.txt").write_text(edited, encoding="utf-8")
    report, _ = build(site, T0 + timedelta(days=1))
    assert report.updated == 1
    (site.sources / "copy.txt").unlink()
    build(site, T0 + timedelta(days=2))
    (site.sources / "copy.txt").write_text(first, encoding="utf-8")
    report, entries = build(site, T0 + timedelta(days=3))
    assert (report.new, report.updated, report.duplicates, report.written) == (0, 0, 1, [])
    [entry] = [e for e in entries if e.origin == "a.txt"]
    assert "culture" in entry.content_html and entry.revision == 2
    # the copy edited is still that input's edit (docs/formats.md: one release, one entry)
    (site.sources / "copy.txt").write_text(first.replace("trade", "energy"), encoding="utf-8")
    report, entries = build(site, T0 + timedelta(days=4))
    assert report.updated == 1
    [entry] = [e for e in entries if e.id == entry.id]
    assert "energy" in entry.content_html and entry.revision == 3


def test_two_feeds_carrying_one_release_do_not_flip_it_at_every_poll(site):
    """Two agencies' feeds link the same official page (each with its own tracking
    parameter): one URL key, one entry. The second feed's other text revises it (same
    URL, same rank: an edit); polling either feed again with its item unchanged is no
    edit, so the entry does not swing between the two texts with a correction each time."""

    def rss(agency: str, summary: str, poll: int) -> str:
        link = f"https://eng.sectsco.org/20220125/813122.html?utm_source={agency}"
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Agency</title>'
            f"<link>https://{agency}.example/</link><description>poll {poll}</description>"
            f"<item><title>SCO chief meets Pakistan envoy</title><link>{link}</link>"
            "<pubDate>Thu, 27 Jan 2022 10:00:00 +0000</pubDate>"
            f"<description>{summary}</description></item></channel></rss>"
        )

    summaries = {"a": "SCO chief met the envoy on 25 January.", "b": "The SG met the envoy."}
    web = HTTPServer()
    web.start()
    try:
        sources = "".join(
            f'\n[[sources]]\nname = "{n}"\nkind = "feed"\nurl = "{web.url_for(f"/{n}.rss")}"\n'
            "delay = 0\ntimeout = 2\n"
            for n in summaries
        )
        site.write_config(sources)
        cfg, store = site.config(), site.store()
        revisions = []
        for poll, name in enumerate("abab"):
            web.clear()  # each feed's bytes change at every poll (a new description)
            web.expect_request(f"/{name}.rss").respond_with_data(
                rss(name, summaries[name], poll), content_type="application/rss+xml"
            )
            poll_due(cfg, store, T0 + timedelta(hours=poll), force=True, only=name)
            [entry] = [e for e in published_rows.latest(store.db) if e.url]
            revisions.append((entry.revision, entry.summary))
    finally:
        web.stop()
    assert revisions == [(1, summaries["a"])] + [(2, summaries["b"])] * 3


RENAMED = "SCO meets envoy of India\n\nOn 3 June 2020, the SG met the envoy.\n\nOn trade.\n"


def _built_then_gone(site, later: bool) -> tuple[str, Entry]:
    """A release built from ``a.txt``, whose file then leaves sources/ (and, ``later``,
    a build passes without it): its text and its entry."""
    (site.sources / "a.txt").write_text(RENAMED, encoding="utf-8")
    _, entries = build(site)
    [made] = [e for e in entries if e.origin == "a.txt"]
    (site.sources / "a.txt").unlink()
    if later:
        build(site, T0 + timedelta(hours=1))
    return RENAMED, made


@pytest.mark.parametrize("later", [False, True], ids=["same-build", "deleted-first"])
def test_a_file_renamed_and_edited_at_once_is_an_edit_of_its_entry(site, later):
    """A release's file moved to another name (or deleted, and brought back under
    another name), edited on the way: its old name is gone from sources/, so the new
    file is the release's own input and its edit a correction, not a copy left out."""
    first, made = _built_then_gone(site, later)
    (site.sources / "2020").mkdir()
    moved = site.sources / "2020" / "india.txt"
    moved.write_text(first.replace("On trade.", "On trade and culture."), encoding="utf-8")
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated, report.duplicates) == (0, 1, 0)
    [entry] = [e for e in entries if e.id == made.id]
    assert len(entries) == 2  # the seed and this one
    assert (entry.revision, entry.origin) == (2, "2020/india.txt")
    assert "culture" in entry.content_html
    # a copy of the release while its file is still there stays a copy
    (site.sources / "copy.txt").write_text(first, encoding="utf-8")
    report, _ = build(site, T0 + timedelta(days=2))
    assert (report.new, report.updated, report.duplicates) == (0, 0, 1)
    # `scofeed show`: the file's old name is a name it went by, the other file a copy
    assert shown_inputs(site, made.id) == [
        ("former", "a.txt"), ("current", "2020/india.txt"), ("copy", "copy.txt")
    ]  # fmt: skip


@pytest.mark.parametrize("later", [False, True], ids=["same-build", "deleted-first"])
@pytest.mark.parametrize(
    "corrected",
    [
        ("SCO meets envoy of India", "SCO Secretary-General meets envoy of India"),
        ("the SG met the envoy.", "the Secretary-General met the envoy of India."),
    ],
    ids=["title", "first-paragraph"],
)
def test_a_file_renamed_with_its_title_or_first_paragraph_corrected_is_an_edit(
    site, later, corrected
):
    """The fingerprint is made of the title and the first paragraph, so a file renamed
    with one of them corrected matched nothing and was published again as a new entry.
    Its old name gone, the same first paragraph (or the same title on the same day)
    ties it to its entry: a correction, announced as updated."""
    first, made = _built_then_gone(site, later)
    (site.sources / "india.txt").write_text(first.replace(*corrected), encoding="utf-8")
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated, report.duplicates) == (0, 1, 0)
    assert len(entries) == 2  # the seed and this one
    [entry] = [e for e in entries if e.id == made.id]
    assert (entry.revision, entry.origin) == (2, "india.txt")
    assert corrected[1] in entry.title + entry.summary
    assert shown_inputs(site, made.id) == [("former", "a.txt"), ("current", "india.txt")]


def test_a_renamed_file_with_title_and_first_paragraph_both_new_is_a_new_release(site):
    """What ties a renamed file to its entry is the first paragraph, or the title on
    the same day: with neither, it is another release, and the first one stays."""
    first = "SCO meets envoy of India\n\nOn 3 June 2020, the SG met the envoy.\n"
    (site.sources / "a.txt").write_text(first, encoding="utf-8")
    build(site)
    (site.sources / "a.txt").unlink()
    other = "SCO meets envoy of India\n\nOn 4 June 2020, the SG met the envoy again.\n"
    (site.sources / "b.txt").write_text(other, encoding="utf-8")  # same title, next day
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated) == (1, 0)
    assert len(entries) == 3


def test_a_file_renamed_unchanged_is_still_there_for_the_next_new_file(site):
    """Renamed without an edit, a file's entry kept its old input name; it was taken for
    a file gone, and the next new file of that title and day revised it: the renamed
    release was published nowhere."""
    (site.sources / "m.txt").write_text(
        "Statement\n\nOn 3 June 2021, the SCO welcomed the envoy of Iran.\n", "utf-8"
    )
    build(site)
    (site.sources / "m.txt").rename(site.sources / "b.txt")
    build(site, T0 + timedelta(hours=1))
    (site.sources / "c.txt").write_text(
        "Statement\n\nOn 3 June 2021, the SCO condemned the attack in Quetta.\n", "utf-8"
    )
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated) == (1, 0)
    texts = sorted(e.summary for e in entries if e.title == "Statement")
    assert ["attack in Quetta" in texts[0], "envoy of Iran" in texts[1]] == [True, True]


def test_a_copy_of_a_file_renamed_unchanged_is_a_copy_not_its_rename(site):
    """A copy (other case and punctuation) of a file renamed unchanged was taken for the
    file renamed once more: it revised the entry with its own text, and the next edit of
    the real file, matched by nothing but its name, made the release a second entry."""
    text = "SCO forum opens\n\nOn 3 April 2025, the SCO forum opened in Moscow.\n"
    (site.sources / "a.txt").write_text(text, "utf-8")
    build(site)
    (site.sources / "a.txt").rename(site.sources / "b.txt")
    build(site, T0 + timedelta(hours=1))
    copy = "SCO FORUM OPENS\n\nOn 3 April 2025 the SCO forum opened in Moscow!\n"
    (site.sources / "c.txt").write_text(copy, "utf-8")
    report, entries = build(site, T0 + timedelta(hours=2))
    assert (report.new, report.updated) == (0, 0)
    assert [e.title for e in entries if "FORUM" in e.title.upper()] == ["SCO forum opens"]
    edited = "SCO forum opens in Moscow\n\nOn 3 April 2025, the SCO forum opened in Moscow.\n"
    (site.sources / "b.txt").write_text(edited, "utf-8")
    report, entries = build(site, T0 + timedelta(hours=3))
    assert (report.new, report.updated) == (0, 1)
    forum = [e for e in entries if "FORUM" in e.title.upper()]
    assert [(e.title, e.origin) for e in forum] == [("SCO forum opens in Moscow", "b.txt")]


def test_a_new_file_at_the_name_a_renamed_file_left_is_a_new_release(site):
    """A file renamed (``latest.txt`` to its dated name), then a new release written to
    the name it left: the old name matched the renamed entry as its own input, and the
    new text overwrote that release (one entry, revision 2, ``release.updated``). While
    the renamed file is there, the old name is a new file's; a file moved back to an
    old name of its own is still its own release."""
    india = "SCO meets envoy of India\n\nOn 3 June 2020, the SG met the envoy of India.\n"
    iran = "SCO meets envoy of Iran\n\nOn 4 June 2020, the SG met the envoy of Iran.\n"
    (site.sources / "latest.txt").write_text(india, encoding="utf-8")
    _, entries = build(site)
    [made] = [e for e in entries if e.origin == "latest.txt"]
    (site.sources / "latest.txt").rename(site.sources / "2020-06-03.txt")
    report, _ = build(site, T0 + timedelta(hours=1))
    assert (report.new, report.updated) == (0, 0)
    (site.sources / "latest.txt").write_text(iran, encoding="utf-8")
    report, entries = build(site, T0 + timedelta(hours=2))
    assert (report.new, report.updated) == (1, 0)
    [kept] = [e for e in entries if e.id == made.id]
    assert (kept.revision, kept.summary) == (1, made.summary)
    [other] = [e for e in entries if "Iran" in e.title]
    assert other.id != made.id
    # the old name is the new file's now: the renamed one's input goes by its new name
    assert shown_inputs(site, made.id) == [("current", "2020-06-03.txt")]
    assert shown_inputs(site, other.id) == [("current", "latest.txt")]
    # the India file moved back to its old name while nothing else holds it: its entry
    (site.sources / "latest.txt").rename(site.sources / "iran.txt")
    build(site, T0 + timedelta(hours=3))
    (site.sources / "2020-06-03.txt").rename(site.sources / "latest.txt")
    report, entries = build(site, T0 + timedelta(hours=4))
    assert (report.new, report.updated) == (0, 0)
    assert {e.id for e in entries if "India" in e.title} == {made.id}


def test_a_rename_then_a_new_release_under_the_old_name_settling_later_keeps_both(site):
    """As the daemon sees a script that renames latest.txt to its dated name and writes
    the next release to latest.txt at once: the renamed file (its mtime kept) is read
    first, as a copy of the entry, the new latest.txt once it has settled. That new
    text revised the entry as an edit of its own input, and the renamed release was
    published nowhere. Its entry now goes on with the file holding its text."""
    india = "SCO meets envoy of India\n\nOn 3 June 2020, the SG met the envoy of India.\n"
    iran = "SCO meets envoy of Iran\n\nOn 4 June 2020, the SG met the envoy of Iran.\n"
    latest = site.sources / "latest.txt"
    latest.write_text(india, encoding="utf-8")
    for path in site.sources.iterdir():  # the seed and latest.txt: written long ago
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    store = site.store()
    cfg = site.config("limits.settle=2")
    build_feeds(cfg, store, T0)
    [made] = [e for e in published_rows.latest(store.db) if e.origin == "latest.txt"]
    latest.rename(site.sources / "2020-06-03.txt")
    latest.write_text(iran, encoding="utf-8")  # written now: not settled yet
    first = build_feeds(cfg, store, T0 + timedelta(hours=1))
    assert [d[0] for d in first.deferred] == ["latest.txt"]
    assert (first.new, first.updated) == (0, 0)
    os.utime(latest, (time.time() - 60, time.time() - 60))  # settled
    second = build_feeds(cfg, store, T0 + timedelta(hours=2))
    assert (second.new, second.updated) == (1, 0)
    entries = published_rows.latest(store.db)
    [kept] = [e for e in entries if e.id == made.id]
    assert (kept.revision, kept.title) == (1, "SCO meets envoy of India")
    assert {e.title for e in entries} >= {"SCO meets envoy of India", "SCO meets envoy of Iran"}
    assert shown_inputs(site, made.id) == [("current", "2020-06-03.txt")]
    # an edit of a file of ours that still matches its release is an edit, copy or not
    (site.sources / "2020-06-03.txt").write_text(india + "\nA line added.\n", "utf-8")
    os.utime(site.sources / "2020-06-03.txt", (time.time() - 60, time.time() - 60))
    third = build_feeds(cfg, store, T0 + timedelta(hours=3))
    assert (third.new, third.updated) == (0, 1)


@pytest.mark.parametrize("touched", [False, True], ids=["as-is", "touched-up"])
@pytest.mark.parametrize("dated", ["2020-06-03.txt", "z-2020-06-03.txt"])
def test_a_rename_and_a_new_release_under_the_old_name_in_one_build_keep_both(site, dated, touched):
    """The same, seen by one build (`scofeed build` after the script): whichever name
    sorts first, and with the renamed file touched up on the way (a later paragraph),
    the renamed release keeps its entry and the new one is new."""
    india = "SCO meets envoy of India\n\nOn 3 June 2020, the SG met the envoy of India.\n"
    iran = "SCO meets envoy of Iran\n\nOn 4 June 2020, the SG met the envoy of Iran.\n"
    latest = site.sources / "latest.txt"
    latest.write_text(india + "\nOn trade.\n", encoding="utf-8")
    _, entries = build(site)
    [made] = [e for e in entries if e.origin == "latest.txt"]
    latest.rename(site.sources / dated)
    if touched:
        (site.sources / dated).write_text(india + "\nOn trade and culture.\n", "utf-8")
    latest.write_text(iran, encoding="utf-8")
    report, entries = build(site, T0 + timedelta(hours=1))
    assert (report.new, report.updated) == (1, 0)
    [kept] = [e for e in entries if e.id == made.id]
    assert (kept.revision, kept.title) == (1, "SCO meets envoy of India")
    assert shown_inputs(site, made.id) == [("current", dated)]


def test_a_list_file_renamed_with_an_item_corrected_is_an_edit_of_that_item(site):
    """A JSON list renamed (list.json to list2.json) with one item's text corrected on the
    way: the unchanged item matched its entry, the corrected one was published again.
    Its list gone, an item with the same title or first paragraph on the same day is
    that item, as a renamed file is."""
    items = [
        {"title": "SCO youth council meets", "date": "2022-05-05", "text": "The council met."},
        {"title": "SCO forum opens in Tashkent", "date": "2022-05-01", "text": "It opened."},
    ]
    (site.sources / "list.json").write_text(json.dumps(items), encoding="utf-8")
    _, entries = build(site)
    made = {e.title: e.id for e in entries}
    items[0]["text"] = "The council met in Tashkent."
    (site.sources / "list2.json").write_text(json.dumps(items), encoding="utf-8")
    (site.sources / "list.json").unlink()
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated, report.duplicates) == (0, 1, 0)
    assert {e.title: e.id for e in entries} == made
    [council] = [e for e in entries if e.title == "SCO youth council meets"]
    assert council.revision == 2 and "Tashkent" in council.summary


def test_a_release_with_an_id_of_its_own_is_never_taken_for_a_renamed_file(site):
    """A new release that states its own id is that release, whatever file left: the
    same title and day no longer made it a correction of a deleted file's entry."""
    (site.sources / "a.txt").write_text(
        "Statement\n\nOn 3 June 2021, the SCO welcomed the envoy.\n", "utf-8"
    )
    build(site)
    (site.sources / "a.txt").unlink()
    item = {"id": "x1", "title": "Statement", "date": "2021-06-03", "text": "Quetta."}
    (site.sources / "list.json").write_text(json.dumps([item]), "utf-8")
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated) == (1, 0)
    assert len([e for e in entries if e.title == "Statement"]) == 2


def test_a_file_that_is_still_there_is_not_taken_for_a_renamed_one(site):
    """Only a file that has left sources/ can have been renamed: a new file with the
    same title on the same day as a file still there is its own release."""
    (site.sources / "a.txt").write_text(
        "SCO meets envoy of India\n\nOn 3 June 2020, the SG met the envoy.\n", "utf-8"
    )
    build(site)
    (site.sources / "b.txt").write_text(
        "SCO meets envoy of India\n\nOn 3 June 2020, the SG met the envoy on trade.\n", "utf-8"
    )
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated) == (1, 0)
    assert len(entries) == 3


def test_a_release_of_ours_learns_its_address_from_a_copy_so_later_copies_match(site):
    """Our file has no URL; the Secretariat's feed carries the same text (one entry, the
    feed a mirror). An agency's item then links that page, with other text: it is the
    same release by its address, whichever came first, never a second entry."""
    article = "https://eng.sectsco.org/20220125/813122.html"
    title = "SCO Secretary-General meets with Ambassador of Pakistan"
    first = "On 25 January 2022, SCO Secretary-General Zhang Ming met Moin ul Haque."

    def rss(link: str, summary: str) -> str:
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            "<link>https://feed.example/</link><description>d</description>"
            f"<item><title>{title}</title><link>{link}</link>"
            "<pubDate>Thu, 27 Jan 2022 10:00:00 +0000</pubDate>"
            f"<description>{summary}</description></item></channel></rss>"
        )

    (site.sources / "pakistan.txt").write_text(f"{title}\n\n{first}\n\nOn trade.\n", "utf-8")
    web = HTTPServer()
    web.start()
    try:
        web.expect_request("/sco.rss").respond_with_data(rss(article, first))
        agency = rss(article + "?utm_source=agency", "SCO chief met Pakistan envoy.")
        web.expect_request("/agency.rss").respond_with_data(agency)
        site.write_config(
            f'\n[[sources]]\nname = "sco"\nkind = "feed"\nurl = "{web.url_for("/sco.rss")}"\n'
            'authority = "official"\ndelay = 0\ntimeout = 2\n'
            f'\n[[sources]]\nname = "agency"\nkind = "feed"\n'
            f'url = "{web.url_for("/agency.rss")}"\ndelay = 0\ntimeout = 2\n'
        )
        cfg, store = site.config(), site.store()
        build(site)
        for n, name in enumerate(["sco", "agency"]):
            poll = poll_due(cfg, store, T0 + timedelta(hours=n + 1), force=True, only=name)
            assert (poll.results[0].new, poll.results[0].duplicates) == (0, 1)
    finally:
        web.stop()
    [entry] = [e for e in published_rows.latest(store.db) if e.title == title]
    assert (entry.origin, entry.revision, entry.url) == ("pakistan.txt", 1, None)
    assert len(published_rows.latest(store.db)) == 2  # the seed and this one


PAGE = "https://rus.sectsco.org/news/20220125/%D0%B2%D1%81%D1%82%D1%80%D0%B5%D1%87%D0%B0~1"


@pytest.mark.parametrize(
    "spelling",
    [
        PAGE.lower(),  # lower-case escapes
        PAGE.replace("~", "%7E"),  # an unreserved character escaped
        "https://rus.sectsco.org/news/20220125/встреча~1",  # not escaped at all
    ],
)
def test_one_address_with_its_escapes_spelled_otherwise_is_one_release(site, spelling):
    """RFC 3986 (6.2.2): percent-escapes are the same in either case, and an escaped
    unreserved character is that character. Copies of one page whose address a CMS, a
    browser or a feed wrote either way are one release: the later one edits it."""
    (site.sources / "a.md").write_text(md(PAGE, "SCO meets envoy", ["On 3 June 2020."]))
    build(site)
    (site.sources / "b.md").write_text(md(spelling, "SCO meets envoy", ["Met on 3 June."]))
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated, report.entries) == (0, 1, 2)


def test_a_stored_url_key_with_lower_case_escapes_is_re_keyed(site):
    """A store made before escapes were compared in one spelling: the upgrade re-keys
    its URL keys (ids and identities stay), so a copy spelled the other way matches."""
    (site.sources / "a.md").write_text(md(PAGE.lower(), "SCO meets envoy", ["On 3 June."]))
    _, entries = build(site)
    [made] = [e for e in entries if e.url]
    store = site.store()
    with store.transaction() as db:  # as the earlier url_key kept it
        db.execute("UPDATE entries SET url_key = ? WHERE id = ?", (PAGE.lower(), made.id))
        rewind(db, 16)  # before migration 17, the re-keying
    store.close()
    (site.sources / "b.md").write_text(md(PAGE, "SCO meets envoy", ["Met on 3 June."]))
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated, report.entries) == (0, 1, 2)
    (key,) = site.store().db.execute("SELECT url_key FROM entries WHERE id = ?", (made.id,))
    assert key[0] == PAGE


def test_a_listing_link_not_escaped_has_the_key_its_page_is_stored_under():
    """A page-list's link as the listing wrote it (Cyrillic, lower-case escapes) is
    looked up by its URL key before the page is fetched: the key the page's entry holds."""
    identity, stored = identity_of(Release(origin="x", text="t", url=PAGE.lower()), "fp")
    assert url_key("https://rus.sectsco.org/news/20220125/встреча~1") == stored == PAGE
    assert identity == "url:" + PAGE.lower()  # the id is minted as before: a rebuild keeps it


def briefing(day: str, extra: str = "") -> str:
    return (
        f"---\ntitle: Weekly briefing of the SCO Secretariat\ndate: {day}\n---\n"
        "The SCO Secretariat held its weekly briefing for the press.\n\n"
        f"Questions of current cooperation were answered.{extra}\n"
    )


def test_the_same_words_on_days_a_week_apart_are_two_releases(site, caplog):
    """A weekly briefing, a yearly greeting: the same title and first paragraph, their
    publication days stated a week or more apart. The second was taken for a copy of
    the first, with no word: it was never published, and its edit later re-dated the
    first. Each is its own entry now, with its own id, and a copy of either is still a
    copy of that one."""
    (site.sources / "brief-0505.md").write_text(briefing("2023-05-05"))
    build(site)
    (site.sources / "brief-0512.md").write_text(briefing("2023-05-12"))
    with caplog.at_level("INFO", logger="scofeed"):
        report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated) == (1, 0)
    assert any(r.getMessage().startswith("same_words_apart origin=brief-0512.md day=2023-05-12")
               for r in caplog.records)  # fmt: skip
    briefs = {e.published.date().isoformat(): e for e in entries if "briefing" in e.title}
    assert sorted(briefs) == ["2023-05-05", "2023-05-12"]
    assert briefs["2023-05-05"].id != briefs["2023-05-12"].id
    # a copy of the second (another name, a day's slack) is that release: no new entry
    (site.sources / "brief-0512-copy.md").write_text(briefing("2023-05-13"))
    report, _ = build(site, T0 + timedelta(days=2))
    assert (report.new, report.updated) == (0, 0)
    # the second's edit revises the second, and leaves the first as it was
    (site.sources / "brief-0512.md").write_text(briefing("2023-05-12", " Also trade."))
    report, entries = build(site, T0 + timedelta(days=3))
    assert (report.new, report.updated) == (0, 1)
    after = {e.id: e for e in entries}
    assert after[briefs["2023-05-05"].id] == briefs["2023-05-05"]
    assert after[briefs["2023-05-12"].id].revision == 2
    # a copy of the second's first version, once it was edited: that release (its id
    # holds the day), not a new one, nor a crash (the insert of that id again)
    (site.sources / "brief-0512-old.md").write_text(briefing("2023-05-12"))
    (site.sources / "unrelated.txt").write_text(
        "SCO envoys meet in Tashkent\n\nOn 3 June 2023 the envoys met.\n"
    )
    report, entries = build(site, T0 + timedelta(days=3, hours=1))
    assert (report.new, report.updated) == (1, 0)  # the unrelated release alone
    # a third week: a third entry
    (site.sources / "brief-0519.md").write_text(briefing("2023-05-19"))
    report, entries = build(site, T0 + timedelta(days=4))
    assert report.new == 1
    assert len({e.id for e in entries if "briefing" in e.title}) == 3


@pytest.mark.parametrize("batched", [False, True])
def test_a_cold_build_of_the_same_words_a_week_apart_makes_two_entries(site, batched):
    """The same in one build, row by row and with the batched inserts of a large cold
    build (``Known``, ``Pending``)."""
    for day in ("2023-05-05", "2023-05-12", "2023-05-19"):
        (site.sources / f"brief-{day}.md").write_text(briefing(day))
    tuning = Tuning(commit_every=5, known_min_files=1) if batched else Tuning()
    build_feeds(site.config(), store := site.store(), T0, tuning=tuning)
    entries = published_rows.latest(store.db)
    briefs = sorted((e.published.date().isoformat(), e.id) for e in entries if "brief" in e.title)
    assert [d for d, _ in briefs] == ["2023-05-05", "2023-05-12", "2023-05-19"]
    assert len({i for _, i in briefs}) == 3


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_an_edit_of_the_spacing_alone_is_no_correction(site, suffix):
    """In a .txt release a double space, a no-break space or a line wrapped anew
    changed nothing; in Markdown and HTML each was a correction, announced to every
    subscriber (Mastodon showed the post edited) for a change no reader sees. The
    content's text is now spaced as it reads; a <pre> keeps its spacing."""
    first = "The SCO Secretariat marked SCO Day with a reception for the diplomatic corps."
    if suffix == ".md":
        page = "---\ntitle: SCO Day reception\ndate: 2023-06-15\n---\n{body}\n\n    code  kept\n"
    else:
        page = (
            "<html><head><title>SCO Day reception</title></head><body><h1>SCO Day reception"
            "</h1><p>15.06.2023</p><p>{body}</p><pre>code  kept</pre></body></html>"
        )
    path = site.sources / f"sco-day{suffix}"
    path.write_text(page.format(body=first))
    report, entries = build(site)
    (entry,) = [e for e in entries if e.title == "SCO Day reception"]
    assert "code  kept" in entry.content_html
    for n, spaced in enumerate(
        [
            first.replace("with a", "with  a"),
            first.replace("with a", "with\u00a0a"),
            first.replace("with a", "with&nbsp;a"),
            first.replace(" for the", "\nfor the"),  # wrapped anew
            first + "   ",
        ],
        start=1,
    ):
        path.write_text(page.format(body=spaced))
        report, entries = build(site, T0 + timedelta(days=n))
        assert (report.new, report.updated) == (0, 0), spaced
    path.write_text(page.format(body=first.replace("reception", "dinner")))
    report, entries = build(site, T0 + timedelta(days=9))
    assert report.updated == 1


def test_a_release_stored_before_its_text_was_spaced_is_not_revised_by_a_reread(site, monkeypatch):
    """An entry an older scofeed stored with its content's spacing as written (double
    spaces, no-break spaces), read again by this one (`build --reread`, a page's daily
    recheck), was revised and announced for the spacing alone: not an edit now."""
    path = site.sources / "sco-day.md"
    path.write_text(
        "---\ntitle: SCO Day\ndate: 2023-06-15\n---\n"
        "The SCO Secretariat marked SCO Day with  a reception.\n\nGuests came\u00a0too.\n"
    )
    with monkeypatch.context() as older:  # as the version before stored it
        older.setattr(sanitise_module, "spaced_once", lambda html: html)
        build(site)
    (stored,) = [e for e in build(site)[1] if e.title == "SCO Day"]
    assert "with  a" in stored.content_html
    report = build_feeds(site.config(), site.store(), T0 + timedelta(days=1), reread=True)
    assert (report.new, report.updated) == (0, 0)
    # a real edit still is one, and is stored spaced as it reads
    path.write_text(path.read_text().replace("reception", "dinner"))
    report, entries = build(site, T0 + timedelta(days=2))
    assert report.updated == 1
    (edited,) = [e for e in entries if e.title == "SCO Day"]
    assert "with a dinner" in edited.content_html and "came too" in edited.content_html


def test_a_summary_an_older_scofeed_took_from_a_heading_is_not_revised_by_rereading(
    site, monkeypatch
):
    """An older scofeed took a heading ending as a sentence for the summary ("What
    happened?"). A list file that gained an item at its head was read again whole, and
    each item nobody touched went out as a correction of its summary (so did an edit of
    a Markdown release's spacing alone, and every one at a reread). What an older
    reading explains is no edit; a real edit is one, with the summary read anew."""
    body = "<h2>What happened?</h2><p>On {day} May 2026 the Council met in Astana.</p>"
    items = [
        {"id": f"list-{n}", "title": f"SCO Council meeting {n}", "date": f"2026-05-{n:02d}",
         "html": body.format(day=n)}
        for n in (1, 2, 3)
    ]  # fmt: skip
    path = site.sources / "list.json"
    path.write_text(json.dumps(items))
    md = site.sources / "note.md"
    md.write_text("# SCO note\n\n## What happened?\n\nOn 4 May 2026 the Council met.\n")
    with monkeypatch.context() as older:  # as the version before read them
        older.setattr(entry_module, "heading_keys", lambda html: frozenset())
        report, entries = build(site)
    assert {e.summary for e in entries if "Council" in e.title or e.title == "SCO note"} == {
        "What happened?"
    }
    items.insert(0, {"id": "list-9", "title": "SCO Council meeting 9", "date": "2026-05-09",
                     "html": body.format(day=9)})  # fmt: skip
    path.write_text(json.dumps(items))
    md.write_text(md.read_text().replace("Council met", "Council  met"))  # spacing alone
    report, entries = build(site, T0 + timedelta(days=1))
    assert (report.new, report.updated) == (1, 0)
    (new,) = [e for e in entries if e.title == "SCO Council meeting 9"]
    assert new.summary == "On 9 May 2026 the Council met in Astana."
    report = build_feeds(site.config(), site.store(), T0 + timedelta(days=2), reread=True)
    assert (report.new, report.updated) == (0, 0)
    md.write_text(md.read_text().replace("Council  met", "Council met again"))  # an edit
    report, entries = build(site, T0 + timedelta(days=3))
    assert report.updated == 1
    (note,) = [e for e in entries if e.title == "SCO note"]
    assert note.summary == "On 4 May 2026 the Council met again."
