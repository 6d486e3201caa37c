"""Supervisor PINs: only a salted scrypt hash is ever stored.

The hash is self-describing text, `scrypt$N$r$p$<salt>$<hash>` (salt and hash in
base64), so the parameters can be raised later without breaking stored hashes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32

_PIN = re.compile(r"[0-9]{4,8}")
# Bounds for parameters read back from a hash: a tampered file must not make
# every PIN check take minutes or all the memory.
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16


def valid_pin(pin: object) -> bool:
    """4 to 8 digits 0-9 (a phone can type nothing else)."""
    return isinstance(pin, str) and _PIN.fullmatch(pin) is not None


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=256 * 1024 * 1024)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(pin: str) -> str:
    """A fresh salted hash of `pin` (a different text on every call)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(pin, salt, N, R, P, KEY_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(key)}"


def _parse(hashed: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = hashed.split("$") if isinstance(hashed, str) else []
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
        return None
    if len(salt) < 8 or len(key) < 16:
        return None
    return n, r, p, salt, key


def is_pin_hash(text: object) -> bool:
    """Is `text` a hash hash_pin could have made (well formed, sane parameters)?"""
    return isinstance(text, str) and _parse(text) is not None


def verify_pin(pin: str, hashed: str) -> bool:
    """Does `pin` match `hashed`? A malformed hash is simply False."""
    parsed = _parse(hashed)
    if parsed is None or not isinstance(pin, str):
        return False
    n, r, p, salt, key = parsed
    try:
        candidate = _scrypt(pin, salt, n, r, p, len(key))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(candidate, key)


__all__ = ["hash_pin", "is_pin_hash", "valid_pin", "verify_pin"]
