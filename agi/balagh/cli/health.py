"""`balagh health [--json]`: can reports be written, and is anything waiting in the spool?

Read from the files themselves, so it answers from any process while the app runs,
and changes nothing (its write test is undone). Exit 0 when healthy, 1 when degraded:
the database cannot be written, or writes wait in the spool.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from balagh.cli.common import print_fields
from balagh.config import Settings
from balagh.store.maintenance import write_check
from balagh.store.spool import depth

__all__ = ["check", "register"]

LOCK_WAIT = 2.0  # seconds: the app's writer holds the lock for milliseconds at a time


def check(database: Path, spool_file: Path) -> dict[str, Any]:
    """The health of the store as a dict (what --json prints)."""
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


def _connect(database: Path) -> sqlite3.Connection:
    # mode=rw: never create a database here; SQLite opens a read-only file read-only
    # without a word, which the write test below then shows.
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


def _health(settings: Settings, args: argparse.Namespace) -> int:
    state = check(settings.database, settings.spool_file)
    if args.json:
        print(json.dumps(state, indent=2))
    else:
        outbox = state["outbox"]
        print_fields({
            "database": state["database"] + ("" if state["exists"] else " (missing)"),
            "writable": "yes" if state["writable"] else f"NO: {state['error']}",
            "schema version": state["schema_version"] if state["exists"] else "-",
            "spool": state["spool"],
            "spool depth": f"{state['spool_depth']} write(s) waiting"
                           + ("" if not state["spool_depth"] else
                              " (replayed by the app as soon as the database takes writes)"),
            "outbox": "-" if outbox is None else
                      f"{outbox['pending']} pending, {outbox['failed']} failed",
            "health": "healthy" if state["healthy"] else "DEGRADED",
        })
    return 0 if state["healthy"] else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "health", help="is the report database writable, and is the spool empty?",
        description="Database path, writable or not, schema version, spool depth and the "
        "outbox. Exit 0 when healthy, 1 when degraded (database not writable, or writes "
        "waiting in the spool).")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.set_defaults(func=_health)
