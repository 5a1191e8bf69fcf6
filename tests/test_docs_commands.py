"""docs/commands.md against the command line itself: every command is in its table,
and every option a command takes is written in its own synopsis there, so `--help` and
the page agree (the page lacked redeliver's --endpoint, ap deliveries' --failed/--pending
and --limit, verify's --headers/--body/--tolerance). And the other way: every
`scofeed ...` line the README and docs/ show names a command there is, with options it
takes."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

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


def _synopses(path: tuple[str, ...]) -> list[str]:
    """The table's synopses of one command: each `code` of a first cell, as the words
    of the command line it shows; a later `code` of a cell that leaves out its group
    is of the group of the first (`scofeed config check` / `show`: `config show`). A
    command that is another's alias (`scofeed deliveries`, "same as `webhook
    deliveries`") has that one's synopses, in a row that names it."""
    groups = {name for name, child in _subcommands(parser()).items() if _subcommands(child)}
    found = []
    rows = [
        line for line in PAGE.read_text(encoding="utf-8").splitlines() if line.startswith("| `")
    ]
    for row in rows:
        cell = row.split(" | ")[0]
        spans = [c.replace("\\|", "|") for c in re.findall(r"`([^`]+)`", cell)]
        group = spans[0].split()[1] if spans[0].split()[1] in groups else None
        for i, span in enumerate(spans):
            words = span.removeprefix("scofeed ").split()
            if i and group and not span.startswith("scofeed ") and words[0] != group:
                words = [group, *words]
            if words[: len(path)] == list(path):
                found.append(" ".join(words))
    helps = {name: help_line for name, help_line, _module in COMMANDS}
    alias = re.fullmatch(r"same as `([^`]+)`", helps.get(path[0], "")) if len(path) == 1 else None
    if alias:
        assert any(f"`scofeed {path[0]}`" in r for r in rows), f"no row names `scofeed {path[0]}`"
        found += _synopses(tuple(alias[1].split()))
    return found


def _placeholders(synopsis: str) -> int:
    """How many arguments a synopsis shows (`ID`, `[TARGET]`, `PATH|URL|-`), not
    counting an option's value (`--limit N`)."""
    count, after_option = 0, False
    for word in re.findall(r"[^\s\[\]|]+(?:\|[^\s\[\]|]+)*", synopsis):
        if word.startswith("-") and word != "-":
            after_option = True
        else:  # an argument, or the value of the option before it
            count += not after_option and bool(re.fullmatch(r"[A-Z][A-Z_]*(\|[A-Z_-]+)*", word))
            after_option = False
    return count


def test_every_option_and_argument_of_a_command_is_in_its_synopsis():
    top = parser()
    for path, options in _leaves(top):
        synopses = _synopses(path)
        assert synopses, f"no synopsis of {' '.join(path)} in the table"
        for option in options:
            assert any(option in s for s in synopses), (path, option, synopses)
        command = top
        for word in path:
            command = _subcommands(command)[word]
        arguments = [a for a in command._actions if not a.option_strings]
        assert {_placeholders(s) for s in synopses} == {len(arguments)}, (path, synopses)


ROOT = PAGE.parents[1]
WRITTEN = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _written_commands(page: Path) -> list[str]:
    """Every command line a page shows: inline `scofeed ...` spans and the lines of its
    sh blocks, comments left out."""
    text = page.read_text(encoding="utf-8")
    lines = re.findall(r"`(?:\.venv/bin/)?(scofeed [^`]+)`", text)
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
        lines += [
            line.split("#")[0].strip()
            for line in block.splitlines()
            if re.match(r"\s*(\S*/)?scofeed ", line)
        ]
    return lines


def _subcommands(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(subs[0].choices) if subs else {}


def _options(p: argparse.ArgumentParser) -> set[str]:
    return {o for a in p._actions for o in a.option_strings}


@pytest.mark.parametrize("page", WRITTEN, ids=lambda p: p.name)
def test_every_command_line_shown_names_a_command_and_its_options(page):
    """The other way round: what the pages show is what the command line takes, so a
    renamed command or option cannot live on in an example."""
    top = parser()
    wrong = []
    for line in _written_commands(page):
        words = line.split()[1:]
        if not words or re.fullmatch(r"\d+\.\d+\.\d+", words[0]):  # `scofeed 0.2.0`
            continue
        p, path, skip = top, [], False
        for word in words:
            word = word.lstrip("[(")
            if skip:
                skip = False
            elif word.startswith("--") or re.fullmatch(r"-[a-z]+", word):
                option = re.split(r"[=\]|),;]", word)[0]
                if option not in _options(p) | _options(top):
                    wrong.append(f"`{line}`: {option} is not an option of {path}")
                skip = option in ("--config", "--set") and "=" not in word
            elif word in _subcommands(p):
                p, path = _subcommands(p)[word], [*path, word]
            elif _subcommands(p) and re.fullmatch(r"[a-z]+", word):
                wrong.append(f"`{line}`: no command {word!r} in {path}")
                break
            elif not path:
                break
    assert wrong == []
