"""What the config's sections are made of: ``check`` (a field whose value a function
vets), ``instead_of`` (a key that replaces another), ``Secret``, and the checks more
than one section uses (``config.schema`` and ``config.push``)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scofeed import languages
from scofeed.config.redact import HOST, URL, VALUE
from scofeed.errors import shown
from scofeed.markup import ENTITY_REF, tag


class Secret:
    """A secret value resolved from the config; prints as ``***``. ``problem``: why an
    ``env:`` or ``file:`` reference could not be read here (``value`` is then empty):
    only the commands that sign need it (``Config.require_secrets``), so ``scofeed
    status`` or ``reload`` in a shell without the daemon's environment still work."""

    __slots__ = ("problem", "reference", "value")

    def __init__(self, value: str, reference: str, problem: str | None = None) -> None:
        self.value = value
        self.reference = reference
        self.problem = problem

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def check(
    fn: Callable[[Any], str | None],
    redact: bool = False,
    urls: bool = False,
    fold: Callable[[str], str] | None = None,
    **kw: Any,
) -> Any:
    """A field whose value ``fn`` vets: it returns None when fine, else what is expected.
    ``redact``: a URL whose path may carry a token (Slack, Discord); shown without it.
    Any URL field is shown without credentials or query (``config.redact``), and so is
    each of a list of URLs (``urls``). ``fold``: a text value is taken as it gives it,
    before ``fn`` vets it (``str.upper``: "debug" is "DEBUG").
    On a list of tables, ``fn`` checks across the items (duplicates) and sees every one,
    including an item with problems of its own, as what of it could be read (a namespace
    of the keys that were valid, or the item its ``validate`` refused; None when it was
    not a table): its duplicates are listed in the same run as its problems. It may
    raise ``ConfigError`` with one problem a line, each naming its item's key."""
    how = HOST if redact else URL if fn is http_url or urls else VALUE
    return field(metadata={"check": fn, "show": how, "fold": fold}, **kw)


def instead_of(other: str, **kw: Any) -> Any:
    """A field used in place of the key ``other`` of its table when set: a table that
    sets both is refused (one of them was ignored without a word)."""
    return field(metadata={"instead_of": other}, **kw)


def one_of(*allowed: str) -> Callable[[Any], str | None]:
    def vet(v: Any) -> str | None:
        return None if v in allowed else "one of " + ", ".join(repr(a) for a in allowed)

    return vet


def positive(v: int) -> str | None:
    return None if v > 0 else "a number above 0"


# the longest a time or a span of days may be set to: past these (a year of seconds, a
# century of days) a date computed from one overflowed (``1e20``, ``inf``, "999999 days
# for ever"), a traceback at every build where the config check had said "ok"
MAX_SECONDS = 365 * 86400
MAX_DAYS = 36_500


def _up_to(unit: str, limit: int, zero: bool) -> Callable[[float], str | None]:
    """A number of ``unit`` above 0 (or 0 too, with ``zero``), at most ``limit``; named
    by its limits (``tests/test_docs_config.py`` holds each row of the docs to them)."""
    least = "0 or more" if zero else "above 0"

    def vet(v: float) -> str | None:
        ok = (0 <= v if zero else 0 < v) and v <= limit
        return None if ok else f"a number of {unit} {least} and at most {limit}"

    vet.__name__ = f"{unit}_{least.replace(' ', '_')}_up_to_{limit}"
    return vet


def seconds_up_to(limit: int, zero: bool = False) -> Callable[[float], str | None]:
    return _up_to("seconds", limit, zero)


def days_up_to(limit: int = MAX_DAYS, zero: bool = False) -> Callable[[float], str | None]:
    return _up_to("days", limit, zero)


def port_number(v: int) -> str | None:
    return None if 0 <= v <= 65535 else "a port number from 0 to 65535"


# what no URL holds as written (RFC 3986): white space, control characters, and the
# delimiters a feed or a header would break on; a non-ASCII path or host is an IRI, kept
_NOT_IN_URL = re.compile(r'[\s\x00-\x1f\x7f<>"{}|\\^`]')


_HOST_LABEL = re.compile(r"[A-Za-z0-9_-]+")
_NUMBER_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")


def whatwg_parsable(url: str) -> bool:
    """Whether the WHATWG URL parser (Node's and the browsers') reads ``url``: Fedify's
    vocabulary, and so every server built on it, refuses an object with a URL it cannot
    parse whole, and with it the collection page that holds it. The ingest takes any
    RFC 3986 host (``web_address``); WHATWG refuses a host with an escape of a space or
    a slash in it, one whose last label is a number but that is no IPv4 address
    (``192.168.1.300``, ``news.2023``), punycode that does not decode, and an IPv6
    literal with a zone or an IPvFuture one. A host of letters, digits, ``-`` and ``_``
    (punycode that decodes), a dotted IPv4 address or an IPv6 literal passes; any other
    is taken for one it refuses."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if parts.netloc.rpartition("@")[2].startswith("["):
        try:
            return "%" not in host and isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
        except ValueError:
            return False
    labels = host.removesuffix(".").split(".")
    if _NUMBER_LABEL.fullmatch(labels[-1]):  # WHATWG reads the host as an IPv4 address
        try:
            ipaddress.IPv4Address(host.removesuffix("."))
        except ValueError:
            return False
        return True
    for label in labels:
        if not _HOST_LABEL.fullmatch(label):
            return False
        if label[:4].lower() == "xn--":
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                return False
    return True


def http_url(v: str) -> str | None:
    """An absolute http(s) URL with a host and, if any, a port of 1 to 65535:
    ``http://[::1/`` (no closing bracket) stopped every command with a traceback, and
    ``http://example.com/my feeds/`` put a space in every link of every feed."""
    expected = "an http:// or https:// URL"
    try:
        parts = urlsplit(v)
        port = parts.port  # raises on a port out of range or not a number
    except ValueError as exc:
        return f"{expected} ({exc})"
    if port == 0:
        return f"{expected} (port 0 is no port to connect to)"
    if not (parts.scheme in ("http", "https") and parts.hostname):
        return expected
    found = _NOT_IN_URL.search(v)
    if found is not None:
        return f"{expected} without {found.group()!r} (percent-encode it)"
    return None


# seconds to wait before each attempt: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
DEFAULT_RETRY = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


# a control character: not in a feed's title (config show wrote it raw, as TOML no
# parser takes); tags and references: scofeed.markup, the rule release titles follow
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def plain_text(v: str) -> str | None:
    """Text the feeds show as text (a title, a description): HTML or an entity in it
    would be shown as written, or taken for markup by a reader that renders it (the W3C
    validator: "title should not contain HTML"). Markup is what release titles lose
    (``scofeed.markup``): an element of HTML, a tag with attributes, a comment, a
    reference; a word in angle brackets ("SCO <Digital> Forum") is prose."""
    found = ("<" in v and tag().search(v)) or ENTITY_REF.search(v)
    if found is not None:
        return f"plain text, without HTML (found {found.group()[:40]!r}...)"
    control = _CONTROL.search(v)
    if control is not None:
        return f"plain text, without control characters (found {control.group()!r})"
    return None


def plain_line(v: str) -> str | None:
    """``plain_text`` that shows something: an empty or blank feed title, description or
    author passed the check and stopped every build (feedgen requires them)."""
    if not v.strip():
        return "plain text, not empty"
    return plain_text(v)


def plain_name(v: str) -> str | None:
    ok = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", v)
    return None if ok else "a name of letters, digits, '-', '_' or '.'"


def delays(v: tuple[int, ...]) -> str | None:
    ok = bool(v) and len(v) <= 50 and all(0 <= x <= 7 * 86400 for x in v)
    return None if ok else "a non-empty list of at most 50 delays in seconds (0 to 604800)"


def crontab_line(v: str) -> str | None:
    """What is wrong with a source's crontab line: it does not parse, or names a day
    that never comes ("0 0 30 2 *": refused, where the source would never be polled)."""
    # Deliberately lazy: APScheduler's cron module costs ~80 ms to import and only a
    # config with a cron line needs it (every CLI command loads the config).
    from apscheduler.triggers.cron import CronTrigger

    try:
        trigger = CronTrigger.from_crontab(v, timezone="UTC")
    except ValueError as exc:
        return f"expected a crontab line such as '*/30 * * * *' ({exc})"
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        return f"'{shown(v)}' never comes (no such day in any year)"
    return None


def request_timeout(v: float) -> str | None:
    return None if 0 < v <= 300 else "a number of seconds above 0 and at most 300"


_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def _language_hint(v: str) -> str:
    """Why ``v`` is no language tag: its code in upper case, or no code at all."""
    code, sep, rest = v.partition("-")
    if _LANGUAGE_TAG.fullmatch(code.lower() + sep + rest):
        return f" in lower case ({code.lower() + sep + rest!r}, not {v!r})"
    return f", an ISO 639 code of 2 or 3 letters (not {v!r})"


def language_tag(v: str) -> str | None:
    """A language tag as entries carry it: a lower-case ISO 639 code, subtags allowed
    ('en', 'zh', 'pt-BR'). An entry's language is never 'EN' or 'english', so a feed
    or a filter naming one would match nothing; nor 'rus', 'iw' or 'zh-yue', which an
    entry stating them carries as 'ru', 'he' or 'yue' (``languages.language_tag``), so
    site.language 'rus' put the entries it was guessed for in feeds of their own, apart
    from those stating 'rus'."""
    if not _LANGUAGE_TAG.fullmatch(v):
        return "a language tag like 'en'" + _language_hint(v)
    carried = carried_form(v)
    return f"a language tag as entries carry it ({carried!r}, not {v!r})" if carried else None


def carried_form(v: str) -> str | None:
    """The tag entries carry for the well-formed tag ``v`` when its language code is
    another ('ru' for 'rus', 'he' for 'iw', 'yue-HK' for 'zh-yue-HK'), else None."""
    carried = languages.language_tag(v) or v
    return carried if carried.partition("-")[0] != v.partition("-")[0] else None


def language_tags(v: tuple[str, ...]) -> str | None:
    bad = [t for t in v if not _LANGUAGE_TAG.fullmatch(t)]
    return "language tags like 'en'" + _language_hint(bad[0]) if bad else None


def tag_slug(tag: str) -> str:
    """A tag's path segment: lower case, letters and digits of any script with the marks
    that go with them (the vowel signs of Devanagari, Arabic's short vowels: without
    them "हिन्दी" was "ह-न-द", and other words the same slug), runs of anything else
    made one '-' (so never '.', '/' or '..'); '' when nothing is left."""
    text = unicodedata.normalize("NFKC", tag).casefold()
    words = re.findall(r"[^\W_]+", text)
    if not text.isascii() and any(unicodedata.category(c)[0] == "M" for c in text):
        words = _words_with_marks(text)
    return "-".join(words)[:64].strip("-")


def _words_with_marks(text: str) -> list[str]:
    """The runs of letters and digits in ``text``, each with the marks that follow its
    characters (a mark with nothing before it to go with is a separator)."""
    words: list[str] = []
    run = ""
    for c in text:
        kind = unicodedata.category(c)[0]
        if kind in "LN" or (kind == "M" and run):
            run += c
        elif run:
            words.append(run)
            run = ""
    return [*words, run] if run else words
