"""Repeat callers without keeping numbers: a keyed hash of the caller's number.

HMAC-SHA256 with a key per installation, so the hash cannot be reversed by trying every
number without the key, and two installations' hashes do not match. The key lives in
BALAGH_CALLER_HASH_KEY, or in <data_dir>/caller-hash.key (made on first use, mode 0600):
back it up with the database, or repeat callers are no longer recognised.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from pathlib import Path

from balagh.routing import normalise_number

KEY_FILE = "caller-hash.key"
REPEAT_WINDOW = timedelta(days=30)


def caller_hash_key(data_dir: Path, environ: dict[str, str] | None = None) -> bytes:
    env = os.environ if environ is None else environ
    if env.get("BALAGH_CALLER_HASH_KEY"):
        return env["BALAGH_CALLER_HASH_KEY"].encode()
    path = data_dir / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


def caller_hash(key: bytes, number: str | None) -> str | None:
    """The number's keyed hash; None for a withheld number (never matched)."""
    normalised = normalise_number(number)
    if not normalised:
        return None
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
