"""What health reads from the report database: the schema version, the outbox's backlog,
the routing table's latest load. Synchronous (sqlite3, or on PostgreSQL the sync psycopg
connection of store/postgres_sync.py): health answers from any process, beside the
running app, without an event loop. The same statements serve both engines, but for the
schema version, which each keeps its own way."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from balagh.store.engine import PostgresEngine
    from balagh.store.opening import ReportDatabase

LOCK_WAIT = 2.0  # seconds: the app's writer holds the lock for milliseconds at a time
_TABLE_LOAD_FIELDS = ("at", "trigger", "outcome", "rules", "error")


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def server_schema_version(db: Any) -> int | None:
    """A PostgreSQL server's Balagh schema version (postgres_schema.py); None when the
    database holds no Balagh tables yet."""
    if db.execute("SELECT to_regclass('balagh_schema')").fetchone()[0] is None:
        return None
    row = db.execute("SELECT max(version) FROM balagh_schema").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def outbox_backlog(db: Any) -> dict[str, int] | None:
    """Pending and failed deliveries; None for an old schema without an outbox (a
    server's schema always has one)."""
    try:
        rows = db.execute("SELECT status, COUNT(*) FROM outbox WHERE status IN"
                          " ('pending', 'failed') GROUP BY status").fetchall()
    except sqlite3.Error:  # an old schema without an outbox
        return None
    counts = {"pending": 0, "failed": 0}
    counts.update({str(status): int(n) for status, n in rows})
    return counts


_LAST_LOAD = ("SELECT at, trigger, outcome, rules, error FROM routing_reloads"
              " ORDER BY at DESC, id DESC LIMIT 1")


def last_table_load(database: ReportDatabase) -> dict[str, Any] | None:
    """The routing table's latest load as the app recorded it (routing_reloads), if any."""
    if not isinstance(database, Path):
        return _server_last_load(database)
    if not database.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{database.absolute().as_uri()}?mode=ro",
                                                uri=True, timeout=LOCK_WAIT)) as db:
            row = db.execute(_LAST_LOAD).fetchone()
    except sqlite3.Error:  # an old schema, or a database that cannot be read
        return None
    if row is None:
        return None
    return dict(zip(_TABLE_LOAD_FIELDS, row, strict=True))


def _server_last_load(engine: PostgresEngine) -> dict[str, Any] | None:
    import psycopg

    try:
        db = engine.open_sync_reader(timeout=LOCK_WAIT)
    except psycopg.Error:  # the store line says the server is down
        return None
    try:
        if server_schema_version(db) is None:
            return None
        row = db.execute(_LAST_LOAD).fetchone()
    except psycopg.Error:
        return None
    finally:
        db.close()
    return None if row is None else dict(zip(_TABLE_LOAD_FIELDS, row, strict=True))


__all__ = ["LOCK_WAIT", "last_table_load", "outbox_backlog", "schema_version",
           "server_schema_version"]
