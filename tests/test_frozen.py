"""``@frozen`` behaves as ``@dataclass(frozen=True)``: each class that uses it, with real
values (the config's sections as loaded, the feed sets and heads of a real config, the
ActivityPub URLs, the records a build of the seed makes), is compared with a genuine
frozen dataclass of the same name and fields: the same repr (publish keys feed files on
it), equality, hash, and refusal to change; and a few shapes of class the project's
dataclasses have."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import FrozenInstanceError, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scofeed.activitypub.documents import Urls
from scofeed.build import DEFAULT_TUNING, Rejection, build
from scofeed.config import load
from scofeed.frozen import frozen
from scofeed.model import Withdrawal
from scofeed.normalise.dating import choose
from scofeed.normalise.entry import settings_from
from scofeed.pool import prepare_many
from scofeed.render import catalog
from scofeed.sources import files as scanner
from scofeed.store import files as file_rows
from scofeed.store import origins as origin_rows
from scofeed.store import published as published_rows
from tests.conftest import SEED

SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAx"  # 18 bytes


def genuine(obj: object) -> object:
    """The same values in a genuine ``@dataclass(frozen=True)`` of the same name (and the
    class's own methods other than the five ``@frozen`` gives)."""
    cls = type(obj)
    fields = dataclasses.fields(cls)
    ns = {name: value for name, value in cls.__dict__.items() if not name.startswith("__")}
    ns |= {"__qualname__": cls.__qualname__, "__module__": cls.__module__}
    own_repr = cls.__repr__ is not frozen.__globals__["_repr"]
    if own_repr:
        ns["__repr__"] = cls.__repr__
    ns["__annotations__"] = {f.name: f.type for f in fields}
    for f in fields:  # each field as declared (defaults, repr, compare, hash)
        ns[f.name] = field(
            **{k: getattr(f, k) for k in ("default", "default_factory", "repr", "hash")},
            compare=f.compare,
        )
    made = dataclasses.dataclass(frozen=True, repr=not own_repr)(type(cls.__name__, (), ns))
    return made(**{f.name: getattr(obj, f.name) for f in fields})


def behaves_as_genuine(obj: object) -> None:
    g = genuine(obj)
    assert repr(obj) == repr(g)
    assert obj == dataclasses.replace(obj) and not obj != dataclasses.replace(obj)  # type: ignore[type-var]
    assert obj != g  # another class, as between two dataclasses
    try:
        hashed = hash(g)
    except TypeError:  # a list or dict among the fields: neither hashes
        with pytest.raises(TypeError):
            hash(obj)
    else:
        assert hash(obj) == hashed
    for again in (pickle.loads(pickle.dumps(obj)), copy.deepcopy(obj)):  # worker processes
        assert again == obj and repr(again) == repr(obj)
    first = dataclasses.fields(obj)[0].name  # type: ignore[arg-type]
    for o in (obj, g):
        for name, value in ((first, getattr(o, first)), ("other", 1)):
            with pytest.raises(FrozenInstanceError, match=repr(name)):
                setattr(o, name, value)
        with pytest.raises(FrozenInstanceError, match=repr(first)):
            delattr(o, first)


def test_the_config_sections_feed_sets_heads_and_urls_behave_as_frozen_dataclasses(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        "[site]\ntitle = 'T'\n[feeds]\nformats = ['atom']\nmetadata_tags = true\n"
        "[feeds.languages.ru]\npath = 'r'\n[tags]\nsecurity = ['terror']\n"
        "[[sources]]\nname = 'sco'\nkind = 'page-list'\nurl = 'https://x.org/p?t=1'\n"
        f"preset = 'sco'\n[[webhooks]]\nname = 'h'\nurl = 'https://h.example/x'\n"
        f"secret = '{SECRET}'\n",
        encoding="utf-8",
    )
    objects: list[object] = []
    for cfg in (load(None), load(path)):
        objects += [cfg] + [getattr(cfg, f.name) for f in dataclasses.fields(cfg)]
        objects += [*cfg.sources, *cfg.webhooks, *cfg.feeds.languages.values()]
        sets = catalog.sets_of(cfg, "ru", ("security",))
        objects += [*sets, Urls.of(cfg)]
        objects += [catalog.head(cfg, s, "atom", "2020-06") for s in sets]
        objects += [catalog.archive_head(cfg, sets[0], "atom", "2020-05", "2020-04", "2020-06")]
    objects = [o for o in objects if dataclasses.is_dataclass(o)]
    kinds = {type(o).__name__ for o in objects}
    assert {"Config", "SiteConfig", "Webhook", "RemoteSource", "FeedSet", "Head", "Urls"} <= kinds
    assert len(kinds) >= 17
    for obj in objects:
        behaves_as_genuine(obj)
    site = load(None).site
    assert site != dataclasses.replace(site, title="other") and site == load(None).site


def test_the_records_of_a_build_behave_as_frozen_dataclasses(site):
    """The records made by the ten thousand (``@frozen(many=True)``) and the others."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    (site.sources / "empty.txt").write_bytes(b"")
    cfg, settings = site.config(), settings_from(site.config())
    changed = scanner.scan(site.sources, file_rows.Index(site.store().db), 10**6).changed
    prepared = list(prepare_many(changed, settings, 10**6, now))
    objects: list[object] = [settings, DEFAULT_TUNING, Withdrawal(now, "why", "metadata")]
    releases = [pair[0] for _, outcome in prepared if isinstance(outcome, list) for pair in outcome]
    for item, outcome in prepared:
        objects += [item, *([outcome] if isinstance(outcome, Rejection) else outcome[0])]
    build(cfg, site.store(), now)
    stored = published_rows.latest(site.store().db)
    objects += [*stored, *origin_rows.inputs_of(site.store().db, stored[0].id)]
    objects.append(choose(releases[0], [SEED.read_text(encoding="utf-8")], [], "UTC", now))
    kinds = {type(o).__name__ for o in objects}
    assert kinds == {
        "Settings", "Tuning", "Withdrawal", "Changed", "Rejection", "Release", "Entry",
        "Input", "Dates",
    }  # fmt: skip
    for obj in objects:
        behaves_as_genuine(obj)


@frozen
class Plain:
    a: int
    b: str = "x"
    c: tuple[int, ...] = ()


@frozen
class Shaped:
    """Fields left out of repr, of comparison, or of the hash, and a mutable default."""

    shown: int
    hidden: str = field(default="h", repr=False)
    ignored: float = field(default=0.0, compare=False)
    unhashed: int = field(default=0, hash=False)
    items: list[int] = field(default_factory=list)


@frozen
class Child(Plain):
    d: Path = Path("p")

    def __repr__(self) -> str:  # its own: kept
        return f"Child({self.a})"


@frozen
class Compared:
    n: int

    def __eq__(self, other: object) -> bool:  # its own, which Python pairs with no hash
        return isinstance(other, Compared) and other.n % 10 == self.n % 10


def test_shapes_of_class_behave_as_frozen_dataclasses():
    for obj in (Plain(1), Plain(2, "y", (1, 2)), Shaped(1, "a", 2.0, 3, [4]), Child(1, "z")):
        behaves_as_genuine(obj)
    assert repr(Shaped(1)) == "Shaped(shown=1, ignored=0.0, unhashed=0, items=[])"
    assert Shaped(1, ignored=1.0) == Shaped(1, ignored=2.0)
    assert repr(Child(5)) == "Child(5)" and Child(5) == Child(5) and Child(5) != Plain(5)
    assert Compared(1) == Compared(11) and hash(Compared(3)) == hash((3,))
    assert Plain(1) != Plain(2) and Plain(1, "x") == Plain(1)


def test_a_class_with_slots_fails_when_made():
    @frozen
    class Slotted:
        __slots__ = ("a",)
        a: int

    with pytest.raises(AttributeError, match="__dict__"):
        Slotted(1)


@frozen
class Three:
    a: int
    b: str
    c: float
    d: list[int] = field(default_factory=list)


def _error(make: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(TypeError) as caught:
        make(*args, **kwargs)  # type: ignore[operator]
    said = str(caught.value)
    return said[said.index(".__init__()") :]  # after the class's name, which differs


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((1, "b", 2.0, [], 5), {}),  # too many by place
        ((1, "b", 2.0), {"e": 1}),  # a name it has not
        ((1, "b", 2.0), {"a": 1}),  # one by place and by name
        ((1, "b"), {}),  # one missing
        ((1,), {}),  # two
        ((), {"d": []}),  # three
    ],
)
def test_a_wrong_call_raises_what_a_dataclass_raises(args, kwargs):
    """The ``__init__`` written once for every ``@frozen`` class, not compiled for each:
    a wrong call says what a dataclass's says."""

    @dataclasses.dataclass(frozen=True)
    class Genuine:
        a: int
        b: str
        c: float
        d: list[int] = field(default_factory=list)

    assert _error(Three, *args, **kwargs) == _error(Genuine, *args, **kwargs)


def test_defaults_and_factories_are_filled_as_a_dataclass_fills_them():
    one, two = Three(1, "b", 2.0), Three(c=2.0, b="b", a=1)
    assert one == two and one.d == [] and one.d is not two.d
    assert list(vars(one)) == ["a", "b", "c", "d"]  # set in field order


def test_a_field_with_no_default_after_one_with_a_default_is_refused_when_made():
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @frozen
        class Wrong:
            a: int = 0
            b: int  # type: ignore[misc]

    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @frozen
        class OwnInit:  # its own __init__: the fields are refused all the same
            a: int = 0
            b: int  # type: ignore[misc]

            def __init__(self) -> None:
                pass


@frozen
class One:
    only: int


@frozen
class Odd:
    self: int  # a field may be named as the instance is
    other: str = "o"


def test_a_field_named_self_and_a_class_of_one_field_are_called_as_a_dataclass_is():
    assert Odd(self=1).self == 1 and Odd(2, other="x").other == "x"

    @dataclasses.dataclass(frozen=True)
    class Genuine:
        only: int

    assert _error(One, 1, 2) == _error(Genuine, 1, 2)  # "takes 2 positional arguments"
    assert _error(One) == _error(Genuine)


def test_what_the_written_init_cannot_do_is_refused_when_made():
    """``__post_init__``, an ``InitVar`` and ``kw_only`` fields: the compiled ``__init__``
    of ``@frozen(many=True)`` has them, the one written once has not."""
    with pytest.raises(TypeError, match="use @frozen\\(many=True\\)"):

        @frozen
        class Checked:
            a: int

            def __post_init__(self) -> None:
                pass

    with pytest.raises(TypeError, match="kw_only"):

        @frozen
        class Named:
            a: int = field(kw_only=True)

    with pytest.raises(TypeError, match="InitVar"):

        @frozen
        class Passed:
            a: dataclasses.InitVar[int]

    with pytest.raises(TypeError, match="init=False"):

        @frozen
        class Made:
            a: list[int] = field(default_factory=list, init=False)

    @frozen
    class Variant:  # a type whose name only starts like InitVar's
        a: InitVariant  # type: ignore[name-defined]  # noqa: F821

    assert Variant(1).a == 1

    @frozen
    class OwnInit:  # its own __init__: what it does is its own business
        a: int

        def __init__(self, a: int) -> None:
            object.__setattr__(self, "a", a)

        def __post_init__(self) -> None:
            pass

    assert OwnInit(2).a == 2

    @frozen(many=True)
    class Compiled:
        a: int

        def __post_init__(self) -> None:
            object.__setattr__(self, "b", self.a + 1)

    assert Compiled(1).b == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("many", [False, True])
def test_a_class_with_no_docstring_is_made_without_reading_a_signature(many):
    """dataclass() writes a missing docstring from ``inspect.signature``: for a class with
    no ``__init__`` yet, object's text signature, read with tokenize, which compiles its
    regular expressions (~4 ms of a one-shot build, for one such record)."""
    import tokenize

    tokenize._compile.cache_clear()  # type: ignore[attr-defined]

    @frozen(many=many)
    class Plain:
        name: str
        count: int = 0

    assert Plain.__doc__ == "Plain(name, count)"
    assert tokenize._compile.cache_info().currsize == 0  # type: ignore[attr-defined]
    assert Plain("a") == Plain("a", 0) and repr(Plain("a")).endswith("Plain(name='a', count=0)")

    @frozen
    class Described:
        """Its own words."""

        name: str

    assert Described.__doc__ == "Its own words."
