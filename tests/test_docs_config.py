"""docs/configuration.md against the schema (``scofeed.config.schema``): every key the
loader takes has a row, every row names a key the loader takes, each row's default is
the schema's, and each row states the limits its key is checked against. A key added,
renamed or re-defaulted without its row (or the reverse) fails here, not in an
operator's hands."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest

from scofeed.config import load
from scofeed.config.load import field_types
from scofeed.config.schema import Config

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
REQUIRED = object()  # a key with no default

# What a row must say about the limits its key's check enforces, by the check's name.
# A new check function needs a line here (None: nothing countable to say).
LIMITS: dict[str, tuple[str, ...] | None] = {
    "positive": ("above 0",),
    "_count_or_unset": ("above 0",),
    "seconds_above_0_up_to_3600": ("above 0", "at most 3600"),
    "seconds_0_or_more_up_to_3600": ("0 or more", "at most 3600"),
    "seconds_above_0_up_to_86400": ("above 0", "at most 86400"),
    "seconds_above_0_up_to_31536000": ("above 0", "at most 31536000"),
    "days_above_0_up_to_36500": ("above 0", "at most 36500"),
    "days_0_or_more_up_to_36500": ("0 or more", "at most 36500"),
    "_seconds": ("0 to 3600",),
    "port_number": ("0 to 65535",),
    "request_timeout": ("above 0", "at most 300"),
    "delays": ("at most 50", "0 to 604800"),
    "plain_name": ("up to 64",),
    "plain_line": ("HTML", "not empty"),
    "_ap_username": ("1 to 30",),
    "_metrics_token": ("at least 16 characters",),
    "http_url": ("http://", "https://"),
    "_hub_urls": ("http://", "https://"),
    "_timezone": ("IANA",),
    "_authority": ("RFC 4151",),
    "language_tag": ("language tag", "lower case"),
    "language_tags": ("language tag", "lower case"),
    "_filter_tags": ("letter or digit", "tag_slug"),
    "_hosts": ("lower-case",),
    "_networks": ("10.0.0.0/8",),
    "_listen_host": ("an IP address or a host name", "`999.1.1.1`"),
    "_feed_path": ("lower-case", "reserved", "`tags`"),
    "_formats": None,  # the values: checked through the default's row
    "_languages": None,
    "_tag_names": ("slug",),
    "_unique_names": None,
    "_distinct_names": None,
    "_events": None,
    "_hub_path": None,
    "_authority_kind": None,  # a closure over one_of: see "vet" below
    "<lambda>": None,
}


def schema_keys() -> dict[str, tuple[Any, Any]]:
    """Every key the loader takes, as the doc names it (``site.title``,
    ``sources[].url``, ``feeds.languages.<code>.path``, ``tags``), with its default
    (``REQUIRED`` when none) and its check function (or None)."""
    keys: dict[str, tuple[Any, Any]] = {}

    def walk(cls: type, prefix: str) -> None:
        hints = field_types(cls)
        for f in dataclasses.fields(cls):
            if cls is Config and f.name == "path":
                continue  # where the file came from, not a key
            tp, key = hints[f.name], prefix + f.name
            origin, args = typing.get_origin(tp), typing.get_args(tp)
            item = args[0] if origin is tuple else args[-1] if origin is dict else None
            if dataclasses.is_dataclass(tp):
                walk(tp, key + ".")
            elif dataclasses.is_dataclass(item):
                # a list of tables, or a table of them by name
                walk(item, key + ("[]." if origin is tuple else ".<code>."))
            else:
                if f.default is not dataclasses.MISSING:
                    default = f.default
                elif f.default_factory is not dataclasses.MISSING:
                    default = f.default_factory()
                else:
                    default = REQUIRED
                keys[key] = (default, f.metadata.get("check"))

    walk(Config, "")
    return keys


def doc_rows() -> dict[str, tuple[str, str]]:
    """The rows of the doc's key tables: key -> (default cell, whole row). A section's
    table names its keys bare (``name``) under a heading naming the section
    (``[[sources]]``: ``sources[].name``; ``[websub]``: ``websub.enabled``)."""
    rows: dict[str, tuple[str, str]] = {}
    prefix = ""
    in_table = False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            section = re.search(r"`\[(\[?)([a-z_]+)\]\]?`", line)
            prefix = ""
            if section:
                prefix = section[2] + ("[]." if section[1] else ".")
            in_table = False
            continue
        if line.startswith("| key |"):
            assert line.startswith("| key | default | meaning |"), line
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        if not in_table or line.startswith("|---") or line.startswith("| ---"):
            continue
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        key = re.fullmatch(r"`([^`]+)`", cells[0])
        assert key, f"a row whose first cell is not one `key`: {line}"
        name = key[1].removeprefix("[").removesuffix("]")  # `[tags]`
        assert prefix + name not in rows, f"{prefix + name} has two rows"
        rows[prefix + name] = (cells[1], line)
    return rows


def as_toml(value: Any) -> Any:
    if isinstance(value, tuple):
        return [as_toml(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def documented(cell: str) -> Any:
    """The default a cell states: its first `code` read as a TOML value (else as the
    text itself), ``REQUIRED``, or None for "none" or prose (a default worked out
    from other keys, such as ``site.title``)."""
    if cell.startswith("required"):
        return REQUIRED
    if cell.startswith("none"):
        return None
    code = re.match(r"`([^`]+)`", cell)
    if code is None:
        return None
    try:
        return tomllib.loads(f"v = {code[1]}")["v"]
    except tomllib.TOMLDecodeError:
        return code[1]


def test_every_key_has_a_row_and_every_row_a_key():
    keys, rows = schema_keys(), doc_rows()
    assert sorted(set(keys) - set(rows)) == [], "keys missing from docs/configuration.md"
    assert sorted(set(rows) - set(keys)) == [], "rows naming no key of the schema"


def test_each_rows_default_is_the_schemas():
    keys, rows = schema_keys(), doc_rows()
    wrong = []
    for key, (default, _check) in keys.items():
        cell = rows[key][0]
        said = documented(cell)
        if key == "webhooks[].secret":
            default = REQUIRED  # its default is empty, which Webhook.validate refuses
        if default is REQUIRED or said is REQUIRED:
            ok = said is default
        elif default is None:  # "none", or where the default comes from: prose or a key
            ok = cell != "" and (said is None or not cell.startswith("`") or said in keys)
        elif default in ((), {}):
            ok = said in ([], {}, None) and (said is not None or cell.startswith("none"))
        else:
            ok = said == as_toml(default)
        if not ok:
            wrong.append(f"{key}: the doc says {cell!r}, the schema {default!r}")
    assert wrong == []


def test_each_row_states_the_limits_its_key_is_checked_against():
    rows = doc_rows()
    missing = []
    for key, (_default, check) in schema_keys().items():
        if check is None:
            continue
        row = rows[key][1]
        name = check.__name__
        if name == "vet":  # one_of: each allowed value is named
            allowed = re.findall(r"'([^']+)'", check(object()) or "")
            assert allowed, key
            needed: tuple[str, ...] | None = tuple(f"`{a}`" for a in allowed)
        else:
            assert name in LIMITS, f"{key}: add what {name} checks to LIMITS"
            needed = LIMITS[name]
        missing += [f"{key}: {n!r}" for n in needed or () if n not in row]
    assert missing == []


@pytest.mark.parametrize("key", ["feeds.formats", "webhooks[].events"])
def test_a_list_of_choices_names_each_choice(key):
    """The values such a key takes are its default's: each is named in its row."""
    default, _check = schema_keys()[key]
    row = doc_rows()[key][1]
    assert [v for v in default if f"`{v}`" not in row and f'"{v}"' not in row] == []


def test_the_doc_reads_the_defaults_the_loader_gives():
    """The reader above against the loader itself: an empty file is the defaults."""
    cfg = load(None)
    assert documented(doc_rows()["feeds.entries"][0]) == cfg.feeds.entries
    assert documented(doc_rows()["site.title"][0]) == cfg.site.title
