"""Reading other servers: actors and their public keys, behind the address guard.

Every GET is signed with our key (servers in "authorized fetch" mode require it), goes
through the webhook sender's address guard (``deliver/sender.py``: the host must
resolve to global addresses only, unless ``[activitypub] allow_private``), follows no
redirect, and reads at most ``MAX_DOCUMENT`` bytes. Keys are cached in the store by
keyId; ``key_for(..., refresh=True)`` fetches again (after a signature failed with the
cached one), at most once per ``REFRESH_AFTER`` seconds per key. At most ``max_keys``
(``activitypub.max_keys``) are cached: a new one past it evicts the least recently used
(a key's use is noted at most once per ``USE_NOTED_EVERY`` seconds), which is fetched
again when it signs next. Anyone may mint keyIds on their own server, each signing
validly: cached for ever, a flood of them grew the store without bound.

The fetches run in the server's worker threads, while an inbox request waits for them:
at most ``FETCHES_AT_ONCE`` at a time, and a server (host and port) that did not answer
is not asked again for ``HOST_PAUSE`` seconds (``FetchError(later=True)``, which the
inbox answers with 503 and ``Retry-After``). Requests signed with keys on a server that
never answers held a worker for the whole timeout each: four of them stopped WebFinger,
the actor, the outbox and every genuine follow.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urldefrag, urlsplit

import requests

from scofeed.activitypub import httpsig
from scofeed.activitypub.documents import ACTIVITY_JSON, LD_JSON
from scofeed.activitypub.keys import KeyPair
from scofeed.deliver import sender
from scofeed.errors import AddressForbidden, FetchError
from scofeed.sources import deadline
from scofeed.store import Store
from scofeed.store import activitypub as rows
from scofeed.throttle import Throttle

log = logging.getLogger(__name__)

MAX_DOCUMENT = 1024 * 1024
REFRESH_AFTER = 60.0
FETCHES_AT_ONCE = 2  # of the server's four workers: the others answer everything else
HOST_PAUSE = 60.0  # seconds a host that did not answer is left alone
# what of a fetched key is cached: an RSA public key of 16,384 bits is 2.9 KB of PEM; a
# keyId and its owner are URLs. A key past these, or whose PEM is no RSA public key, is
# refused before it is cached: anyone may name any keyId on their own server, and a
# megabyte of PEM each was kept for ever
MAX_PEM = 16 * 1024
MAX_REF = 2048
USE_NOTED_EVERY = 600.0  # seconds: a cached key's last use is written at most this often
ACCEPT = f"{ACTIVITY_JSON}, {LD_JSON}"


def session(allow_private: bool) -> requests.Session:
    return sender.session(allow_private)  # the pushes' one session recipe


# a JSON escape of a UTF-16 surrogate: its string may hold one alone, which no UTF-8 holds
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def json_document(data: bytes) -> Any:
    """``data`` parsed as JSON (in UTF-8, -16 or -32, as ``json.loads`` reads bytes);
    ``ValueError`` for a string holding a lone surrogate (``"\\ud800"``: valid JSON,
    RFC 8259 section 8.2, but no text: such an activity id or inbox URL raised when it
    was stored, a 500 with a traceback at the inbox, which the sender retried for days).
    A pair (an emoji escaped) is one character, and fine."""
    text = data.decode(json.detect_encoding(data))  # the escape looked for in the text
    doc = json.loads(text)
    if _SURROGATE_ESCAPE.search(text):
        json.dumps(doc, ensure_ascii=False).encode("utf-8")  # UnicodeEncodeError: ValueError
    return doc


def object_id(value: Any) -> str | None:
    """The id of a reference: a string, or an object with an ``id``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


class Remote:
    def __init__(
        self,
        store: Store,
        keypair: KeyPair,
        key_id: str,
        allow_private: bool,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        max_keys: int | None = None,
    ) -> None:
        self.store = store
        self.max_keys = max_keys
        self._evictions = Throttle()  # their log line
        self.keypair = keypair
        self.key_id = key_id
        self.timeout = timeout
        self.clock = clock
        self.allow_private = allow_private
        self._session = session(allow_private)
        self._slots = threading.BoundedSemaphore(FETCHES_AT_ONCE)
        self._paused: dict[str, float] = {}  # host:port -> monotonic time to ask it again
        self._lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    def get(self, url: str) -> dict[str, Any]:
        """A JSON object from ``url``, fetched with a signed GET (see the module text for
        when it is not tried now)."""
        try:
            # the URL as requests sends it ("http://%zz/", which it cannot, was a 500): a
            # server is the one the request goes to, where urlsplit read on past a "\\"
            # ("http://a.evil.example\\@b.example/" goes to a.evil.example), and a
            # server that never answered left b.example alone
            parts = urlsplit(sender.wire_url(url))
        except (ValueError, requests.RequestException):
            raise FetchError("not an http(s) URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("not an http(s) URL")
        # a server: its host and port, however the URL spells them (no user name, a
        # default port written or not): a keyId is the sender's to choose
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:  # ":99999", ":abc": no address (it was a logged 500)
            raise FetchError("not an http(s) URL") from None
        host = f"{parts.hostname.rstrip('.').lower()}:{port}"
        with self._lock:
            until = self._paused.get(host, 0.0)
        if time.monotonic() < until:
            raise FetchError(f"{host} did not answer a moment ago", later=True)
        if not self._slots.acquire(blocking=False):
            raise FetchError("too many documents being fetched at once", later=True)
        try:
            return self._get(url)
        except FetchError as exc:
            if exc.unanswered:  # the host is left alone for a while
                with self._lock:
                    now = time.monotonic()
                    self._paused = {h: t for h, t in self._paused.items() if t > now}
                    self._paused[host] = now + HOST_PAUSE
            raise
        finally:
            self._slots.release()

    def _get(self, url: str) -> dict[str, Any]:
        key = self.keypair.private
        url = sender.wire_url(url)  # signed as sent: requests re-encodes the URL
        headers = httpsig.sign_cavage("GET", url, None, self.key_id, key, time.time())
        headers["Accept"] = ACCEPT
        late = sender.timed_out(self.timeout)
        with deadline.within(self.timeout) as watch:  # the whole GET, body included
            try:
                resp = self._session.get(
                    url, headers=headers, timeout=self.timeout, allow_redirects=False, stream=True
                )
            except Exception as exc:  # any failure is a FetchError, never a crash
                # no answer in time is the one failure that held a worker: the host is
                # then left alone a while; a refusal, a name not found, a TLS failure came
                # at once and are what they are (401 or 502 at the inbox)
                if watch.expired or isinstance(exc, requests.Timeout):
                    raise FetchError(late, unanswered=True) from None
                error = sender.explain(exc, self.timeout)
                raise FetchError(str(error), refused=isinstance(error, AddressForbidden)) from None
            try:
                if resp.status_code in (404, 410):
                    raise FetchError(f"HTTP {resp.status_code}", gone=True)
                if resp.status_code != 200:
                    raise FetchError(f"HTTP {resp.status_code}")
                data = b""
                for chunk in resp.iter_content(65536):
                    data += chunk
                    if len(data) > MAX_DOCUMENT:
                        raise FetchError(f"document larger than {MAX_DOCUMENT} bytes")
            except (requests.RequestException, OSError) as exc:
                if watch.expired or isinstance(exc, requests.Timeout):
                    raise FetchError(late, unanswered=True) from None
                raise FetchError(str(sender.explain(exc, self.timeout))) from None
            finally:
                resp.close()
            if watch.expired:  # the document was cut off at the deadline
                raise FetchError(late, unanswered=True)
        try:
            doc = json_document(data)
        except ValueError:  # a lone surrogate too (UnicodeError is one)
            raise FetchError("not JSON text") from None
        except RecursionError:  # a key or actor nested too deeply: was a 500 and a traceback
            raise FetchError("JSON nested too deeply") from None
        if not isinstance(doc, dict):
            raise FetchError("not a JSON object")
        return doc

    def actor(self, actor_id: str) -> dict[str, Any]:
        doc = self.get(actor_id)
        if doc.get("id") != actor_id:
            raise FetchError("the actor document has another id")
        if not isinstance(doc.get("inbox"), str):
            raise FetchError("the actor has no inbox")
        return doc

    def key_for(self, key_id: str, refresh: bool = False) -> rows.RemoteKey:
        """The public key ``key_id`` names, from the cache unless ``refresh``."""
        if len(key_id) > MAX_REF:
            raise FetchError(f"the keyId is longer than {MAX_REF} characters")
        cached = rows.get_key(self.store.db, key_id)
        now = self.clock()
        stale = cached is not None and now - cached.fetched_at > REFRESH_AFTER
        if cached is not None and not (refresh and stale):
            if cached.used_at is None or now - cached.used_at >= USE_NOTED_EVERY:
                with self.store.transaction() as db:
                    rows.touch_key(db, key_id, now)
            return cached
        url, _fragment = urldefrag(key_id)
        doc = self.get(url)
        key = _find_key(doc, key_id)
        if key is None:
            raise FetchError("no public key with that id in the document")
        owner = object_id(key.get("owner")) or object_id(doc) or ""
        pem = key.get("publicKeyPem")
        if not isinstance(pem, str) or not owner:
            raise FetchError("the key has no owner or no PEM")
        if urlsplit(owner).netloc != urlsplit(key_id).netloc:
            raise FetchError("the key's owner is on another host")
        if len(owner) > MAX_REF or len(pem) > MAX_PEM:
            raise FetchError("the key or its owner is larger than any real one")
        try:
            httpsig.load_public(pem)
        except httpsig.BadSignature as exc:
            raise FetchError(str(exc)) from None
        if object_id(doc) != owner:
            self._listed_by_owner(owner, key_id, pem)
        found = rows.RemoteKey(key_id, owner, pem, self.clock())
        with self.store.transaction() as db:
            evicted = rows.put_key(db, found, self.max_keys)
        log.info("activitypub_key_fetched key_id=%s owner=%s", key_id, owner)
        if evicted and (held := self._evictions.due()) is not None:
            log.info(
                "activitypub_keys_evicted limit=%d count=%d held_back=%d",
                self.max_keys, evicted, held,
            )  # fmt: skip
        return found

    def _listed_by_owner(self, owner: str, key_id: str, pem: str) -> None:
        """A key in a document of its own names its owner: the owner's actor must list
        it (its ``publicKey``), as Mastodon checks. Trusting the key document's word
        let anyone who can put a file on a follower's host (a user's home page) sign
        a Follow, an Undo or a Delete as any actor of that host."""
        keys = self.get(owner).get("publicKey")
        for k in keys if isinstance(keys, list) else [keys]:
            if k == key_id:  # listed by its id alone
                return
            if isinstance(k, dict) and k.get("id") == key_id:
                listed = k.get("publicKeyPem")
                if listed is None or isinstance(listed, str) and _same_pem(listed, pem):
                    return
        raise FetchError("the key's owner does not list it as its own")


def _same_pem(a: str, b: str) -> bool:
    return a.split() == b.split()  # the lines of one PEM, however its document wrapped it


def _find_key(doc: dict[str, Any], key_id: str) -> dict[str, Any] | None:
    if doc.get("id") == key_id and "publicKeyPem" in doc:  # a key document itself
        return doc
    keys = doc.get("publicKey")
    for k in keys if isinstance(keys, list) else [keys]:
        if isinstance(k, dict) and k.get("id") == key_id:
            return k
    return None
