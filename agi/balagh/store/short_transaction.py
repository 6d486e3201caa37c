"""One short write transaction beside a running app, timed: the unit of work of every
chunked job on the store (maintenance.py's purge, redact and rehash; live_migration.py's
steps). On SQLite `BEGIN IMMEDIATE` takes the write lock at once; on a server it is a
plain BEGIN (postgres.translate) and the rows the work touches are what is locked."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

__all__ = ["Db", "Timed", "locked"]

T = TypeVar("T")


class Timed(Protocol):
    longest_lock: float  # seconds, the longest one transaction held the lock


class Db(Protocol):
    """sqlite3.Connection, or blocking_pg.BlockingPg on a server."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    def close(self) -> None: ...


def locked(db: Db, timed: Timed, work: Callable[[], T]) -> T:
    """`work` in one write transaction, timed from when it has the lock into
    `timed.longest_lock`; rolled back, and the error raised, if it fails."""
    db.execute("BEGIN IMMEDIATE")
    held = time.monotonic()
    try:
        result = work()
        db.execute("COMMIT")
    except BaseException:
        # The rollback of a dead connection fails too: the first error is the one to tell.
        with contextlib.suppress(Exception):
            db.execute("ROLLBACK")
        raise
    timed.longest_lock = max(timed.longest_lock, time.monotonic() - held)
    return result
