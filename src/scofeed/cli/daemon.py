"""run, serve, reload: the long-lived daemon and its HTTP-only sibling.

The daemon's parts (``scofeed.daemon`` with APScheduler and waitress, and the webhook
senders) are imported inside the functions below on purpose: they load only for the
commands that use them, so ``scofeed build`` or ``scofeed status`` stay quick.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
from urllib.parse import urlsplit

from scofeed import config as config_mod
from scofeed.cli.common import Subparsers, command, load_config, note, refuse_root
from scofeed.errors import ConfigError, OutputError


def register(sub: Subparsers) -> None:  # type: ignore[type-arg]
    for name, helptext in (
        ("run", "the daemon: scan, poll, deliver and serve until stopped"),
        ("serve", "only serve the feeds, index and health over HTTP"),
    ):
        p = command(sub, name, helptext)
        p.add_argument("--host", help="bind address (default: serve.host from the config)")
        p.add_argument("--port", type=int, help="port (default: serve.port from the config)")
        p.set_defaults(func=cmd_run if name == "run" else cmd_serve)

    p = command(sub, "reload", "make the running daemon re-read its config (SIGHUP)")
    p.set_defaults(func=cmd_reload)


def _loader(args: argparse.Namespace, signs: bool = False) -> config_mod.Config:
    """The file, then --set, then --host/--port: flags beat the file beat the defaults.
    ``signs``: the daemon sends webhooks, so every secret must be read (a reload too);
    serving alone needs only the metrics token."""
    cfg = load_config(args)
    if signs:
        cfg.require_secrets()
    elif (token := cfg.serve.metrics_token) is not None and token.problem is not None:
        raise ConfigError(token.problem)
    serve = cfg.serve
    if args.host is not None:
        serve = dataclasses.replace(serve, host=args.host)
    if args.port is not None:
        if not 0 <= args.port <= 65535:
            raise ConfigError(f"--port: expected a port from 0 to 65535, got {args.port}")
        serve = dataclasses.replace(serve, port=args.port)
    return dataclasses.replace(cfg, serve=serve)


def _start(args: argparse.Namespace, schedule: bool) -> int:
    # lazy on purpose (see the module docstring): scheduler, HTTP server, senders
    from scofeed import websub
    from scofeed.activitypub import service as activitypub
    from scofeed.daemon import Daemon, apply_log_level, feed_urls
    from scofeed.deliver import runner

    cfg = _loader(args, signs=schedule)
    refuse_root(cfg)
    # SQLite finding the store damaged as the daemon starts (a page of its meta or
    # webhook tables) is the one line naming the store, exit 2, as in any command
    args.store_path, args.store_wait = cfg.paths.state, cfg.limits.store_wait
    # -v / -q on the command line win; otherwise the configured level applies
    from_config = not args.verbose and not args.quiet
    apply_log_level(cfg.log.level if from_config else args.log_level)
    from scofeed import cli  # the queue ``cli.run`` set up before this command loaded

    daemon = Daemon(
        cfg,
        lambda: _loader(args, signs=schedule),
        schedule=schedule,
        signals=cli.early_signals,
        set_log_level=from_config,
        health_extras={"deliveries": runner.counts, "websub": websub.counts}
        | ({"activitypub": activitypub.counts} if cfg.activitypub.enabled else {}),
    )

    def ready(bases: list[str]) -> None:
        """The daemon's first words: a banner on standard output (or one log line).
        Standard output closed (``>&-``) or failing (a full disk) loses the banner, not
        the daemon: it stopped at start-up, its scheduler already shut down."""
        if sys.stdout is None:
            return
        try:
            banner(bases)
        except (OSError, OutputError) as exc:
            logging.getLogger("scofeed.cli").warning("ready_banner_lost reason=%s", exc)

    def banner(bases: list[str]) -> None:
        elsewhere = cfg.site.base_url.rstrip("/") + "/" != bases[0]
        if cfg.log.format == "json":  # stdout shares the journal with the log: one line
            account = f"@{cfg.activitypub.username}@{urlsplit(cfg.site.base_url).netloc}"
            logging.getLogger("scofeed.cli").info(
                "ready on=%s subscribe=%s%s%s", ",".join(bases),
                ",".join(feed_urls(cfg, bases[0])),
                f" activitypub={account}" if cfg.activitypub.enabled else "",
                f" links_under={cfg.site.base_url}" if elsewhere else "",
            )  # fmt: skip
            return
        what = "scofeed running" if schedule else "scofeed serving"
        print(f"{what} (pid {os.getpid()}) on {', '.join(bases)}")
        print("subscribe:")
        for url in feed_urls(cfg, bases[0]):
            print(f"  {url}")
        if cfg.activitypub.enabled:
            host = urlsplit(cfg.site.base_url).netloc
            print(f"  @{cfg.activitypub.username}@{host} (ActivityPub)")
        if elsewhere:
            print(f"note: the feeds link to themselves under site.base_url = {cfg.site.base_url}")
        # `scofeed reload` finds only a `scofeed run` (by its lock): a `serve` names its pid
        reload = (
            "; `scofeed reload` re-reads the config"
            if schedule
            else f"; `kill -HUP {os.getpid()}` re-reads the config (`scofeed reload` is for run)"
        )
        print(f"stop with Ctrl-C or SIGTERM{reload}")
        sys.stdout.flush()

    return daemon.run(ready)


def cmd_run(args: argparse.Namespace) -> int:
    return _start(args, schedule=True)


def cmd_serve(args: argparse.Namespace) -> int:
    return _start(args, schedule=False)


RELOAD_SLACK = 5.0  # seconds past limits.store_wait a reload's outcome is waited for


def cmd_reload(args: argparse.Namespace) -> int:
    """Signal the daemon, then wait for the outcome it records (the ``reload`` run): it
    reads the config in its own environment (its variables, its user's files), so one
    this command reads may be one the daemon refuses, and keeps its previous config."""
    from scofeed.store import read_only, runs
    from scofeed.store.lock import signal_reload  # not the daemon's module: ~500 ms

    cfg = load_config(args)
    sent = time.time()
    pid = signal_reload(cfg.paths.state)
    # the outcome read through a connection that never writes: root may reload another
    # user's daemon (docs/operations.md), and was told it was refused once it had
    # reloaded (``open_store`` refuses root on another user's store, and read the
    # outcome after the signal)
    args.store_path = cfg.paths.state
    db = read_only(cfg.paths.state, cfg.limits.store_wait)
    deadline_s = cfg.limits.store_wait + RELOAD_SLACK
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        run = runs.get(db, runs.RELOAD_JOB)
        if run is not None and run.started >= sent:  # the daemon began it once signalled
            if run.ok:
                print(f"reloaded by scofeed daemon pid {pid} ({run.summary})")
                if args.overrides:  # `--set log.format=json reload` said reloaded, and was not
                    note(
                        "note: --set is read here only (to find the daemon); the daemon "
                        "re-reads its config file, with the --set values it was started with"
                    )
                for problem in cfg.secret_problems():  # read where the daemon runs, not here
                    print(f"note: {problem} here; the daemon reads it where it runs")
                return 0
            print(
                f"scofeed: the daemon (pid {pid}) kept its previous config: {run.error}",
                file=sys.stderr,
            )
            return 1
        time.sleep(0.1)
    print(
        f"scofeed: reload sent to scofeed daemon pid {pid}, which has not said within "
        f"{deadline_s:g} s whether it took the config (busy, or stopped); its log will "
        "say: a `reloaded` line, or `reload_failed` with the reason",
        file=sys.stderr,
    )
    return 1
