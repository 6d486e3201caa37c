"""SQLite as the writer meets it: the connection it writes through, and how to tell a
database that cannot take a write now (locked, read-only, full, gone) from a write that is
wrong. The writer spools in the first case and drops only in the second."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import aiosqlite

from .timestamps import now

__all__ = ["DatabaseGone", "check_writable", "connect", "file_identity", "is_busy",
           "is_unavailable"]


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "busy": another connection holds the write lock."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return "locked" in text or "busy" in text


# SQLite's primary result codes that say "the database cannot be written now", as
# opposed to "this statement is wrong": BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL,
# CANTOPEN, PROTOCOL, NOTADB.
_UNAVAILABLE_CODES = frozenset({5, 6, 8, 10, 11, 13, 14, 15, 26})
_UNAVAILABLE_WORDS = ("locked", "busy", "readonly", "read-only", "disk", "unable to open",
                      "not a database", "malformed")


class DatabaseGone(sqlite3.OperationalError):
    """The writer has no connection: the file was removed, replaced or never opened."""


def is_unavailable(exc: BaseException) -> bool:
    """True when the write failed because of the database, not because of the write."""
    if isinstance(exc, DatabaseGone):
        return True
    if isinstance(exc, ValueError) and "connection" in str(exc).lower():
        return True  # aiosqlite: the connection was closed under us
    if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) or isinstance(
            exc, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError
            | sqlite3.DataError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _UNAVAILABLE_CODES
    text = str(exc).lower()
    return any(word in text for word in _UNAVAILABLE_WORDS)


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, None if there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


async def connect(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    """A connection fit for the writer: WAL, explicit transactions, a lock timeout."""
    # isolation_level=None: the writer issues BEGIN IMMEDIATE/COMMIT itself.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across app crashes in WAL mode; only a power cut
        # can lose the last moments, and it keeps commits cheap.
        await conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await conn.close()
        raise
    return conn


async def check_writable(db: aiosqlite.Connection) -> None:
    """Really write (and undo it): SQLite opens a read-only file without a word, and a
    full disk only shows on a write. Raises the error a write would meet."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        await db.execute("INSERT OR REPLACE INTO spool_applied (id, applied_at) VALUES (?, ?)",
                         ("write-check", now()))
        await db.execute("DELETE FROM spool_applied WHERE id = ?", ("write-check",))
        await db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            await db.execute("ROLLBACK")
        raise
