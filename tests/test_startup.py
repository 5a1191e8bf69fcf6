"""Start-up (issue #9): each command imports only what it uses.

Each case runs the CLI in a fresh interpreter and lists the modules it imported; that is
what makes ``scofeed --version`` as quick as a bare ``python`` (bench/startup.py has the
timings; no test here measures time).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from conftest import Site
from scofeed import markup
from scofeed.build import build as run_build
from scofeed.cli import COMMANDS, _command_in, main, parser
from scofeed.normalise import text as normalise_text

# what the daemon, the pollers, the senders and the non-.txt readers need
DAEMON = {"apscheduler", "waitress", "watchdog"}
NETWORK = {"requests", "urllib3"}
DAEMON_AND_NETWORK = DAEMON | NETWORK
WORKERS = {"multiprocessing", "concurrent.futures.process"}  # a pool for large batches only
READERS_AND_PARSERS = {"feedparser", "yaml", "markdown_it"}
RENDERING = {"feedgen", "lxml", "nh3", "cssselect"}

PROBE = """
import json, sys
from scofeed.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def imported(*argv: str, cwd: str | None = None) -> tuple[int, set[str], str]:
    """(exit code, top-level packages imported, stdout) of ``scofeed *argv``."""
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    report = json.loads(run.stderr.strip().splitlines()[-1])
    tops = {m.split(".")[0] for m in report["modules"]} | set(report["modules"])
    return report["code"], tops, run.stdout


def test_version_and_help_import_no_command_and_no_third_party_package():
    code, mods, out = imported("--version")
    assert code == 0 and out.startswith("scofeed ")
    assert not mods & (DAEMON_AND_NETWORK | READERS_AND_PARSERS | RENDERING)
    assert not {f"scofeed.cli.{m}" for _, _, m in COMMANDS} & mods
    assert "importlib.metadata" not in mods and "scofeed.config" not in mods
    # typing pulls in re, enum, functools, contextlib, collections: ~8 ms, as much again
    # as the bare interpreter (annotations are strings here: no command needs it at run)
    assert "typing" not in mods

    code, mods, out = imported("--help")
    assert code == 0
    for name, help_line, _ in COMMANDS:
        assert name in out and help_line in out.replace("\n" + " " * 19, " ")
    assert not mods & (DAEMON_AND_NETWORK | READERS_AND_PARSERS | RENDERING)


def test_build_of_txt_sources_imports_no_daemon_network_or_other_readers(site: Site):
    code, mods, out = imported("--config", str(site.config_path), "build", cwd=str(site.root))
    assert code == 0 and "new=1" in out
    assert {"feedgen", "lxml", "scofeed.build"} <= mods  # it did build
    assert not mods & (DAEMON | NETWORK | READERS_AND_PARSERS)
    assert "scofeed.cli.daemon" not in mods and "scofeed.deliver.runner" not in mods
    assert not mods & WORKERS  # one file: no worker processes to start (threads write)
    # plain text: no markup to sanitise (nh3) or to take a date line out of (lxml.html)
    assert not mods & {"nh3", "lxml.html"}
    # no CSS selectors configured: no cssselect
    assert not mods & {"cssselect", "lxml.cssselect"}
    # no webhooks, ActivityPub off (the test config): no outbox, payload or document
    # module is loaded (scofeed.outboxes loads each only when configured)
    assert not {m for m in mods if m.startswith(("scofeed.activitypub", "scofeed.deliver"))}
    assert not mods & {"scofeed.store.deliveries", "scofeed.store.activitypub"}
    assert "scofeed.store.websub" not in mods  # no WebSub hubs configured
    # a few releases hashed: CPython's own SHA-256, not OpenSSL's (scofeed.digest)
    assert "hashlib" not in mods and "_hashlib" not in mods
    # no feed file yet to read the date of: no email.utils, nor the socket module it
    # brings (~9 ms); no network module at all
    assert not mods & {"email", "socket"}


@pytest.mark.parametrize(
    "argv",
    [
        ["list"],
        ["status"],
        ["config", "check"],
        ["backup", "{root}/backup.sqlite3"],
        ["webhook", "list"],
        ["deliveries"],
        ["websub", "list"],
        ["ap", "followers"],
    ],
    ids=" ".join,
)
def test_commands_that_read_the_store_or_config_load_no_build_renderer_or_client(site, argv):
    """Listing what is stored (or checking the config) loaded the whole build, feedgen
    and lxml (`list`, `config`, `backup`: the module of `build`), or urllib3 and
    requests (`status`, `webhook list`: the WebSub and ActivityPub rows, the senders):
    ~100-200 ms each, on every call from a script or a monitoring check."""
    store = site.store()
    run_build(site.config(), store, datetime.now(UTC))
    store.close()
    argv = [a.format(root=site.root) for a in argv]
    code, mods, _out = imported("--config", str(site.config_path), *argv, cwd=str(site.root))
    assert code == 0
    assert not mods & (RENDERING | NETWORK | DAEMON | READERS_AND_PARSERS)
    assert not {"scofeed.build", "scofeed.normalise", "scofeed.render"} & mods


def test_show_loads_the_content_links_code_without_the_feed_writer(site: Site):
    """`scofeed show` shows an entry's links as the feeds have them (``render.links``,
    lxml): the render package loaded feedgen with them (~40 ms) for no feed."""
    store = site.store()
    run_build(site.config(), store, datetime.now(UTC))
    entry_id = store.db.execute("SELECT id FROM entries").fetchone()[0]
    store.close()
    code, mods, out = imported(
        "--config", str(site.config_path), "show", entry_id, cwd=str(site.root)
    )
    assert code == 0 and entry_id in out
    assert "scofeed.render.links" in mods  # it did read the links
    assert not mods & ({"feedgen", "dateutil"} | NETWORK | DAEMON | READERS_AND_PARSERS)
    assert "scofeed.render.xmlfeeds" not in mods and "scofeed.build" not in mods


def test_reload_signals_the_daemon_without_loading_it(site: Site):
    """`scofeed reload` loaded the whole daemon (APScheduler, waitress, requests,
    feedparser: ~670 modules, ~0.5 s) to send one signal. No daemon runs here: the
    command says so, having loaded none of it."""
    code, mods, _out = imported("--config", str(site.config_path), "reload", cwd=str(site.root))
    assert code == 1
    assert "scofeed.daemon" not in mods
    assert not mods & (DAEMON | NETWORK | RENDERING | READERS_AND_PARSERS)


def test_add_of_a_file_loads_no_http_client_or_feed_parser(site: Site):
    """`scofeed add FILE` loaded requests, urllib3 and feedparser (~180 ms), which only
    `add URL` uses (``scofeed.added``)."""
    release = site.root / "release.txt"
    release.write_text("SCO meets\n\nOn 4 June 2021 the SCO met.\n", encoding="utf-8")
    code, mods, out = imported(
        "--config", str(site.config_path), "add", str(release), cwd=str(site.root)
    )
    assert code == 0 and out.startswith("added "), out
    assert "scofeed.add" in mods and "scofeed.added" not in mods
    assert not mods & (NETWORK | DAEMON | READERS_AND_PARSERS)


def test_a_markdown_release_loads_its_reader_when_there_is_one(site: Site):
    (site.sources / "note.md").write_text(
        "---\ntitle: A note\ndate: 2020-06-04\n---\n\nOn 4 June 2020 a note.\n",
        encoding="utf-8",
    )
    code, mods, out = imported("--config", str(site.config_path), "build", cwd=str(site.root))
    assert code == 0 and "new=2" in out, out
    assert {"yaml", "markdown_it"} <= mods and not mods & DAEMON


RUN_PROBE = """
import gc, json, sys
from scofeed import cli
seen = {}
execute = cli.execute
def spy(args):
    seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())
    return execute(args)
cli.execute = spy
try:
    cli.run()
except SystemExit as exc:
    seen["code"] = exc.code
print(json.dumps(seen), file=sys.stderr)
"""


def test_the_program_runs_its_command_with_the_start_up_frozen_out_of_the_collector(site):
    """``run`` (the scofeed script, python -m scofeed) parses with the collector off, then
    freezes what the imports made: the command runs with the collector on and ~37,000
    objects in the permanent generation. ``main``, which tests call, does neither."""
    argv = ["--config", str(site.config_path), "build"]
    proc = subprocess.run(
        [sys.executable, "-c", RUN_PROBE, *argv], capture_output=True, text=True, timeout=60
    )
    seen = json.loads(proc.stderr.strip().splitlines()[-1])
    assert seen["code"] == 0 and "new=1" in proc.stdout
    assert seen["enabled"] and seen["frozen"] > 10_000
    frozen = gc.get_freeze_count()
    assert main(argv) == 0  # a second build, in this process: nothing frozen
    assert gc.get_freeze_count() == frozen and gc.isenabled()


def test_a_help_flag_before_the_command_lists_every_command():
    """For a known command the parser lists no other (each listed one costs a parser of
    its own); a -h before it prints the top-level help, which lists them all."""
    for argv in (["-h", "build"], ["-vh", "list"], ["--he", "build"]):
        code, _, out = imported(*argv)
        assert code == 0 and all(name in out for name, _, _ in COMMANDS), argv
    code, _, out = imported("build", "--help")
    assert code == 0 and "usage: scofeed build" in out


def test_the_command_table_matches_what_the_modules_register():
    full = parser()  # every module registered
    sub = next(a for a in full._actions if a.__class__.__name__ == "_SubParsersAction")
    listed = [(a.dest, a.help) for a in sub._choices_actions]
    assert listed == [(name, help_line) for name, help_line, _ in COMMANDS]


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["build"], "build"),
        (["--config", "build", "list"], "list"),  # "build" is the config file's name here
        (["--conf", "x.toml", "-vv", "status"], "status"),
        (["--set=serve.port=1", "-q", "run", "--port", "1"], "run"),
        (["--set", "a=b", "webhook", "list"], "webhook"),
        (["--version"], None),
        (["-h"], None),
    ],
)
def test_the_command_is_found_past_the_global_options(argv, command):
    assert _command_in(argv) == command


def test_a_build_of_texts_without_markup_never_compiles_the_markup_pattern(site: Site):
    """``markup.tag()`` (two alternations of ~140 element names, ~1.5 ms to compile) is
    compiled only for a text that holds a '<': the seed and the site's config hold none."""
    markup.tag.cache_clear()
    cfg = site.config("site.title='SCO press releases'", "site.author='SCO Secretariat'")
    run_build(cfg, site.store(), datetime(2026, 11, 27, tzinfo=UTC))
    assert markup.tag.cache_info().currsize == 0
    assert normalise_text.plain("x <b>bold</b>") == "x bold"  # and it works when needed
    assert markup.tag.cache_info().currsize == 1
