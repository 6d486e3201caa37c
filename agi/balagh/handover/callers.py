"""Repeat callers without keeping numbers: a keyed hash of the caller's number.

HMAC-SHA256 with a key per installation, so the hash cannot be reversed by trying every
number without the key, and two installations' hashes do not match. The key lives in
BALAGH_CALLER_HASH_KEY, or in <data_dir>/keys/caller-hash.key (made on first use: 32
random bytes as hex, written atomically, mode 0600, in a 0700 folder). A key that is
missing its bytes (a crash between create and write), short or not hex is refused with
the file's name: a new key made silently would stop recognising every repeat caller, and
a short one makes the hashes reversible by trying every number.

The keys folder is kept out of `balagh backup` (a stolen backup with its key can be
brute-forced number by number); `balagh backup --with-keys` copies it on purpose.
`balagh callers rotate-key` puts a new key in place and keeps the previous one, with the
date it is dropped, for the repeat window (keys/caller-hash.previous).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from balagh.config.yamlsrc import ConfigError
from balagh.routing import normalise_number
from balagh.vocabulary import REPEAT_WINDOW

KEY_DIR = "keys"
KEY_FILE = "caller-hash.key"
PREVIOUS_FILE = "caller-hash.previous"
KEY_ENV = "BALAGH_CALLER_HASH_KEY"
KEY_BYTES = 32  # random bytes of a new key, and the least a key may hold
_HEX = re.compile(r"[0-9a-fA-F]+")


class CallerKeyError(ConfigError):
    """The caller-hash key cannot be used: `where` (its file or variable) and what to do.
    A ConfigError, so `balagh run` and every command stop with this one line."""

    def __init__(self, where: str | Path, message: str) -> None:
        super().__init__(where, None, "", message)


@dataclass(frozen=True)
class CallerKeys:
    """The key new calls are hashed with, and the previous one until `previous_until`."""

    current: bytes
    previous: bytes | None = None
    previous_until: datetime | None = None

    def hashes(self, number: str | None) -> list[str]:
        """The number's hash under each key in use, the current key's first."""
        keys = [self.current] + ([self.previous] if self.previous else [])
        return [hashed for key in keys if (hashed := caller_hash(key, number))]


def key_dir(data_dir: Path) -> Path:
    return data_dir / KEY_DIR


def key_path(data_dir: Path) -> Path:
    return key_dir(data_dir) / KEY_FILE


def checked_key(text: bytes, where: str) -> bytes:
    """The key as written (hex text, the HMAC key as it always was), or CallerKeyError."""
    key = text.strip()
    if not key:
        raise CallerKeyError(where, "the caller-hash key is empty (a crash while it was "
                             "made?): restore it from where you keep it, or see "
                             "docs/operators.md to start a new one")
    if not _HEX.fullmatch(key.decode("ascii", "replace")):
        raise CallerKeyError(where, f"the caller-hash key is not hex text: write "
                             f"{KEY_BYTES} random bytes as hex (openssl rand -hex {KEY_BYTES})")
    if len(key) < 2 * KEY_BYTES:
        raise CallerKeyError(where, f"the caller-hash key holds {len(key) // 2} bytes, at "
                             f"least {KEY_BYTES} are needed (a short key lets anyone with the "
                             f"database try every number): openssl rand -hex {KEY_BYTES}")
    return key


def write_private(path: Path, content: bytes) -> None:
    """`content` at `path` whole or not at all: a temp file, fsync, rename, fsync of the
    folder; mode 0600 in a 0700 folder."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _new_key() -> bytes:
    return secrets.token_hex(KEY_BYTES).encode()


def _read_or_create(data_dir: Path) -> bytes:
    path = key_path(data_dir)
    legacy = data_dir / KEY_FILE  # where the key was before the keys folder
    try:
        return checked_key(path.read_bytes(), str(path))
    except FileNotFoundError:
        pass
    if legacy.exists():
        key = checked_key(legacy.read_bytes(), str(legacy))  # a bad one is named, not moved
        write_private(path, key + b"\n")
        legacy.unlink()
        return key
    key = _new_key()
    try:  # exclusive: two processes starting at once must agree on one key
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.link(_staged(path, key), path)
    except FileExistsError:
        return checked_key(path.read_bytes(), str(path))
    finally:
        _staged_path(path).unlink(missing_ok=True)
    return key


def _staged_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.new")


def _staged(path: Path, key: bytes) -> Path:
    """The new key written whole beside `path`, to be linked into place (never replacing
    a key another process made meanwhile)."""
    staged = _staged_path(path)
    write_private(staged, key + b"\n")
    return staged


def caller_hash_key(data_dir: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """The key new calls are hashed with; CallerKeyError if it cannot be used."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return checked_key(env[KEY_ENV].encode(), KEY_ENV)
    key = _read_or_create(data_dir)
    _previous(data_dir, datetime.now(UTC))  # checked too, and dropped once its window ends
    return key


def _previous(data_dir: Path, now: datetime) -> tuple[bytes, datetime] | None:
    """The previous key and when it goes, while it is still within the repeat window;
    dropped (the file removed) once the window has passed."""
    path = key_dir(data_dir) / PREVIOUS_FILE
    try:
        lines = path.read_bytes().split(b"\n")
    except FileNotFoundError:
        return None
    try:
        until = datetime.fromisoformat(lines[1].decode().removeprefix("until ").strip())
    except (IndexError, ValueError, UnicodeDecodeError):
        raise CallerKeyError(path, "not a previous caller-hash key (KEY, then a line "
                             "'until DATE')") from None
    key = checked_key(lines[0], str(path))
    if until <= now:
        path.unlink(missing_ok=True)
        return None
    return key, until


def caller_keys(data_dir: Path, environ: Mapping[str, str] | None = None,
                now: datetime | None = None) -> CallerKeys:
    """Every key in use: the current one and, during its window, the previous one."""
    current = caller_hash_key(data_dir, environ)
    previous = _previous(data_dir, now or datetime.now(UTC))
    if previous is None:
        return CallerKeys(current)
    return CallerKeys(current, previous[0], previous[1])


def rotate_caller_key(data_dir: Path, now: datetime | None = None,
                      window: timedelta = REPEAT_WINDOW) -> CallerKeys:
    """A new current key; the one it replaces kept until `now + window`. The previous
    file is written before the new key, so a crash between them loses no key."""
    env_key = os.environ.get(KEY_ENV)
    if env_key:
        raise CallerKeyError(KEY_ENV, "the key comes from this variable: rotate it there "
                             "(keep the old value nowhere once the repeat window has passed)")
    now = now or datetime.now(UTC)
    old = _read_or_create(data_dir)
    until = now + window
    write_private(key_dir(data_dir) / PREVIOUS_FILE,
                  old + b"\nuntil " + until.isoformat().encode() + b"\n")
    new = _new_key()
    write_private(key_path(data_dir), new + b"\n")
    return CallerKeys(new, old, until)


def copy_keys(data_dir: Path, target: Path) -> list[Path]:
    """The keys folder's files copied into `target` (0700; each file 0600, atomically):
    only for a backup that is meant to carry them (`balagh backup --with-keys`)."""
    copied = []
    source = key_dir(data_dir)
    for path in sorted(source.iterdir()) if source.is_dir() else []:
        if path.is_file() and not path.name.startswith("."):
            write_private(target / path.name, path.read_bytes())
            copied.append(target / path.name)
    return copied


def caller_hash(key: bytes, number: str | None) -> str | None:
    """The number's keyed hash; None for a withheld number (never matched)."""
    normalised = normalise_number(number)
    if not normalised:
        return None
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
