"""What health reads from the report database: the schema version, the outbox's backlog,
the routing table's latest load. Synchronous sqlite3: health answers from any process,
beside the running app, without an event loop."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

LOCK_WAIT = 2.0  # seconds: the app's writer holds the lock for milliseconds at a time
_TABLE_LOAD_FIELDS = ("at", "trigger", "outcome", "rules", "error")


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def outbox_backlog(db: sqlite3.Connection) -> dict[str, int] | None:
    """Pending and failed deliveries; None for an old schema without an outbox."""
    try:
        rows = db.execute("SELECT status, COUNT(*) FROM outbox WHERE status IN"
                          " ('pending', 'failed') GROUP BY status").fetchall()
    except sqlite3.Error:  # an old schema without an outbox
        return None
    counts = {"pending": 0, "failed": 0}
    counts.update({str(status): int(n) for status, n in rows})
    return counts


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
    return dict(zip(_TABLE_LOAD_FIELDS, row, strict=True))


__all__ = ["LOCK_WAIT", "last_table_load", "outbox_backlog", "schema_version"]
