"""The configuration's shape: one frozen dataclass per section, defaults, allowed values.

A key is a field; a field made with ``check(fn)`` has its value vetted by ``fn`` (None
when fine, else what is expected) and ``redact=True`` marks a URL whose path may hold a
token (shown as ``https://host/***``). A section may check across its keys in a
``validate(key)`` method, which the loader calls with the section's dotted name. Reading
and converting the TOML is ``config.load``'s job, showing it ``config.show``'s.

``check``, ``Secret`` and the shared checks are in ``config.fields``; the outbound
sections (webhooks, WebSub, ActivityPub) in ``config.push``; the remote sources
(``[[sources]]``) in ``config.sources``.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from scofeed.config.fields import (
    MAX_SECONDS,
    Secret,
    carried_form,
    check,
    days_up_to,
    http_url,
    language_tag,
    one_of,
    plain_line,
    port_number,
    positive,
    seconds_up_to,
    tag_slug,
    whatwg_parsable,
)
from scofeed.config.push import (
    ActivityPubConfig,
    Webhook,
    WebSubConfig,
    distinct_names,
)
from scofeed.config.sources import (
    RemoteSource,
    unique_names,
)
from scofeed.errors import ConfigError
from scofeed.frozen import frozen

FORMATS = ("atom", "rss", "json")
FEED_FILES = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}  # format -> file
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")  # scofeed.logs.FORMATS


def _timezone(v: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(v)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "an IANA time zone name such as 'Asia/Shanghai'"
    return None


# RFC 4151: a DNS name (lower case here), or an email address: letters, digits, "-", "."
# and "_" at a DNS name (any case, as the RFC allows: "a<b>@c" was taken, and every id
# made from it was no tag URI), and "+", which the RFC leaves out and a URI may hold:
# an authority "me+feeds@example.org" taken before must still start the daemon
_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_AUTHORITY = re.compile(
    rf"^({_LABEL}(\.{_LABEL})+|(?i:[a-z0-9._+-]+@{_LABEL}(\.{_LABEL})*))"
    r",\d{4}(-\d{2}(-\d{2})?)?$"
)


def _authority(v: str) -> str | None:
    ok = bool(_AUTHORITY.match(v)) and _real_day(v.rsplit(",", 1)[-1])
    return None if ok else "a tag: authority 'domain,YYYY[-MM[-DD]]' (RFC 4151), lower case"


def _real_day(text: str) -> bool:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` naming a day that is (2026-13 is not)."""
    try:
        date.fromisoformat((text + "-01-01")[:10])
    except ValueError:
        return False
    return True


def _formats(v: tuple[str, ...]) -> str | None:
    bad = [f for f in v if f not in FORMATS]
    if bad or not v or len(set(v)) != len(v):
        return "a non-empty list drawn from " + ", ".join(repr(f) for f in FORMATS) + ", each once"
    return None


_DOTTED_QUAD = re.compile(r"[0-9]+(?:\.[0-9]+){3}")
_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")


def _listen_host(v: str) -> str | None:
    """An address or host name to listen on: "999.1.1.1" passed `config check`, then
    `scofeed run` could not listen."""
    text = v.strip("[]")
    try:
        ipaddress.ip_address(text)
        return None
    except ValueError:
        pass
    if text and not _DOTTED_QUAD.fullmatch(text) and _HOST_NAME.fullmatch(text):
        return None
    return "an IP address (127.0.0.1, ::1, 0.0.0.0, ::) or a host name such as localhost"


def _hosts(v: tuple[str, ...]) -> str | None:
    ok = all(re.fullmatch(r"[a-z0-9]([a-z0-9.:-]*[a-z0-9])?", h) for h in v)
    return None if ok else "a list of lower-case host names such as 'sectsco.org'"


def host_in(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether the URL's host is one of ``hosts`` or a subdomain of one (a trailing dot
    and the port ignored: ``https://eng.sectsco.org./x`` is on ``sectsco.org``)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    return bool(host) and any(host == h or host.endswith("." + h) for h in hosts)


SITE_TITLE = "SCO Secretariat press releases"  # site.title's default


@frozen
class SiteConfig:
    """``[site]``: what the feeds say about themselves, and the ids' authority."""

    title: str = check(plain_line, default=SITE_TITLE)
    description: str = check(
        plain_line, default="Press releases of the Shanghai Cooperation Organisation Secretariat."
    )
    base_url: str = check(http_url, default="http://127.0.0.1:8080/")
    author: str = check(plain_line, default="SCO Secretariat")
    language: str = check(language_tag, default="en")
    timezone: str = check(_timezone, default="Asia/Shanghai")
    id_authority: str = check(_authority, default="scofeed.example,2026")
    # hosts (and their subdomains) whose pages are the official record: a remote source
    # on one of them outranks other sources (docs/provenance.md)
    official_hosts: tuple[str, ...] = check(_hosts, default=("sectsco.org",))

    @property
    def home(self) -> str:
        """``base_url`` as the folder the feeds are served from, with its trailing slash:
        written without one (``https://example.org/sco``), the feeds' home link named
        the folder's parent in relative terms while the feeds sat under ``/sco/``."""
        return self.base_url.rstrip("/") + "/"


@frozen
class PathsConfig:
    """``[paths]``: the sources folder, the feeds folder and the state store."""

    sources: Path = Path("sources")
    feeds: Path = Path("feeds")
    state: Path = Path("state/scofeed.sqlite3")

    def validate(self, key: str) -> None:
        """The three apart: a scan reads every file under sources/ (but hidden ones),
        so feeds there were refused as releases at every build, and a store there
        (with its -wal and -shm files) was read as one while being written."""
        sources, feeds = self.sources.resolve(), self.feeds.resolve()
        releases_in = "every build would read its own feeds as releases"
        refuse_inside(f"{key}.feeds", feeds, "a folder", [("paths.sources", sources, releases_in)])
        if sources.is_relative_to(feeds):
            raise ConfigError(
                f"{key}.feeds: expected a folder that does not hold paths.sources "
                f"({sources}), got {feeds}: the releases' files would be published"
            )
        state = self.state.resolve()
        try:  # a folder this user may not look into (the daemon's): said where it opens
            folder = state.is_dir()
        except OSError:
            folder = False
        if folder:  # every command opening the store failed, exit 1 (restarted)
            raise ConfigError(
                f"{key}.state: expected the store's file (such as state/scofeed.sqlite3), "
                f"got a folder: {state}"
            )
        self.refuse_store_inside(f"{key}.state", state, "a file", "the store")

    def refuse_store_inside(self, key: str, path: Path, kind: str, what: str) -> None:
        """``path`` (resolved), where the store or a copy of it (``what``) goes, must be
        outside ``sources`` (every scan would read it) and ``feeds`` (a web server would
        serve it, the WebSub subscribers' secrets with it; operations.md)."""
        read = f"every scan would read {what} as a release"
        served = f"a web server serving the feeds' folder would serve {what}"
        folders = [("paths.sources", self.sources.resolve(), read)]
        refuse_inside(key, path, kind, [*folders, ("paths.feeds", self.feeds.resolve(), served)])


def refuse_inside(
    key: str, path: Path, kind: str, folders: Sequence[tuple[str, Path, str]]
) -> None:
    """``path`` (resolved; ``kind``: "a file" or "a folder") must be outside each folder
    (its key, the folder resolved, what would go wrong there): a ConfigError naming the
    first that holds it."""
    for name, folder, why in folders:
        if path.is_relative_to(folder):
            raise ConfigError(
                f"{key}: expected {kind} outside {name} ({folder}), got {path}: {why}"
            )


# folders under feeds/ (and paths of the site) that a language's feeds may not take:
# the main feeds' archive pages, the tags' feeds and pages, entry pages, index pages,
# the WebSub hub's default path, the health check
RESERVED_PATHS = ("archive", "tags", "entries", "page", "websub", "healthz")


def _feed_path(v: str | None) -> str | None:
    if v in RESERVED_PATHS:
        return "a folder name other than the reserved " + ", ".join(map(repr, RESERVED_PATHS))
    ok = v is None or re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", v)
    return None if ok else "a folder name of lower-case letters, digits, '-' or '_'"


# a language's own name, and the defaults of its feeds' title and description, while
# site.title is its default (the Secretariat's own titles: a site of another title
# takes it for every language, else its language feeds claim to be the Secretariat's)
LANGUAGE_DEFAULTS = {
    "en": ("SCO Secretariat press releases (English)",
           "Press releases of the Shanghai Cooperation Organisation Secretariat, in English."),
    "ru": ("Пресс-релизы Секретариата ШОС",
           "Пресс-релизы Секретариата Шанхайской организации сотрудничества, на русском языке."),
    "zh": ("上海合作组织秘书处新闻稿",
           "上海合作组织秘书处发布的新闻稿（中文）。"),
}  # fmt: skip


@frozen
class LanguageFeed:
    """``[feeds.languages.<code>]``: the title, description and folder of one language's
    feeds (defaults: ``LANGUAGE_DEFAULTS``, else the site's title with the code)."""

    title: str | None = check(plain_line, default=None)
    description: str | None = check(plain_line, default=None)
    path: str | None = check(_feed_path, default=None)  # folder under feeds/; default: the code


def _languages(v: dict[str, LanguageFeed]) -> str | None:
    bad = [k for k in v if language_tag(k)]
    if not bad:
        return None
    carried = carried_form(bad[0])
    if carried:
        return f"language codes as entries carry them as table names ({carried!r}, not {bad[0]!r})"
    return f"language codes like 'ru' as table names (not {bad[0]!r})"


# what an entry's language set may be, besides site.language: the code of a language
# tag (render.catalog.set_language: 'az' for an entry in 'az-Arab'), whose feeds are
# in a folder of that name
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


def language_folder_clash(languages: dict[str, LanguageFeed], site_language: str) -> str | None:
    """Why one configured language's folder (``path``) is, or may become, another
    language's, else None; the problem starts with the key it is about. A language with
    no ``path`` has its code as folder, and any code may come (a release's metadata, a
    remote feed's ``<language>``): a path that is a code (2 or 3 letters) or
    site.language is only its own language's. Two languages in one folder wrote one
    feed over the other and listed it twice in feeds.opml."""
    owner: dict[str, str] = {}  # folder -> the language whose feeds are there
    for code, lf in languages.items():
        folder = lf.path or code
        key = f"feeds.languages.{code}.path"
        other = owner.get(folder)
        if other is not None:
            return f"{key}: {folder!r} is already the folder of feeds.languages.{other}"
        owner[folder] = code
        if folder == code:
            continue
        if LANGUAGE_CODE.fullmatch(folder) or folder in languages:
            return (
                f"{key}: {folder!r} is the folder of the {folder!r} language's feeds; "
                "pick a name that is no language code (not 2 or 3 letters)"
            )
        if folder == site_language.lower():
            return f"{key}: {folder!r} is the folder of site.language's feeds; pick another name"
    return None


@frozen
class FeedsConfig:
    """``[feeds]``: which feeds are written, how long, with what pages."""

    entries: int = check(positive, default=50)
    formats: tuple[str, ...] = check(_formats, default=FORMATS)
    archives: bool = True  # RFC 5005 archive pages, one per month (feeds/archive/YYYY-MM/)
    metadata_tags: bool = False  # tags given in a release's metadata get feeds too
    languages: dict[str, LanguageFeed] = check(_languages, default_factory=dict)
    # days a withdrawn entry's RFC 6721 tombstone (at:deleted-entry) stays in the Atom
    # feed; 0: no tombstones (the entry is only left out)
    tombstone_days: int = check(days_up_to(zero=True), default=30)


def _seconds(v: float) -> str | None:
    return None if 0 <= v <= 3600 else "a number of seconds from 0 to 3600"


@frozen
class LimitsConfig:
    """``[limits]``: the size and time one input may take, and how long records stay."""

    max_file_bytes: int = check(positive, default=2_000_000)
    # days a refused `scofeed add` input stays listed
    reject_ttl: int = check(days_up_to(), default=7)
    # days a delivered webhook or ActivityPub delivery keeps its body (store.outbox.prune);
    # 0: kept for ever. Failed deliveries are kept whatever this says
    delivered_days: int = check(days_up_to(zero=True), default=90)
    # seconds a file in sources/ must have kept its size and mtime before it is read
    # (a half-written file waits); 0 reads every file at once
    settle: float = check(_seconds, default=2.0)
    # seconds one file may take to parse and normalise in a build (pool.FILE_SECONDS)
    file_seconds: float = check(seconds_up_to(86400), default=5.0)
    # seconds a command or the daemon waits for the state store's lock while another
    # process holds it (a build, a sqlite3 shell, a backup tool) before it gives up
    store_wait: float = check(seconds_up_to(86400), default=30.0)


@frozen
class ScheduleConfig:
    """``[schedule]``: how often the daemon scans sources/ and delivers."""

    scan_interval: int = check(seconds_up_to(MAX_SECONDS), default=60)
    deliver_interval: int = check(seconds_up_to(MAX_SECONDS), default=5)
    # seconds a stop (SIGTERM, Ctrl-C) gives running jobs and requests in flight to finish
    # above the webhooks' default timeout (15 s): an attempt in flight at a stop ends by
    # its own deadline, not cut to be sent again after the restart
    stop_seconds: float = check(seconds_up_to(86400), default=20.0)


@frozen
class RecheckConfig:
    """Official pages (a page-list source's articles, `scofeed add URL` pages) fetched
    again while recent, so an edit on the site becomes a correction."""

    enabled: bool = True  # the daemon runs the recheck job
    days: int = check(days_up_to(), default=30)  # pages published in the last `days` days
    # seconds between two checks of a page
    interval: int = check(seconds_up_to(MAX_SECONDS), default=86400)


CLIENT_HEADERS = ("X-Forwarded-For", "Forwarded")


def _networks(v: tuple[str, ...]) -> str | None:
    """IP networks (``10.0.0.0/8``, ``::1``), each with no bits set past its prefix
    (``10.0.0.1/8`` is a typo for an address or a network: refused, not guessed)."""
    for text in v:
        try:
            ipaddress.ip_network(text)
        except ValueError:
            return f"IP addresses or networks such as '10.0.0.0/8' or '::1' (not {text!r})"
    return None


def _metrics_token(v: Secret | None) -> str | None:
    if v is None or v.problem is not None or len(v.value) >= 16:
        return None
    return "at least 16 characters (a bearer token Prometheus sends; e.g. `openssl rand -hex 24`)"


@frozen
class ServeConfig:
    """``[serve]``: where the daemon serves the feeds."""

    host: str = check(_listen_host, default="127.0.0.1")
    port: int = check(port_number, default=8080)
    # the reverse proxies whose X-Forwarded-For / Forwarded name the client (serve.clients)
    trusted_proxies: tuple[str, ...] = check(_networks, default=())
    # which of the two they set: only that one is read (the other is the client's own)
    client_header: str = check(one_of(*CLIENT_HEADERS), default="X-Forwarded-For")
    # /metrics (Prometheus) answers only with this set, to requests that carry it
    metrics_token: Secret | None = check(_metrics_token, default=None)
    # one INFO line a request (serve.access): off, a reverse proxy in front keeps its own
    access_log: bool = False


@frozen
class LogConfig:
    """``[log]``: how much the daemon logs."""

    level: str = check(one_of(*LEVELS), fold=str.upper, default="INFO")  # "debug" too
    format: str = check(one_of(*LOG_FORMATS), default="text")  # scofeed.logs


def _tag_names(v: dict[str, tuple[str, ...]]) -> str | None:
    """None, or a ConfigError naming every problem of the rules, one a line (the first
    alone took a run of ``config check`` each)."""
    seen: dict[str, str] = {}
    problems = []
    for name in v:
        slug = tag_slug(name)
        if not slug:
            problems.append(f"tag names with a letter or digit (not {name!r})")
        elif slug in seen:
            problems.append(f"tag names that differ as feed folders ({seen[slug]!r} and {name!r})")
        seen.setdefault(slug, name)
        # a blank keyword matched every release ("whole words" of nothing)
        if any(not k.strip() for k in v[name]):
            problems.append(f"keywords that are not blank (tag {name!r} has one)")
    if len(problems) > 1:
        raise ConfigError("\n".join(f"tags: expected {p}" for p in problems))
    return problems[0] if problems else None


def _loopback(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")


@frozen
class Config:
    """The whole config.toml: one field per section."""

    site: SiteConfig = SiteConfig()
    paths: PathsConfig = PathsConfig()
    feeds: FeedsConfig = FeedsConfig()
    limits: LimitsConfig = LimitsConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    recheck: RecheckConfig = RecheckConfig()
    serve: ServeConfig = ServeConfig()
    log: LogConfig = LogConfig()
    # tag name -> keywords; an entry whose text holds any keyword gets the tag
    tags: dict[str, tuple[str, ...]] = check(_tag_names, default_factory=dict)
    # remote sources, polled by `scofeed poll` and the daemon ([[sources]] tables)
    sources: tuple[RemoteSource, ...] = check(unique_names, default=())
    webhooks: tuple[Webhook, ...] = check(distinct_names, default=())
    websub: WebSubConfig = WebSubConfig()
    activitypub: ActivityPubConfig = ActivityPubConfig()
    path: Path | None = None  # the file this came from; not a key

    def polled(self) -> frozenset[str]:
        """The names of the remote sources polled: what a record of a source's polls or
        refusals is shown for (one removed, the fix of a broken one, is no more)."""
        return frozenset(s.name for s in self.sources if s.enabled)

    def validate(self, key: str) -> None:
        clash = language_folder_clash(self.feeds.languages, self.site.language)
        if clash:
            raise ConfigError(clash)
        if self.activitypub.enabled:
            parts = urlsplit(self.site.base_url)
            if parts.scheme != "https" and not _loopback(parts.hostname or ""):
                raise ConfigError(
                    "activitypub.enabled: needs an https site.base_url (http only for "
                    f"loopback tests), got {self.site.base_url!r}"
                )
            if not whatwg_parsable(self.site.base_url):  # the actor's id: refused whole
                raise ConfigError(f"activitypub.enabled: needs a site.base_url whose host "
                                  f"the fediverse reads, got {self.site.base_url!r}")  # fmt: skip
            key_file = self.activitypub.key_path(self.paths.state).resolve()
            state = self.paths.state.resolve()
            own = [state, *(Path(f"{state}{end}") for end in ("-wal", "-shm", "-journal", ".lock"))]
            if key_file in own:  # `config check` said ok, then `scofeed run` refused: exit 2
                raise ConfigError(
                    f"activitypub.key: expected a file other than the state store and its "
                    f"-wal, -shm, -journal and .lock files ({state}), got {key_file}"
                )
            refuse_inside(  # the default is beside the store, refused above
                "activitypub.key",
                key_file,
                "a file",
                [
                    ("paths.sources", self.paths.sources.resolve(),
                     "every scan would read the private key as a release"),
                    ("paths.feeds", self.paths.feeds.resolve(),
                     "a web server serving the feeds' folder would serve the key"),
                ],
            )  # fmt: skip

    def authority_of(self, source: str) -> str:
        """The kind of input a release from ``source`` (a remote source's name, or
        "local" for sources/ and ``scofeed add``) is: local, official or other."""
        if source == "local":
            return "local"
        src = next((s for s in self.sources if s.name == source), None)
        if src is None:
            return "other"  # a source since removed from the config
        if src.authority is not None:
            return "official" if src.authority == "official" else "other"
        if src.kind == "page-list" or host_in(src.url, self.site.official_hosts):
            return "official"
        return "other"

    def feed_url(self, fmt: str) -> str:
        return self.site.base_url.rstrip("/") + "/" + FEED_FILES[fmt]

    def secret_problems(self) -> list[str]:
        """Why each secret that could not be read here (``Secret.problem``): the webhooks'
        and the metrics token."""
        problems = [problem for h in self.webhooks for problem in h.secret_problems()]
        token = self.serve.metrics_token
        if token is not None and token.problem is not None:
            problems.append(token.problem)
        return problems

    def require_secrets(self) -> Config:
        """This config, when every secret could be read; else a ``ConfigError`` naming
        each one. For the commands that sign or serve (``run``, ``serve``, ``deliver``,
        ``webhook test``) and ``config check``; the others never use a secret."""
        problems = self.secret_problems()
        if problems:
            raise ConfigError("\n".join(problems))
        return self

    def hub_urls(self) -> tuple[str, ...]:
        """The WebSub hubs every feed advertises: the built-in one first, when enabled.
        An external hub's ``user:password@`` is for our pings alone (a hub may want
        them): advertised, it was published in every feed and Link header."""
        ws = self.websub
        own = (self.site.base_url.rstrip("/") + ws.hub_path,) if ws.enabled else ()
        public = (_without_user(h) for h in ws.hubs)
        return own + tuple(h for h in dict.fromkeys(public) if h not in own)


def _without_user(url: str) -> str:
    """``url`` without its ``user:password@`` (config validation made it a URL)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
