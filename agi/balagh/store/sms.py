"""The texts to callers (reachback/sms.py sends them through Kannel): one row per report
and event, what became of it, and its delivery reports.

Queueing is on the call path: it only enqueues on the writer (no await, never raises),
and INSERT OR IGNORE makes an event queued twice one row. The number and the words are
written only when the text is sent (consent is asked then), and redaction empties them.
Every change of state puts one row on the report's timeline, without number or words.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from .events import EventKind
from .queries import Queries
from .timestamps import iso
from .writer import Statement, Writer

PENDING, SENT, DELIVERED, FAILED, WITHHELD = "pending", "sent", "delivered", "failed", "withheld"
# Being handed to Kannel: committed before the request, because Kannel may send the
# delivery report before its answer to the request reaches the sender.
SENDING = "sending"

__all__ = ["DELIVERED", "FAILED", "PENDING", "SENDING", "SENT", "WITHHELD", "SmsRows", "Text"]


@dataclass(frozen=True, slots=True)
class Text:
    """One row of sms_outbox, as the sender needs it."""

    id: int
    key: str
    reference: str
    event: str
    language: str | None
    token: str
    attempts: int
    status: str


_COLUMNS = ", ".join(f.name for f in fields(Text))


def _timeline(id: int, at: str, outcome: str) -> Statement:
    """The report's timeline row for a text that just became `outcome` (in the same Write
    as its UPDATE; nothing if the update did not match)."""
    return ("INSERT INTO report_events (call_id, at, kind, detail)"
            " SELECT reports.call_id, ?, ?, json_object('attempts', sms_outbox.attempts,"
             " 'event', sms_outbox.event, 'outcome', CAST(? AS TEXT))"
            " FROM sms_outbox JOIN reports ON reports.reference = sms_outbox.reference"
            " WHERE sms_outbox.id = ?",
            (at, str(EventKind.SMS), outcome, int(id)))


class SmsRows:
    def __init__(self, writer: Writer, queries: Queries) -> None:
        self.writer = writer
        self.queries = queries

    async def flush(self) -> None:
        await self.writer.flush()

    def queue_text(self, *, key: str, reference: str, event: str, language: str | None,
                   token: str, at: datetime) -> None:
        """One text for one event of a report, due at once. Never waits, never raises."""
        def build() -> list[Statement]:
            when = iso(at)
            return [(
                "INSERT OR IGNORE INTO sms_outbox (key, reference, event, language, token,"
                " created_at, attempts, next_attempt_at, status)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (str(key), str(reference), str(event), language, str(token), when, when,
                 PENDING),
            )]

        self.writer.submit("queue_text", build, key=str(key))

    async def withheld(self, id: int, at: datetime) -> None:
        """Not sent, for good: no consent (or no number) when it was due."""
        when = iso(at)
        self.writer.submit("text_withheld", lambda: [
            ("UPDATE sms_outbox SET status = ?, next_attempt_at = ? WHERE id = ? AND status = ?",
             (WITHHELD, when, int(id), PENDING)),
            _timeline(id, when, WITHHELD),
        ], text=str(id))
        await self.writer.flush()

    async def sending(self, id: int, destination: str, text: str) -> None:
        """About to be handed to Kannel (consent given): its number and words, committed
        before the request so that a delivery report that outruns Kannel's answer finds it."""
        self.writer.submit("text_sending", lambda: [
            ("UPDATE sms_outbox SET status = ?, destination = ?, text = ?"
             " WHERE id = ? AND status = ?",
             (SENDING, str(destination), str(text), int(id), PENDING)),
        ], text=str(id))
        await self.writer.flush()

    async def sent(self, id: int, at: datetime) -> None:
        """Kannel took it; its delivery reports follow (or came already: their status stays)."""
        when = iso(at)
        self.writer.submit("text_sent", lambda: [
            ("UPDATE sms_outbox SET status = CASE WHEN status = ? THEN ? ELSE status END,"
             " sent_at = ?, attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL"
             " AND status IN (?, ?, ?)",
             (SENDING, SENT, when, int(id), SENDING, DELIVERED, FAILED)),
            _timeline(id, when, SENT),
        ], text=str(id))
        await self.writer.flush()

    async def recover(self) -> None:
        """Rows a stopped worker left being sent go again (Kannel may have taken one: at
        least once, as the units' outbox)."""
        self.writer.submit("text_recover", lambda: [
            ("UPDATE sms_outbox SET status = ?, destination = NULL, text = NULL"
             " WHERE status = ?", (PENDING, SENDING))], text="-")
        await self.writer.flush()

    async def attempt_failed(self, id: int, at: datetime, error: str, next_attempt_at: datetime,
                             give_up: bool) -> None:
        """One more failed attempt to hand it to Kannel: again at `next_attempt_at`, or
        failed for good (then on the timeline)."""
        def build() -> list[Statement]:
            statements: list[Statement] = [(
                "UPDATE sms_outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ?, status = ?, destination = NULL, text = NULL"
                " WHERE id = ? AND status IN (?, ?)",
                (str(error), iso(next_attempt_at), FAILED if give_up else PENDING, int(id),
                 PENDING, SENDING))]
            if give_up:
                statements.append(_timeline(id, iso(at), FAILED))
            return statements

        self.writer.submit("text_failed", build, text=str(id))
        await self.writer.flush()

    async def delivery_report(self, token: str, code: int, outcome: str,
                              at: datetime) -> bool:
        """A delivery report for the text with this token: `outcome` (delivered, failed,
        or an intermediate word) recorded on the row (final ones move its status) and the
        timeline. False: no text has this token (a forged or stale report)."""
        async with self.queries.db.execute(
                "SELECT id FROM sms_outbox WHERE token = ? AND status IN (?, ?, ?, ?)",
                (str(token), SENDING, SENT, DELIVERED, FAILED)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return False
        id, when = int(row[0]), iso(at)
        final = outcome in (DELIVERED, FAILED)
        self.writer.submit("text_report", lambda: [
            ("UPDATE sms_outbox SET reported_at = ?, report_code = ?,"
             " status = CASE WHEN CAST(? AS INTEGER) = 1 THEN CAST(? AS TEXT) ELSE status END"
             " WHERE id = ?",
             (when, int(code), 1 if final else 0, outcome, id)),
            _timeline(id, when, outcome),
        ], text=str(id))
        await self.writer.flush()
        return True

    # ------------------------------------------------------ the sender's reads

    async def due(self, now: datetime, limit: int) -> list[Text]:
        async with self.queries.db.execute(
                f"SELECT {_COLUMNS} FROM sms_outbox WHERE status = ? AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT ?", (PENDING, iso(now), int(limit)),
        ) as cursor:
            return [Text(**dict(row)) async for row in cursor]

    async def next_due(self) -> datetime | None:
        async with self.queries.db.execute(
                "SELECT MIN(next_attempt_at) FROM sms_outbox WHERE status = ?",
                (PENDING,)) as cursor:
            row = await cursor.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None
