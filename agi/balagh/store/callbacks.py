"""Calls the app places to a caller, one row per report and purpose, its attempts and what
became of each: callbacks to callers in danger who hung up while waiting (`callbacks`),
and satisfaction calls after a unit resolved a report (`survey_calls`, the same columns).
reachback/dialler.py dials both, with a policy per purpose; a `Purpose` names its table,
its Originate ChannelId's prefix and its timeline kind.

The life of a row: pending -> claimed (attempt n, committed BEFORE the Originate) ->
dialling -> answered | pending again (no-answer, the next attempt after the gap) | failed
| cancelled. A row found claimed or dialling at start-up (the app stopped mid-attempt)
counts that attempt as spent ("interrupted"): it is never dialled again, so a kill between
the claim and the Originate costs an attempt, never a second call. Every change puts one
row on the report's timeline, without a number.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from .events import EventKind
from .queries import Queries
from .timestamps import iso
from .writer import Statement, Writer

PENDING, CLAIMED, DIALLING = "pending", "claimed", "dialling"
ANSWERED, NO_ANSWER, FAILED, CANCELLED = "answered", "no-answer", "failed", "cancelled"
INTERRUPTED, SCHEDULED = "interrupted", "scheduled"  # outcomes on the timeline only
OPEN = (PENDING, CLAIMED, DIALLING)

__all__ = ["ANSWERED", "CALLBACK", "CANCELLED", "CLAIMED", "DIALLING", "FAILED", "NO_ANSWER",
           "OPEN", "PENDING", "PURPOSES", "SURVEY", "Callback", "CallbackRows", "Purpose"]


@dataclass(frozen=True, slots=True)
class Purpose:
    """Why the app calls: its table (one of schema.py's, never from input), the prefix of
    its attempts' ChannelIds, and the kind of its timeline steps."""

    table: str
    channel_prefix: str
    kind: EventKind


CALLBACK = Purpose("callbacks", "balagh-callback", EventKind.CALLBACK)
SURVEY = Purpose("survey_calls", "balagh-survey", EventKind.SURVEY)
PURPOSES = (CALLBACK, SURVEY)


@dataclass(frozen=True, slots=True)
class Callback:
    """One row of callbacks."""

    id: int
    reference: str
    call_id: str
    queue: str
    created_at: str
    attempt: int
    next_attempt_at: str
    status: str
    channel_id: str | None
    last_outcome: str | None


_COLUMNS = ", ".join(f.name for f in fields(Callback))


def channel_id(callback_id: int, attempt: int, purpose: Purpose = CALLBACK) -> str:
    """The Originate's ChannelId: one per attempt, so Asterisk itself refuses a second
    channel for the same attempt while the first exists."""
    return f"{purpose.channel_prefix}-{int(callback_id)}-{int(attempt)}"


class CallbackRows:
    def __init__(self, writer: Writer, queries: Queries, purpose: Purpose = CALLBACK) -> None:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}")
        self.writer = writer
        self.queries = queries
        self.purpose = purpose
        self._t = purpose.table  # a constant of PURPOSES: safe in the statements' text

    def _timeline(self, id: int, at: str, outcome: str, by: str | None = None) -> Statement:
        t = self.purpose.table
        return ("INSERT INTO report_events (call_id, at, kind, detail)"
                f" SELECT {t}.call_id, ?, ?, json_object('attempt', {t}.attempt,"
                " 'outcome', CAST(? AS TEXT), 'by', CAST(? AS TEXT))"
                f" FROM {t} WHERE {t}.id = ?",
                (at, str(self.purpose.kind), outcome, by, int(id)))

    async def flush(self) -> None:
        await self.writer.flush()

    def schedule(self, *, reference: str, queue: str, at: datetime, due: datetime) -> None:
        """A callback for the abandoned report `reference`, first due at `due`. Never
        waits, never raises; a report abandoned twice (an overflow chain) is one row."""
        def build() -> list[Statement]:
            when = iso(at)
            return [
                (f"INSERT OR IGNORE INTO {self._t} (reference, call_id, queue, created_at,"
                 " attempt, next_attempt_at, status, updated_at)"
                 " SELECT reference, call_id, ?, ?, 0, ?, ?, ? FROM reports WHERE reference = ?",
                 (str(queue), when, iso(due), PENDING, when, str(reference))),
                ("INSERT INTO report_events (call_id, at, kind, detail)"
                 " SELECT call_id, ?, ?, json_object('attempt', 0, 'outcome', CAST(? AS TEXT),"
                 f" 'by', NULL) FROM {self._t} WHERE reference = ? AND NOT EXISTS"
                 " (SELECT 1 FROM report_events WHERE report_events.call_id ="
                 f" {self._t}.call_id AND kind = ?)",
                 (when, str(self.purpose.kind), SCHEDULED, str(reference),
                  str(self.purpose.kind))),
            ]

        self.writer.submit("callback_schedule", build, reference=str(reference))

    async def _change(self, name: str, statements: list[Statement], id: int) -> None:
        self.writer.submit(name, lambda: statements, callback=str(id))
        await self.writer.flush()

    async def claim(self, row: Callback, at: datetime) -> Callback | None:
        """Attempt n+1 claimed and committed (before anything is dialled); None if the
        row is no longer pending at that attempt (cancelled or claimed meanwhile). One
        dialler claims (one app per ARI application: oneapp.py), so read-then-update holds."""
        now = await self.get(row.id)
        if now is None or (now.status, now.attempt) != (PENDING, row.attempt):
            return None
        attempt = row.attempt + 1
        when = iso(at)
        await self._change("callback_claim", [
            (f"UPDATE {self._t} SET status = ?, attempt = ?, channel_id = ?, updated_at = ?"
             " WHERE id = ? AND status = ? AND attempt = ?",
             (CLAIMED, attempt, channel_id(row.id, attempt, self.purpose), when,
              int(row.id), PENDING, int(row.attempt))),
            self._timeline(row.id, when, CLAIMED)], row.id)
        claimed = await self.get(row.id)
        if claimed is None or claimed.status != CLAIMED or claimed.attempt != attempt:
            return None
        return claimed

    async def dialling(self, id: int, at: datetime) -> None:
        await self._change("callback_dialling", [
            (f"UPDATE {self._t} SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
             (DIALLING, iso(at), int(id), CLAIMED))], id)

    async def finished(self, id: int, outcome: str, at: datetime, *,
                       again_at: datetime | None) -> None:
        """The attempt's outcome: answered, or no-answer/failed with the next attempt due
        at `again_at` (None: none left, the row ends with that outcome)."""
        when = iso(at)
        status = outcome if again_at is None else PENDING
        due = iso(again_at) if again_at is not None else when
        await self._change("callback_finished", [
            (f"UPDATE {self._t} SET status = ?, last_outcome = ?, next_attempt_at = ?,"
             " updated_at = ? WHERE id = ? AND status IN (?, ?)",
             (status, outcome, due, when, int(id), CLAIMED, DIALLING)),
            self._timeline(id, when, outcome)], id)

    async def withheld(self, id: int, at: datetime) -> None:
        """Not dialled, for good: no consent (or no number) when it was due."""
        when = iso(at)
        await self._change("callback_withheld", [
            (f"UPDATE {self._t} SET status = ?, last_outcome = ?, updated_at = ?"
             " WHERE id = ? AND status = ?", (CANCELLED, "no-consent", when, int(id),
                                              PENDING)),
            self._timeline(id, when, CANCELLED, "no-consent")], id)

    async def cancel(self, id: int, by: str, at: datetime) -> bool:
        """A supervisor's cancel of a pending callback; False if it is not pending (an
        attempt being dialled goes on: its channel is already ringing)."""
        before = await self.get(id)
        if before is None or before.status != PENDING:
            return False
        when = iso(at)
        await self._change("callback_cancel", [
            (f"UPDATE {self._t} SET status = ?, cancelled_by = ?, updated_at = ?"
             " WHERE id = ? AND status = ?", (CANCELLED, str(by), when, int(id), PENDING)),
            self._timeline(id, when, CANCELLED, str(by))], id)
        after = await self.get(id)
        return after is not None and after.status == CANCELLED

    async def recover(self, at: datetime, attempts: int, gap_seconds: int) -> int:
        """At start-up: attempts left claimed or dialling by a stopped app are spent
        (never dialled again); the row goes on with its next attempt, or fails."""
        rows = await self.listing((CLAIMED, DIALLING))
        when = iso(at)
        for row in rows:
            left = row.attempt < attempts
            due = iso(at + timedelta(seconds=gap_seconds)) if left else when
            statements: list[Statement] = [
                (f"UPDATE {self._t} SET status = ?, last_outcome = ?, next_attempt_at = ?,"
                 " updated_at = ? WHERE id = ? AND status IN (?, ?)",
                 (PENDING if left else FAILED, INTERRUPTED, due, when, int(row.id), CLAIMED,
                  DIALLING)),
                self._timeline(row.id, when, INTERRUPTED)]
            await self._change("callback_recover", statements, row.id)
        return len(rows)

    # ------------------------------------------------------------------ reads

    async def get(self, id: int) -> Callback | None:
        async with self.queries.db.execute(
                f"SELECT {_COLUMNS} FROM {self._t} WHERE id = ?", (int(id),)) as cursor:
            row = await cursor.fetchone()
        return Callback(**dict(row)) if row else None

    async def of_reference(self, reference: str) -> Callback | None:
        """The report's row (one per report and purpose)."""
        async with self.queries.db.execute(
                f"SELECT {_COLUMNS} FROM {self._t} WHERE reference = ?",
                (str(reference),)) as cursor:
            row = await cursor.fetchone()
        return Callback(**dict(row)) if row else None

    async def due(self, now: datetime, limit: int) -> list[Callback]:
        async with self.queries.db.execute(
                f"SELECT {_COLUMNS} FROM {self._t} WHERE status = ? AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT ?", (PENDING, iso(now), int(limit)),
        ) as cursor:
            return [Callback(**dict(row)) async for row in cursor]

    async def next_due(self) -> datetime | None:
        async with self.queries.db.execute(
                f"SELECT MIN(next_attempt_at) FROM {self._t} WHERE status = ?",
                (PENDING,)) as cursor:
            row = await cursor.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def listing(self, statuses: tuple[str, ...], limit: int = 200) -> list[Callback]:
        """Rows in `statuses`, oldest first (the wallboard: pending and failed)."""
        marks = ", ".join("?" for _ in statuses)
        async with self.queries.db.execute(
                f"SELECT {_COLUMNS} FROM {self._t} WHERE status IN ({marks})"
                " ORDER BY created_at, id LIMIT ?", (*statuses, int(limit))) as cursor:
            return [Callback(**dict(row)) async for row in cursor]
