"""scofeed.digest: the same SHA-256 whichever implementation hashes."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from scofeed import digest


def test_sha256_is_hashlibs_below_and_past_the_builtin_budget():
    """In a process that never loaded hashlib: CPython's own SHA-256 for the first
    BUILTIN_BYTES, then OpenSSL's; the digests are the same throughout."""
    probe = (
        "import sys\n"
        "from scofeed import digest\n"
        "out = []\n"
        "for n in (0, 1, 64, 4096, digest.BUILTIN_BYTES, 10):\n"
        "    data = bytes(range(256)) * (n // 256) + b'x' * (n % 256)\n"
        "    hexdigest = digest.sha256(data).hexdigest()\n"
        "    out.append((n, 'hashlib' in sys.modules, hexdigest))\n"
        "print(out)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rows = eval(run.stdout)  # our own probe's repr of a list of tuples
    loaded = [was for _, was, _ in rows]
    assert loaded[:5] == [False] * 5 and loaded[5] is True  # the budget spent, then OpenSSL
    for n, _, hexdigest in rows:
        data = bytes(range(256)) * (n // 256) + b"x" * (n % 256)
        assert hexdigest == hashlib.sha256(data).hexdigest()


def test_sha256_uses_hashlib_once_it_is_loaded():
    assert "hashlib" in sys.modules  # this test process imported it above
    assert digest.sha256(b"abc").hexdigest() == hashlib.sha256(b"abc").hexdigest()
    assert type(digest.sha256(b"abc")) is type(hashlib.sha256(b"abc"))


def test_code_hash_tells_one_byte_apart():
    a = digest.code_hash(b"def f():\n    return 1\n")
    assert len(a) == 16 and int(a, 16) >= 0
    assert a != digest.code_hash(b"def f():\n    return 2\n")
    assert a == digest.code_hash(b"def f():\n    return 1\n")
