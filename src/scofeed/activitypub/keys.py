"""The actor's RSA key pair: generated once, kept in a PEM file with 0600 permissions.

The file sits beside the state store (``[activitypub] key`` to move it). It is created
atomically with its final permissions, so the private key is never readable by others,
not even for a moment. Neither the key nor its path's content is ever logged; only the
public half leaves this module (in the actor document). Rotation: stop the daemon, move
the file away, start again; a new pair is made, and remote servers pick up the new
public key when a signature stops verifying with the one they cached.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scofeed.config.load import sqlite_in_use
from scofeed.errors import ConfigError

log = logging.getLogger(__name__)

KEY_BITS = 2048
MIN_BITS = 2048


@dataclass(frozen=True, repr=False)
class KeyPair:
    private: rsa.RSAPrivateKey
    public_pem: str

    def __repr__(self) -> str:
        return "KeyPair(***)"


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def generate(bits: int = KEY_BITS) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return KeyPair(key, _public_pem(key))


def private_pem(pair: KeyPair) -> bytes:
    """The private key as the key file holds it: unencrypted PKCS#8 PEM."""
    return pair.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_new(path: Path, data: bytes) -> bool:
    """Create ``path`` with mode 0600; False when another process made it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if the file exists: never overwrite a key
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def load_or_create(path: Path) -> KeyPair:
    """The key pair at ``path``, made (once) if there is none."""
    if not path.exists():
        pair = generate()
        try:
            made = _write_new(path, private_pem(pair))
        except OSError as exc:  # a folder that cannot be made or written: was a traceback
            why = exc.strerror or str(exc)
            found = next((p for p in path.parents if p.exists()), None)
            if found is not None and not found.is_dir():  # mkdir says only "File exists"
                why = f"{found} is not a folder"
            raise ConfigError(
                f"activitypub.key: cannot create {path} ({why}); give a path in a folder "
                "the daemon's user can write"
            ) from None
        if made:
            log.info("activitypub_key_created path=%s bits=%d", path, KEY_BITS)
            return pair
    return load(path)


def load(path: Path) -> KeyPair:
    held = sqlite_in_use(path)  # opened in the daemon: its connections' locks
    if held is not None:
        raise ConfigError(f"activitypub.key: {path} is {held}, not a key; it was not opened")
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"activitypub.key: cannot read {path} ({exc.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"activitypub.key: {path} is readable by others (mode {stat.filemode(mode)}); "
            f"run: chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        problem = "is not an unencrypted PEM private key"
        raise ConfigError(f"activitypub.key: {path} {problem}") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_BITS:
        raise ConfigError(f"activitypub.key: {path} must hold an RSA key of {MIN_BITS}+ bits")
    return KeyPair(key, _public_pem(key))
