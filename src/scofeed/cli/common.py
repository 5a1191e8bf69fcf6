"""What the command modules share: finding and loading the config, opening the state
store, declaring a subcommand whose ``--help`` says in one line what it does, and
showing a stored time."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scofeed import config as config_mod
from scofeed.cli import CONFIG_ENV as CONFIG_ENV  # re-exported: commands import it here
from scofeed.cli import DEFAULT_CONFIG_NAME
from scofeed.errors import ConfigError, StoreError, shown
from scofeed.logs import use_format
from scofeed.store import Store, runs
from scofeed.store.owner import refuse_root_on_others

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path(DEFAULT_CONFIG_NAME)

Subparsers = argparse._SubParsersAction  # type alias for register(sub) signatures


def command(
    sub: Subparsers,  # type: ignore[type-arg]
    name: str,
    help: str,
    **kw: Any,
) -> argparse.ArgumentParser:
    """A subcommand listed with ``help`` (one line) in its parent's --help, and with it
    as the description of its own --help unless a longer ``description`` is given."""
    kw.setdefault("description", help[0].upper() + help[1:] + ".")
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, **kw)
    return parser


def when(t: float | None) -> str:
    """A stored time (epoch seconds) as UTC ISO 8601 to the second, ``-`` for none."""
    if t is None:
        return "-"
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def count(text: str) -> int:
    """An argparse type: a whole number, 0 or more (``--limit``). A negative one read as
    "no limit" in SQL and as "all but the last" in a slice: refused instead."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {n}")
    return n


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun in agreement with it: "1 delivery", "2 deliveries" ("queued 1
    deliveries" was printed)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def config_path(arg: str | None) -> Path | None:
    """--config, else $SCOFEED_CONFIG, else ./config.toml if present, else None
    (built-in defaults)."""
    if arg:
        return Path(arg)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_config(args: argparse.Namespace) -> config_mod.Config:
    """The config, its ``log.format`` applied: the command's log lines from now on."""
    cfg = config_mod.load(config_path(args.config), args.overrides)
    use_format(cfg.log.format)
    return cfg


def load_config_file(args: argparse.Namespace) -> config_mod.Config:
    """The config from a file, never the built-in defaults: for commands that would
    otherwise read (or create) a state store nobody configured."""
    if config_path(args.config) is None:
        raise ConfigError(
            f"no config file: looked for {Path.cwd() / DEFAULT_CONFIG} "
            f"(give --config PATH or set {CONFIG_ENV})"
        )
    return load_config(args)


def open_store(
    args: argparse.Namespace,
    cfg: config_mod.Config | None = None,
    existing: bool = False,
    reading: bool = False,
) -> tuple[config_mod.Config, Store]:
    """The config (``cfg``, else loaded) and its store; the store's path is kept in
    ``args``, so trouble the store meets later is reported naming it (``execute``).
    ``existing``, for a command that only reads or changes what is stored: no store
    there is an error, not a new empty one (a command run from the wrong folder, or
    without the daemon's --config, said "nothing" and left a store behind). ``reading``,
    for a command that only reads (list, show, status): a store of an older scofeed is
    refused, not upgraded (``Store``'s ``upgrade``)."""
    cfg = cfg or load_config(args)
    refuse_root(cfg)
    args.store_path = path = cfg.paths.state
    args.store_wait = cfg.limits.store_wait
    if existing:
        must_exist(path)
    return cfg, Store(path, wait=cfg.limits.store_wait, upgrade=not reading)


def must_exist(path: Path) -> None:
    """No store at ``path`` is an error for a command that reads what is stored."""
    if not path.exists():
        raise StoreError(
            f"{path}: no state store here (nothing was built with this config): give the "
            f"config the daemon runs with (--config PATH or {CONFIG_ENV}), or run "
            "`scofeed build` first"
        )


def refuse_root(cfg: config_mod.Config) -> None:
    """Run as root on a site another user owns: refused before anything is opened or
    made (``store.owner``), naming the command to run instead."""
    typed = shlex.join(["scofeed", *sys.argv[1:]])
    refuse_root_on_others(cfg.paths.state, [cfg.paths.feeds, cfg.paths.sources], typed)


class _Quiet:
    on = False  # ``-q``: set by ``execute`` before the command runs


quiet = _Quiet()


def note(line: str) -> None:
    """A line on stderr that tells, not warns (``note: ...``, ``waited ...``, "no
    deliveries"): none under ``-q``, "only errors", which a cron job that mails its
    output runs with."""
    if not quiet.on:
        print(line, file=sys.stderr)


def table(rows: list[list[str]]) -> None:
    """Print rows as left-aligned columns, the first row being the header; a Chinese or
    other wide character takes two columns of a terminal (a file named 上合组织新闻稿.txt
    pushed its row's later columns out of line). Every cell is ``shown``: an error a
    remote server wrote (its reason phrase, a receiver's answer) holds what it likes,
    and an ANSI escape in one drove the operator's terminal."""
    rows = [[shown(c) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        cells = (c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True))
        print("  ".join(cells).rstrip())


def _width(text: str) -> int:
    """Terminal columns: two for a wide (W) or full-width (F) character, none for a
    combining mark."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def report_pings(results: list[tuple[str, str, bool]]) -> None:
    """One stderr line per external hub that did not accept some pings of a one-shot
    build (``websub.ping_hubs``): one line per feed repeated the hub nine times, each
    after the runner's own warning for it."""
    failed: dict[str, list[str]] = {}
    for hub_url, topic, ok in results:
        if not ok:
            failed.setdefault(hub_url, []).append(topic)
    for hub_url, topics in failed.items():
        what = topics[0] if len(topics) == 1 else f"{len(topics)} feeds"
        print(f"websub: the hub {hub_url} did not accept the ping for {what}", file=sys.stderr)


def read_stdin(limit: int = -1) -> bytes | None:
    """Standard input's bytes (at most ``limit``), or None where there is none to read
    (started with it closed: ``sys.stdin`` is None) or it cannot be read; the caller
    says so in one line, where ``sys.stdin.buffer`` was a traceback. On a terminal, a
    line on stderr first says how to end the input (the command seemed to hang)."""
    if sys.stdin is None:
        return None
    try:
        if sys.stdin.isatty():
            print("reading standard input; end it with Ctrl-D", file=sys.stderr)
        return sys.stdin.buffer.read(limit)
    except OSError:
        return None


def record_run(store: Store, run: runs.Run) -> None:
    """Keep a build's outcome as the ``build`` job's run (``scofeed build``, or the
    build of ``scofeed add``): beside `scofeed serve`, a cron job's builds are what
    /healthz and `scofeed status` tell of (they said "starting" for ever, and a failed
    build went unseen). Best effort: the build's own outcome (its exit code, its
    lines) stands whether or not the store takes it."""
    try:
        runs.record(store.db, run)
    except Exception as exc:  # a store that failed the build may refuse this too
        log.debug("build_record_failed store=%s error=%r", store.path, str(exc))
