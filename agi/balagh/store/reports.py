"""The report store: one row per call, every keypad answer saved as it is given.

The rule that shapes this module: a database problem must never block or
break a call. The call path therefore only *enqueues* writes (plain methods,
no await, never raise); one writer task owns the SQLite connection, applies
the writes in order, retries briefly when the database is locked, and logs,
counts and drops what it cannot write. Reads use a second, read-only
connection (WAL lets it run beside the writer) and are for the CLI and tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import structlog

from . import reference as refs
from .schema import migrate

log = structlog.get_logger()

IN_IVR = "in_ivr"
ROUTED = "routed"
HUNG_UP_IN_IVR = "hung_up_in_ivr"
FALLBACK = "fallback"

# Which timestamp a status stamps (the first time it is set).
ROUTED_STATUSES = frozenset({ROUTED, FALLBACK})
ENDED_STATUSES = frozenset({HUNG_UP_IN_IVR})

Statement = tuple[str, Sequence[Any]]


@dataclass(frozen=True, slots=True)
class _Write:
    """One call-path operation: its statements commit together or not at all."""

    op: str
    call_id: str
    statements: tuple[Statement, ...]


class _Stop:
    """Queued by close(): everything before it is written, then the writer ends."""


_STOP = _Stop()
_Item = _Write | _Stop | asyncio.Future[None]


def _iso(moment: datetime) -> str:
    """ISO-8601 UTC text; naive datetimes are taken as UTC rather than refused."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_busy(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class ReportStore:
    # Tunables as class attributes so tests (and a future config) can adjust them.
    BUSY_TIMEOUT_MS = 2000  # SQLite waits this long for a lock before saying "locked"
    RETRIES = 3  # further attempts after a "locked" error
    RETRY_DELAY = 0.05  # seconds, doubled on each retry
    MAX_BATCH = 200  # writes committed in one transaction
    MAX_PENDING = 100_000  # queued writes; beyond this the call path drops (and counts)
    CLOSE_TIMEOUT = 30.0  # seconds close() waits for the queue to drain
    REFERENCE_TRIES = 50  # random draws before widening the reference by a digit

    def __init__(
        self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection
    ) -> None:
        self.path = path
        self._db = writer
        self._reader = reader
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=self.MAX_PENDING)
        self._references: set[str] = set()
        self._write_errors = 0
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    async def open(cls, path: Path) -> ReportStore:
        """Open (creating if needed) the database at `path` and start the writer.

        Unlike the call path this may raise: a database that cannot be opened
        is a start-up problem to report loudly, and the dialplan's fallback
        still queues callers while the app is down.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: the writer issues BEGIN IMMEDIATE/COMMIT itself.
        writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            await writer.execute(f"PRAGMA busy_timeout = {int(cls.BUSY_TIMEOUT_MS)}")
            await writer.execute("PRAGMA journal_mode = WAL")
            # NORMAL is durable across app crashes in WAL mode; only a power cut
            # can lose the last moments, and it keeps commits cheap.
            await writer.execute("PRAGMA synchronous = NORMAL")
            await migrate(writer)
            reader = await aiosqlite.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        except BaseException:
            await writer.close()
            raise
        reader.row_factory = sqlite3.Row
        store = cls(path, writer, reader)
        try:
            await reader.execute(f"PRAGMA busy_timeout = {int(cls.BUSY_TIMEOUT_MS)}")
            async with reader.execute("SELECT reference FROM reports") as cursor:
                store._references = {row[0] async for row in cursor}
        except BaseException:
            await writer.close()
            await reader.close()
            raise
        store._task = asyncio.create_task(store._run(), name=f"balagh-store-writer:{path}")
        log.info("store.opened", path=str(path), reports=len(store._references))
        return store

    async def close(self) -> None:
        """Write everything already queued, then close the connections."""
        if self._task is None:
            return
        self._closing = True
        task, self._task = self._task, None
        if not task.done():
            await self._queue.put(_STOP)
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=self.CLOSE_TIMEOUT)
            except TimeoutError:
                log.error("store.close_timeout", pending=self._queue.qsize())
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._abandon_queue()
        for conn in (self._db, self._reader):
            try:
                await conn.close()
            except Exception as exc:  # already broken: nothing left to save
                log.warning("store.close_failed", error=str(exc))
        log.info("store.closed", path=str(self.path), write_errors=self._write_errors)

    async def flush(self) -> None:
        """Return once every write queued before this call is committed (or dropped)."""
        if self._task is None or self._task.done():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(done)
        await done

    @property
    def write_errors(self) -> int:
        """Writes that were lost: dropped after retries, or refused when queued."""
        return self._write_errors

    # ------------------------------------------------------------ references

    def new_reference(self) -> str:
        """A reference number no report in this database has used."""
        digits = refs.RANDOM_DIGITS
        while True:
            for _ in range(self.REFERENCE_TRIES):
                candidate = refs.generate(digits)
                if candidate not in self._references:
                    self._references.add(candidate)
                    return candidate
            # The space is nearly full: longer numbers beat an endless loop.
            log.warning("store.reference_space_crowded", digits=digits)
            digits += 1

    # -------------------------------------------------------------- call path

    def start_report(
        self,
        *,
        call_id: str,
        reference: str,
        channel: str,
        caller: str | None,
        hotline: str | None,
        started_at: datetime,
    ) -> None:
        def build() -> list[Statement]:
            self._references.add(reference)
            at = _iso(started_at)
            return [
                (
                    "INSERT INTO reports (call_id, reference, channel, caller, hotline,"
                    " status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (call_id, reference, channel, caller or None, hotline, IN_IVR, at, at),
                )
            ]

        self._submit("start_report", call_id, build)

    def record_answer(
        self,
        *,
        call_id: str,
        question: str,
        value: str | None,
        key: str | None,
        attempt: int,
        at: datetime,
    ) -> None:
        def build() -> list[Statement]:
            when = _iso(at)
            return [
                (
                    "INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (call_id, question, value, key, int(attempt), when),
                ),
                ("UPDATE reports SET updated_at = ? WHERE call_id = ?", (when, call_id)),
            ]

        self._submit("record_answer", call_id, build)

    def set_language(self, *, call_id: str, language: str) -> None:
        def build() -> list[Statement]:
            # No time is passed in; the app's clock, still not the database's.
            now = _iso(datetime.now(UTC))
            return [
                (
                    "UPDATE reports SET language = ?, updated_at = ? WHERE call_id = ?",
                    (language, now, call_id),
                )
            ]

        self._submit("set_language", call_id, build)

    def set_location(self, *, call_id: str, emirate: str | None, source: str,
                     at: datetime) -> None:
        def build() -> list[Statement]:
            return [(
                "UPDATE reports SET location = ?, location_source = ?, updated_at = ?"
                " WHERE call_id = ?",
                (emirate, source, _iso(at), call_id),
            )]

        self._submit("set_location", call_id, build)

    def record_reload(self, *, file: str, sha256: str | None, trigger: str, outcome: str,
                      rules: int | None, error: str | None, at: datetime) -> None:
        """One attempt to load the routing table (applied or refused)."""
        def build() -> list[Statement]:
            return [(
                "INSERT INTO routing_reloads (at, file, sha256, trigger, outcome, rules, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_iso(at), file, sha256, trigger, outcome, rules, error),
            )]

        self._submit("record_reload", "-", build)

    async def list_reloads(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest routing-table loads first."""
        async with self._reader.execute(
            "SELECT * FROM routing_reloads ORDER BY at DESC, id DESC LIMIT ?", (int(limit),)
        ) as cursor:
            return [dict(row) async for row in cursor]

    # -- retention: callers' data is kept no longer than it is needed -------------------

    async def count_before(self, before: datetime) -> int:
        async with self._reader.execute("SELECT COUNT(*) FROM reports WHERE started_at < ?",
                                        (_iso(before),)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def redact_before(self, before: datetime) -> int:
        """Forget who called and from where (number, location) in reports started before."""
        count = await self.count_before(before)
        when = _iso(before)
        self._submit("redact", "-", lambda: [(
            "UPDATE reports SET caller = NULL, location = NULL, location_source = NULL,"
            " channel = '' WHERE started_at < ?", (when,))])
        await self.flush()
        return count

    async def purge_before(self, before: datetime) -> int:
        """Delete reports started before, with their answers."""
        count = await self.count_before(before)
        when = _iso(before)
        self._submit("purge", "-", lambda: [
            ("DELETE FROM answers WHERE call_id IN"
             " (SELECT call_id FROM reports WHERE started_at < ?)", (when,)),
            ("DELETE FROM reports WHERE started_at < ?", (when,)),
        ])
        await self.flush()
        return count

    # -- the queue's side of the call (AMI events; call_id is Asterisk's Uniqueid) ----------

    def queue_joined(self, *, call_id: str, queue: str, at: datetime) -> None:
        self._update("queue_joined", call_id, at, joined_queue=queue)

    def queue_answered(self, *, call_id: str, queue: str, agent: str, wait_seconds: int,
                       at: datetime) -> None:
        self._update("queue_answered", call_id, at, queue_outcome="answered", joined_queue=queue,
                     answered_by=agent, answered_at=_iso(at), wait_seconds=int(wait_seconds))

    def queue_abandoned(self, *, call_id: str, queue: str, wait_seconds: int,
                        at: datetime) -> None:
        self._update("queue_abandoned", call_id, at, queue_outcome="abandoned",
                     joined_queue=queue, wait_seconds=int(wait_seconds), ended_at=_iso(at))

    def queue_completed(self, *, call_id: str, talk_seconds: int, at: datetime) -> None:
        self._update("queue_completed", call_id, at, talk_seconds=int(talk_seconds),
                     ended_at=_iso(at))

    def _update(self, op: str, call_id: str, at: datetime, **columns: Any) -> None:
        """Set columns of one report (a call that is not ours simply matches no row)."""
        def build() -> list[Statement]:
            names = ", ".join(f"{name} = ?" for name in columns)
            return [(f"UPDATE reports SET {names}, updated_at = ? WHERE call_id = ?",
                     (*columns.values(), _iso(at), call_id))]

        self._submit(op, call_id, build)

    def record_decision(
        self, *, call_id: str, rule: str, queue: str, priority: int, at: datetime
    ) -> None:
        def build() -> list[Statement]:
            return [
                (
                    "UPDATE reports SET rule = ?, queue = ?, priority = ?, updated_at = ?"
                    " WHERE call_id = ?",
                    (rule, queue, int(priority), _iso(at), call_id),
                )
            ]

        self._submit("record_decision", call_id, build)

    def set_status(
        self, *, call_id: str, status: str, at: datetime, detail: str | None = None
    ) -> None:
        def build() -> list[Statement]:
            when = _iso(at)
            sets = ["status = ?", "status_detail = ?", "updated_at = ?"]
            params: list[Any] = [status, detail, when]
            if status in ROUTED_STATUSES:
                sets.append("routed_at = COALESCE(routed_at, ?)")
                params.append(when)
            if status in ENDED_STATUSES:
                sets.append("ended_at = COALESCE(ended_at, ?)")
                params.append(when)
            params.append(call_id)
            return [(f"UPDATE reports SET {', '.join(sets)} WHERE call_id = ?", params)]

        self._submit("set_status", call_id, build)

    def _submit(self, op: str, call_id: str, build: Callable[[], Iterable[Statement]]) -> None:
        """Queue one write. Never raises, never waits: the call goes on regardless."""
        try:
            if self._closing or self._task is None:
                raise RuntimeError("store is closed")
            self._queue.put_nowait(_Write(op, str(call_id), tuple(build())))
        except Exception as exc:
            self._write_errors += 1
            log.error("store.write_refused", op=op, call_id=call_id, error=repr(exc))

    # ----------------------------------------------------------------- writer

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            writes = [item for item in batch if isinstance(item, _Write)]
            try:
                if writes:
                    await self._commit(writes)
            except Exception as exc:  # a bug here must not stop every later write
                self._write_errors += len(writes)
                with contextlib.suppress(Exception):  # nor may a broken log stream
                    log.exception("store.writer_failed", error=repr(exc), dropped=len(writes))
            for item in batch:
                if isinstance(item, asyncio.Future) and not item.done():
                    item.set_result(None)
            if any(item is _STOP for item in batch):
                return

    async def _commit(self, writes: list[_Write]) -> None:
        try:
            await self._apply_with_retry(writes)
            return
        except Exception as exc:
            if len(writes) == 1 or _is_busy(exc):
                # Still locked after the retries: waiting longer would only grow the queue.
                for write in writes:
                    self._drop(write, exc)
                return
            log.warning("store.batch_failed", error=repr(exc), writes=len(writes))
        # One bad write must not take its neighbours down: retry them one by one.
        for write in writes:
            try:
                await self._apply_with_retry([write])
            except Exception as exc:
                self._drop(write, exc)

    async def _apply_with_retry(self, writes: list[_Write]) -> None:
        for attempt in range(self.RETRIES + 1):
            try:
                await self._apply(writes)
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == self.RETRIES:
                    raise
                log.warning("store.write_retry", error=str(exc), attempt=attempt + 1)
                await asyncio.sleep(self.RETRY_DELAY * 2**attempt)

    async def _apply(self, writes: list[_Write]) -> None:
        # IMMEDIATE takes the write lock up front, so "locked" comes before any work.
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            for write in writes:
                for sql, params in write.statements:
                    await self._db.execute(sql, params)
            await self._db.execute("COMMIT")
        except BaseException:
            try:
                await self._db.execute("ROLLBACK")
            except Exception:  # no transaction left, or no connection: nothing to undo
                pass
            raise

    def _drop(self, write: _Write, exc: BaseException) -> None:
        self._write_errors += 1
        log.error("store.write_dropped", op=write.op, call_id=write.call_id, error=repr(exc))

    def _abandon_queue(self) -> None:
        """After the writer stopped: count what is left and release any flush() waiters."""
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Write):
                self._drop(item, RuntimeError("store closed before the write"))
            elif isinstance(item, asyncio.Future) and not item.done():
                item.set_result(None)

    # ------------------------------------------------------------------ reads

    async def get_report(self, reference_or_call_id: str) -> dict[str, Any] | None:
        """One report with its answers: `answers` (latest per question) and `answer_log`."""
        key = str(reference_or_call_id)
        async with self._reader.execute(
            "SELECT * FROM reports WHERE reference = ? OR call_id = ?"
            " ORDER BY reference = ? DESC LIMIT 1",
            (key, key, key),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        report = dict(row)
        async with self._reader.execute(
            "SELECT id, call_id, question, value, key, attempt, answered_at"
            " FROM answers WHERE call_id = ? ORDER BY id",
            (report["call_id"],),
        ) as cursor:
            log_rows = [dict(answer) async for answer in cursor]
        report["answers"] = {answer["question"]: answer["value"] for answer in log_rows}
        report["answer_log"] = log_rows
        return report

    async def list_reports(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest reports first, each with `answers` (latest per question)."""
        async with self._reader.execute(
            "SELECT * FROM reports ORDER BY started_at DESC, id DESC LIMIT ?", (int(limit),)
        ) as cursor:
            reports = [dict(row) async for row in cursor]
        if not reports:
            return reports
        by_call = {report["call_id"]: report for report in reports}
        for report in reports:
            report["answers"] = {}
        # Same selection as above, as a subquery: no limit on SQL parameters to hit.
        async with self._reader.execute(
            "SELECT call_id, question, value FROM answers WHERE call_id IN"
            " (SELECT call_id FROM reports ORDER BY started_at DESC, id DESC LIMIT ?)"
            " ORDER BY id",
            (int(limit),),
        ) as cursor:
            async for answer in cursor:
                by_call[answer["call_id"]]["answers"][answer["question"]] = answer["value"]
        return reports
