"""poll: fetch the remote sources ([[sources]] in config.toml) that are due;
recheck: fetch again the recent official pages that are due."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from scofeed.cli.common import Subparsers, command, counted, load_config, open_store
from scofeed.config import safe_url
from scofeed.errors import shown
from scofeed.poll import TOLD_AT_MOST, poll_due
from scofeed.recheck import recheck_due


def register(sub: Subparsers) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "poll",
        "poll the remote sources that are due, ingest, publish",
        description="Poll each enabled remote source whose next poll time has come "
        "(or the one named, even when disabled), ingest what is new and re-publish the "
        "feeds. Prints one line per source polled.",
    )
    p.add_argument("name", nargs="?", help="poll only this source")
    p.add_argument(
        "--force",
        action="store_true",
        help="poll now even when not due, ignore the HTTP cache, retry rejected pages",
    )
    p.set_defaults(func=cmd_poll)
    p = command(
        sub,
        "recheck",
        "fetch again the recent official pages that are due",
        description="Fetch again, with a conditional GET, each article page of a page-list "
        "source or `scofeed add URL` published, or first seen, in the last recheck.days "
        "days whose next "
        "check has come (what the daemon does every recheck.interval seconds). A changed "
        "page becomes a correction (release.updated); a page answering 404 or 410 is "
        "listed in `scofeed status` and kept.",
    )
    p.add_argument("--force", action="store_true", help="check every recent page now")
    p.set_defaults(func=cmd_recheck)


def cmd_poll(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    if not cfg.sources and args.name is None:  # a name given: poll_due says it is unknown
        print("no remote sources configured ([[sources]] in config.toml)")
        return 0  # before the store: nothing to poll made one where there was none
    cfg, store = open_store(args, cfg)
    report = poll_due(cfg, store, datetime.now(UTC), force=args.force, only=args.name)
    if not report.results:
        if args.name is None and not any(src.enabled for src in cfg.sources):
            # every shipped example says enabled = false: --force would not help either
            first = cfg.sources[0].name
            print(f"no source is enabled (set enabled = true, or name one: scofeed poll {first})")
        else:
            print("no source is due (use --force to poll now)")
    urls = {src.name: src.url for src in cfg.sources}
    for result in report.results:
        print(result.line())
        if result.status == "error":  # the line above names the source, this its address
            url = safe_url(urls.get(result.name, ""))
            print(f"failed {result.name} {url}: {shown(result.error or '')}", file=sys.stderr)
        for origin, reason in result.rejected[:TOLD_AT_MOST]:
            print(f"rejected {shown(origin)}: {shown(reason)}", file=sys.stderr)
        more = len(result.rejected) - TOLD_AT_MOST
        if more > 0:  # each is recorded: one line for the rest, not one each
            print(f"rejected {more} more from {result.name} (`scofeed status` lists them)",
                  file=sys.stderr)  # fmt: skip
    if report.written:
        print("written " + " ".join(report.written) + f" feeds={cfg.paths.feeds}")
    return 1 if report.failed else 0


def cmd_recheck(args: argparse.Namespace) -> int:
    cfg, store = open_store(args, existing=True)  # it rechecks pages stored before
    report = recheck_due(cfg, store, datetime.now(UTC), force=args.force)
    if not report.checked:
        if args.force:
            days = counted(cfg.recheck.days, "day")
            print(f"no page published or first seen in the last {days} to check (recheck.days)")
        else:
            print("no page is due for a recheck (use --force to check every recent one now)")
        return 0
    print(report.line())
    for url in report.gone:
        print(f"gone {shown(url)}")
    for url, reason in report.failed:
        print(f"failed {shown(url)}: {shown(reason)}", file=sys.stderr)
    if report.written:
        print("written " + " ".join(report.written) + f" feeds={cfg.paths.feeds}")
    return 1 if report.failed else 0
