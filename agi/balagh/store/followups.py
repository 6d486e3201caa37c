"""The units' follow-up of reports: every status a unit sent (report_statuses), the step on
the report's timeline, and the latest status on the report itself (reports.followup_status).

Not on the call path: `record` waits until its Write is committed or spooled (a spooled
status counts as taken), like the outbox worker's updates. One row per (unit, signed id):
a copy of a request already taken inserts nothing and adds no timeline step, even when it
comes back from the spool. The store knows no status word: reachback/followup.py does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .events import EventKind, encode
from .queries import Queries, columns_of
from .timestamps import iso
from .writer import Statement, Writer

__all__ = ["FollowupRows", "StatusRow"]


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One status a unit gave a report (times ISO-8601 UTC text)."""

    seq: int
    unit: str
    id: str
    reference: str
    call_id: str
    queue: str | None
    status: str
    reason: str | None
    signed_at: str
    at: str


_COLUMNS = ", ".join(columns_of(StatusRow))


class FollowupRows:
    def __init__(self, writer: Writer, queries: Queries) -> None:
        self.writer = writer
        self.queries = queries

    async def latest(self, reference: str) -> StatusRow | None:
        """The report's latest status, whoever gave it; None before the first."""
        async with self.queries.db.execute(
            f"SELECT {_COLUMNS} FROM report_statuses WHERE reference = ?"
            " ORDER BY seq DESC LIMIT 1", (str(reference),),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else StatusRow(**dict(row))

    async def taken(self, unit: str, id: str) -> StatusRow | None:
        """The status already taken from `unit` under the signed `id`, if any."""
        async with self.queries.db.execute(
            f"SELECT {_COLUMNS} FROM report_statuses WHERE unit = ? AND id = ?",
            (str(unit), str(id)),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else StatusRow(**dict(row))

    async def record(self, *, unit: str, id: str, reference: str, call_id: str,
                     queue: str | None, status: str, reason: str | None,
                     signed_at: datetime, at: datetime) -> bool:
        """Write one status with its timeline step; True once committed or spooled, False
        if the write was lost (the unit should send it again: same id, no double)."""
        when = iso(at)
        detail = encode({"status": status, "reason": reason, "unit": unit, "id": id})

        def build() -> list[Statement]:
            return [
                ("INSERT OR IGNORE INTO report_statuses (unit, id, reference, call_id, queue,"
                 " status, reason, signed_at, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (str(unit), str(id), str(reference), str(call_id), queue, str(status),
                  reason, iso(signed_at), when)),
                # Only the row this Write inserted gets its step (a replayed copy finds it).
                ("INSERT INTO report_events (call_id, at, kind, detail)"
                 " SELECT call_id, ?, ?, ? FROM report_statuses WHERE unit = ? AND id = ?"
                 " AND NOT EXISTS (SELECT 1 FROM report_events WHERE call_id = ?"
                 " AND kind = ? AND detail = ?)",
                 (when, str(EventKind.FOLLOWUP), detail, str(unit), str(id), str(call_id),
                  str(EventKind.FOLLOWUP), detail)),
                ("UPDATE reports SET followup_status = (SELECT status FROM report_statuses"
                 " WHERE reference = ? ORDER BY seq DESC LIMIT 1) WHERE reference = ?",
                 (str(reference), str(reference))),
            ]

        lost = self.writer.write_errors
        self.writer.submit("record_followup", build, unit=str(unit), id=str(id))
        await self.writer.flush()
        return self.writer.write_errors == lost
