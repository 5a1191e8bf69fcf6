"""scofeed add and scofeed status: in-process for the cases, a real subprocess for the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

import forkserver
from scofeed.add import add_release, slug
from scofeed.build import build
from scofeed.errors import KnownRelease, NormaliseError, RejectedInput
from scofeed.store import entries as entry_rows
from scofeed.store import files as file_rows
from scofeed.store.lock import exclusively

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ENVOY = b"SCO meets envoy\n\nOn 3 June 2021, the envoy came to the SCO Secretariat.\n"
ENVOY_MD = b"""---
title: SCO meets envoy
url: http://eng.sectsco.org/20210603/1.html
---
On 3 June 2021, the envoy came to the SCO Secretariat.
"""


def add(site, data: bytes, suffix: str = ".txt", label: str = "<stdin>", **kw):
    return add_release(site.config(), site.store(), data, suffix, label, kw.pop("now", NOW), **kw)


def test_add_writes_a_canonical_file_and_builds(site):
    result = add(site, ENVOY)
    assert result.kind == "new"
    assert result.path == site.sources / "2021-06-03-sco-meets-envoy.txt"
    assert result.path.read_bytes() == ENVOY
    assert (result.report.new, result.report.entries) == (2, 2)  # the seed too: first build
    parsed = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    assert result.entry_id in [e.id for e in parsed.entries]


def test_add_never_overwrites_another_file_of_the_same_name(site):
    first = add(site, ENVOY)
    other = ENVOY.replace(b"the envoy came", b"a second envoy, not the first, came")
    second = add(site, other)
    assert second.path.name == "2021-06-03-sco-meets-envoy-2.txt"
    assert first.path.read_bytes() == ENVOY
    assert second.entry_id != first.entry_id


def test_a_release_with_its_title_corrected_is_known_and_update_revises_it(site):
    """The fingerprint is made of the title and the first paragraph: a corrected title
    matched nothing, so the release was added a second time, --update or not. The same
    first paragraph says it is the release already known."""
    first = add(site, ENVOY)
    fixed = ENVOY.replace(b"SCO meets envoy", b"SCO Secretary-General meets envoy")
    with pytest.raises(KnownRelease, match="already known as " + first.entry_id):
        add(site, fixed)
    result = add(site, fixed, update=True, now=NOW + timedelta(days=1))
    assert (result.kind, result.entry_id, result.path) == ("updated", first.entry_id, first.path)
    assert entry_rows.get(site.store().db, first.entry_id).title.startswith("SCO Secretary")


def test_update_with_the_first_paragraph_corrected_revises_the_release(site):
    """With --update, the same title on the same day is enough: the first paragraph
    (the other half of the fingerprint) is what was corrected."""
    first = add(site, ENVOY)
    fixed = ENVOY.replace(b"the envoy came", b"the envoy of India came")
    result = add(site, fixed, update=True, now=NOW + timedelta(days=1))
    assert (result.kind, result.entry_id) == ("updated", first.entry_id)
    assert "India" in entry_rows.get(site.store().db, first.entry_id).summary


def test_update_of_a_release_nobody_knows_is_refused_and_writes_nothing(site):
    """--update said "added" and published a second entry when nothing matched."""
    add(site, ENVOY)
    before = sorted(p.name for p in site.sources.iterdir())
    other = b"Another meeting\n\nOn 9 June 2021, a delegation came to the Secretariat.\n"
    with pytest.raises(RejectedInput, match="--update: no release already known"):
        add(site, other, update=True)
    assert sorted(p.name for p in site.sources.iterdir()) == before


def test_a_release_sharing_only_a_stock_first_paragraph_is_another_release(site):
    """A first paragraph many releases open with matched any of them, any day: a new
    release was refused as known, and with --update replaced another one."""
    iran = b"SCO meets envoy of Iran\n\nThe SCO Secretariat informs.\n\nOn 4 June 2021, talks.\n"
    youth = b"SCO marks Youth Day\n\nThe SCO Secretariat informs.\n\nOn 12 August 2022, a day.\n"
    first = add(site, iran)
    second = add(site, youth)
    assert second.kind == "new" and second.entry_id != first.entry_id
    fixed = add(site, youth.replace(b"Youth Day", b"the Youth Day"), update=True)
    assert (fixed.kind, fixed.entry_id) == ("updated", second.entry_id)  # not Iran's


def test_add_of_a_new_release_is_not_taken_for_a_deleted_files_entry(site):
    """add said "added" while the build made the file a correction of a deleted file's
    entry of the same title and day: what add decides, the build keeps."""
    (site.sources / "old.txt").write_bytes(ENVOY)
    build(site.config(), site.store(), NOW)
    (site.sources / "old.txt").unlink()
    other = ENVOY.replace(b"the envoy came", b"a delegation of Laos came")
    result = add(site, other, now=NOW + timedelta(days=1))
    assert result.kind == "new"
    assert entry_rows.get(site.store().db, result.entry_id).revision == 1


def test_a_known_release_is_refused_and_nothing_is_written(site):
    add(site, ENVOY_MD, ".md", "a.md")
    before = sorted(p.name for p in site.sources.iterdir())
    https = ENVOY_MD.replace(b"http://eng.sectsco.org/", b"https://eng.sectsco.org./")
    with pytest.raises(KnownRelease, match="already known as tag:.*use --update"):
        add(site, https, ".md", "b.md")
    with pytest.raises(KnownRelease):  # the same release as plain text: fingerprint match
        add(site, ENVOY.replace(b"envoy came", b"Envoy  came"))
    assert sorted(p.name for p in site.sources.iterdir()) == before
    assert file_rows.rejects(site.store().db) == []


def test_a_release_at_another_address_of_its_sco_article_is_known(site):
    """The SCO site names an article by the day and number ending its address: the
    same article with its headline's slug is the release already known, whatever its
    text says."""
    first = ENVOY_MD.replace(b"/20210603/1.html", b"/20210603/10001.html")
    made = add(site, first, ".md", "a.md")
    other = first.replace(b"/20210603/10001.html", b"/20210603/-SCO-meets-envoy-10001.html")
    other = other.replace(b"SCO meets envoy", b"Envoy received").replace(b"envoy came", b"came")
    with pytest.raises(KnownRelease, match=f"already known as {made.entry_id}"):
        add(site, other, ".md", "b.md")
    another = other.replace(b"-10001.html", b"-10002.html")  # another article
    assert add(site, another, ".md", "c.md").kind == "new"


def test_update_replaces_the_file_and_bumps_the_revision(site):
    first = add(site, ENVOY_MD, ".md", "a.md")
    edited = ENVOY_MD + b"\nThe talks went well.\n"
    later = NOW + timedelta(days=2)
    result = add(site, edited, ".md", "a.md", now=later, update=True)
    assert (result.kind, result.entry_id, result.path) == ("updated", first.entry_id, first.path)
    assert first.path.read_bytes() == edited
    assert (result.report.new, result.report.updated) == (0, 1)
    entry = entry_rows.get(site.store().db, first.entry_id)
    assert (entry.revision, entry.updated) == (2, later)
    again = add(site, edited, ".md", "a.md", now=later, update=True)
    assert again.kind == "unchanged"


def test_adding_the_first_version_of_an_edited_release_is_refused_as_known(site):
    first = add(site, ENVOY)
    edited = ENVOY.replace(b"SCO meets envoy", b"SCO meets the envoy").replace(
        b"the envoy came", b"the envoy of India came"
    )
    first.path.write_bytes(edited)  # edited in place: the entry keeps its first id
    report = build(site.config(), site.store(), NOW + timedelta(days=1))
    assert (report.new, report.updated) == (0, 1)
    with pytest.raises(KnownRelease, match=f"already known as {first.entry_id}"):
        add(site, ENVOY, now=NOW + timedelta(days=2))


def test_update_in_another_format_replaces_the_old_file(site):
    first = add(site, ENVOY)
    md = b"+++\ntitle = 'SCO meets envoy'\n+++\n" + ENVOY.split(b"\n\n", 1)[1] + b"\nMore.\n"
    result = add(site, md, ".md", "new.md", now=NOW + timedelta(days=1), update=True)
    assert result.kind == "updated" and result.entry_id == first.entry_id
    assert not first.path.exists()
    assert result.path == site.sources / "2021-06-03-sco-meets-envoy.md"
    assert entry_rows.get(site.store().db, first.entry_id).revision == 2


@pytest.mark.parametrize(
    ("data", "suffix", "error", "reason"),
    [
        (b"Title only\n", ".txt", NormaliseError, "no body"),
        (b"", ".txt", RejectedInput, "empty file"),
        (b'[{"title": "a", "text": "b"}, {"title": "c", "text": "d"}]', ".json", RejectedInput,
         "holds 2 releases"),
        (b"<x/>", ".xml", RejectedInput, "unknown format"),
    ],
)  # fmt: skip
def test_invalid_input_is_refused_and_quarantined(site, data, suffix, error, reason):
    with pytest.raises(error, match=reason):
        add(site, data, suffix, "bad-input")
    [row] = file_rows.rejects(site.store().db)
    assert (row["origin"], row["source"]) == ("bad-input", "add")
    assert reason in row["reason"]
    assert [p.name for p in site.sources.iterdir()] == ["000_8062ea63522097a7.txt"]


BAD_OWN_URL = (
    b'<html><head><link rel="canonical" href="http://[::1/">'
    b'<meta property="og:url" content="http://[::1/x"></head><body>'
    b'<div class="news-detail"><h1>SCO forum opens in Astana</h1>'
    b"<p>On 3 June 2020, the SCO forum opened in Astana with delegates.</p></div></body></html>"
)


def test_a_saved_page_naming_itself_by_no_web_address_is_added_without_it(site):
    """A saved page whose canonical link (or og:url) was "http://[::1/" made `add` print
    a traceback (ValueError: Invalid IPv6 URL), and a build refuse the file: such an
    address is passed over, as a cut "saved from" comment is. Found by fuzzing."""
    page = site.root / "page.html"
    page.write_bytes(BAD_OWN_URL)
    out, err = run(site, "add", str(page))
    assert out.startswith("added ") and not err
    (site.sources / "dropped.html").write_bytes(BAD_OWN_URL.replace(b"Astana", b"Minsk"))
    report = build(site.config(), site.store(), NOW)
    assert not report.rejected and report.new == 1
    rows = site.store().db.execute("SELECT title, url FROM entries WHERE title LIKE 'SCO forum%'")
    assert dict(rows.fetchall()) == {
        "SCO forum opens in Astana": None, "SCO forum opens in Minsk": None,
    }  # fmt: skip


def test_a_failure_no_reader_foresaw_is_one_rejection_as_in_a_build(site, monkeypatch):
    """What a build calls "could not be processed (ValueError: ...)" for a file in
    sources/ was a traceback from `add`: it is the same rejection, quarantined."""

    def broken(*args, **kwargs):
        raise ValueError("Invalid IPv6 URL")

    monkeypatch.setattr("scofeed.add.sources.read", broken)
    with pytest.raises(RejectedInput, match=r"could not be processed \(ValueError: Invalid IPv6"):
        add(site, ENVOY, ".txt", "odd-input")
    [row] = file_rows.rejects(site.store().db)
    assert row["origin"] == "odd-input"


def test_slug_is_ascii_or_the_id():
    assert slug("Ålands öar: SCO & “Friends” — 2021!", "tag:x,2026:release/abc") == (
        "alands-oar-sco-friends-2021"
    )
    assert slug("Заседание министров", "tag:x,2026:release/abc") == "abc"
    assert slug("上合组织 SCO", "tag:x,2026:release/abc") == "abc"
    assert len(slug("word " * 40, "tag:x,2026:release/abc")) <= 60


# -- the command line -------------------------------------------------------------------


def run(site, *args: str, stdin: bytes | None = None, rc: int = 0):
    proc = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
        input=stdin,
        capture_output=True,
        cwd=site.root,
        timeout=60,
    )
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == rc, out + err
    return out, err


def test_cli_add_from_stdin_refuse_known_and_update(site):
    out, _ = run(site, "add", "--format", "md", "-", stdin=ENVOY_MD)
    lines = out.splitlines()
    assert lines[0].startswith("added tag:test.example,2026:release/")
    assert lines[1] == f"file {site.sources / '2021-06-03-sco-meets-envoy.md'}"
    assert "entries=2 new=2" in lines[2]
    _, err = run(site, "add", "--format", "md", "-", stdin=ENVOY_MD, rc=1)
    assert "already known as " + lines[0].split()[1] in err and "--update" in err
    assert "Traceback" not in err
    path = site.root / "edit.md"
    path.write_bytes(ENVOY_MD + b"\nMore.\n")
    out, _ = run(site, "add", "--update", str(path))
    assert out.startswith("updated " + lines[0].split()[1])
    _, err = run(site, "add", "-", stdin=b"Title only\n", rc=1)
    assert err.strip().endswith("<stdin>: the release has a title but no body")
    # each refused `add -` is kept apart in the quarantine: all were "<stdin>", and
    # `scofeed status` showed the last alone
    run(site, "add", "-", stdin=b"Another title only\n", rc=1)
    kept = [r["origin"] for r in file_rows.rejects(site.store().db, "add")]
    assert len(kept) == 2 and all(o.startswith("<stdin ") for o in kept), kept


def test_adds_of_one_release_at_once_take_turns_and_write_one_file(site):
    """Three `scofeed add` of one new release at once (twice the file, once a copy)
    each found no match and two wrote a file: one entry, a second file in sources/
    beside it. They take turns now (a lock beside the store, held from the match to the
    build): the first adds it, the others are told it is known. The lock is held here
    while they start, so all three wait at it together."""
    run(site, "build")
    (site.root / "copy").mkdir()
    for folder in (site.root, site.root / "copy"):
        (folder / "envoy.txt").write_bytes(ENVOY)
    argv = [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "add"]
    inputs = ("envoy.txt", "envoy.txt", "copy/envoy.txt")
    with exclusively(Path(f"{site.config().paths.state}.add.lock"), "add lock"):
        procs = [
            forkserver.Popen(
                [*argv, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=site.root
            )
            for name in inputs
        ]
        time.sleep(1.0)  # each reads and normalises its release, then waits at the lock
        assert [p.poll() for p in procs] == [None, None, None]
    results = [(p.wait(timeout=60), *(b.decode() for b in p.communicate())) for p in procs]
    added = [r for r in results if r[0] == 0]
    assert len(added) == 1 and added[0][1].startswith("added "), results
    for rc, _out, err in results:
        assert rc == 0 or "already known as " in err, err
    assert sorted(p.name for p in site.sources.iterdir() if "envoy" in p.name) == [
        "2021-06-03-sco-meets-envoy.txt"
    ]


def test_cli_add_beside_files_rejected_before_says_so_in_one_line(site):
    """`scofeed add` printed every file of sources/ an earlier build refused, one line
    each (45 lines for one add beside 45 of them). It names what its own build
    refused, and counts the rest; `build` marks them "still rejected"."""
    for n in range(3):
        (site.sources / f"empty-{n}.txt").write_bytes(b"")
    run(site, "build", rc=1)
    out, err = run(site, "build", rc=1)
    assert sorted(err.splitlines()) == [
        f"still rejected empty-{n}.txt: empty file" for n in range(3)
    ]
    out, err = run(site, "add", "--format", "md", "-", stdin=ENVOY_MD)
    assert out.startswith("added ")
    assert err.splitlines() == [
        "3 other files in sources/ still rejected (`scofeed status` lists them)"
    ]


def test_cli_add_names_the_urls_it_takes(site):
    """`scofeed add ftp://x/y` said "unknown format '(none)'", as if a file's suffix were
    the problem; a file of such a name is still read as one."""
    for url in ("ftp://x/y", "FILE:///etc/release.txt"):
        _, err = run(site, "add", url, rc=2)
        assert err == (
            f"scofeed: {url}: add takes only http:// and https:// URLs "
            "(or a release file, or - for standard input)\n"
        )
    odd = site.root / "ftp:" / "x"
    odd.mkdir(parents=True)
    (odd / "y.txt").write_bytes(ENVOY)
    out, _ = run(site, "add", "ftp://x/y.txt")
    assert out.startswith("added ")


def test_cli_status_lists_sources_and_rejected_inputs(site):
    (site.sources / "broken.json").write_text("{nope", encoding="utf-8")
    run(site, "build", rc=1)
    store = site.store()
    store.db.execute(
        "INSERT INTO sources (name, kind, last_poll, last_result, last_error) "
        "VALUES ('sco-eng', 'page-list', ?, 'error', 'HTTP 500 from https://eng.sectsco.org/')",
        (NOW.timestamp(),),
    )
    out, _ = run(site, "status")
    head, local, remote = out.splitlines()[:3]
    assert head.split() == ["SOURCE", "KIND", "LAST", "POLL", "ENTRIES", "NEXT", "POLL", "LAST",
                            "RESULT", "LAST", "ERROR"]  # fmt: skip
    assert local.startswith(f"local ({site.sources})") and " folder " in local
    assert " 1 " in local and "entries=1 new=1" in local
    assert "1 rejected; latest broken.json: not valid JSON" in local
    assert remote.split()[:3] == ["sco-eng", "page-list", "2026-01-01T00:00:00+00:00"]
    assert remote.endswith("HTTP 500 from https://eng.sectsco.org/")
    assert "rejected inputs: 1" in out
    assert "local   broken.json  not valid JSON" in out


def test_cli_help_for_add_and_status(site):
    for cmd in ("add", "status"):
        out, _ = run(site, cmd, "--help")
        assert "usage: scofeed" in out


def test_cli_add_from_a_url_keeps_the_url_and_date(site, httpserver):
    import json

    from tests.test_remote import SCO

    page = (SCO / "article_en.html").read_bytes()
    httpserver.expect_request("/20220125/813122.html").respond_with_data(
        page, content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/missing.html").respond_with_data("no", status=404)
    url = httpserver.url_for("/20220125/813122.html")
    out, _ = run(site, "add", url)
    added, written = out.splitlines()[:2]
    assert added.startswith("added tag:test.example,2026:release/")
    path = Path(written.removeprefix("file "))
    assert path.parent == site.sources and path.name.startswith("2022-01-25-")
    assert path.suffix == ".json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["url"] == url and doc["date"].startswith("2022-01-25")
    atom = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    entry = next(e for e in atom.entries if e.id == added.split()[1])
    assert entry.link == url
    assert entry.title == "SCO Secretary-General meets with Ambassador of Pakistan"
    _, err = run(site, "add", url, rc=1)
    assert "already known as " + added.split()[1] in err
    _, err = run(site, "add", httpserver.url_for("/missing.html"), rc=1)
    assert "missing.html" in err and "404" in err and "Traceback" not in err
    # text in the charset its Content-Type names (not UTF-8): read in it
    text = "Заявление ШОС\n\n3 июня 2020 года ШОС приветствовала делегацию.\n"
    httpserver.expect_request("/r.txt").respond_with_data(
        text.encode("windows-1251"), content_type="text/plain; charset=windows-1251"
    )
    out, _ = run(site, "add", httpserver.url_for("/r.txt"))
    assert out.startswith("added tag:")
    added = json.loads(Path(out.splitlines()[1].removeprefix("file ")).read_text("utf-8"))
    assert added["title"] == "Заявление ШОС"
    # a type it does not take: the message names every type it does
    httpserver.expect_request("/r.pdf").respond_with_data(b"%PDF", content_type="application/pdf")
    _, err = run(site, "add", httpserver.url_for("/r.pdf"), rc=1)
    assert (
        "content type application/pdf where text/html, application/xhtml+xml, text/plain, "
        "text/markdown or application/json was expected"
    ) in err
    rejects = site.store().db.execute("SELECT origin, source FROM rejects").fetchall()
    assert (httpserver.url_for("/missing.html"), "add") in [tuple(r) for r in rejects]


def test_cli_add_url_reads_the_page_in_the_format_given_and_so_does_its_recheck(site, web):
    """A Markdown release served as text/plain (as raw file hosts do): ``--format md``
    reads it as Markdown, its front matter as metadata, and the recheck reads it so too."""
    import json

    day = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()  # recent: rechecked
    md = (
        f"---\ntitle: SCO meets envoy\ndate: {day}\n---\nThe Secretary-General met the **envoy**.\n"
    )

    def serve(body: str) -> None:
        web.clear()
        web.expect_request("/r.md").respond_with_data(body, content_type="text/plain")

    serve(md)
    url = web.url_for("/r.md")
    out, _ = run(site, "add", "--format", "md", url)
    path = Path(out.splitlines()[1].removeprefix("file "))
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["title"] == "SCO meets envoy"  # not "title: SCO meets envoy date: ..."
    assert doc["date"].startswith(day) and doc["url"] == url
    assert "<strong>envoy</strong>" in doc["html"] and "---" not in doc["text"]
    # an edit of the page is read as Markdown again: a correction of the same release
    serve(md.replace("the **envoy**", "the **special envoy**"))
    out, _ = run(site, "recheck", "--force")
    assert "updated=1" in out
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["title"] == "SCO meets envoy"
    assert "<strong>special envoy</strong>" in doc["html"] and "---" not in doc["text"]
    # without --format the Content-Type decides, as before: plain text
    serve(md.replace("SCO meets envoy", "SCO meets another envoy"))
    out, _ = run(site, "add", url.replace("localhost", "127.0.0.1") + "?again")
    doc = json.loads(Path(out.splitlines()[1].removeprefix("file ")).read_text(encoding="utf-8"))
    assert doc["title"].startswith("title: SCO meets another envoy") and "html" not in doc


def test_cli_add_refuses_a_news_listing_given_for_a_release_page(site, web):
    """The news listing's address pasted in place of a release's was published as a
    release, under one of its links' headlines and dated now, and pushed to every
    endpoint; it is refused, named, quarantined, and nothing is written."""
    from tests.test_remote import SCO

    web.expect_request("/news/").respond_with_data(
        (SCO / "listing.html").read_bytes(), content_type="text/html; charset=utf-8"
    )
    web.expect_request("/20220125/813122.html").respond_with_data(
        (SCO / "article_en.html").read_bytes(), content_type="text/html; charset=utf-8"
    )
    before = sorted(p.name for p in site.sources.iterdir())
    listing = web.url_for("/news/")
    _, err = run(site, "add", listing, rc=1)
    assert err == (
        f"scofeed: {listing}: a listing of releases, not a release page (it links to "
        f"{web.url_for('/20220125/813122.html')} and 2 more): give the address of one release\n"
    )
    assert sorted(p.name for p in site.sources.iterdir()) == before
    rejects = site.store().db.execute("SELECT origin, source FROM rejects").fetchall()
    assert (listing, "add") in [tuple(r) for r in rejects]
    out, _ = run(site, "add", web.url_for("/20220125/813122.html"))  # the release itself
    assert out.startswith("added tag:")


def test_cli_add_refuses_a_listing_of_items_with_summaries(site, web):
    """A listing of <article> items (thumbnail, headline, date, summary, "Read more")
    was read as the release of its first item's summary, titled News."""
    from tests.test_remote import SCO

    web.expect_request("/news/").respond_with_data(
        (SCO / "listing_items.html").read_bytes(), content_type="text/html; charset=utf-8"
    )
    listing = web.url_for("/news/")
    _, err = run(site, "add", listing, rc=1)
    assert err == (
        f"scofeed: {listing}: a listing of releases, not a release page (it links to "
        f"{web.url_for('/news/20220125/813122.html')} and 2 more): give the address of one "
        "release\n"
    )
    rejects = site.store().db.execute("SELECT origin, source FROM rejects").fetchall()
    assert [tuple(r) for r in rejects] == [(listing, "add")]
    assert not any(p.suffix == ".json" for p in site.sources.iterdir())


def test_cli_add_reads_the_page_it_fetched_within_the_time_budget(site, web):
    """``add URL`` read what it fetched with no budget (a page or feed item a reader is
    slow on held the command as long as it took); now within ``limits.file_seconds``,
    as a file and a polled page are. A budget of half a millisecond: no page is read in
    that (an article page takes milliseconds), the fetch before it is not counted."""
    from tests.test_remote import SCO

    site.write_config(limits="file_seconds = 0.0005")
    web.expect_request("/20220125/813122.html").respond_with_data(
        (SCO / "article_en.html").read_bytes(), content_type="text/html; charset=utf-8"
    )
    url = web.url_for("/20220125/813122.html")
    _, err = run(site, "add", url, rc=1)
    assert err == f"scofeed: {url}: took longer than 0.0005s\n"
    rejects = site.store().db.execute("SELECT origin, reason FROM rejects").fetchall()
    assert [tuple(r) for r in rejects] == [(url, "took longer than 0.0005s")]


def test_add_sweeps_the_temporary_files_a_killed_add_left(site, caplog):
    """A `scofeed add` killed between writing its file and renaming it into place left
    the temporary file in sources/ for good (the scan skips it), one more at every
    such crash. The next add removes them; other hidden or temporary files are left."""
    left = site.sources / ".2021-06-03-sco-meets-envoy.txt.k3j_9x2a.tmp"
    left.write_bytes(ENVOY[:10])
    others = [site.sources / ".notes.tmp", site.sources / ".draft.md.swp"]
    for other in others:
        other.write_bytes(b"mine")
    with caplog.at_level("INFO", logger="scofeed"):
        assert add(site, ENVOY).kind == "new"
    assert not left.exists() and all(other.exists() for other in others)
    assert any(r.getMessage().startswith(f"swept path={left}") for r in caplog.records)


def test_cli_add_url_keeps_the_releases_id_and_withdrawal(site, web):
    """The JSON file ``add URL`` keeps held only title, date, url, lang, text, tags and
    html: a fetched Markdown release's ``withdrawn: true`` was dropped, and the release
    published everywhere; its ``id`` too, so a local copy stating it was a second entry."""
    import json

    md = (
        "---\ntitle: SCO release withdrawn at the source\ndate: 2024-03-02\nid: sco-777\n"
        "updated: 2024-03-03T10:00:00+08:00\nwithdrawn: true\n"
        "withdrawn_reason: issued in error\n---\nThe withdrawn body.\n"
    )
    web.expect_request("/wd.md").respond_with_data(md, content_type="text/markdown")
    out, _ = run(site, "add", web.url_for("/wd.md"))
    doc = json.loads(Path(out.splitlines()[1].removeprefix("file ")).read_text(encoding="utf-8"))
    assert doc["id"] == "sco-777" and doc["updated"] == "2024-03-03T10:00:00+08:00"
    assert doc["withdrawn"] is True and doc["withdrawn_reason"] == "issued in error"
    listed, _ = run(site, "list", "--withdrawn")
    assert "SCO release withdrawn at the source" in listed
    # a local copy stating the id (its text corrected) is the same release
    (site.sources / "local-777.md").write_text(
        md.replace("The withdrawn body.", "The withdrawn body, corrected."), encoding="utf-8"
    )
    out, _ = run(site, "build")
    assert "new=0" in out


def test_an_add_whose_publishing_fails_says_where_the_release_is(site):
    """Its build's publishing failed (feeds/en a file): the one line named the feed
    file, not the release stored nor the file written in sources/, and `status` showed
    nothing failing, as it does for a failed `scofeed build`."""
    run(site, "build")
    en = site.feeds / "en"
    shutil.rmtree(en)
    en.write_text("x\n", encoding="utf-8")
    text = b"SCO forum opens\n\nOn 14 July 2024 the SCO forum opened in Astana.\n"
    _, err = run(site, "add", "-", stdin=text, rc=1)
    assert "the release is stored as tag:" in err and f"in {site.sources}" in err
    stored = err.rsplit(" in ", 1)[1].strip()
    assert Path(stored).is_file() and Path(stored).read_bytes() == text
    out, _ = run(site, "status")
    assert "failing: job build" in out


def test_add_where_there_is_no_sources_folder_is_refused_as_build_is(site):
    """Run from the wrong folder (cron's is $HOME), `add` made a whole new site there,
    said "added", and the real site never had the release; `build` refuses."""
    shutil.rmtree(site.sources)
    _, err = run(site, "add", "--format", "txt", "-", stdin=ENVOY, rc=2)
    assert err == f"scofeed: paths.sources: {site.sources}: sources folder does not exist\n"
    assert not site.sources.exists() and not (site.root / "state").exists()


def test_add_matches_a_copy_without_a_tracker_its_store_keyed_with_one(site):
    """A store whose URL keys an earlier scofeed made keeps a ``ysclid`` in them until
    it is re-keyed: `add` of the release without it, before any build, was a new entry."""
    page = "https://eng.sectsco.org/20210603/1.html"
    first = ENVOY_MD.replace(
        b"http://eng.sectsco.org/20210603/1.html", page.encode() + b"?ysclid=x"
    )
    made = add(site, first, ".md")
    store = site.store()
    with store.transaction() as db:  # as an earlier scofeed keyed it
        db.execute(
            "UPDATE entries SET url_key = ? WHERE id = ?", (page + "?ysclid=x", made.entry_id)
        )
        db.execute("DELETE FROM meta WHERE key = 'url_keys'")
    edited = (  # its title and text corrected too: only its address tells it
        ENVOY_MD.replace(b"http://eng.sectsco.org/20210603/1.html", page.encode())
        .replace(b"the envoy came", b"the new envoy came")
        .replace(b"title: SCO meets envoy", b"title: SCO Secretary-General meets the new envoy")
    )
    again = add(site, edited, ".md", update=True)
    assert (again.entry_id, again.kind) == (made.entry_id, "updated")
