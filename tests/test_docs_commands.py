"""docs/commands.md against the command line itself: every command is in its table,
and every option a command takes is written in its row, so `--help` and the page
agree (the page lacked redeliver's --endpoint, ap deliveries' --failed/--pending and
--limit, verify's --headers/--body/--tolerance)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from scofeed.cli import COMMANDS, parser

PAGE = Path(__file__).resolve().parents[1] / "docs" / "commands.md"
GLOBAL = {"--help", "--config", "--set", "--verbose", "--quiet", "--version"}


def _leaves(p: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command words, its long options) of every command that runs something."""
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        options = {o for a in p._actions for o in a.option_strings if o.startswith("--")}
        yield path, options - GLOBAL
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


def _first_cells() -> list[str]:
    rows = [
        line for line in PAGE.read_text(encoding="utf-8").splitlines() if line.startswith("| `")
    ]
    return [row.split(" | ")[0] for row in rows]


def test_every_command_is_in_the_table():
    cells = " ".join(_first_cells())
    for name, _help, _module in COMMANDS:
        assert re.search(rf"`(scofeed )?(webhook )?{name}\b", cells), name


def test_every_option_of_a_command_is_in_its_row():
    cells = _first_cells()
    for path, options in _leaves(parser()):
        rows = [c for c in cells if re.search(rf"\b{path[-1]}\b", c)]
        assert rows, path
        for option in options:
            assert any(option in c for c in rows), (path, option)
