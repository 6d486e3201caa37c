"""Which database the settings name: a PostgreSQL server when `database_url` is set, else
the SQLite file in the data folder (the default: a one-box site needs no server)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from balagh.config import Settings

from .reports import ReportStore

if TYPE_CHECKING:
    from .engine import PostgresEngine


async def open_store(settings: Settings, *, spool: bool = True) -> ReportStore:
    """The report store the settings name, open and writing. `spool=False`: the spool's
    default place (the watchdog's way), not settings.spool_dir."""
    if settings.database_url:
        from .engine import PostgresEngine

        engine = PostgresEngine(settings.database_url, settings.database_password or None)
        return await ReportStore.open_server(engine, settings.spool_file)
    return await ReportStore.open(settings.database, settings.spool_file if spool else None)


def maintained_database(settings: Settings) -> Path | PostgresEngine:
    """What maintenance (purge, redact, rehash, backup) works on: the server the settings
    name, or the SQLite file; maintenance.py takes either."""
    if settings.database_url:
        from .engine import PostgresEngine

        return PostgresEngine(settings.database_url, settings.database_password or None)
    return settings.database
