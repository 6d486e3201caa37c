"""The monitoring audit's writes: every refusal, PIN check, start, mode change and end
of a supervisor listening in, appended to monitor_audit; and the lockout's read of them.

Like the call path, recording only enqueues on the writer (no await, never raises):
a database problem must not hold up a supervisor's call. Rows are never updated.
A session's start, mode changes and end also go on the monitored report's timeline, in
the same Write as the audit row.
"""

from __future__ import annotations

from datetime import datetime

from balagh.vocabulary import PinAttempt

from .events import EventKind, event_for_reference
from .queries import Queries
from .timestamps import iso
from .writer import Statement, Writer

# Audit actions that are a step of the monitored report (refusals and PIN checks are not).
TIMELINE_KINDS = {"start": EventKind.SUPERVISOR_START, "mode": EventKind.SUPERVISOR_MODE,
                  "end": EventKind.SUPERVISOR_END}


class MonitorAudit:
    def __init__(self, writer: Writer, queries: Queries) -> None:
        self.writer = writer
        self.queries = queries

    async def pin_attempts(self, supervisor: str, limit: int) -> list[PinAttempt]:
        """One supervisor's latest PIN attempts, newest first, for the lockout; every
        attempt recorded before the call counts (a wrong PIN typed a moment ago too)."""
        await self.writer.flush()
        return await self.queries.pin_attempts(supervisor, limit)

    def record_monitor(self, *, at: datetime, action: str, session: str | None = None,
                       supervisor: str | None = None, phone: str | None = None,
                       reference: str | None = None, agent: str | None = None,
                       mode: str | None = None, detail: str | None = None,
                       node: str | None = None) -> None:
        """One row; `node`: the node whose Asterisk carried the session (None: one box)."""
        def build() -> list[Statement]:
            statements: list[Statement] = [(
                "INSERT INTO monitor_audit (at, session, supervisor, phone, action, reference,"
                " agent, mode, detail, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (iso(at), session, supervisor, phone, str(action), reference, agent, mode,
                 detail, node),
            )]
            kind = TIMELINE_KINDS.get(str(action))
            if kind is not None and reference:
                # Not the supervisor's phone: the timeline says who, not from where.
                statements.append(event_for_reference(
                    reference, iso(at), kind,
                    {"supervisor": supervisor, "mode": mode, "session": session}))
            return statements

        self.writer.submit("record_monitor", build, session=str(session or "-"),
                           action=str(action))
