"""Identity: which release is which, and the ids and addresses derived from that. Pure.

A release is known by its key (``id`` in its metadata), else its URL key (``url_key``:
the canonical URL without ``www.``, escapes in one spelling), else
the fingerprint of its title and first paragraph (``identity_of``: the one rule, used
by normalise to mint the id and by ingest to find the stored entry; ingest also
compares the folded fingerprint, ``folded_fingerprint``). The id is a tag:
URI minted from that identity once; the store keeps it thereafter. ``content_hash``
tells a changed release from an unchanged one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from scofeed.digest import sha256
from scofeed.model import Entry, Release
from scofeed.normalise.text import compare_key, fold_key, keys_of
from scofeed.patterns import TRACKERS, later


def fingerprint(title: str, first_paragraph: str) -> str:
    """Same release, whatever its spacing, punctuation or case. It mints the id of a
    release known by nothing else (``identity_of``): never changed, so a rebuild mints
    the ids an earlier scofeed did."""
    keys = compare_key(title) + "\n" + compare_key(first_paragraph)
    return sha256(keys.encode()).hexdigest()[:32]


def folded_fingerprint(title: str, first_paragraph: str) -> str:
    """The same release, whatever its Unicode form, compatibility characters (full-width
    letters) or ё/е too (``fold_key``): for matching only, never for an id. The same as
    ``fingerprint`` where there is nothing to fold (all English releases)."""
    keys = fold_key(title) + "\n" + fold_key(first_paragraph)
    return sha256(keys.encode()).hexdigest()[:32]


def fingerprints(title: str, first_paragraph: str) -> tuple[str, str]:
    """``fingerprint`` and ``folded_fingerprint`` at once, each text read once for both
    (``keys_of``): normalise's, for a release with something to fold."""
    (title_key, title_fold), (first_key, first_fold) = keys_of(title), keys_of(first_paragraph)
    keys = title_key + "\n" + first_key
    fp = sha256(keys.encode()).hexdigest()[:32]
    folds = title_fold + "\n" + first_fold
    return fp, fp if folds == keys else sha256(folds.encode()).hexdigest()[:32]


def identity_of(release: Release, fingerprint: str) -> tuple[str, str | None]:
    """What makes a release this release, and its URL key (None without one): its key,
    else its URL, else the fingerprint of its title and first paragraph."""
    address = web_address(release.url) if release.url else None
    key = url_key(address) if address else None
    if release.key:
        return f"key:{release.key}", key
    if address and key:
        # the id is minted from the address as spelled before escapes were compared:
        # a rebuild from the same files mints the ids an earlier scofeed did
        return f"url:{_site_key(canonical_url(address))}", key
    return f"fp:{fingerprint}", None


def mint_id(authority: str, identity: str) -> str:
    """A tag: URI (RFC 4151). Minted once per entry; the store keeps it thereafter."""
    digest = sha256(identity.encode()).hexdigest()[:20]
    return f"tag:{authority}:release/{digest}"


def id_slug(entry_id: str) -> str:
    """The last part of an entry id, used in /entries/<slug> page addresses."""
    return entry_id.rsplit("/", 1)[-1]


def entry_page(base_url: str, entry_id: str) -> str:
    return base_url.rstrip("/") + "/entries/" + id_slug(entry_id)


def adopt_id(entry: Entry, entry_id: str, base_url: str) -> Entry:
    """The entry under an id the store already knows (its link follows when it is ours)."""
    if entry_id == entry.id:
        return entry
    link = entry.url or entry_page(base_url, entry_id)
    return replace(entry, id=entry_id, link=link)


# every character RFC 3986 allows in a URI: unreserved, reserved and "%"
_RFC3986 = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_NETLOC = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]%]+")
_PART_SAFE = "!$&'()*+,;=:@/?%-._~"


def web_address(url: str) -> str | None:
    """The address as an absolute http(s) URI of RFC 3986 characters only, or None when
    it is not one (no host, another scheme, a bad port or host name). Characters outside
    RFC 3986 in the path, query or fragment are percent-encoded (UTF-8), a bare ``%``
    becomes ``%25``, an international host name is IDNA-encoded: ``"><script>`` in a
    URL reaches a feed as ``%22%3E%3Cscript%3E``, never as markup. A user name and
    password are left out: an address is published, and a source's URL may hold the
    credentials its pages are fetched with."""
    raw = _URL_EDGES.sub("", url)
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    hostname = parts.hostname
    if parts.scheme.lower() not in _DEFAULT_PORTS or not hostname:
        return None
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
        raw = urlunsplit(parts)
    if _RFC3986.fullmatch(raw) and not _BARE_PERCENT.search(raw) and "[" not in parts.path:
        return raw
    netloc = parts.netloc
    if not netloc.isascii():
        try:
            netloc = netloc.replace(hostname, hostname.encode("idna").decode())
        except UnicodeError:
            return None
    if not _NETLOC.fullmatch(netloc):
        return None

    def part(s: str) -> str:
        return quote(_BARE_PERCENT.sub("%25", s), safe=_PART_SAFE)

    return urlunsplit(
        (parts.scheme.lower(), netloc, part(parts.path), part(parts.query), part(parts.fragment))
    )


# the parameters the canonical URL leaves out: never changed, since ids and content
# hashes are made from it (a rebuild mints the ids an earlier scofeed did)
_TRACKING = (
    r"utm_[a-z_]+|fbclid|gclid|dclid|yclid|msclkid|igshid|mc_[a-z]+|_ga|_gl|spm|"
    r"from|ref_src|share|mkt_tok"
)


# tracking parameters' names, compiled when a first address has a query (1 ms)
_tracking = later(f"(?:{_TRACKING})$", re.IGNORECASE)
# and those the URL key leaves out: these and every one an entry is shown without
# (``patterns.TRACKERS``), so that two addresses shown as one are one release
_tracking_key = later(f"(?:{_TRACKING}|{TRACKERS})$", re.IGNORECASE)


_DEFAULT_PORTS = {"http": 80, "https": 443}


_URL_EDGES = re.compile(r"^[\s\x00-\x20]+|[\s\x00-\x20]+$")


def canonical_url(url: str, for_key: bool = False) -> str:
    """One spelling per address: https, lower-case host without trailing dot or default
    port, no fragment, no tracking parameters (the rest sorted), no trailing slash,
    no empty path segments. An address that cannot be parsed is only trimmed.
    ``for_key``: every tracking parameter left out (``url_key``'s), not only those ids
    and content hashes were always made without."""
    raw = _URL_EDGES.sub("", url)  # what urlsplit would strip, and all white space
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    tracking = _tracking_key() if for_key else _tracking()
    query = urlencode(sorted((k, v) for k, v in pairs if not tracking.match(k)))
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    if scheme in _DEFAULT_PORTS:
        scheme = "https"
    # an empty query or fragment can leave white space at the end: one spelling still
    return _URL_EDGES.sub("", urlunsplit((scheme, host, path, query, "")))


_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _escape(m: re.Match[str]) -> str:
    char = chr(int(m.group()[1:], 16))
    return char if char in UNRESERVED else m.group().upper()


def url_key(url: str) -> str:
    """The key two spellings of one address share: the canonical URL, without a leading
    ``www.`` on a host that keeps a dot after it (``www.sectsco.org`` and ``sectsco.org``
    are one site), a character outside RFC 3986 escaped (``/пр`` is ``/%D0%BF%D1%80``, as
    ``web_address`` writes it), its percent-escapes in upper case and those of unreserved
    characters decoded (RFC 3986, 6.2.2: ``%d0%bf`` is ``%D0%BF``, ``%7E`` is ``~``).
    Only matching uses it; the content hash keeps ``canonical_url``, so entries stored
    before these rules keep their hashes (migrations re-key them)."""
    key = _site_key(canonical_url(web_address(url) or url, for_key=True))  # others escaped
    return _ESCAPE.sub(_escape, key) if "%" in key else key


def _site_key(canon: str) -> str:
    """The canonical URL without a leading ``www.`` (when a dot remains after it): the
    URL key before escapes were compared, which mints ids (``identity_of``)."""
    if canon.startswith("https://www."):
        rest = canon[len("https://www.") :]
        host = rest.split("/", 1)[0].split(":", 1)[0]
        if "." in host:
            return "https://" + rest
    return canon


# what json.dumps(sort_keys=True, ensure_ascii=False, default=str) builds on every call
_HASH_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)
# the bytes of UTF-8 text a JSON string holds as they are: not '"', "\\" nor a control
# character (the encoder escapes no other: with ensure_ascii=False it writes the rest as
# they are, and every byte of a character past ASCII is 0x80 or above)
_JSON_PLAIN = bytes(b for b in range(0x20, 0x100) if b not in b'"\\')


def _hash_blob(fields: Mapping[str, object]) -> bytes | None:
    """``_HASH_JSON.encode(fields).encode()`` for str keys and values of the shapes
    normalise uses (str, None, a list of str) whose only character to escape is a line
    end (as in every release's HTML): the keys and values put between quotes as they
    are, one C pass telling that nothing else needed escaping, one replace of the line
    ends. None for anything else (the encoder then does it)."""
    if type(fields) is not dict:  # the encoder writes another mapping as its str()
        return None
    keys = list(fields)
    if not all(type(key) is str for key in keys):
        return None
    pieces: list[str] = []  # joined once: each text is copied once, not at every "+"
    quotes = 0  # the quotes the JSON's own structure holds
    for key in sorted(keys):
        value = fields[key]
        pieces += (", " if pieces else "{", '"', key, '": ')
        if type(value) is str:
            pieces += ('"', value, '"')
            quotes += 4
        elif value is None:
            pieces.append("null")
            quotes += 2
        elif type(value) is list and all(type(v) is str for v in value):
            pieces += ("[", ", ".join(['"' + v + '"' for v in value]), "]")
            quotes += 2 + 2 * len(value)
        else:
            return None
    pieces.append("}" if pieces else "{}")
    try:
        raw = "".join(pieces).encode()
    except UnicodeEncodeError:  # a lone surrogate: the encoder's path raises as it did
        return None
    left = raw.translate(None, _JSON_PLAIN)  # the quotes, and what needs escaping
    ends = left.count(b"\n")
    if left.count(b'"') != quotes or len(left) != quotes + ends:
        return None
    return raw.replace(b"\n", b"\\n") if ends else raw


def content_hash(fields: Mapping[str, object]) -> str:
    """SHA-256 of the fields as ``json.dumps(fields, sort_keys=True, ensure_ascii=False,
    default=str)``: stored, and compared with what the store holds, so these bytes
    never change. Built by ``_hash_blob`` where it can (~3x cheaper on a release)."""
    blob = _hash_blob(fields)
    if blob is None:
        blob = _HASH_JSON.encode(fields).encode()
    return sha256(blob).hexdigest()
