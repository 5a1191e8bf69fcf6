"""Command line: argument parsing, printing and exit codes. Holds no logic.

Each command group lives in its own module with a ``register(subparsers)`` function;
what they share (config, store) is in ``common``. Errors map to exit codes here and
only here (``ScofeedError.exit_code``).

Start-up stays quick because a command imports only what it uses: ``COMMANDS`` lists
every command with its one-line help and the module that implements it, and ``parse``
imports (``importlib``, on purpose) only the chosen command's module. The other
commands are listed by name and help alone, so ``scofeed --help`` and ``--version``
load no command module at all. ``parser()`` with no argument builds the full tree.
The daemon's parts (APScheduler, waitress, the senders) load only inside the commands
that use them (see ``cli.daemon``).

``run`` is the program itself (the ``scofeed`` script, ``python -m scofeed``): ``main``
with the garbage collector kept off what the start-up loads (see ``run``). Tests call
``main``, which leaves the collector alone.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

from scofeed import __version__
from scofeed.errors import (
    ConfigError,
    OutputError,
    ScofeedError,
    locale_trouble,
    memory_ran_out,
    out_of_memory,
    shown,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Collection, Sequence
    from typing import Any, NoReturn, TextIO

CONFIG_ENV = "SCOFEED_CONFIG"
DEFAULT_CONFIG_NAME = "config.toml"

# (command, its line in `scofeed --help`, the scofeed.cli module that registers it), in
# --help order. tests/test_startup.py checks it against what the modules register.
COMMANDS: list[tuple[str, str, str]] = [
    ("build", "ingest sources/, render and publish the feeds", "build"),
    ("list", "list the stored entries, newest first", "core"),
    ("show", "print one entry in full", "core"),
    ("config", "check or show the configuration", "core"),
    ("backup", "copy the state store, safely while the daemon runs", "core"),
    ("add", "add one release (file, URL or -) to sources/ and build", "sources"),
    ("withdraw", "take a release out of every feed (tombstone, 410, webhook)", "withdraw"),
    ("restore", "put a withdrawn release back in the feeds", "withdraw"),
    ("status", "show the daemon, sources, webhooks and rejected inputs", "status"),
    ("poll", "poll the remote sources that are due, ingest, publish", "remote"),
    ("recheck", "fetch again the recent official pages that are due", "remote"),
    ("deliver", "send the webhook deliveries that are due, wait, exit", "webhooks"),
    ("deliveries", "same as `webhook deliveries`", "webhooks"),
    ("redeliver", "same as `webhook redeliver`", "webhooks"),
    ("webhook", "list, test and manage the webhook endpoints", "webhooks"),
    ("websub", "list or remove the WebSub hub's subscriptions", "websub"),
    ("ap", "the ActivityPub actor: followers and deliveries", "activitypub"),
    ("run", "the daemon: scan, poll, deliver and serve until stopped", "daemon"),
    ("serve", "only serve the feeds, index and health over HTTP", "daemon"),
    ("reload", "make the running daemon re-read its config (SIGHUP)", "daemon"),
]
MODULES = list(dict.fromkeys(module for _, _, module in COMMANDS))
# global options that take a value (the rest are flags); see _command_in
_VALUED = ("--config", "--set")


def parser(load: Collection[str] | None = None, others: bool = True) -> argparse.ArgumentParser:
    """The argument parser. ``load``: the command modules to import and register in full
    (default: all of them); every other command is listed with its help line only, or
    (``others=False``) not at all: a parser for one known command, which never prints
    the list (~2 ms less: each listed command is an ``ArgumentParser`` of its own)."""
    import argparse  # here, not at the top: `scofeed --version` answers without it

    class Parser(argparse.ArgumentParser):  # its subcommands' parsers are of its class
        def _print_message(self, message: str, file: Any = None) -> None:
            # argparse drops a write that fails: `--help > /dev/full` said nothing, exit 0
            if message:
                (file or sys.stderr).write(message)

    p = Parser(
        prog="scofeed",
        description="Turn SCO Secretariat press releases into Atom, RSS and JSON feeds.",
    )
    p.add_argument("--version", action="version", version=f"scofeed {__version__}")
    p.add_argument(
        "--config",
        metavar="PATH",
        help=f"config file (default: ${CONFIG_ENV}, else ./{DEFAULT_CONFIG_NAME} if present, "
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
    wanted = MODULES if load is None else load
    stubs = set()  # listed only: never parsed, so without the global options below
    for name, help_line, module in COMMANDS:
        if module not in wanted:
            if others:
                stubs.add(sub.add_parser(name, help=help_line))
        elif name not in sub.choices:  # the module registers all its commands at once
            importlib.import_module(f"scofeed.cli.{module}").register(sub)
    _global_options_everywhere(sub, skip=stubs)
    return p


def _global_options_everywhere(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    skip: Collection[argparse.ArgumentParser] = (),
) -> None:
    """--config, --set, -v and -q also after the command (``scofeed run --set serve.port=9000``).
    SUPPRESS keeps a subcommand from resetting what was given before it."""
    import argparse  # loaded by parser() already

    for command in set(sub.choices.values()) - set(skip):
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
    import logging  # here, not at the top: `--version` and `--help` never log

    from scofeed.logs import TEXT, OneLine  # the text format until a config says otherwise

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLine(TEXT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # urllib3 logs each request line at DEBUG: a webhook URL's path and query, which may
    # be its token (Slack, Discord), and which `config show` never shows. Not at -vv either.
    logging.getLogger("urllib3.connectionpool").setLevel("INFO")


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named in ``argv``: its first word that is neither an option nor the
    value of ``--config``/``--set`` (also abbreviated, as argparse allows)."""
    takes_value = False
    for word in argv:
        if takes_value:
            takes_value = False
        elif word == "--":
            continue
        elif word.startswith("--"):
            takes_value = "=" not in word and any(
                v.startswith(word) for v in _VALUED if len(word) > 2
            )
        elif not word.startswith("-") or word == "-":
            return word
    return None


def _help_before(argv: Sequence[str], command: str | None) -> bool:
    """Whether a word before ``command`` may ask for help (``-h``, ``-vh``, ``--help``
    or an abbreviation of it): argparse then prints the top-level help, which lists every
    command. Erring on the side of yes costs only the time of that list."""
    for word in argv:
        if word == command:
            return False
        if word.startswith("--h") or (word[:1] == "-" and word[1:2] != "-" and "h" in word):
            return True
    return False


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = _command_in(argv)
    modules = [module for name, _, module in COMMANDS if name == chosen]
    # the other commands are listed only where argparse may print the list: no known
    # command (an error, or the top-level --help), or a -h before the command
    others = not modules or _help_before(argv, chosen)
    args = parser(load=modules, others=others).parse_args(argv)
    args.overrides = [*args.overrides, *getattr(args, "overrides_after", [])]
    return args


def _output_failed(exc: OSError) -> int:
    """The exit code when standard output cannot be written, with its one line: 1 (a
    full disk), as any command's output; 0 for a reader gone (`scofeed --help | head`)."""
    _drop(sys.stdout)
    if isinstance(exc, BrokenPipeError):
        return 0
    print(f"scofeed: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
    return 1


def _printed(code: int | str | None) -> int | str | None:
    """``code``, once what argparse printed (--help) is out of the buffer."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        return _output_failed(exc)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # argparse's answer, without loading argparse (start-up)
        try:
            print(f"scofeed {__version__}", flush=True)
        except OSError as exc:  # as _Output tells it for every other command
            return _output_failed(exc)
        return 0
    return execute(parse(argv))


def execute(args: argparse.Namespace) -> int:
    """Run the parsed command: logging set up, errors mapped to exit codes."""
    if args.quiet:
        level = "ERROR"
    else:
        level = "DEBUG" if args.verbose > 1 else "INFO" if args.verbose else "WARNING"
    setup_logging(level)
    args.log_level = level
    importlib.import_module("scofeed.cli.common").quiet.on = bool(args.quiet)
    stdout = sys.stdout
    if stdout is not None:  # None: started with standard output closed; print drops all
        sys.stdout = _Output(stdout)  # type: ignore[assignment]
    try:
        code = int(args.func(args) or 0)
        if sys.stdout is not None:
            sys.stdout.flush()  # here, where a failure is reported, not at the exit
        return code
    except ScofeedError as exc:
        if isinstance(exc, OutputError):
            _drop(stdout)  # what is still buffered would fail again at the exit
        # a config error lists every problem, one a line; any other error is one line,
        # whatever the file name or id it quotes holds (a newline, ESC, a byte not UTF-8)
        lines = str(exc).splitlines() if isinstance(exc, ConfigError) else [str(exc)]
        for line in lines or [""]:
            _last_words(f"scofeed: {shown(line)}")
        return exc.exit_code
    except KeyboardInterrupt:  # Ctrl-C: said, as a build stopped so had left no word
        said = f"scofeed: {args.command} interrupted"
        if args.command == "build":
            said += " (what it stored stays; the feeds may not show it yet: build again)"
        _last_words(said)
        return 130
    except BrokenPipeError:  # the reader left (`scofeed list | head`): not a failure
        _drop(stdout)
        return 0
    except Exception as exc:
        trouble = (
            _store_trouble(args, exc)
            or _memory_trouble(exc)
            or _no_permission(exc)
            or _locale_trouble(exc)
        )
        if trouble is None:
            raise  # a bug: its traceback
        _last_words(f"scofeed: {shown(str(trouble))}")
        return trouble.exit_code
    finally:
        sys.stdout = stdout


def _last_words(line: str) -> None:
    """The line a failed command ends with, on stderr: an ERROR log line where the log
    is JSON (``log.format``; a daemon's stderr is its log, and a plain line in the middle
    of the JSON stopped whatever read it), else as it is."""
    import logging  # as setup_logging: loaded by then

    from scofeed.logs import writes_json

    if writes_json():
        logging.getLogger("scofeed").error("%s", line)
    else:
        print(line, file=sys.stderr)


def _store_trouble(args: argparse.Namespace, exc: Exception) -> ScofeedError | None:
    """SQLite saying, mid-command, that the store cannot be used (a page found damaged,
    a full disk, busy past the timeout): the one line naming the store, else None."""
    path = getattr(args, "store_path", None)
    if path is None or getattr(exc, "sqlite_errorcode", None) is None:
        return None
    from scofeed.store import WAIT, store_trouble, unusable  # only on this error: start-up

    wait = getattr(args, "store_wait", WAIT)
    return unusable(path, exc, wait=wait) if store_trouble(exc) else None


def _no_permission(exc: BaseException) -> ScofeedError | None:
    """A path this user may not enter or read (another user's folder, mode 0700) where
    the command looked without expecting it (``Path.exists`` raises on a folder it
    cannot search): the line naming the path, not a traceback (``sudo -u scofeed
    scofeed add ~/release.txt``, a monitoring user's ``status``)."""
    if not isinstance(exc, PermissionError) or not exc.filename:
        return None
    who = f"user {os.geteuid()}" if os.name == "posix" else "this user"
    return ScofeedError(
        f"{os.fsdecode(exc.filename)}: {exc.strerror or 'permission denied'} "
        f"(scofeed runs as {who}: a folder on the way may be another user's)"
    )


def _locale_trouble(exc: BaseException) -> ScofeedError | None:
    """A name this locale's encoding cannot write (a tag's feeds folder "Шанхай" under
    Latin-1; systemd gives a service the system's locale): the line saying how to run
    instead, not a traceback."""
    why = locale_trouble(exc)
    return None if why is None else ScofeedError(why)


def _memory_trouble(exc: BaseException) -> ScofeedError | None:
    """Memory running out (``ulimit -v``) outside the reading of a file, which names
    its file itself: a thread that cannot start, a module that cannot load..."""
    how = memory_ran_out(exc)
    return None if how is None else out_of_memory(how)


class _Output:
    """Standard output as a command prints to it: a character the terminal's encoding
    lacks (a Cyrillic title under a Latin-1 locale, PYTHONIOENCODING=ascii) is written
    as ``\\u0420`` instead of failing, and a failed write is told apart from the
    command's own errors (``OutputError``), so ``execute`` reports it in one line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.encoding = getattr(stream, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except UnicodeEncodeError:
            return self.stream.write(
                text.encode(self.encoding, "backslashreplace").decode(self.encoding)
            )
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None

    def __getattr__(self, name: str) -> object:  # fileno, isatty, buffer...
        return getattr(self.stream, name)


def _drop(stdout: TextIO) -> None:
    """Point standard output at /dev/null, so the interpreter's flush at the exit does
    not fail again on what is still buffered (and print "Exception ignored ...")."""
    import os  # here, not at the top: start-up

    try:
        fd = stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


# SIGHUP and SIGTERM received since the process began, for the daemon (``Daemon``):
# systemd (ExecReload=kill -HUP $MAINPID) signals the pid it forked, and the command's
# imports and config take most of a second before the daemon can act on one; until
# then a reload killed it with no word (exit 129), which systemd took for a clean exit
early_signals: Any = None  # a queue.SimpleQueue once queue_stop_and_reload ran


def queue_stop_and_reload() -> None:
    global early_signals
    # lazy on purpose: every other command (and --version) starts without them
    import queue
    import signal

    early_signals = queue.SimpleQueue()
    put = early_signals.put
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: put(signum))


def run() -> NoReturn:
    """The ``scofeed`` program: ``main``, with the garbage collector kept off what the
    start-up loads.

    Importing a command's modules makes ~37,000 objects the collector tracks (modules,
    classes, functions, their dicts), nearly all alive until the exit. The collector,
    triggered by allocation counts, ran ~50 times during the imports, then its full
    collections during the command and the one at the exit walked them all again:
    ~15 ms of the ~150 ms CPU of a one-shot ``scofeed build`` of the seed. So no
    collection while the command line is parsed (which imports the command), then
    ``gc.freeze()`` moves what exists to the permanent generation, which no later
    collection walks (the command's own garbage is collected as before). The price: the
    few garbage cycles the imports left (~1,500 small objects) are never freed."""
    if sys.stderr is None:  # started with it closed (``2>&-``): what it is told is lost,
        # not printed on stdout (print's fallback), nor an AttributeError of the progress
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for good
    argv = sys.argv[1:]
    if argv == ["--version"]:
        raise SystemExit(main(argv))
    if "run" in argv or "serve" in argv:
        queue_stop_and_reload()
    gc.disable()
    try:
        args = parse(argv)
    except KeyboardInterrupt:  # Ctrl-C while the command loads: no traceback
        raise SystemExit(130) from None
    except SystemExit as done:  # argparse printed --help (or a usage error) and exits
        raise SystemExit(_printed(done.code)) from None
    except OSError as exc:  # what argparse printed could not be written
        raise SystemExit(_output_failed(exc)) from None
    except Exception as exc:  # loading the command's modules, with memory short
        trouble = _memory_trouble(exc)
        if trouble is None:
            raise
        print(f"scofeed: {trouble}", file=sys.stderr)
        raise SystemExit(trouble.exit_code) from None
    finally:
        gc.enable()
    gc.freeze()
    raise SystemExit(execute(args))
