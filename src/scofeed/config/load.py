"""Reading config.toml: tomllib -> the dataclasses of ``config.schema``, validated once.

The loader walks the type hints, so a new section or key needs only a field in the
schema. Unknown keys, wrong types and bad values raise ``ConfigError`` naming the dotted
key and the problem; the value is quoted only when it is safe to (``config.redact``):
never a secret, a table, or a URL's credentials, query or (webhooks) path. Relative paths
are relative to the config file's folder. Secrets are written as ``whsec_...`` inline,
``env:NAME`` or ``file:PATH`` and resolved here into ``Secret`` values.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import stat
import sys
import tomllib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scofeed.config.fields import Secret
from scofeed.config.redact import HIDDEN, VALUE, got, secret_key
from scofeed.config.schema import Config
from scofeed.errors import ConfigError, shown
from scofeed.filekinds import special_kind


def load(path: Path | str | None, overrides: list[str] | None = None) -> Config:
    """Read and validate a config file (None: the embedded defaults)."""
    raw: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        path = Path(path)
        name = shown(str(path))  # on one line: a newline in the name is \n
        try:
            data = read_capped(path, CONFIG_MAX, f"{name}: config file")
            # a byte-order mark (Notepad writes one) is not TOML: read past it
            raw = tomllib.loads(data.decode("utf-8-sig"))
        except FileNotFoundError:
            raise ConfigError(f"{name}: config file not found") from None
        except RecursionError:  # "a = [[[[..." thousands deep was a traceback
            raise ConfigError(f"{name}: not valid TOML (nested too deeply)") from None
        except UnicodeDecodeError as exc:  # was Python's "'utf-8' codec can't decode..."
            line = exc.object[: exc.start].count(b"\n") + 1
            raise ConfigError(
                f"{name}: not UTF-8 (byte 0x{exc.object[exc.start]:02x} on line {line}); "
                "a config file is UTF-8 text"
            ) from None
        except OSError as exc:
            why = exc.strerror or exc
            raise ConfigError(f"{name}: cannot read config file ({why})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{name}: not valid TOML ({exc})") from None
        base = path.resolve().parent
    for item in overrides or []:
        _apply_override(raw, item)
    raw.pop("path", None)
    cfg = _build(Config, raw, "", base)
    return dataclasses.replace(cfg, path=Path(path).resolve() if path is not None else None)


def _apply_override(raw: dict[str, Any], item: str) -> None:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():  # what was given may be a value: not repeated
        raise ConfigError("--set: expected KEY=VALUE, e.g. serve.port=9000 (value not shown)")
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value  # a bare word is taken as a string
    *parents, leaf = key.strip().split(".")
    node = raw
    for p in parents:
        name, index = _item(p)
        if index is None:
            node = node.setdefault(name, {})
        else:  # sources[0]: the first [[sources]] table, as the errors name it
            tables = node.get(name)
            if tables is None and node is raw and _tables(field_types(Config).get(name)):
                tables = []  # a list the file has no table of yet
            node = _nth(tables, name, index, key)
        if not isinstance(node, dict):
            raise ConfigError(f"--set {key}: {p} is not a table")
    node[leaf] = parsed


def _item(part: str) -> tuple[str, int | None]:
    """``sources[2]`` -> ("sources", 2); a plain key -> (key, None)."""
    match = re.fullmatch(r"(.+)\[(\d+)\]", part)
    return (match[1], int(match[2])) if match else (part, None)


def _nth(tables: Any, name: str, index: int, key: str) -> Any:
    """The ``[[name]]`` table ``index`` (from 0) for ``--set``, or why there is none."""
    if not isinstance(tables, list):
        raise ConfigError(f"--set {key}: {name} is not a list of [[{name}]] tables")
    if index >= len(tables):
        have = f"{name}[0] to {name}[{len(tables) - 1}]" if tables else "none"
        raise ConfigError(
            f"--set {key}: the config has {len(tables)} [[{name}]] table(s) ({have}); "
            f"--set changes a key of one, it does not add one"
        )
    return tables[index]


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
        return "a secret: the value as a string, 'env:NAME' or 'file:PATH'"
    if origin is tuple:
        item = typing.get_args(tp)[0]
        if dataclasses.is_dataclass(item):
            return "a list of tables"
        return f"a list of {_describe(item).removeprefix('a ')}s"
    if origin is dict:
        return "a table"
    if dataclasses.is_dataclass(tp):
        return "a table"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp) if a is not type(None))
    return str(tp)


def _hint(tp: Any, value: Any, key: str) -> str:
    """A nudge for the commonest slip: ``[webhooks]`` (one table) for ``[[webhooks]]``."""
    item = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else None
    if isinstance(value, dict) and dataclasses.is_dataclass(item):
        name = re.sub(r"\[\d+\]", "", key)
        return f"; write [[{name}]] above each one"
    return ""


def _convert(
    tp: Any,
    value: Any,
    key: str,
    base: Path,
    how: str = VALUE,
    across: Callable[[Any], str | None] | None = None,
) -> Any:
    """``value`` as type ``tp``; ``how`` says how the value may be quoted in an error.
    ``across``: for a list of tables, the field's check across its items (duplicates),
    run on every item that could be read, even when another one has a problem."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        shaped = [a for a in args if (typing.get_origin(a) is tuple) == isinstance(value, list)]
        if len(shaped) == 1:
            return _convert(shaped[0], value, key, base, how)
        for a in args:
            try:
                return _convert(a, value, key, base, how)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: expected {_describe(tp)}{got(value, how)}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table{got(value, how)}")
        return _build(tp, value, key + ".", base)  # type: ignore[arg-type]
    if origin is tuple:
        (item_tp, *_rest) = typing.get_args(tp)
        if not isinstance(value, list):
            hint = _hint(tp, value, key)
            raise ConfigError(f"{key}: expected {_describe(tp)}{got(value, how)}{hint}")
        items: list[Any] = []
        problems: list[str] = []
        for i, v in enumerate(value):  # every item's problems, not the first item's only
            if dataclasses.is_dataclass(item_tp) and isinstance(v, dict):
                item, found = _attempt(item_tp, v, f"{key}[{i}].", base)  # type: ignore[arg-type]
                items.append(item)
                problems.extend(found)
                continue
            try:
                items.append(_convert(item_tp, v, f"{key}[{i}]", base, how))
            except ConfigError as exc:
                items.append(None)
                problems.extend(str(exc).splitlines())
        if across is not None:  # the duplicates among the others, whatever the items' own
            problems.extend(_vetted(across, tuple(items), key))
        if problems:
            raise ConfigError("\n".join(problems))
        return tuple(items)
    if origin is dict:
        _k, val_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table{got(value, how)}")
        return {
            str(k): _convert(val_tp, v, f"{key}.{k}", base, _how(f"{key}.{k}", val_tp, how))
            for k, v in value.items()
        }
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: expected a path string{got(value, how)}")
        return _path(value, key, base)
    if tp is Secret:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: expected {_describe(tp)} (value not shown)")
        return resolve_secret(value, key, base, deferred=True)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, float, bool):
        if type(value) is not tp:
            raise ConfigError(f"{key}: expected {_describe(tp)}{got(value, how)}")
        return value
    if tp is Any:
        return value
    raise ConfigError(f"{key}: unsupported type {tp}")  # pragma: no cover - programming error


def _holds_secret(tp: Any) -> bool:
    return tp is Secret or any(_holds_secret(a) for a in typing.get_args(tp))


def _how(key: str, tp: Any, default: str = VALUE) -> str:
    """How a key's value may be quoted: never for a secret (by type or by name)."""
    return HIDDEN if _holds_secret(tp) or secret_key(key) else default


def field_types(cls: type) -> dict[str, Any]:
    """The types of a section's fields: what ``typing.get_type_hints`` gives, for less.
    The schema's annotations are strings (``from __future__ import annotations``); each
    distinct one is evaluated once, in the schema's namespace, where get_type_hints
    compiled all ~70 of them on every start (~1.3 ms)."""
    return {
        f.name: _evaluated(f.type, cls.__module__) if isinstance(f.type, str) else f.type
        for f in dataclasses.fields(cls)
    }


@functools.cache
def _evaluated(annotation: str, module: str) -> Any:
    return eval(annotation, vars(sys.modules[module]))  # our own schema's text, never input


def _vetted(vet: Callable[[Any], str | None], value: Any, key: str) -> list[str]:
    """The problems a check across a list of tables finds: each line it raises, or what
    it says is expected."""
    try:
        problem = vet(value)
    except ConfigError as exc:
        return str(exc).splitlines()
    return [f"{key}: expected {problem}"] if problem else []


def _build(cls: type, raw: dict[str, Any], prefix: str, base: Path) -> Any:
    """A section from its table. Every key is checked before any error is raised: the
    ConfigError names each problem found, one a line, so that one run of ``scofeed
    config check`` lists all of them."""
    obj, problems = _attempt(cls, raw, prefix, base)
    if problems:
        raise ConfigError("\n".join(problems))
    return obj


def _attempt(cls: type, raw: dict[str, Any], prefix: str, base: Path) -> tuple[Any, list[str]]:
    """A section from its table and the problems found in it, one a line. With problems,
    what of it could be read: the section (its ``validate`` refused it) or a namespace
    of the keys that were read and passed their checks (an item of a list of tables,
    checked for duplicates with the others all the same)."""
    hints = field_types(cls)
    # Config.path is where the file was read from, not a key (a section may have a path)
    known = {f.name: f for f in dataclasses.fields(cls) if cls is not Config or f.name != "path"}
    expected = ", ".join(sorted(known))
    problems = [
        f"{prefix}{name}: unknown key (expected one of: {expected})"
        for name in sorted(set(raw) - set(known))
    ]
    values: dict[str, Any] = {}
    for name, f in known.items():
        try:
            _build_field(f, hints[name], raw, prefix + name, base, values)
        except ConfigError as exc:
            values.pop(name, None)  # read, then refused by its check
            problems.extend(str(exc).splitlines())
    if problems:
        # what the table's own check would say of what was read, said in the same run
        # ("url" and "secret" both missing took two runs of config check to learn)
        beside = getattr(cls, "problems_beside", None)
        if callable(beside):  # a key refused already, or one under a longer name of
            # it (its items, "secret[1]"; "secrets"), is not said missing too
            said = tuple(p.partition(":")[0] for p in problems)
            problems.extend(
                p
                for p in beside(values, prefix.rstrip("."))
                if not any(k.startswith(p.partition(":")[0]) for k in said)
            )
        return types.SimpleNamespace(**values), problems
    obj = cls(**values)
    post = getattr(obj, "validate", None)
    if callable(post):
        try:
            post(prefix.rstrip("."))
        except ConfigError as exc:
            return obj, str(exc).splitlines()
    return obj, []


def _build_field(
    f: dataclasses.Field[Any],
    tp: Any,
    raw: dict[str, Any],
    key: str,
    base: Path,
    values: dict[str, Any],
) -> None:
    """Set ``values[f.name]`` from ``raw`` (or the field's default), checked."""
    name = f.name
    how = _how(key, tp, f.metadata.get("show", VALUE))
    vet = f.metadata.get("check")
    # a list of tables: checked across its items by _convert, the items that could be
    # read among them when others could not
    across = vet if _tables(tp) and name in raw else None
    if name in raw:
        other = f.metadata.get("instead_of")
        if other in raw:  # one of them would be ignored
            raise ConfigError(f"{key}: {other} is set too ({name} replaces it): keep one of them")
        values[name] = _convert(tp, raw[name], key, base, how, across)
    elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
        raise ConfigError(f"{key}: required key is missing")
    elif tp is Path and isinstance(f.default, Path) and not f.default.is_absolute():
        values[name] = base / f.default
    elif dataclasses.is_dataclass(tp):
        values[name] = _build(tp, {}, key + ".", base)  # type: ignore[arg-type]
    given = values.get(name)  # as written: what an error quotes
    fold = f.metadata.get("fold")
    if fold is not None and isinstance(given, str):
        values[name] = fold(given)
    if vet is not None and across is None and name in values:
        problem = vet(values[name])
        if problem:
            v = given
            tables = isinstance(v, tuple) and v and dataclasses.is_dataclass(v[0])
            raise ConfigError(f"{key}: expected {problem}{'' if tables else got(v, how)}")


def _tables(tp: Any) -> bool:
    """Whether ``tp`` is a list of tables (``tuple[Section, ...]``)."""
    args = typing.get_args(tp)
    return typing.get_origin(tp) is tuple and bool(args) and dataclasses.is_dataclass(args[0])


SECRET_MAX = 65_536  # bytes of a secret file read at most (a key is well under 1 kB)
CONFIG_MAX = 1_048_576  # bytes of config.toml read at most (a big site's is under 20 kB)


def read_capped(path: Path, cap: int, what: str) -> bytes:
    """The bytes of the regular file ``path``, at most ``cap`` of them; ``what`` starts
    the ConfigError otherwise. Opened without blocking, so a FIFO nobody writes to is
    refused, not waited on; /dev/zero and a file of gigabytes are refused at the cap,
    not read into memory. OSError (not found, no permission, a folder) is the caller's.
    A SQLite database in use, or a file of one (``sqlite_in_use``), is refused unopened."""
    held = sqlite_in_use(path)
    if held is not None:
        raise ConfigError(f"{what} is {held}; it was not opened")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # a folder: read says EISDIR
            raise ConfigError(f"{what} is {special_kind(mode)}, not a regular file")
        if stat.S_ISREG(mode) and os.fstat(fd).st_size > cap:  # gigabytes: refused unread
            raise ConfigError(f"{what} is larger than {_size(cap)}")
        data = f.read(cap + 1)
    if len(data) > cap:  # /dev/zero, or a file that grew while it was read
        raise ConfigError(f"{what} is larger than {_size(cap)}")
    return data


def sqlite_in_use(path: Path) -> str | None:
    """What ``path`` is when it names a SQLite database in use (the state store: a -wal
    or -shm file beside it) or the -wal, -shm or -journal file of one; else None. Told
    by names alone (stat), as such a file must never be opened by a process that may hold
    a connection to it: closing any descriptor of a file drops every POSIX lock the
    process holds on it, its SQLite connections' too (SQLite's "How To Corrupt", 2.2).
    A secret file or ActivityPub key naming the store (a slip in config.toml), read by
    the daemon at a reload, dropped its locks: the next process to close its own
    connection checkpointed and removed the -wal under it, and what the daemon committed
    after was lost. Another name for such a file (a hard link to the store or its -shm)
    is told where this process has it open (Linux: ``open_here``), by the name it was
    opened under."""
    try:
        name = os.path.realpath(path)  # a link to the store is the store
    except (OSError, ValueError):
        return None
    said = _sqlite_by_name(name)
    for opened in open_here(name) if said is None else ():
        told = _sqlite_by_name(opened) if opened != name else None
        if told is not None:
            return f"another name (a hard link) for {opened}, {told}"
    return said


def _sqlite_by_name(name: str) -> str | None:
    """``sqlite_in_use`` of a resolved path, by its name and the names beside it."""
    for tail in SQLITE_TAILS:
        if name.endswith(tail) and os.path.isfile(name[: -len(tail)]):
            return f"the {tail} file of the SQLite database {name[: -len(tail)]}"
    if any(os.path.exists(name + tail) for tail in SQLITE_TAILS[:2]):
        return "a SQLite database in use (a -wal or -shm file beside it: the state store?)"
    return None


def open_here(path: str) -> list[str]:
    """The names under which this process has the regular file at ``path`` open (the
    same device and inode), one per descriptor: Linux, each of /proc/self/fd asked with
    fstat and readlink, nothing opened. Elsewhere, none."""
    try:
        st = os.stat(path)
        fds = os.listdir("/proc/self/fd") if stat.S_ISREG(st.st_mode) else []
    except (OSError, ValueError):
        return []
    names = []
    for fd in fds:
        try:
            other = os.fstat(int(fd))
            if other.st_ino == st.st_ino and other.st_dev == st.st_dev:
                names.append(os.readlink(f"/proc/self/fd/{fd}"))
        except (OSError, ValueError):  # the listing's own descriptor, closed by now
            continue
    return names


SQLITE_TAILS = ("-wal", "-shm", "-journal")


def _size(n: int) -> str:
    return f"{n // 1_048_576} MB" if n % 1_048_576 == 0 else f"{n} bytes"


def _path(value: str, key: str, base: Path, shown_as: str = "") -> Path:
    """A path from the config: ``~`` expanded, relative to ``base``. One that no file
    can have (a NUL in it), or whose ``~user`` names no user here, is a ConfigError
    naming the key: both were tracebacks."""
    what = shown_as or f"'{shown(value)}'"
    if "\0" in value:
        raise ConfigError(f"{key}: {what} holds a NUL character, which no path can")
    try:
        p = Path(value).expanduser()
    except RuntimeError:  # "Could not determine home directory."
        user = value.split("/", 1)[0]
        raise ConfigError(
            f"{key}: {what} starts with {shown(user)}, and no such user is known"
        ) from None
    return p if p.is_absolute() else base / p


def resolve_secret(ref: str, key: str, base: Path, deferred: bool = False) -> Secret:
    """The secret ``ref`` names (inline, ``env:NAME`` or ``file:PATH``). ``deferred``: a
    variable not set or a file not readable here is a ``Secret`` holding the problem,
    raised by the commands that sign (``Config.require_secrets``), not by every one."""
    if ref.startswith("env:"):
        name = ref[4:]
        if not name:
            raise ConfigError(f"{key}: 'env:' names no variable (expected env:NAME)")
        value = os.environ.get(name)
        if not value:
            what = "is empty" if value == "" else "is not set"
            return _unread(f"{key}: environment variable {name} {what}", ref, deferred)
        return Secret(value, ref)
    if ref.startswith("file:"):
        if not ref[5:]:  # Path("") is the config's folder: "cannot read ... (Is a directory)"
            raise ConfigError(f"{key}: 'file:' names no file (expected file:PATH)")
        p = _path(ref[5:], key, base, shown_as="the secret file's path")
        try:  # a key is short: /dev/zero or a FIFO named by a slip is no hang
            data = read_capped(p, SECRET_MAX, f"{key}: secret file {p}")
            value = data.decode("utf-8").strip()
        except OSError as exc:
            return _unread(f"{key}: cannot read secret file {p} ({exc.strerror})", ref, deferred)
        except UnicodeDecodeError:  # raw key bytes: say so, never show them
            expected = " (expected 'whsec_' + base64)" if "webhooks[" in key else ""
            raise ConfigError(f"{key}: secret file {p} is not UTF-8 text{expected}") from None
        if not value:
            return _unread(f"{key}: secret file {p} is empty", ref, deferred)
        return Secret(value, ref)
    return Secret(ref, "inline")


def _unread(problem: str, ref: str, deferred: bool) -> Secret:
    if not deferred:
        raise ConfigError(problem)
    return Secret("", ref, problem)
