"""add: one release from a file, a URL or standard input."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from scofeed import sources
from scofeed.add import STDIN, add_release
from scofeed.build import need_sources
from scofeed.cli.common import (
    Subparsers,
    command,
    counted,
    load_config,
    open_store,
    read_stdin,
    record_run,
)
from scofeed.errors import PublishError, RejectedInput, UsageError, shown
from scofeed.store import runs

FORMATS = tuple(sorted(suffix.lstrip(".") for suffix in sources.READERS))  # txt, md, json, ...


def register(sub: Subparsers) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "add",
        "add one release (file, URL or -) to sources/ and build",
        description="Read a release, normalise it, store it in sources/ as "
        "YYYY-MM-DD-slug.EXT and build. A release already known is refused unless --update.",
    )
    p.add_argument(
        "input",
        metavar="PATH|URL|-",
        help="a release file, a release page's http(s) URL, or - for standard input",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="the release format (default: from the file name; txt for standard input; "
        "for a URL, what its Content-Type says)",
    )
    p.add_argument(
        "--update",
        action="store_true",
        help="replace a release already known and bump its revision",
    )
    p.set_defaults(func=cmd_add)


def _input(arg: str, fmt: str | None, max_bytes: int) -> tuple[bytes, str, str]:
    """(bytes, suffix, origin label) of what the user named."""
    if arg == "-":
        data = read_stdin(max_bytes + 1)
        if data is None:
            raise RejectedInput(STDIN, "cannot read standard input (closed)")
        return data, "." + (fmt or "txt"), STDIN
    path = Path(arg)
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", arg)
    if scheme and not path.exists():
        # before its suffix: "ftp://x/y: unknown format '(none)'" named no real problem
        raise UsageError(
            f"{arg}: add takes only http:// and https:// URLs "
            "(or a release file, or - for standard input)"
        )
    if path.is_dir():  # before its suffix: "unknown format '(none)'" said nothing useful
        raise RejectedInput(arg, "a folder; add takes one release file")
    suffix = "." + fmt if fmt else path.suffix.lower()
    if not fmt and suffix not in sources.READERS:
        choices = "|".join(FORMATS)
        raise UsageError(f"{arg}: unknown format {suffix or '(none)'!r}; give --format {choices}")
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise RejectedInput(arg, f"cannot read ({exc.strerror or exc})") from None
    return data, suffix, arg


def cmd_add(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    web = re.match(r"(?i)^https?://", args.input)
    # the input read before the store is opened: a path that cannot be read, given in
    # the wrong folder, left a new empty store (state/) there
    read = None if web else _input(args.input, args.format, cfg.limits.max_file_bytes)
    # and the sources folder, as `build` checks it: run from the wrong folder (cron's is
    # $HOME), add made a whole new site there, said "added", and the real one never
    # had the release
    need_sources(cfg)
    cfg, store = open_store(args, cfg)
    now = datetime.now(UTC)
    started = time.time()
    try:
        if read is None:
            # here, not at the top: only a URL needs the HTTP client and the readers of
            # fetched pages (~180 ms of imports a file or standard input never uses)
            from scofeed.added import add_url

            result = add_url(cfg, store, args.input, now, update=args.update, fmt=args.format)
        else:
            data, suffix, origin = read
            result = add_release(cfg, store, data, suffix, origin, now, update=args.update)
    except PublishError as exc:  # its build failed, as a `scofeed build` would: recorded
        record_run(store, runs.Run(runs.BUILD_JOB, started, time.time(), False, "", str(exc)))
        raise
    record_run(store, runs.Run(runs.BUILD_JOB, started, time.time(), True, result.report.line()))
    # the files this build refused; those refused before are the operator's to see in
    # `scofeed status` (one line for them: an add beside 45 of them printed 45 lines)
    earlier = sum(1 for r in result.report.rejected if r.earlier)
    for r in result.report.rejected:
        if not r.earlier:
            print(f"rejected {shown(r.origin)}: {shown(r.reason)}", file=sys.stderr)
    if earlier:
        print(
            f"{counted(earlier, 'other file')} in sources/ still rejected "
            "(`scofeed status` lists them)",
            file=sys.stderr,
        )
    verb = {"new": "added", "updated": "updated", "unchanged": "unchanged"}[result.kind]
    print(f"{verb} {result.entry_id}")
    print(f"file {result.path}")
    print(result.report.line() + f" feeds={cfg.paths.feeds}")
    return 0
