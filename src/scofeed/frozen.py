"""``@frozen``: ``@dataclass(frozen=True)``, for less start-up.

The dataclass decorator writes every method it adds as source text and compiles it: six
for a frozen class (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``), ~0.2 ms each, which made the ~30 dataclasses of a one-shot
``scofeed build`` ~25 ms of its ~270 ms CPU. ``@frozen`` has it compile fewer and gives
the class the others, written once here, that behave as the compiled ones:

- equal when of the same class with equal fields (``compare=True`` ones), hashed by them;
- shown as ``Name(field=value, ...)`` (the fields with ``repr=True``); publish keys feed
  files on that text, so it must not change;
- ``FrozenInstanceError`` on setting or deleting an attribute once ``__init__`` is done.

Two kinds, by how often the class is made:

- ``@frozen`` (the config's sections, feed sets, plans): one compiled method, ``__init__``,
  whose every field goes through the ``__setattr__`` written here (~0.2 us a field);
- ``@frozen(many=True)`` (releases, entries, the store's rows: made by the ten thousand
  in a cold build): three, a frozen dataclass's own ``__init__``, ``__setattr__`` and
  ``__delattr__``, so making one costs what it costs a ``@dataclass(frozen=True)``.

A method the class defines itself (its own ``__repr__``, say) is kept. mypy sees a frozen
dataclass (``dataclass_transform``). Not for a class with ``__slots__`` (making one fails:
no ``__dict__``). tests/test_frozen.py compares it all with ``@dataclass(frozen=True)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass, field, fields
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")


def _setattr(self: Any, name: str, value: Any) -> None:
    # the dataclass-written __init__ sets each field once; nothing else may be set
    if name in self.__dict__ or name not in self.__dataclass_fields__:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


# the names of the fields each method reads, kept on the class when it is made (a
# subclass made by @frozen gets its own), so comparing two entries reads no field list
COMPARED, HASHED, SHOWN = "_frozen_compared", "_frozen_hashed", "_frozen_shown"


def _eq(self: Any, other: Any) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = getattr(self, COMPARED)
    return [getattr(self, n) for n in names] == [getattr(other, n) for n in names]


def _hash(self: Any) -> int:
    return hash(tuple([getattr(self, n) for n in getattr(self, HASHED)]))


def _repr(self: Any) -> str:
    shown = ", ".join([f"{n}={getattr(self, n)!r}" for n in getattr(self, SHOWN)])
    return f"{self.__class__.__qualname__}({shown})"


METHODS = {
    "__setattr__": _setattr,
    "__delattr__": _delattr,
    "__eq__": _eq,
    "__hash__": _hash,
    "__repr__": _repr,
}


@overload
def frozen(cls: type[T], /) -> type[T]: ...
@overload
def frozen(*, many: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: type[T] | None = None, /, *, many: bool = False) -> Any:
    """A frozen dataclass of ``cls`` (see the module's docstring); ``many=True`` for a
    class made so often that its ``__init__`` must be a frozen dataclass's own."""
    if cls is None:
        return lambda c: _make(c, many)
    return _make(cls, many)


def _make(cls: type[T], many: bool) -> type[T]:
    own = {name for name in METHODS if name in cls.__dict__}
    if cls.__dict__.get("__hash__", 0) is None:  # Python's mark for "defines __eq__": a
        own.discard("__hash__")  # frozen dataclass hashes by its fields all the same
    made = dataclass(eq=False, repr=False, frozen=many)(cls)
    every = fields(made)  # type: ignore[arg-type]
    setattr(made, COMPARED, tuple(f.name for f in every if f.compare))
    hashed = (f for f in every if (f.compare if f.hash is None else f.hash))
    setattr(made, HASHED, tuple(f.name for f in hashed))
    setattr(made, SHOWN, tuple(f.name for f in every if f.repr))
    for name, method in METHODS.items():
        if name not in own and not (many and name in ("__setattr__", "__delattr__")):
            setattr(made, name, method)
    return made
