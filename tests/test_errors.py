"""The one exception tree: everything raised belongs to it, drawn in errors.py's docstring,
with exit codes, HTTP statuses and retryability as attributes instead of message prefixes."""

from __future__ import annotations

import ast
import inspect
import pickle
from pathlib import Path

import pytest

from scofeed import errors
from scofeed.deliver import signing
from scofeed.errors import (
    BadSignature,
    ConfigError,
    DeliveryError,
    EndpointUnreachable,
    KnownRelease,
    RejectedInput,
    ScofeedError,
    SourceError,
    TemporaryError,
    TemporaryFailure,
    UnknownEntry,
    UsageError,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "scofeed"
TREE = [
    obj
    for obj in vars(errors).values()
    if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__
]
# raised inside urllib3's connection hook, caught by deliver.sender.post (see errors.py)
# FrozenInstanceError: what a frozen dataclass raises on a change; @frozen (frozen.py)
# raises it where @dataclass(frozen=True) did from the code it compiles
# KeyError: a Mapping's __getitem__ for a missing key (serve.heads.WsgiHeaders), the protocol
# ArgumentTypeError: how an argparse ``type=`` function refuses a value (cli.common.count)
# ParsingError: how waitress's parser refuses a request head, answered 400 (serve.parser)
OUTSIDE_ON_PURPOSE = {
    "AddressRefused", "NameResolutionError", "SystemExit", "FrozenInstanceError", "KeyError",
    "ArgumentTypeError", "ParsingError",
}  # fmt: skip


def raised_names() -> dict[str, list[str]]:
    """Every ``raise X(...)`` / ``raise X`` in the package: name -> where."""
    found: dict[str, list[str]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = exc.attr if isinstance(exc, ast.Attribute) else getattr(exc, "id", None)
            if name and name[0].isupper():
                found.setdefault(name, []).append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


# TypeError: a wrong call of a @frozen class (frozen.py writes its __init__ once), what
# Python raises of any wrong call: from there only
OUTSIDE_FROM = {"TypeError": "frozen.py:"}


def test_everything_the_package_raises_is_in_the_tree():
    tree = {cls.__name__ for cls in TREE}
    stray = {n: where for n, where in raised_names().items() if n not in tree}
    for name, module in OUTSIDE_FROM.items():
        if all(at.startswith(module) for at in stray.get(name, [])):
            stray.pop(name, None)
    assert set(stray) <= OUTSIDE_ON_PURPOSE, stray


def test_no_exception_class_is_defined_outside_errors_py():
    defined = []
    for path in SRC.rglob("*.py"):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                getattr(b, "id", getattr(b, "attr", "")).endswith(("Error", "Exception"))
                for b in node.bases
            ):
                defined.append(node.name)
    assert set(defined) <= OUTSIDE_ON_PURPOSE


def test_the_docstring_draws_every_class():
    doc = errors.__doc__ or ""
    for cls in TREE:
        assert cls.__name__ in doc, cls
        assert issubclass(cls, ScofeedError)


def test_attributes_carry_the_meaning():
    assert (ScofeedError.exit_code, ScofeedError.http_status, ScofeedError.retryable) == (
        1,
        500,
        False,
    )
    assert ConfigError.exit_code == UsageError.exit_code == 2
    assert UnknownEntry.http_status == 404 and UsageError.http_status == 400
    assert BadSignature.http_status == 401 and RejectedInput.http_status == 422
    for cls in (TemporaryError, TemporaryFailure, EndpointUnreachable):
        assert cls.retryable and cls.http_status == 503
    for cls in (RejectedInput, DeliveryError, ConfigError, KnownRelease):
        assert not cls.retryable
    assert issubclass(TemporaryFailure, RejectedInput)  # `except RejectedInput` still sees it
    assert issubclass(EndpointUnreachable, DeliveryError)


def test_built_ins_are_mixed_in_where_natural():
    assert issubclass(UnknownEntry, LookupError)
    for cls in (ConfigError, UsageError, RejectedInput, BadSignature):
        assert issubclass(cls, ValueError)
    with pytest.raises(LookupError):
        raise UnknownEntry("no entry abc")


def test_bad_signature_is_in_the_tree_and_still_importable_from_signing():
    assert signing.BadSignature is BadSignature
    with pytest.raises(DeliveryError, match="missing header"):
        signing.verify("whsec_c2VjcmV0c2VjcmV0c2VjcmV0", {}, b"{}", now=0)


@pytest.mark.parametrize(
    "exc",
    [
        RejectedInput("a.txt", "empty file"),
        TemporaryFailure("https://example.org/", "timed out after 20 s"),
        KnownRelease("a.txt", "abc", "a.txt: already stored as abc"),
        SourceError("x"),
    ],
)
def test_errors_survive_a_process_pool(exc):
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc) and str(back) == str(exc)
    assert vars(back) == vars(exc)
