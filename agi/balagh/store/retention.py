"""Retention: callers' data is kept no longer than it is needed.

Both actions go through the single writer (so they never race the call path)
and wait until they are committed; each returns how many reports it touched.
"""

from __future__ import annotations

from datetime import datetime

from .queries import Queries
from .timestamps import iso
from .writer import Writer


class Retention:
    # call_id="-" in the writer's log context: these writes are about no one call.
    def __init__(self, writer: Writer, queries: Queries) -> None:
        self.writer = writer
        self.queries = queries

    async def redact_before(self, before: datetime) -> int:
        """Forget who called and from where (number, location) in reports started before."""
        count = await self.queries.count_before(before)
        when = iso(before)
        self.writer.submit("redact", lambda: [(
            "UPDATE reports SET caller = NULL, location = NULL, location_source = NULL,"
            " channel = '' WHERE started_at < ?", (when,))], call_id="-")
        await self.writer.flush()
        return count

    async def purge_before(self, before: datetime) -> int:
        """Delete reports started before, with their answers."""
        count = await self.queries.count_before(before)
        when = iso(before)
        self.writer.submit("purge", lambda: [
            ("DELETE FROM answers WHERE call_id IN"
             " (SELECT call_id FROM reports WHERE started_at < ?)", (when,)),
            ("DELETE FROM reports WHERE started_at < ?", (when,)),
        ], call_id="-")
        await self.writer.flush()
        return count
