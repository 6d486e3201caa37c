"""The statistics' read-only connection, on either engine: the SQLite file (`mode=ro`,
pages read through a memory map) or the PostgreSQL server of `database_url` (a sync
read-only psycopg connection, store/postgres_sync.py: why sync is said there); a clear
error when the file is missing or too old, or the server cannot be read."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balagh.store.uri import read_only_uri

from . import daily_counts

if TYPE_CHECKING:
    from balagh.store.engine import PostgresEngine
    from balagh.store.opening import ReportDatabase

__all__ = ["NEEDS_VERSION", "StatsError", "connect", "has_hourly", "has_table"]

# The schema version that has to_queue_tenths and the danger answers' index (schema.py, v8;
# PostgreSQL's first version has them all).
NEEDS_VERSION = 8
MMAP_BYTES = 4 << 30  # reading only: SQLite caps it at its own limit (SQLITE_MAX_MMAP_SIZE)


class StatsError(Exception):
    """The database cannot give statistics (missing, or too old)."""


@contextmanager
def connect(database: ReportDatabase) -> Iterator[Any]:
    """A read-only connection (sqlite3's, or store/postgres_sync.py's with its manners); a
    clear error if the file is missing or too old, or the server cannot be read."""
    if not isinstance(database, Path):
        with _server(database) as conn:
            yield conn
        return
    path = database
    if not path.exists():
        raise StatsError(f"no report database at {path}")
    conn = sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        # Pages read through a memory map: no copy of every page by a read() each
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version < NEEDS_VERSION:
            raise StatsError(f"{path} has schema version {version}; statistics need "
                             f"{NEEDS_VERSION} (start `balagh run` once to migrate it)")
        yield conn
    finally:
        conn.close()


@contextmanager
def _server(engine: PostgresEngine) -> Iterator[Any]:
    import psycopg

    try:
        conn = engine.open_sync_reader()
    except psycopg.Error as exc:
        raise StatsError(engine.down(exc)) from exc
    try:
        if conn.execute("SELECT to_regclass('balagh_schema')").fetchone()[0] is None:
            raise StatsError(f"{engine.name} holds no reports yet (start `balagh run` once"
                             " to create them)")
        yield conn
    finally:
        conn.close()


def has_hourly(database: ReportDatabase, conn: Any) -> bool:
    """The schema keeps stats_hourly (store/daily.py; postgres_schema.py on a server)."""
    if isinstance(database, Path):
        return int(conn.execute("PRAGMA user_version").fetchone()[0]) >= daily_counts.NEEDS_VERSION
    from balagh.store.postgres_schema import STATS_HOURLY_SINCE

    row = conn.execute("SELECT max(version) FROM balagh_schema").fetchone()
    return row is not None and row[0] is not None and int(row[0]) >= STATS_HOURLY_SINCE


def has_table(database: ReportDatabase, conn: Any, name: str) -> bool:
    """The schema has table `name` yet (a file or server not migrated that far has not)."""
    if isinstance(database, Path):
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                             (name,)).fetchone()
        return found is not None
    found = conn.execute("SELECT to_regclass(?)", (name,)).fetchone()
    return found is not None and found[0] is not None
