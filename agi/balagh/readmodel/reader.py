"""Reading reports for people: one report, a search, a timeline, the monitoring audit,
the routing table's history, over a read-only connection.

The CLI, the console and `balagh monitor --live` read through here. Rows are the
store's types (store/queries.py: Report, Answer), beside the schema; times stay as
stored, ISO-8601 UTC text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

import aiosqlite

from balagh.localtime import hour_of_day
from balagh.store.events import TimelineEvent, decode, kind_of
from balagh.store.opening import open_reader as open_connection
from balagh.store.queries import REPORT_COLUMNS, Report, columns_of, read_report
from balagh.store.queries import report_of as _report_of
from balagh.store.timestamps import iso
from balagh.vocabulary import REPEAT_WINDOW

from .search import ReportSearch

if TYPE_CHECKING:
    from balagh.store.opening import ReportDatabase
    from balagh.store.reports import ReportStore


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
    node: str | None = None  # the node whose Asterisk carried it (`nodes:`); none on one box


_LOAD_COLUMNS = ", ".join(columns_of(TableLoad))
_MONITOR_COLUMNS = ", ".join(columns_of(MonitorEvent))


class ReportReader:
    """Typed reads over one read-only connection (the caller owns and closes it)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def get_report(self, reference_or_call_id: str) -> Report | None:
        """One report with its answers: `answers` (latest per question) and `answer_log`."""
        return await read_report(self.db, reference_or_call_id)

    async def repeat_calls(self, report: Report) -> int | None:
        """This number's calls in the repeat window before this one, this one included
        (as the agent's whisper counts them); None when the number is not kept."""
        if not report.caller_hash:
            return None
        started = datetime.fromisoformat(report.started_at.replace("Z", "+00:00"))
        async with self.db.execute(
                "SELECT COUNT(*) FROM reports WHERE caller_hash = ? AND started_at >= ?"
                " AND started_at <= ?",
                (report.caller_hash, iso(started - REPEAT_WINDOW), report.started_at)) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def list_reports(self, limit: int = 20) -> list[Report]:
        """The newest reports first, each with `answers` (latest per question)."""
        return await self.search_reports(ReportSearch(limit=int(limit)))

    async def search_reports(self, search: ReportSearch) -> list[Report]:
        """The reports `search` selects, newest first, each with `answers` (latest per
        question)."""
        sql, params = search.selection(REPORT_COLUMNS)
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
        return [_report_of(row, answers[row["call_id"]]) for row in rows]

    async def search_visible(self, search: ReportSearch,
                             queues: Collection[str] | None) -> list[Report]:
        """The search limited to the queues a viewer may see (None: every queue), one
        search per queue, merged newest first and limited again."""
        if queues is None:
            wanted: list[str | None] = [search.queue]
        elif search.queue is not None:
            if search.queue not in queues:
                return []
            wanted = [search.queue]
        else:
            wanted = list(sorted(queues))
        found: list[Report] = []
        for queue in wanted:
            found += await self.search_reports(replace(search, queue=queue))
        found.sort(key=lambda r: (r.started_at, r.id), reverse=True)
        return found[:search.limit] if search.limit is not None else found

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

    async def monitor_events(self, *, reference: str | None = None,
                             limit: int = 50) -> list[MonitorEvent]:
        """The monitoring audit, newest first; only one report's with `reference`."""
        where, params = ("WHERE reference = ?", [reference]) if reference else ("", [])
        async with self.db.execute(
            f"SELECT {_MONITOR_COLUMNS} FROM monitor_audit {where} ORDER BY id DESC LIMIT ?",
            (*params, int(limit)),
        ) as cursor:
            return [MonitorEvent(**dict(row)) async for row in cursor]

    async def calls_per_hour(self, start: datetime, end: datetime, zone: tzinfo) -> list[int]:
        """Reports started in each of `zone`'s wall-clock hours (24 counts) from `start` to
        `end`: counted per UTC hour, each put in its local hour (a DST day's repeated hour
        adds to the same count)."""
        hours = [0] * 24
        async with self.db.execute(
            "SELECT substr(started_at, 1, 13) AS hour, COUNT(*) FROM reports"
            " WHERE started_at >= ? AND started_at < ? GROUP BY hour",
            (iso(start), iso(end)),
        ) as cursor:
            async for row in cursor:
                hours[hour_of_day(f"{row[0]}:00:00+00:00", zone)] += int(row[1])
        return hours

    async def data_version(self) -> int | None:
        """Moves when another connection commits: SQLite's data_version, the server's WAL
        position on PostgreSQL (store/postgres.py; it moves with any commit there)."""
        async with self.db.execute("PRAGMA data_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None


@asynccontextmanager
async def open_reader(database: ReportDatabase,
                      busy_timeout_ms: int) -> AsyncIterator[ReportReader]:
    """A reader over its own read-only connection to the SQLite file (which must exist) or
    the server (store.opening.report_database(settings) says which), closed again however
    the block ends."""
    async with open_connection(database, busy_timeout_ms) as db:
        yield ReportReader(db)


def reader_of(store: ReportStore) -> ReportReader:
    """A reader over an open store's read-only connection (while the store is open)."""
    return ReportReader(store.queries.db)


__all__ = ["MonitorEvent", "ReportReader", "TableLoad", "open_reader", "reader_of"]
