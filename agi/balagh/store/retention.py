"""Retention: callers' data is kept no longer than it is needed.

Both actions run in small chunks on their own connection (maintenance.py), in a
thread, beside the app's writer rather than through it: one big statement on the
writer would hold the lock for seconds and starve the calls. The same on SQLite
and on a PostgreSQL server. Each returns how many reports it really changed and
raises MaintenanceError if it could not.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import maintenance
from .writer import Writer

if TYPE_CHECKING:
    from .engine import PostgresEngine


class Retention:
    def __init__(self, writer: Writer, database: Path | PostgresEngine) -> None:
        """`database`: the SQLite file, or the server's engine."""
        self.writer = writer
        self.database = database

    async def redact_before(self, before: datetime, *, vacuum: bool = False) -> int:
        """Forget who called and from where (number, location) in reports started before."""
        await self.writer.flush()  # what the app wrote before asking is redacted too
        run = await asyncio.to_thread(maintenance.redact, self.database, before, vacuum=vacuum)
        return run.rows

    async def purge_before(self, before: datetime, *, vacuum: bool = False) -> int:
        """Delete reports started before, with their answers and timeline."""
        await self.writer.flush()
        run = await asyncio.to_thread(maintenance.purge, self.database, before, vacuum=vacuum)
        return run.rows
