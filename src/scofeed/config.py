"""config.toml -> frozen dataclasses, validated once at start-up.

Every section is a dataclass; the loader walks the type hints, so a new section or
key needs only a field here. Unknown keys, wrong types and bad values raise
``ConfigError`` naming the dotted key. Relative paths are relative to the config
file's folder. Secrets are written as ``whsec_...`` inline, ``env:NAME`` or
``file:PATH`` and are never shown: ``Secret`` redacts itself.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scofeed.errors import ConfigError

FORMATS = ("atom", "rss", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Secret:
    """A secret value resolved from the config; prints as ``***``."""

    __slots__ = ("reference", "value")

    def __init__(self, value: str, reference: str) -> None:
        self.value = value
        self.reference = reference

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def check(fn: Callable[[Any], str | None], **kw: Any) -> Any:
    """A field whose value ``fn`` vets: it returns None when fine, else what is expected."""
    return field(metadata={"check": fn}, **kw)


def _one_of(*allowed: str) -> Callable[[Any], str | None]:
    def vet(v: Any) -> str | None:
        return None if v in allowed else "one of " + ", ".join(repr(a) for a in allowed)

    return vet


def _positive(v: int) -> str | None:
    return None if v > 0 else "a number above 0"


def _port(v: int) -> str | None:
    return None if 0 <= v <= 65535 else "a port number from 0 to 65535"


def _http_url(v: str) -> str | None:
    parts = urlsplit(v)
    ok = parts.scheme in ("http", "https") and bool(parts.netloc)
    return None if ok else "an http:// or https:// URL"


def _timezone(v: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(v)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "an IANA time zone name such as 'Asia/Shanghai'"
    return None


_AUTHORITY = re.compile(
    r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+|[^@\s,]+@[^@\s,]+)"
    r",\d{4}(-\d{2}(-\d{2})?)?$"
)


def _authority(v: str) -> str | None:
    ok = bool(_AUTHORITY.match(v))
    return None if ok else "a tag: authority 'domain,YYYY[-MM[-DD]]' (RFC 4151), lower case"


def _formats(v: tuple[str, ...]) -> str | None:
    bad = [f for f in v if f not in FORMATS]
    if bad or not v:
        return "a non-empty list drawn from " + ", ".join(repr(f) for f in FORMATS)
    return None


def _language(v: str) -> str | None:
    ok = re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", v)
    return None if ok else "a language tag like 'en'"


@dataclass(frozen=True)
class SiteConfig:
    title: str = "SCO Secretariat press releases"
    description: str = "Press releases of the Shanghai Cooperation Organisation Secretariat."
    base_url: str = check(_http_url, default="http://127.0.0.1:8080/")
    author: str = "SCO Secretariat"
    language: str = check(_language, default="en")
    timezone: str = check(_timezone, default="Asia/Shanghai")
    id_authority: str = check(_authority, default="scofeed.example,2026")


@dataclass(frozen=True)
class PathsConfig:
    sources: Path = Path("sources")
    feeds: Path = Path("feeds")
    state: Path = Path("state/scofeed.sqlite3")


@dataclass(frozen=True)
class FeedsConfig:
    entries: int = check(_positive, default=50)
    formats: tuple[str, ...] = check(_formats, default=FORMATS)


@dataclass(frozen=True)
class LimitsConfig:
    max_file_bytes: int = check(_positive, default=2_000_000)


@dataclass(frozen=True)
class ScheduleConfig:
    scan_interval: int = check(_positive, default=60)
    deliver_interval: int = check(_positive, default=5)


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = check(_port, default=8080)


@dataclass(frozen=True)
class LogConfig:
    level: str = check(_one_of(*LEVELS), default="INFO")


@dataclass(frozen=True)
class Config:
    site: SiteConfig = SiteConfig()
    paths: PathsConfig = PathsConfig()
    feeds: FeedsConfig = FeedsConfig()
    limits: LimitsConfig = LimitsConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    serve: ServeConfig = ServeConfig()
    log: LogConfig = LogConfig()
    # tag name -> keywords; an entry whose text holds any keyword gets the tag
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    path: Path | None = None  # the file this came from; not a key

    def feed_url(self, fmt: str) -> str:
        return self.site.base_url.rstrip("/") + "/" + FEED_FILES[fmt]


FEED_FILES = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}


# -- loading ---------------------------------------------------------------------------


def load(path: Path | str | None, overrides: list[str] | None = None) -> Config:
    """Read and validate a config file (None: the embedded defaults)."""
    raw: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config file ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        base = path.resolve().parent
    for item in overrides or []:
        _apply_override(raw, item)
    raw.pop("path", None)
    cfg = _build(Config, raw, "", base)
    return dataclasses.replace(cfg, path=Path(path).resolve() if path is not None else None)


def _apply_override(raw: dict[str, Any], item: str) -> None:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. serve.port=9000")
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value  # a bare word is taken as a string
    *parents, leaf = key.strip().split(".")
    node = raw
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {key}: {p} is not a table")
    node[leaf] = parsed


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is str:
        return "a string"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "a whole number"
    if tp is float:
        return "a number"
    if tp is Path:
        return "a path string"
    if tp is Secret:
        return "a secret: 'whsec_...', 'env:NAME' or 'file:PATH'"
    if origin is tuple:
        return f"a list of {_describe(typing.get_args(tp)[0]).removeprefix('a ')}s"
    if origin is dict:
        return "a table"
    if dataclasses.is_dataclass(tp):
        return "a table"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp) if a is not type(None))
    return str(tp)


def _convert(tp: Any, value: Any, key: str, base: Path) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        for a in args:
            try:
                return _convert(a, value, key, base)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: expected {_describe(tp)}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {value!r}")
        return _build(tp, value, key + ".", base)  # type: ignore[arg-type]
    if origin is tuple:
        (item_tp, *_rest) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected {_describe(tp)}, got {value!r}")
        return tuple(_convert(item_tp, v, f"{key}[{i}]", base) for i, v in enumerate(value))
    if origin is dict:
        _k, val_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {value!r}")
        return {str(k): _convert(val_tp, v, f"{key}.{k}", base) for k, v in value.items()}
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: expected a path string, got {value!r}")
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p
    if tp is Secret:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: expected {_describe(tp)}")
        return resolve_secret(value, key, base)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, float, bool):
        if type(value) is not tp:
            raise ConfigError(f"{key}: expected {_describe(tp)}, got {value!r}")
        return value
    if tp is Any:
        return value
    raise ConfigError(f"{key}: unsupported type {tp}")  # pragma: no cover - programming error


def _build(cls: type, raw: dict[str, Any], prefix: str, base: Path) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.name != "path"}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        expected = ", ".join(sorted(known))
        raise ConfigError(f"{prefix}{unknown[0]}: unknown key (expected one of: {expected})")
    values = {}
    for name, f in known.items():
        key = prefix + name
        if name in raw:
            values[name] = _convert(hints[name], raw[name], key, base)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{key}: required key is missing")
        elif hints[name] is Path and isinstance(f.default, Path) and not f.default.is_absolute():
            values[name] = base / f.default
        elif dataclasses.is_dataclass(hints[name]) and name not in raw:
            values[name] = _build(hints[name], {}, key + ".", base)
        vet = f.metadata.get("check")
        if vet is not None and name in values:
            problem = vet(values[name])
            if problem:
                raise ConfigError(f"{key}: expected {problem}, got {values[name]!r}")
    obj = cls(**values)
    post = getattr(obj, "validate", None)
    if callable(post):
        post(prefix.rstrip("."))
    return obj


def resolve_secret(ref: str, key: str, base: Path) -> Secret:
    if ref.startswith("env:"):
        name = ref[4:]
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"{key}: environment variable {name} is not set")
        return Secret(value, ref)
    if ref.startswith("file:"):
        p = Path(ref[5:]).expanduser()
        p = p if p.is_absolute() else base / p
        try:
            value = p.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{key}: cannot read secret file {p} ({exc.strerror})") from None
        if not value:
            raise ConfigError(f"{key}: secret file {p} is empty")
        return Secret(value, ref)
    return Secret(ref, "inline")


# -- showing ---------------------------------------------------------------------------


def show(cfg: Config) -> str:
    """The effective configuration as TOML, secrets redacted."""
    lines: list[str] = []
    if cfg.path:
        lines.append(f"# effective configuration from {cfg.path}")
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
        if f.name == "path":
            continue
        v = getattr(obj, f.name)
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
        if isinstance(v, dict):
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
