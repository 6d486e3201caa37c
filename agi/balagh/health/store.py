"""The report store's health, read from the database itself: it answers from any process
while the app runs, and changes nothing (its write test is undone, or on a server is the
writer's own write-check row). The SQLite file, or the PostgreSQL server the settings name
(`database_url`): a server that cannot be reached is named without its password."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balagh.readmodel.health import (
    LOCK_WAIT,
    last_table_load,
    outbox_backlog,
    schema_version,
    server_schema_version,
)
from balagh.store.maintenance import write_check
from balagh.store.spool import depth

if TYPE_CHECKING:
    from balagh.store.engine import PostgresEngine
    from balagh.store.opening import ReportDatabase


def store_state(database: ReportDatabase, spool_file: Path) -> dict[str, Any]:
    """Database writable? Schema version, spool depth, the outbox's backlog. `reachable`
    is False only for a server that did not answer."""
    if not isinstance(database, Path):
        return _server_state(database, spool_file)
    state: dict[str, Any] = {"database": str(database), "exists": database.is_file(),
                             "reachable": True, "writable": False, "error": None,
                             "schema_version": None, "spool": str(spool_file),
                             "spool_depth": depth(spool_file), "outbox": None}
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


def _server_state(engine: PostgresEngine, spool_file: Path) -> dict[str, Any]:
    import psycopg

    state: dict[str, Any] = {"database": engine.name, "exists": True, "reachable": False,
                             "writable": False, "error": None, "schema_version": None,
                             "spool": str(spool_file), "spool_depth": depth(spool_file),
                             "outbox": None}
    try:
        db = engine.open_sync_reader(timeout=LOCK_WAIT, read_only=False)
    except psycopg.Error as exc:
        state["error"] = engine.down(exc)
    else:
        state["reachable"] = True
        try:
            state["schema_version"] = server_schema_version(db)
            if state["schema_version"] is None:
                state["exists"] = False
                state["error"] = f"{engine.name} holds no Balagh tables"
            else:
                state["outbox"] = outbox_backlog(db)
                engine.write_check_sync(db)  # a standby refuses here
                state["writable"] = True
        except psycopg.Error as exc:
            state["error"] = str(exc).strip().splitlines()[0] if str(exc).strip() else \
                type(exc).__name__
        finally:
            db.close()
    state["healthy"] = state["writable"] and state["spool_depth"] == 0
    return state


def _connect(database: Path) -> sqlite3.Connection:
    # mode=rw: never create a database here; SQLite opens a read-only file read-only
    # without a word, which the write test then shows.
    return sqlite3.connect(f"{database.absolute().as_uri()}?mode=rw", uri=True,
                           isolation_level=None, timeout=LOCK_WAIT)


__all__ = ["last_table_load", "store_state"]
