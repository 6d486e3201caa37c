"""The outbox's rows: report events queued for the units' endpoints, what became of each
delivery (handover/outbox.py sends them), and the worker's reads by endpoint.

Queueing is on the call path: it only enqueues on the writer (no await, never raises),
and INSERT OR IGNORE makes an event queued twice for one endpoint one row. The worker's
updates are not on the call path: they wait until they are committed, as retention does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime

from .events import EventKind
from .queries import Delivery, Queries
from .timestamps import iso
from .writer import Statement, Writer

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
_COLUMNS = ", ".join(f.name for f in fields(Delivery))


def _handover_step(id: int, at: str, outcome: str) -> Statement:
    """The report's timeline row for a delivery that just became `outcome` (after its
    UPDATE, in the same Write; nothing if the update did not match). Not the URL: it may
    carry a unit's token."""
    return ("INSERT INTO report_events (call_id, at, kind, detail)"
            " SELECT reports.call_id, ?, ?, json_object('attempts', outbox.attempts,"
            " 'event', outbox.event, 'outcome', outbox.status)"
            " FROM outbox JOIN reports ON reports.reference = outbox.reference"
            " WHERE outbox.id = ? AND outbox.status = ?",
            (at, str(EventKind.HANDOVER), int(id), outcome))


class OutboxRows:
    def __init__(self, writer: Writer, queries: Queries) -> None:
        self.writer = writer
        self.queries = queries

    @property
    def on_drained(self) -> list[Callable[[], None]]:
        """Called when the spool has been replayed: rows queued meanwhile are due now."""
        return self.writer.on_drained

    async def flush(self) -> None:
        """Return once every row queued so far is committed (or dropped)."""
        await self.writer.flush()

    def queue_delivery(self, *, key: str, url: str, event: str, reference: str | None,
                       body: str, at: datetime) -> None:
        """One event for one endpoint, due at once. Never waits, never raises."""
        def build() -> list[Statement]:
            when = iso(at)
            return [(
                "INSERT OR IGNORE INTO outbox (key, url, body, event, reference, created_at,"
                " attempts, next_attempt_at, status) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (str(key), str(url), str(body), str(event), reference, when, when, PENDING),
            )]

        self.writer.submit("queue_delivery", build, key=str(key))

    async def delivery_done(self, id: int, at: datetime) -> None:
        """Delivered. The endpoint is up again: its other pending rows are due at once."""
        when = iso(at)
        self.writer.submit("delivery_done", lambda: [
            ("UPDATE outbox SET status = ?, delivered_at = ?, attempts = attempts + 1"
             " WHERE id = ?", (DELIVERED, when, int(id))),
            _handover_step(id, when, DELIVERED),
            ("UPDATE outbox SET next_attempt_at = ? WHERE status = ? AND next_attempt_at > ?"
             " AND url = (SELECT url FROM outbox WHERE id = ?)",
             (when, PENDING, when, int(id))),
        ], delivery=str(id))
        await self.writer.flush()

    async def delivery_failed(self, id: int, at: datetime, error: str,
                              next_attempt_at: datetime, give_up: bool) -> None:
        """One more failed attempt: tried again at `next_attempt_at`, or failed for good.

        `at` (when the attempt ended) goes on the report's timeline when the delivery
        fails for good; the row keeps the next attempt and the error."""
        def build() -> list[Statement]:
            statements: list[Statement] = [(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ?, status = ? WHERE id = ? AND status = ?",
                (str(error), iso(next_attempt_at), FAILED if give_up else PENDING, int(id),
                 PENDING),
            )]
            if give_up:  # retries are the outbox's business; giving up is the report's
                statements.append(_handover_step(id, iso(at), FAILED))
            return statements

        self.writer.submit("delivery_failed", build, delivery=str(id))
        await self.writer.flush()

    async def retry_deliveries(self, ids: Sequence[int] | None, now: datetime) -> int:
        """Failed deliveries (all, or those among `ids`) pending again, due at `now`, with a
        fresh count of attempts; how many."""
        count = await self.queries.count_failed(ids)
        if count == 0:
            return 0

        def build() -> list[Statement]:
            sql = ("UPDATE outbox SET status = ?, attempts = 0, next_attempt_at = ?"
                   " WHERE status = ?")
            params: list[object] = [PENDING, iso(now), FAILED]
            if ids is not None:
                sql += f" AND id IN ({', '.join('?' for _ in ids)})"
                params += [int(i) for i in ids]
            return [(sql, params)]

        self.writer.submit("retry_deliveries", build, delivery="-")
        await self.writer.flush()
        return count

    # ------------------------------------------------------ the worker's reads

    async def pending_urls(self, limit: int) -> list[tuple[str, datetime]]:
        """Each endpoint with pending deliveries, and when its earliest is due; the
        soonest first, at most `limit` endpoints."""
        async with self.queries.db.execute(
            "SELECT url, MIN(next_attempt_at) FROM outbox WHERE status = ?"
            " GROUP BY url ORDER BY 2, url LIMIT ?", (PENDING, int(limit)),
        ) as cursor:
            return [(str(row[0]), datetime.fromisoformat(row[1])) async for row in cursor]

    async def due_at(self, url: str, now: datetime, limit: int,
                     first: Sequence[str] = ()) -> list[Delivery]:
        """Up to `limit` pending deliveries to `url` due at `now`: those whose body has a
        value (not null nor false) at the JSON path first[0] first, then first[1], ...,
        then the rest; oldest first within each."""
        ranks = " ".join(f"WHEN COALESCE(json_type(body, ?), 'null') NOT IN ('null', 'false')"
                         f" THEN {rank}" for rank in range(len(first)))
        order = (f"CASE WHEN NOT json_valid(body) THEN {len(first)} {ranks}"
                 f" ELSE {len(first)} END, id") if first else "id"
        async with self.queries.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE status = ? AND next_attempt_at <= ?"
            f" AND url = ? ORDER BY {order} LIMIT ?",
            (PENDING, iso(now), str(url), *first, int(limit)),
        ) as cursor:
            return [Delivery(**dict(row)) async for row in cursor]
