"""The monitoring audit's writes: every refusal, PIN check, start, mode change and end
of a supervisor listening in, appended to monitor_audit.

Like the call path, recording only enqueues on the writer (no await, never raises):
a database problem must not hold up a supervisor's call. Rows are never updated.
"""

from __future__ import annotations

from datetime import datetime

from .timestamps import iso
from .writer import Statement, Writer


class MonitorAudit:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def record_monitor(self, *, at: datetime, action: str, session: str | None = None,
                       supervisor: str | None = None, phone: str | None = None,
                       reference: str | None = None, agent: str | None = None,
                       mode: str | None = None, detail: str | None = None) -> None:
        def build() -> list[Statement]:
            return [(
                "INSERT INTO monitor_audit (at, session, supervisor, phone, action, reference,"
                " agent, mode, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (iso(at), session, supervisor, phone, str(action), reference, agent, mode,
                 detail),
            )]

        self.writer.submit("record_monitor", build, session=str(session or "-"),
                           action=str(action))
