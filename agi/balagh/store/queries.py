"""The reads the store's own users wait on: a report by reference or call id (resume,
queue outcomes, supervision), the repeat count, PIN attempts, and the outbox worker's rows.

Typed rows over a read-only connection (WAL lets it read beside the writer); times stay
as stored: ISO-8601 UTC text. Reading reports for people (search, timeline, audit,
history, statistics) is balagh.readmodel's, which builds on the row types here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from balagh.status import ReportStatus
from balagh.vocabulary import PinAttempt

from .timestamps import iso
from .uri import read_only_uri


@dataclass(frozen=True, slots=True)
class Answer:
    """One key press (or timeout) answering one question, as logged."""

    id: int
    call_id: str
    question: str
    value: str | None  # None: no valid key on this attempt
    key: str | None
    attempt: int
    answered_at: str


@dataclass(frozen=True, slots=True)
class Report:
    """One call. Fields in the table's column order; `answers` holds the latest
    answer per question, `answer_log` every attempt (filled by get_report only)."""

    id: int
    call_id: str
    reference: str
    channel: str
    caller: str | None
    hotline: str | None
    language: str | None
    status: ReportStatus | str  # the raw text if this version does not know the word
    status_detail: str | None
    rule: str | None
    queue: str | None
    priority: int | None
    started_at: str
    routed_at: str | None
    ended_at: str | None
    updated_at: str
    location: str | None
    location_source: str | None
    queue_outcome: str | None
    joined_queue: str | None
    answered_by: str | None
    answered_at: str | None
    wait_seconds: int | None
    talk_seconds: int | None
    caller_hash: str | None = None
    typed_ahead: int | None = None  # 1/0: the menu's last key came before its prompt
    gave_up_in: str | None = None   # hung up in the IVR: the question being asked
    followup_status: str | None = None  # the unit's latest word on it (store/followups.py)
    answers: Mapping[str, str | None] = field(default_factory=dict)
    answer_log: tuple[Answer, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One report event queued for one unit's endpoint (see handover/outbox.py)."""

    id: int
    key: str  # the idempotency key: REFERENCE:EVENT
    url: str
    body: str  # the JSON document exactly as it is signed and sent
    event: str
    reference: str | None
    created_at: str
    attempts: int
    next_attempt_at: str
    delivered_at: str | None
    last_error: str | None
    status: str  # pending | delivered | failed


DELIVERY_STATUSES = ("pending", "delivered", "failed")


def columns_of(cls: type[Any]) -> list[str]:
    return [f.name for f in fields(cls) if f.name not in ("answers", "answer_log")]


REPORT_COLUMNS = ", ".join(columns_of(Report))
_ANSWER_COLUMNS = ", ".join(columns_of(Answer))
_DELIVERY_COLUMNS = ", ".join(columns_of(Delivery))


def _status(text: str) -> ReportStatus | str:
    try:
        return ReportStatus(text)
    except ValueError:
        return text


def report_of(row: sqlite3.Row, answers: Mapping[str, str | None],
              answer_log: tuple[Answer, ...] = ()) -> Report:
    values = dict(row)
    values["status"] = _status(values["status"])
    return Report(**values, answers=answers, answer_log=answer_log)


async def connect(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    """A read-only connection to the database at `path` (which must exist)."""
    conn = await aiosqlite.connect(read_only_uri(path), uri=True)
    conn.row_factory = sqlite3.Row
    try:
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    except BaseException:
        await conn.close()
        raise
    return conn


async def read_report(db: aiosqlite.Connection, reference_or_call_id: str) -> Report | None:
    """One report with its answers: `answers` (latest per question) and `answer_log`;
    by reference first, else by call id."""
    key = str(reference_or_call_id)
    async with db.execute(
        f"SELECT {REPORT_COLUMNS} FROM reports WHERE reference = ? OR call_id = ?"
        " ORDER BY reference = ? DESC LIMIT 1",
        (key, key, key),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    async with db.execute(
        f"SELECT {_ANSWER_COLUMNS} FROM answers WHERE call_id = ? ORDER BY id",
        (row["call_id"],),
    ) as cursor:
        answer_log = tuple([Answer(**dict(answer)) async for answer in cursor])
    answers = {answer.question: answer.value for answer in answer_log}
    return report_of(row, answers, answer_log)


class Queries:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def get_report(self, reference_or_call_id: str) -> Report | None:
        """One report with its answers: `answers` (latest per question) and `answer_log`."""
        return await read_report(self.db, reference_or_call_id)

    async def references(self) -> set[str]:
        """Every reference number in the database."""
        async with self.db.execute("SELECT reference FROM reports") as cursor:
            return {row[0] async for row in cursor}

    async def calls_from(self, caller_hash: str, since: datetime, *, besides: str) -> int:
        """Calls from the number behind `caller_hash` started since `since`, other than the
        call `besides` (the one asking)."""
        async with self.db.execute(
            "SELECT COUNT(*) FROM reports WHERE caller_hash = ? AND started_at >= ?"
            " AND call_id != ?", (caller_hash, iso(since), besides),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def pin_attempts(self, supervisor: str, limit: int) -> list[PinAttempt]:
        """One supervisor's latest PIN attempts, newest first (right: pin-ok; wrong:
        refused with wrong-pin), for the lockout."""
        async with self.db.execute(
            "SELECT at, action FROM monitor_audit WHERE supervisor = ?"
            " AND (action = 'pin-ok' OR (action = 'refused' AND detail = 'wrong-pin'))"
            " ORDER BY id DESC LIMIT ?",
            (supervisor, int(limit)),
        ) as cursor:
            return [PinAttempt(at=datetime.fromisoformat(row["at"]), ok=row["action"] == "pin-ok")
                    async for row in cursor]

    # ------------------------------------------------------------- the outbox

    async def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries whose next attempt is due at `now`, oldest first."""
        async with self.db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM outbox WHERE status = 'pending'"
            " AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (iso(now), int(limit)),
        ) as cursor:
            return [Delivery(**dict(row)) async for row in cursor]

    async def next_delivery_at(self) -> datetime | None:
        """When the earliest pending delivery is due; None if none is pending."""
        async with self.db.execute(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'"
        ) as cursor:
            row = await cursor.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def deliveries(self, status: str | None = None, limit: int = 50) -> list[Delivery]:
        """Deliveries newest first; only those in `status` if given."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        async with self.db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM outbox {where} ORDER BY id DESC LIMIT ?",
            (*params, int(limit)),
        ) as cursor:
            return [Delivery(**dict(row)) async for row in cursor]

    async def count_failed(self, ids: Sequence[int] | None) -> int:
        """Failed deliveries, or those of them among `ids`."""
        sql, params = "SELECT COUNT(*) FROM outbox WHERE status = 'failed'", []
        if ids is not None:
            sql += f" AND id IN ({', '.join('?' for _ in ids)})" if ids else " AND 1 = 0"
            params = [int(i) for i in ids]
        async with self.db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
