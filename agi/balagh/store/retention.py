"""Retention: callers' data is kept no longer than it is needed.

Both actions run in small chunks on their own connection (maintenance.py), in a
thread, beside the app's writer rather than through it: one big statement on the
writer would hold the lock for seconds and starve the calls. Each returns how
many reports it really changed and raises MaintenanceError if it could not.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from . import maintenance
from .writer import Writer


class Retention:
    def __init__(self, writer: Writer, path: Path | None) -> None:
        """`path`: the SQLite file; None on a PostgreSQL server, where the chunked
        purge and redact are not built yet (each says so rather than doing half)."""
        self.writer = writer
        self.path = path

    async def redact_before(self, before: datetime, *, vacuum: bool = False) -> int:
        """Forget who called and from where (number, location) in reports started before."""
        await self.writer.flush()  # what the app wrote before asking is redacted too
        run = await asyncio.to_thread(maintenance.redact, self._file(), before, vacuum=vacuum)
        return run.rows

    async def purge_before(self, before: datetime, *, vacuum: bool = False) -> int:
        """Delete reports started before, with their answers and timeline."""
        await self.writer.flush()
        run = await asyncio.to_thread(maintenance.purge, self._file(), before, vacuum=vacuum)
        return run.rows

    def _file(self) -> Path:
        if self.path is None:
            raise maintenance.MaintenanceError(
                "purge and redact work on an SQLite database only; on PostgreSQL run them "
                "in SQL for now (docs/scale.md)")
        return self.path
