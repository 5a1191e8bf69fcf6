"""Command line: argument parsing, printing and exit codes. Holds no logic.

Each command group lives in its own module with a ``register(subparsers)`` function;
what they share (config, store) is in ``common``. Errors map to exit codes here and
only here (``ScofeedError.exit_code``). The daemon's parts (APScheduler, waitress,
the senders) load only inside the commands that use them (see ``cli.daemon``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from scofeed import __version__
from scofeed.cli import activitypub, core, daemon, remote, sources, status, webhooks, websub
from scofeed.cli.common import CONFIG_ENV, DEFAULT_CONFIG
from scofeed.errors import ScofeedError

GROUPS = [core, sources, status, remote, webhooks, websub, activitypub, daemon]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scofeed",
        description="Turn SCO Secretariat press releases into Atom, RSS and JSON feeds.",
    )
    p.add_argument("--version", action="version", version=f"scofeed {__version__}")
    p.add_argument(
        "--config",
        metavar="PATH",
        help=f"config file (default: ${CONFIG_ENV}, else ./{DEFAULT_CONFIG} if present, "
        "else built-in defaults)",
    )
    p.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        dest="overrides",
        help="override one config key, e.g. --set serve.port=9000 (repeatable)",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    p.add_argument("-q", "--quiet", action="store_true", help="only errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        group.register(sub)
    _global_options_everywhere(sub)
    return p


def _global_options_everywhere(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """--config, --set, -v and -q also after the command (``scofeed run --set serve.port=9000``).
    SUPPRESS keeps a subcommand from resetting what was given before it."""
    for command in set(sub.choices.values()):
        command.add_argument(
            "--config", metavar="PATH", default=argparse.SUPPRESS, help="config file"
        )
        command.add_argument(
            "--set",
            metavar="KEY=VALUE",
            action="append",
            dest="overrides_after",  # argparse gives a subcommand a namespace of its own
            default=argparse.SUPPRESS,
            help="override one config key (repeatable)",
        )
        command.add_argument(
            "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output"
        )
        command.add_argument(
            "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only errors"
        )
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                _global_options_everywhere(action)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = parser().parse_args(argv)
    args.overrides = [*args.overrides, *getattr(args, "overrides_after", [])]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.quiet:
        level = "ERROR"
    else:
        level = "DEBUG" if args.verbose > 1 else "INFO" if args.verbose else "WARNING"
    setup_logging(level)
    args.log_level = level
    try:
        return int(args.func(args) or 0)
    except ScofeedError as exc:
        print(f"scofeed: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
