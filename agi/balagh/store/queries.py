"""Reading reports back: typed rows over a read-only connection (for the CLI, resume, tests).

WAL lets this connection read beside the writer. Times stay as stored: ISO-8601
UTC text.
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
from balagh.supervise.model import PinAttempt

from .events import TimelineEvent, decode, kind_of
from .search import ReportSearch
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
    answers: Mapping[str, str | None] = field(default_factory=dict)
    answer_log: tuple[Answer, ...] = ()


@dataclass(frozen=True, slots=True)
class TableLoad:
    """One attempt to load the routing table: applied or refused, and why."""

    id: int
    at: str
    file: str
    sha256: str | None  # of the file as read; None if it could not be read
    trigger: str
    outcome: str
    rules: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class MonitorEvent:
    """One line of the monitoring audit (see store/audit.py)."""

    id: int
    at: str
    session: str | None
    supervisor: str | None
    phone: str | None
    action: str  # refused | pin-ok | start | mode | end
    reference: str | None
    agent: str | None
    mode: str | None  # listen | whisper | barge
    detail: str | None  # for refused: why


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


def _columns(cls: type[Any]) -> list[str]:
    return [f.name for f in fields(cls) if f.name not in ("answers", "answer_log")]


_REPORT_COLUMNS = ", ".join(_columns(Report))
_ANSWER_COLUMNS = ", ".join(_columns(Answer))
_LOAD_COLUMNS = ", ".join(_columns(TableLoad))
_MONITOR_COLUMNS = ", ".join(_columns(MonitorEvent))
_DELIVERY_COLUMNS = ", ".join(_columns(Delivery))


def _status(text: str) -> ReportStatus | str:
    try:
        return ReportStatus(text)
    except ValueError:
        return text


def _report(row: sqlite3.Row, answers: Mapping[str, str | None],
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


class Queries:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def get_report(self, reference_or_call_id: str) -> Report | None:
        """One report with its answers: `answers` (latest per question) and `answer_log`."""
        key = str(reference_or_call_id)
        async with self.db.execute(
            f"SELECT {_REPORT_COLUMNS} FROM reports WHERE reference = ? OR call_id = ?"
            " ORDER BY reference = ? DESC LIMIT 1",
            (key, key, key),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        async with self.db.execute(
            f"SELECT {_ANSWER_COLUMNS} FROM answers WHERE call_id = ? ORDER BY id",
            (row["call_id"],),
        ) as cursor:
            answer_log = tuple([Answer(**dict(answer)) async for answer in cursor])
        answers = {answer.question: answer.value for answer in answer_log}
        return _report(row, answers, answer_log)

    async def list_reports(self, limit: int = 20) -> list[Report]:
        """The newest reports first, each with `answers` (latest per question)."""
        return await self.search_reports(ReportSearch(limit=int(limit)))

    async def search_reports(self, search: ReportSearch) -> list[Report]:
        """The reports `search` selects, newest first, each with `answers` (latest per
        question)."""
        sql, params = search.selection(_REPORT_COLUMNS)
        async with self.db.execute(sql, params) as cursor:
            rows = [row async for row in cursor]
        if not rows:
            return []
        answers: dict[str, dict[str, str | None]] = {row["call_id"]: {} for row in rows}
        # Same selection as above, as a subquery: no limit on SQL parameters to hit.
        inner, inner_params = search.selection("reports.call_id")
        async with self.db.execute(
            f"SELECT call_id, question, value FROM answers WHERE call_id IN ({inner})"
            " ORDER BY id", inner_params,
        ) as cursor:
            async for answer in cursor:
                answers[answer["call_id"]][answer["question"]] = answer["value"]
        return [_report(row, answers[row["call_id"]]) for row in rows]

    async def timeline(self, reference_or_call_id: str) -> list[TimelineEvent]:
        """One report's timeline in time order (ties in the order they were written)."""
        key = str(reference_or_call_id)
        async with self.db.execute(
            "SELECT id, call_id, at, kind, detail FROM report_events WHERE call_id ="
            " COALESCE((SELECT call_id FROM reports WHERE reference = ?), ?)"
            " ORDER BY at, id", (key, key),
        ) as cursor:
            return [TimelineEvent(id=row["id"], call_id=row["call_id"], at=row["at"],
                                  kind=kind_of(row["kind"]), detail=decode(row["detail"]))
                    async for row in cursor]

    async def list_reloads(self, limit: int = 20) -> list[TableLoad]:
        """The newest routing-table loads first."""
        async with self.db.execute(
            f"SELECT {_LOAD_COLUMNS} FROM routing_reloads ORDER BY at DESC, id DESC LIMIT ?",
            (int(limit),),
        ) as cursor:
            return [TableLoad(**dict(row)) async for row in cursor]

    async def count_before(self, before: datetime) -> int:
        """Reports started before `before`."""
        async with self.db.execute("SELECT COUNT(*) FROM reports WHERE started_at < ?",
                                   (iso(before),)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def references(self) -> set[str]:
        """Every reference number in the database."""
        async with self.db.execute("SELECT reference FROM reports") as cursor:
            return {row[0] async for row in cursor}

    async def monitor_events(self, *, reference: str | None = None,
                             limit: int = 50) -> list[MonitorEvent]:
        """The monitoring audit, newest first; only one report's with `reference`."""
        where, params = ("WHERE reference = ?", [reference]) if reference else ("", [])
        async with self.db.execute(
            f"SELECT {_MONITOR_COLUMNS} FROM monitor_audit {where} ORDER BY id DESC LIMIT ?",
            (*params, int(limit)),
        ) as cursor:
            return [MonitorEvent(**dict(row)) async for row in cursor]

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
            sql += f" AND id IN ({', '.join('?' for _ in ids)})" if ids else " AND 0"
            params = [int(i) for i in ids]
        async with self.db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
