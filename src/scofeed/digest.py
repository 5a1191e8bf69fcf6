"""SHA-256 for the build's hashes (ids, content, files, published versions), without
loading OpenSSL where that costs more than it saves.

``import hashlib`` loads OpenSSL's libcrypto: ~3 ms, near 3% of a one-shot build of the
seed (issue #9). CPython's own SHA-256 (``_sha256``) loads nothing, but hashes ~5x
slower (~14 against ~3 us for a 4 KB release). So the first ``BUILTIN_BYTES`` a process
hashes go through CPython's, and the rest through OpenSSL's: a build of a few releases
never loads it, a cold build of thousands loads it after its first ~30 releases (the
~0.5 ms spent meanwhile is less than the import saved where it is not needed). Once
something else loaded hashlib (a daemon pushing, signing), it is used from the start.
The digests are the same either way.
"""

from __future__ import annotations

import importlib
import sys
import zlib
from typing import Any

try:
    from _sha256 import sha256 as _builtin  # CPython 3.11
except ImportError:  # pragma: no cover - 3.12 renamed it; a build may have none
    try:
        from _sha2 import sha256 as _builtin  # type: ignore[no-redef]
    except ImportError:
        _builtin = None

BUILTIN_BYTES = 128 * 1024
_hashed = 0  # bytes hashed by the built-in one (a count that may race a little: harmless)
_openssl: Any = None  # hashlib.sha256, once a hash went through it


def sha256(data: bytes) -> Any:
    """A SHA-256 hash object of ``data`` (``hexdigest()``, ``digest()``)."""
    global _hashed, _openssl
    if _openssl is not None:  # a cold build hashes each release four times: no lookup
        return _openssl(data)
    if _builtin is not None and _hashed < BUILTIN_BYTES and "hashlib" not in sys.modules:
        _hashed += len(data)
        return _builtin(data)
    _openssl = importlib.import_module("hashlib").sha256
    return _openssl(data)


def code_hash(data: bytes) -> str:
    """16 hex digits telling one version of scofeed's code (``data``: its source) from
    another: its CRC-32 and Adler-32, made in C by zlib, which is loaded anyway. A
    change detector, with nothing to defend against (the code is the operator's own):
    SHA-256 over the ~0.5 MB of source would load OpenSSL, or take CPython's own ~1.5 ms."""
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"
