"""Reading other servers: actors and their public keys, behind the address guard.

Every GET is signed with our key (servers in "authorized fetch" mode require it), goes
through the webhook sender's address guard (``deliver/sender.py``: the host must
resolve to global addresses only, unless ``[activitypub] allow_private``), follows no
redirect, and reads at most ``MAX_DOCUMENT`` bytes. Keys are cached in the store by
keyId; ``key_for(..., refresh=True)`` fetches again (after a signature failed with the
cached one), at most once per ``REFRESH_AFTER`` seconds per key.
"""

from __future__ import annotations

import json
import logging
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

log = logging.getLogger(__name__)

MAX_DOCUMENT = 1024 * 1024
REFRESH_AFTER = 60.0
ACCEPT = f"{ACTIVITY_JSON}, {LD_JSON}"


def session(allow_private: bool) -> requests.Session:
    return sender.session(allow_private)  # the pushes' one session recipe


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
    ) -> None:
        self.store = store
        self.keypair = keypair
        self.key_id = key_id
        self.timeout = timeout
        self.clock = clock
        self.allow_private = allow_private
        self._session = session(allow_private)

    def close(self) -> None:
        self._session.close()

    def get(self, url: str) -> dict[str, Any]:
        """A JSON object from ``url``, fetched with a signed GET."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("not an http(s) URL")
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
                if watch.expired:
                    raise FetchError(late) from None
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
                if watch.expired:
                    raise FetchError(late) from None
                raise FetchError(str(sender.explain(exc, self.timeout))) from None
            finally:
                resp.close()
            if watch.expired:  # the document was cut off at the deadline
                raise FetchError(late)
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise FetchError("not JSON") from None
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
        cached = rows.get_key(self.store.db, key_id)
        stale = cached is not None and self.clock() - cached.fetched_at > REFRESH_AFTER
        if cached is not None and not (refresh and stale):
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
        found = rows.RemoteKey(key_id, owner, pem, self.clock())
        with self.store.transaction() as db:
            rows.put_key(db, found)
        log.info("activitypub_key_fetched key_id=%s owner=%s", key_id, owner)
        return found


def _find_key(doc: dict[str, Any], key_id: str) -> dict[str, Any] | None:
    if doc.get("id") == key_id and "publicKeyPem" in doc:  # a key document itself
        return doc
    keys = doc.get("publicKey")
    for k in keys if isinstance(keys, list) else [keys]:
        if isinstance(k, dict) and k.get("id") == key_id:
            return k
    return None
