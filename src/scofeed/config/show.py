"""The effective configuration as TOML (``scofeed config show``), secrets redacted.

A secret shows as ``"***"`` (inline) or as its reference (``"env:NAME"``, ``"file:PATH"``);
a webhook URL as ``https://host/***``; any other URL without credentials or query. The
output reads back with tomllib.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from scofeed.config.fields import Secret
from scofeed.config.redact import HOST, URL, redact_url, safe_url
from scofeed.config.schema import Config, RemoteSource


def show(cfg: Config) -> str:
    """The effective configuration as TOML, secrets redacted."""
    lines: list[str] = []
    if cfg.path:
        lines.append(f"# effective configuration from {cfg.path}")
    else:  # said nothing: from which file, or from none, was left to guess
        lines.append("# effective configuration: the built-in defaults (no config file)")
    _dump_table(cfg, "", lines)
    return "\n".join(lines).strip() + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, Secret):
        return '"***"' if v.reference == "inline" else f'"{v.reference}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, Path):
        v = str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return _toml_value(str(v))


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_value(k)


def _dump_table(obj: Any, name: str, lines: list[str]) -> None:
    scalars: list[tuple[str, Any]] = []
    tables: list[tuple[str, Any]] = []
    arrays: list[tuple[str, Any]] = []
    for f in dataclasses.fields(obj):
        if f.name == "path" and isinstance(obj, Config):  # where it was read from, no key
            continue
        v = getattr(obj, f.name)
        if isinstance(obj, RemoteSource) and f.name == "max_pages" and obj.kind == "page-list":
            v = obj.pages  # unset: the default a page-list source reads by, shown
        how = f.metadata.get("show")
        if how == HOST and isinstance(v, str):
            v = redact_url(v)
        elif how == URL and isinstance(v, str):
            v = safe_url(v)
        elif how == URL and isinstance(v, tuple):  # a list of URLs (websub.hubs)
            v = tuple(safe_url(x) if isinstance(x, str) else x for x in v)
        if dataclasses.is_dataclass(v):
            tables.append((f.name, v))
        elif isinstance(v, tuple) and v and dataclasses.is_dataclass(v[0]):
            arrays.append((f.name, v))
        elif isinstance(v, dict):
            tables.append((f.name, v))
        else:
            scalars.append((f.name, v))
    if name and scalars:
        lines.append(f"\n[{name}]")
    lines.extend(f"{k} = {_toml_value(v)}" for k, v in scalars if v is not None)
    for k, v in tables:
        full = f"{name}.{k}" if name else k
        if isinstance(v, dict) and any(dataclasses.is_dataclass(b) for b in v.values()):
            for a, b in v.items():  # [feeds.languages.ru]
                _dump_table(b, f"{full}.{_toml_key(a)}", lines)
        elif isinstance(v, dict):
            lines.append(f"\n[{full}]")
            lines.extend(f"{_toml_key(a)} = {_toml_value(b)}" for a, b in v.items())
        else:
            _dump_table(v, full, lines)
    for k, items in arrays:
        full = f"{name}.{k}" if name else k
        for item in items:
            lines.append(f"\n[[{full}]]")
            sub: list[str] = []
            _dump_table(item, "", sub)
            lines.extend(sub)
