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

- ``@frozen`` (the config's sections, feed sets, plans): no compiled method at all; its
  ``__init__`` too is written once here (``_init``: arguments bound by name or place,
  defaults and default factories, the same ``TypeError`` for a wrong call), no slower
  a call than the compiled one was (it sets the instance's dict, not each field through
  ``__setattr__``). Compiling it was ~0.1 ms a class, ~3 ms of a one-shot build;
- ``@frozen(many=True)`` (releases, entries, the store's rows: made by the ten thousand
  in a cold build): three, a frozen dataclass's own ``__init__``, ``__setattr__`` and
  ``__delattr__``, so making one costs what it costs a ``@dataclass(frozen=True)``.

A class with no docstring gets ``Name(field, ...)``, as a dataclass's ``Name(field: type,
...)`` without the types. A method the class defines itself (its own ``__repr__``, say)
is kept. mypy sees a frozen dataclass (``dataclass_transform``). Not for a class with
``__slots__`` (making one fails: no ``__dict__``). tests/test_frozen.py compares it all
with ``@dataclass(frozen=True)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, InitVar, dataclass, field, fields
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
    if cls.__doc__ is None:  # dataclass() would write one from inspect.signature(cls):
        # for a class with no __init__ of its own yet, object's, whose text signature is
        # read with tokenize, compiling its regular expressions (~4 ms, once a process)
        names = cls.__dict__.get("__annotations__", {})
        cls.__doc__ = f"{cls.__name__}({', '.join(names)})"
    made = dataclass(init=many, eq=False, repr=False, frozen=many)(cls)
    every = fields(made)  # type: ignore[arg-type]
    if not many:
        _in_order(every)  # what dataclass() says of such a class, its own __init__ or not
        if "__init__" not in cls.__dict__:
            if _needs_compiled(made):
                raise TypeError(
                    f"@frozen {made.__qualname__}: the __init__ written here has no "
                    "__post_init__, InitVar, kw_only or init=False; use @frozen(many=True)"
                )
            made.__init__ = _init(made.__qualname__, every)  # type: ignore[method-assign]
    setattr(made, COMPARED, tuple(f.name for f in every if f.compare))
    hashed = (f for f in every if (f.compare if f.hash is None else f.hash))
    setattr(made, HASHED, tuple(f.name for f in hashed))
    setattr(made, SHOWN, tuple(f.name for f in every if f.repr))
    for name, method in METHODS.items():
        if name not in own and not (many and name in ("__setattr__", "__delattr__")):
            setattr(made, name, method)
    return made


def _needs_compiled(made: type) -> bool:
    """Whether the class asks for what only a compiled ``__init__`` does: a
    ``__post_init__``, an ``InitVar`` (an annotation, or its text), a ``kw_only`` or an
    ``init=False`` field."""
    declared = made.__dataclass_fields__.values()  # type: ignore[attr-defined]
    return hasattr(made, "__post_init__") or any(
        f.kw_only is True
        or not f.init
        or isinstance(f.type, InitVar)
        or str(f.type).startswith(("InitVar[", "dataclasses.InitVar["))
        for f in declared
    )


def _init(qualname: str, every: tuple[Any, ...]) -> Callable[..., None]:
    """The ``__init__`` of a ``@frozen`` class with these fields: as a dataclass's, each
    field by place or name, else its default or a new value of its factory."""
    names = tuple(f.name for f in every)
    known = frozenset(names)
    fills = tuple((f.name, f.default, f.default_factory) for f in every)
    call = f"{qualname}.__init__()"
    needed = 1 + sum(f.default is MISSING and f.default_factory is MISSING for f in every)
    most = len(names) + 1
    takes = f"{needed} positional argument{'s' if needed > 1 else ''}"
    if needed < most:
        takes = f"from {needed} to {most} positional arguments"

    # self positional-only: a field may be named "self", as a dataclass's may
    def __init__(self: Any, /, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{call} takes {takes} but {len(args) + 1} were given")
        values = dict(zip(names, args, strict=False))
        for name in kwargs:
            if name not in known:
                raise TypeError(f"{call} got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{call} got multiple values for argument {name!r}")
        values.update(kwargs)
        own = self.__dict__  # set as a dataclass's: in field order, never set again
        for name, default, factory in fills:
            if name in values:
                own[name] = values[name]
            elif default is not MISSING:
                own[name] = default
            elif factory is not MISSING:
                own[name] = factory()
            else:
                missing = [
                    repr(n)
                    for n, d, f in fills
                    if n not in values and d is MISSING and f is MISSING
                ]
                raise TypeError(f"{call} missing {_listed(missing)}")

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


def _in_order(every: tuple[Any, ...]) -> None:
    """A field with no default after one with a default: refused when the class is
    made, with dataclass()'s words."""
    seen_default = False
    for f in every:
        if f.default is not MISSING or f.default_factory is not MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")


def _listed(missing: list[str]) -> str:
    """ "1 required positional argument: 'a'", "... arguments: 'a', 'b', and 'c'": as
    Python says it of any function."""
    if len(missing) == 1:
        return f"1 required positional argument: {missing[0]}"
    names = (
        " and ".join(missing)
        if len(missing) == 2
        else ", ".join(missing[:-1]) + ", and " + missing[-1]
    )
    return f"{len(missing)} required positional arguments: {names}"
