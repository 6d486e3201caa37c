"""The report store the app opens: one database, its parts composed behind one object.

- `writer`    (writer.py): the single writer task; the call path only enqueues.
- `spool`     (spool.py): where writes wait, on disk, while SQLite cannot take them.
- `calls`     (calls.py): the call path's writes (never await, never raise).
- `queries`   (queries.py): the reads its own users wait on (a report, the repeat count,
                PIN attempts, the outbox's rows) over a second, read-only connection;
                reading reports for people is balagh.readmodel's.
- `retention` (retention.py): redact / purge old reports, in chunks (maintenance.py).
- `audit`     (audit.py): the monitoring audit's writes (never await, never raise).
- `outbox`    (outbox.py): report events queued for the units' endpoints (queueing never
                awaits nor raises; the delivery worker's updates wait for their commit).

The methods below forward to those parts, so a caller needs only the store.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import structlog

from balagh.config import spool_path
from balagh.status import ReportStatus
from balagh.vocabulary import PinAttempt

from . import queries as reads
from .audit import MonitorAudit
from .calls import CallRecorder
from .disclosures import record_numbers_shown
from .outbox import OutboxRows
from .permissions import data_files, make_private, make_private_folder
from .queries import Answer, Delivery, Queries, Report
from .retention import Retention
from .schema import SchemaError, migrate, unusable
from .spool import Spool, depth
from .sqlite import check_writable, connect, is_unavailable
from .writer import Writer

log = structlog.get_logger()

__all__ = ["Answer", "Delivery", "Report", "ReportStore"]


class ReportStore:
    BUSY_TIMEOUT_MS = 2000  # SQLite waits this long for a lock before saying "locked"

    def __init__(self, path: Path, write_db: aiosqlite.Connection | None,
                 read_db: aiosqlite.Connection, references: Iterable[str] = (), *,
                 spool_file: Path | None = None) -> None:
        """Compose the parts over two open connections (the writer's may be None: the
        database cannot be written, the spool takes the writes); open() is the way in."""
        self.path = path
        self.writer = Writer(write_db, path=path, spool=Spool(spool_file or spool_path(path)),
                             busy_timeout_ms=self.BUSY_TIMEOUT_MS)
        self.writer.on_reopen = self._reopen_reader
        self.calls = CallRecorder(self.writer, references)
        self.queries = Queries(read_db)
        self.retention = Retention(self.writer, path)
        self.audit = MonitorAudit(self.writer)
        self.outbox = OutboxRows(self.writer, self.queries)
        self._closed = False

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    async def open(cls, path: Path, spool_file: Path | None = None) -> ReportStore:
        """Open (creating if needed) the database at `path` and start the writer.

        A database that cannot be *written* (read-only file or folder, full disk,
        locked) is logged loudly and the store runs anyway, its writes going to the
        spool until SQLite takes them. What cannot be used at all (the path is a
        folder, a schema newer than this version) raises: a start-up problem, and
        the dialplan's fallback still queues callers while the app is down.
        """
        path = Path(path)
        if path.is_dir():
            raise sqlite3.OperationalError(f"unable to open database file: {path} is a folder")
        with contextlib.suppress(OSError):  # a read-only parent: noticed below
            make_private_folder(path.parent)
        created = not path.exists()
        try:
            write_db = await cls._open_writer(path)
        except (SchemaError, sqlite3.DatabaseError) as exc:
            raise unusable(path, exc) from None
        try:
            read_db = await cls._open_reader(path)
        except BaseException as exc:
            if write_db is not None:
                await write_db.close()
            if isinstance(exc, SchemaError | sqlite3.DatabaseError):
                raise unusable(path, exc) from None
            raise
        if created:  # whatever the umask of whoever opened it first
            make_private(data_files(path))
        store = cls(path, write_db, read_db, spool_file=spool_file)
        # Replay what an earlier run spooled before anyone draws a reference number.
        if write_db is not None:
            await store.writer.recover()
        try:
            store.calls.references.update(await store.queries.references())
        except Exception as exc:  # only a fresh-number check is lost; the calls go on
            log.warning("store.references_unread", error=str(exc))
        if store.writer.spooling and store.writer.spool is not None:
            log.error("store.spool_in_use", depth=depth(store.writer.spool.path),
                      spool=str(store.writer.spool.path),
                      error="the database cannot be written yet")
        store.writer.start(f"balagh-store-writer:{path}")
        log.info("store.opened", path=str(path), reports=len(store.calls.references),
                 writable=write_db is not None, spooling=store.writer.spooling)
        return store

    @classmethod
    async def _open_writer(cls, path: Path) -> aiosqlite.Connection | None:
        db: aiosqlite.Connection | None = None
        try:
            db = await connect(path, cls.BUSY_TIMEOUT_MS)
            await migrate(db)
            await check_writable(db)
            return db
        except Exception as exc:
            if db is not None:
                await db.close()
            if not is_unavailable(exc):
                raise
            log.error("store.unwritable", path=str(path), error=str(exc),
                      hint="calls go on; reports wait in the spool until the database "
                      "can be written")
            return None

    @classmethod
    async def _open_reader(cls, path: Path) -> aiosqlite.Connection:
        try:
            return await reads.connect(path, cls.BUSY_TIMEOUT_MS)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # Nothing readable yet (the file is missing or unreadable): an empty stand-in
            # answers the call path's reads until the writer reopens the database.
            log.error("store.unreadable", path=str(path), error=str(exc))
            db = await aiosqlite.connect(":memory:")
            await migrate(db)
            return db

    async def _reopen_reader(self) -> None:
        """After the writer reopened the database (replaced, removed, recovered)."""
        old = self.queries.db
        self.queries.db = await reads.connect(self.path, self.BUSY_TIMEOUT_MS)
        with contextlib.suppress(Exception):
            await old.close()

    async def close(self) -> None:
        """Write (or spool) everything queued, close the reader, then checkpoint the WAL
        and close the writer: the reader first, so the checkpoint can empty the WAL."""
        if self._closed:
            return
        self._closed = True
        await self.writer.stop()
        try:
            await self.queries.db.close()
        except Exception as exc:  # already broken: nothing left to save
            log.warning("store.close_failed", error=str(exc))
        await self.writer.close()
        log.info("store.closed", path=str(self.path), write_errors=self.write_errors,
                 spooling=self.writer.spooling)

    async def flush(self) -> None:
        """Return once every write queued before this call is committed (or dropped)."""
        await self.writer.flush()

    @property
    def write_errors(self) -> int:
        """Writes that were lost: dropped after retries, or refused when queued."""
        return self.writer.write_errors

    # -------------------------------------------------- call path (calls.py)

    def new_reference(self) -> str:
        return self.calls.new_reference()

    def start_report(self, *, call_id: str, reference: str, channel: str, caller: str | None,
                     hotline: str | None, started_at: datetime,
                     caller_hash: str | None = None) -> None:
        self.calls.start_report(call_id=call_id, reference=reference, channel=channel,
                                caller=caller, hotline=hotline, started_at=started_at,
                                caller_hash=caller_hash)

    def record_answer(self, *, call_id: str, question: str, value: str | None, key: str | None,
                      attempt: int, at: datetime, typed_ahead: bool = False) -> None:
        self.calls.record_answer(call_id=call_id, question=question, value=value, key=key,
                                 attempt=attempt, at=at, typed_ahead=typed_ahead)

    def set_language(self, *, call_id: str, language: str, at: datetime | None = None) -> None:
        self.calls.set_language(call_id=call_id, language=language, at=at)

    def set_location(self, *, call_id: str, emirate: str | None, source: str,
                     at: datetime) -> None:
        self.calls.set_location(call_id=call_id, emirate=emirate, source=source, at=at)

    def record_decision(self, *, call_id: str, rule: str, queue: str, priority: int,
                        at: datetime, danger: bool = False) -> None:
        self.calls.record_decision(call_id=call_id, rule=rule, queue=queue, priority=priority,
                                   at=at, danger=danger)

    def set_status(self, *, call_id: str, status: ReportStatus, at: datetime,
                   detail: str | None = None, typed_ahead: bool | None = None,
                   gave_up_in: str | None = None) -> None:
        self.calls.set_status(call_id=call_id, status=status, at=at, detail=detail,
                              typed_ahead=typed_ahead, gave_up_in=gave_up_in)

    def queue_joined(self, *, call_id: str, queue: str, at: datetime,
                     position: int | None = None) -> None:
        self.calls.queue_joined(call_id=call_id, queue=queue, at=at, position=position)

    def queue_answered(self, *, call_id: str, queue: str, agent: str, wait_seconds: int,
                       at: datetime) -> None:
        self.calls.queue_answered(call_id=call_id, queue=queue, agent=agent,
                                  wait_seconds=wait_seconds, at=at)

    def queue_abandoned(self, *, call_id: str, queue: str, wait_seconds: int,
                        at: datetime, position: int | None = None) -> None:
        self.calls.queue_abandoned(call_id=call_id, queue=queue, wait_seconds=wait_seconds,
                                   at=at, position=position)

    def queue_completed(self, *, call_id: str, talk_seconds: int, at: datetime,
                        by: str | None = None) -> None:
        self.calls.queue_completed(call_id=call_id, talk_seconds=talk_seconds, at=at, by=by)

    def overflowed(self, *, call_id: str, from_: str | None, to: str, to_kind: str,
                   reason: str | None, at: datetime) -> None:
        self.calls.overflowed(call_id=call_id, from_=from_, to=to, to_kind=to_kind,
                              reason=reason, at=at)

    def transferred(self, *, call_ids: Sequence[str], kind: str, result: str | None,
                    to: str | None, by: str | None, at: datetime) -> None:
        self.calls.transferred(call_ids=call_ids, kind=kind, result=result, to=to, by=by,
                               at=at)

    def record_reload(self, *, file: str, sha256: str | None, trigger: str, outcome: str,
                      rules: int | None, error: str | None, at: datetime) -> None:
        self.calls.record_reload(file=file, sha256=sha256, trigger=trigger, outcome=outcome,
                                 rules=rules, error=error, at=at)

    # ------------------------------------------------ monitoring audit (audit.py)

    def record_monitor(self, *, at: datetime, action: str, session: str | None = None,
                       supervisor: str | None = None, phone: str | None = None,
                       reference: str | None = None, agent: str | None = None,
                       mode: str | None = None, detail: str | None = None) -> None:
        self.audit.record_monitor(at=at, action=action, session=session, supervisor=supervisor,
                                  phone=phone, reference=reference, agent=agent, mode=mode,
                                  detail=detail)

    def record_numbers_shown(self, *, at: datetime, user: str, filters: Mapping[str, Any],
                             rows: int) -> None:
        """Someone asked for callers' numbers in full (disclosures.py)."""
        record_numbers_shown(self.writer, at=at, user=user, filters=filters, rows=rows)

    # ------------------------------------- the call path's reads (queries.py)

    async def get_report(self, reference_or_call_id: str) -> Report | None:
        return await self.queries.get_report(reference_or_call_id)

    async def calls_from(self, caller_hash: str, since: datetime, *, besides: str) -> int:
        return await self.queries.calls_from(caller_hash, since, besides=besides)

    async def pin_attempts(self, supervisor: str, limit: int) -> list[PinAttempt]:
        return await self.queries.pin_attempts(supervisor, limit)

    # ------------------------------------------------- retention (retention.py)

    async def redact_before(self, before: datetime) -> int:
        return await self.retention.redact_before(before)

    async def purge_before(self, before: datetime) -> int:
        return await self.retention.purge_before(before)

    # ------------------------------------------------------ the outbox (outbox.py)

    def queue_delivery(self, *, key: str, url: str, event: str, reference: str | None,
                       body: str, at: datetime) -> None:
        self.outbox.queue_delivery(key=key, url=url, event=event, reference=reference,
                                   body=body, at=at)

    async def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        return await self.queries.due_deliveries(now, limit)

    async def next_delivery_at(self) -> datetime | None:
        return await self.queries.next_delivery_at()

    async def deliveries(self, status: str | None = None, limit: int = 50) -> list[Delivery]:
        return await self.queries.deliveries(status, limit)

    async def delivery_done(self, id: int, at: datetime) -> None:
        await self.outbox.delivery_done(id, at)

    async def delivery_failed(self, id: int, at: datetime, error: str,
                              next_attempt_at: datetime, give_up: bool) -> None:
        await self.outbox.delivery_failed(id, at, error, next_attempt_at, give_up)

    async def retry_deliveries(self, ids: Sequence[int] | None = None) -> int:
        return await self.outbox.retry_deliveries(ids, datetime.now(UTC))
