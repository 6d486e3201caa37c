"""Which database the settings name: a PostgreSQL server when `database_url` is set, else
the SQLite file in the data folder (the default: a one-box site needs no server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from balagh.config import Settings

if TYPE_CHECKING:
    from .engine import PostgresEngine
    from .reports import ReportStore

# Where the reports are, for a reader: the SQLite file, or the server's engine.
ReportDatabase: TypeAlias = "Path | PostgresEngine"


async def open_store(settings: Settings, *, spool: bool = True) -> ReportStore:
    """The report store the settings name, open and writing. `spool=False`: the spool's
    default place (the watchdog's way), not settings.spool_dir."""
    from .reports import ReportStore  # the writer's modules: not for a reader's import

    if settings.database_url:
        from .engine import PostgresEngine

        engine = PostgresEngine(settings.database_url, settings.database_password or None)
        return await ReportStore.open_server(engine, settings.spool_file)
    return await ReportStore.open(settings.database, settings.spool_file if spool else None)


def report_database(settings: Settings) -> ReportDatabase:
    """The reports' database for the readers and maintenance: the server when
    `database_url` is set (a PostgresEngine, opened by nobody yet), else the SQLite file."""
    if settings.database_url:
        from .engine import PostgresEngine

        return PostgresEngine(settings.database_url, settings.database_password or None)
    return settings.database


def exists(database: ReportDatabase) -> bool:
    """A file that is there, or a server (whether it answers is the reader's to find)."""
    return not isinstance(database, Path) or database.exists()


async def connect_reader(database: ReportDatabase, busy_timeout_ms: int) -> Any:
    """An async read-only connection to either engine (aiosqlite's, or PgConnection, which
    answers as aiosqlite does); the caller closes it. A file must exist."""
    if isinstance(database, Path):
        from .queries import connect

        return await connect(database, busy_timeout_ms)
    engine: PostgresEngine = database
    return await engine.open_reader()


@asynccontextmanager
async def open_reader(database: ReportDatabase, busy_timeout_ms: int) -> AsyncIterator[Any]:
    """connect_reader's connection, closed again however the block ends."""
    db = await connect_reader(database, busy_timeout_ms)
    try:
        yield db
    finally:
        await db.close()
