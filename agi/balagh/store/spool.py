"""The spool: an append-only file of writes SQLite could not take, replayed when it can.

One JSON line per write: {"id", "op", "context", "statements": [[sql, params], ...]}.
Each append is fsynced before it returns, so a write that reached the spool survives
kill -9 and a power cut. The functions here are blocking; the writer calls them through
asyncio.to_thread so the event loop never waits on the disk.

Several processes may share one spool (the app, a `balagh` command): a lock file
beside it serialises appends against a replay, so nothing is appended between the
replay reading the file and removing it.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger()

Statement = tuple[str, Sequence[Any]]


@dataclass(frozen=True, slots=True)
class SpooledWrite:
    id: str
    op: str
    statements: tuple[Statement, ...]
    context: Mapping[str, str]


def new_id() -> str:
    return uuid.uuid4().hex


def encode(write: SpooledWrite) -> str:
    return json.dumps({
        "id": write.id, "op": write.op, "context": dict(write.context),
        "statements": [[sql, list(params)] for sql, params in write.statements],
    }, ensure_ascii=False, separators=(",", ":"))


def decode(line: str) -> SpooledWrite:
    data = json.loads(line)
    return SpooledWrite(
        id=str(data["id"]), op=str(data["op"]),
        statements=tuple((str(sql), tuple(params)) for sql, params in data["statements"]),
        context={str(k): str(v) for k, v in data.get("context", {}).items()})


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    def acquire(self) -> int:
        """Take the spool's lock (blocking); release(fd) gives it back."""
        # The folder may have been removed under us: the spool is the last place left.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd

    @staticmethod
    def release(fd: int) -> None:
        os.close(fd)  # closing the descriptor releases the lock

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive use of the spool against other processes (and threads)."""
        fd = self.acquire()
        try:
            yield
        finally:
            self.release(fd)

    def append(self, writes: Sequence[SpooledWrite]) -> None:
        """Append and fsync; raises OSError if the spool itself cannot be written."""
        data = "".join(encode(write) + "\n" for write in writes).encode()
        with self.locked():
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # after a torn line, start on a line of our own
                written = os.write(fd, data)
                if written != len(data):  # a short write: the disk filled up mid-way
                    # A torn last line is skipped when read; better to say the batch failed.
                    raise OSError(f"spool: wrote {written} of {len(data)} bytes")
                os.fsync(fd)
            finally:
                os.close(fd)

    def read(self) -> list[SpooledWrite]:
        """Every complete write in the spool, in order (none if there is no spool)."""
        return read_spool(self.path)

    def remove(self) -> None:
        """Forget the spool once all of it is in SQLite: rename first, so a crash leaves
        either the whole file (replayed again, each write skipped) or none."""
        if not self.path.exists():
            return
        done = self.path.with_name(self.path.name + ".done")
        os.replace(self.path, done)
        done.unlink()
        _fsync_dir(self.path.parent)


def read_spool(path: Path) -> list[SpooledWrite]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    writes = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            writes.append(decode(line))
        except (ValueError, KeyError, TypeError) as exc:
            # A line torn by a crash or a full disk mid-append: its batch was never
            # acknowledged as spooled (and was counted lost), so skipping it is right.
            log.warning("store.spool_bad_line", path=str(path), line=number, error=repr(exc))
    return writes


def depth(path: Path) -> int:
    """Writes waiting in the spool at `path` (for `balagh health`, from any process)."""
    return len(read_spool(path))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
