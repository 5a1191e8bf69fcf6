"""The CLI as a user runs it: a real subprocess, real files."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import feedparser

import forkserver
import scofeed


def run(site, *args: str, check_rc: int | None = 0) -> subprocess.CompletedProcess[str]:
    proc = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
        capture_output=True,
        text=True,
        cwd=site.root,
        timeout=120,
    )
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stdout + proc.stderr
    return proc


def test_build_publishes_the_seed_in_three_formats(site):
    out = run(site, "build").stdout
    # main, en and tags/economy in three formats, OPML; no archive pages: the main feed
    # holds every entry (fh:complete)
    assert "entries=1 new=1 updated=0 rejected=0 written=10" in out
    title = "SCO Secretary-General meets with Jingdong vice-president"
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((site.feeds / name).read_bytes())
        assert not parsed.bozo, (name, parsed.bozo_exception)
        assert parsed.entries[0].title == title
    doc = json.loads((site.feeds / "feed.json").read_text(encoding="utf-8"))
    assert doc["items"][0]["title"] == title


def test_second_build_writes_nothing(site):
    run(site, "build")
    out = run(site, "build").stdout
    assert "new=0 updated=0 rejected=0 written=0" in out


def test_list_and_show(site):
    run(site, "build")
    line = run(site, "list").stdout.strip()
    entry_id, published, title = line.split("\t")
    assert entry_id.startswith("tag:test.example,2026:release/")
    assert published == "2020-06-03T00:00:00+08:00"
    shown = run(site, "show", entry_id.rsplit("/", 1)[1]).stdout
    assert "Jingdong Vice-President Xu Feng" in shown
    # a field with nothing in it (the seed has no URL) is left out: `url:` said nothing
    head = [line.split(":", 1) for line in shown.split("\ninputs:\n")[0].splitlines()]
    assert [name for name, value in head if not value.strip()] == []
    assert {"id", "title", "published", "link", "origin"} <= {name for name, _ in head}
    assert "url" not in {name for name, _ in head}
    missing = run(site, "show", "nope", check_rc=1)
    assert "no entry with id 'nope'" in missing.stderr


def test_rejected_input_exits_1_and_names_the_file(site):
    (site.sources / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00bad")
    proc = run(site, "build", check_rc=1)
    assert "rejected broken.txt: binary content" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "entries=1 new=1" in proc.stdout


def test_config_errors_exit_2_with_the_dotted_key(site):
    site.write_config('\n[feeds]\nentries = "many"\n')
    proc = run(site, "config", "check", check_rc=2)
    assert proc.stderr.strip() == "scofeed: feeds.entries: expected a whole number, got 'many'"


def test_help_on_every_command(site):
    for cmd in (["build"], ["list"], ["show"], ["config"], ["config", "check"], ["config", "show"]):
        proc = run(site, *cmd, "--help")
        assert "usage: scofeed" in proc.stdout


def test_a_rejected_file_gets_exactly_one_line(site):
    (site.sources / "broken.txt").write_bytes(b"")
    proc = run(site, "build", check_rc=1)
    assert proc.stderr.splitlines() == ["rejected broken.txt: empty file"]


def test_missing_sources_folder_is_a_configuration_error(site):
    (site.sources / "000_8062ea63522097a7.txt").unlink()
    site.sources.rmdir()
    proc = run(site, "build", check_rc=2)
    assert "paths.sources" in proc.stderr and "does not exist" in proc.stderr


def test_the_version_is_written_in_one_place():
    """`scofeed --version`, the installed package's metadata (`pip show scofeed`) and
    the User-Agent all say the one ``scofeed.__version__`` (pyproject.toml reads it
    from there). Failing here after a version bump: install the package again (`make
    test` does when src/scofeed/__init__.py changed) so its metadata follows."""
    out = forkserver.run(
        [sys.executable, "-m", "scofeed", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.stdout == f"scofeed {scofeed.__version__}\n"
    assert importlib.metadata.version("scofeed") == scofeed.__version__
    assert scofeed.USER_AGENT.startswith(f"scofeed/{scofeed.__version__} ")


def test_show_gives_content_links_as_the_feeds_do(site):
    """`show` prints the content's relative links resolved against the entry's link, as
    every feed, entry page and webhook carries them (it printed them as stored:
    ``/documents/charter.html``, while docs/commands.md says "as the feeds show them")."""
    (site.sources / "rel.md").write_text(
        "---\ntitle: Charter day\ndate: 2026-11-01\n"
        "url: https://eng.sectsco.org/20261101/700001.html\n---\n"
        "Read [the charter](/documents/charter.html) and ![logo](img/logo.png).\n",
        encoding="utf-8",
    )
    run(site, "build")
    (entry_id,) = [
        ln.split("\t")[0] for ln in run(site, "list").stdout.splitlines() if "Charter" in ln
    ]
    shown = run(site, "show", entry_id).stdout
    atom = (site.feeds / "atom.xml").read_text(encoding="utf-8")
    for link in (
        "https://eng.sectsco.org/documents/charter.html",
        "https://eng.sectsco.org/20261101/img/logo.png",
    ):
        assert link in shown and link in atom
    assert 'href="/documents' not in shown
