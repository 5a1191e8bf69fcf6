"""``@frozen``: ``@dataclass(frozen=True)``, for less start-up.

The dataclass decorator writes every method it adds as source text and compiles it: six
for a frozen class (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``), ~0.6 ms a class, which made the ~40 dataclasses of a one-shot
``scofeed build`` ~25 ms of its ~150 ms. ``@frozen`` has it write ``__init__`` alone and
gives the class the other five, written once here, that behave as the compiled ones:

- equal when of the same class with equal fields (``compare=True`` ones), hashed by them;
- shown as ``Name(field=value, ...)`` (the fields with ``repr=True``); publish keys feed
  files on that text, so it must not change;
- ``FrozenInstanceError`` on setting or deleting an attribute once ``__init__`` is done.

A method the class defines itself (its own ``__repr__``, say) is kept. mypy sees a frozen
dataclass (``dataclass_transform``). Not for a class with ``__slots__`` (making one fails:
no ``__dict__``). tests/test_frozen.py compares it all with ``@dataclass(frozen=True)``.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, field, fields
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


def _setattr(self: Any, name: str, value: Any) -> None:
    # the dataclass-written __init__ sets each field once; nothing else may be set
    if name in self.__dict__ or name not in self.__dataclass_fields__:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _eq(self: Any, other: Any) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    compared = [f.name for f in fields(self) if f.compare]
    return tuple(getattr(self, n) for n in compared) == tuple(getattr(other, n) for n in compared)


def _hash(self: Any) -> int:
    hashed = (f for f in fields(self) if (f.compare if f.hash is None else f.hash))
    return hash(tuple(getattr(self, f.name) for f in hashed))


def _repr(self: Any) -> str:
    shown = (f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
    return f"{self.__class__.__qualname__}({', '.join(shown)})"


METHODS = {
    "__setattr__": _setattr,
    "__delattr__": _delattr,
    "__eq__": _eq,
    "__hash__": _hash,
    "__repr__": _repr,
}


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: type[T]) -> type[T]:
    """A frozen dataclass of ``cls`` (see the module's docstring)."""
    own = {name for name in METHODS if name in cls.__dict__}
    if cls.__dict__.get("__hash__", 0) is None:  # Python's mark for "defines __eq__": a
        own.discard("__hash__")  # frozen dataclass hashes by its fields all the same
    made = dataclass(eq=False, repr=False)(cls)
    for name, method in METHODS.items():
        if name not in own:
            setattr(made, name, method)
    return made
