"""The report store's health, read from the files themselves: it answers from any
process while the app runs, and changes nothing (its write test is undone)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from balagh.readmodel.health import LOCK_WAIT, last_table_load, outbox_backlog, schema_version
from balagh.store.maintenance import write_check
from balagh.store.spool import depth


def store_state(database: Path, spool_file: Path) -> dict[str, Any]:
    """Database writable? Schema version, spool depth, the outbox's backlog."""
    state: dict[str, Any] = {"database": str(database), "exists": database.is_file(),
                             "writable": False, "error": None, "schema_version": None,
                             "spool": str(spool_file), "spool_depth": depth(spool_file),
                             "outbox": None}
    if state["exists"]:
        try:
            with contextlib.closing(_connect(database)) as db:
                state["schema_version"] = schema_version(db)
                state["outbox"] = outbox_backlog(db)
                write_check(db)
                state["writable"] = True
        except sqlite3.Error as exc:
            state["error"] = str(exc)
    else:
        state["error"] = "no database file"
    state["healthy"] = state["writable"] and state["spool_depth"] == 0
    return state


def _connect(database: Path) -> sqlite3.Connection:
    # mode=rw: never create a database here; SQLite opens a read-only file read-only
    # without a word, which the write test then shows.
    return sqlite3.connect(f"{database.absolute().as_uri()}?mode=rw", uri=True,
                           isolation_level=None, timeout=LOCK_WAIT)


__all__ = ["last_table_load", "store_state"]
