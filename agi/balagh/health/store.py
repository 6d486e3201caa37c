"""The report store's health, read from the files themselves: it answers from any
process while the app runs, and changes nothing (its write test is undone)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from balagh.store.maintenance import write_check
from balagh.store.spool import depth

LOCK_WAIT = 2.0  # seconds: the app's writer holds the lock for milliseconds at a time


def store_state(database: Path, spool_file: Path) -> dict[str, Any]:
    """Database writable? Schema version, spool depth, the outbox's backlog."""
    state: dict[str, Any] = {"database": str(database), "exists": database.is_file(),
                             "writable": False, "error": None, "schema_version": None,
                             "spool": str(spool_file), "spool_depth": depth(spool_file),
                             "outbox": None}
    if state["exists"]:
        try:
            with contextlib.closing(_connect(database)) as db:
                state["schema_version"] = db.execute("PRAGMA user_version").fetchone()[0]
                state["outbox"] = _outbox(db)
                write_check(db)
                state["writable"] = True
        except sqlite3.Error as exc:
            state["error"] = str(exc)
    else:
        state["error"] = "no database file"
    state["healthy"] = state["writable"] and state["spool_depth"] == 0
    return state


def last_table_load(database: Path) -> dict[str, Any] | None:
    """The routing table's latest load as the app recorded it (routing_reloads), if any."""
    if not database.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{database.absolute().as_uri()}?mode=ro",
                                                uri=True, timeout=LOCK_WAIT)) as db:
            row = db.execute("SELECT at, trigger, outcome, rules, error FROM routing_reloads"
                             " ORDER BY at DESC, id DESC LIMIT 1").fetchone()
    except sqlite3.Error:  # an old schema, or a database that cannot be read
        return None
    if row is None:
        return None
    return dict(zip(("at", "trigger", "outcome", "rules", "error"), row, strict=True))


def _connect(database: Path) -> sqlite3.Connection:
    # mode=rw: never create a database here; SQLite opens a read-only file read-only
    # without a word, which the write test then shows.
    return sqlite3.connect(f"{database.absolute().as_uri()}?mode=rw", uri=True,
                           isolation_level=None, timeout=LOCK_WAIT)


def _outbox(db: sqlite3.Connection) -> dict[str, int] | None:
    try:
        rows = db.execute("SELECT status, COUNT(*) FROM outbox WHERE status IN"
                          " ('pending', 'failed') GROUP BY status").fetchall()
    except sqlite3.Error:  # an old schema without an outbox
        return None
    counts = {"pending": 0, "failed": 0}
    counts.update({str(status): int(n) for status, n in rows})
    return counts
