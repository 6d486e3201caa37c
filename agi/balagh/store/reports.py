"""The report store the app opens: one database, and the parts that own its data.

ReportStore opens and closes the database and hands out its parts; it does nothing
else (no method that forwards to a part: tests/unit/test_store_parts_rule.py). Each
consumer is given, in a composition root, only the part it needs:

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
- `disclosures` (disclosures.py): who was shown callers' numbers in full.
- `sms`       (sms.py): texts to callers who said it is safe, and their delivery reports.
- `followups` (followups.py): the units' statuses of their reports (waits for its commit).
- `callbacks` (callbacks.py): callbacks to callers in danger who hung up while waiting.
- `survey` (survey.py): the satisfaction call's answers (waits for its commit).
- `survey_calls` (callbacks.py, Purpose SURVEY): the satisfaction calls, as callbacks' rows.

The database is an SQLite file (open), or a PostgreSQL server (open_server, engine.py):
the same parts over either.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import aiosqlite
import structlog

from balagh.config import spool_path

from . import queries as reads
from .agents import AgentActivity
from .audit import MonitorAudit
from .callbacks import SURVEY, CallbackRows
from .calls import CallRecorder
from .disclosures import Disclosures
from .engine import PostgresEngine
from .followups import FollowupRows
from .outbox import OutboxRows
from .permissions import data_files, make_private, make_private_folder
from .queries import Answer, Delivery, Queries, Report
from .retention import Retention
from .schema import SchemaError, migrate, unusable
from .sms import SmsRows
from .spool import Spool, depth
from .sqlite import check_writable, connect, is_unavailable
from .survey import SurveyRows
from .writer import Writer

log = structlog.get_logger()

__all__ = ["Answer", "Delivery", "Report", "ReportStore"]


class ReportStore:
    BUSY_TIMEOUT_MS = 2000  # SQLite waits this long for a lock before saying "locked"

    def __init__(self, path: Path, write_db: aiosqlite.Connection | None,
                 read_db: aiosqlite.Connection, references: Iterable[str] = (), *,
                 spool_file: Path | None = None, engine: PostgresEngine | None = None) -> None:
        """Compose the parts over two open connections (the writer's may be None: the
        database cannot be written, the spool takes the writes); open() and open_server()
        are the ways in. With `engine`, `path` is only where the spool lives."""
        self.path = path
        self.engine = engine
        spool = Spool(spool_file or spool_path(path))
        if engine is not None:
            from .server_writer import ServerWriter

            self.writer: Writer = ServerWriter(cast(Any, write_db), engine=engine, spool=spool,
                                               busy_timeout_ms=self.BUSY_TIMEOUT_MS)
        else:
            self.writer = Writer(write_db, path=path, spool=spool,
                                 busy_timeout_ms=self.BUSY_TIMEOUT_MS)
        self.writer.on_reopen = self._reopen_reader
        self.calls = CallRecorder(self.writer, references)
        self.queries = Queries(read_db)
        self.retention = Retention(self.writer, engine if engine is not None else path)
        self.audit = MonitorAudit(self.writer, self.queries)
        self.outbox = OutboxRows(self.writer, self.queries)
        self.disclosures = Disclosures(self.writer)
        self.sms = SmsRows(self.writer, self.queries)
        self.followups = FollowupRows(self.writer, self.queries)
        self.agents = AgentActivity(self.writer)
        self.callbacks = CallbackRows(self.writer, self.queries)
        self.survey = SurveyRows(self.writer, self.queries)
        self.survey_calls = CallbackRows(self.writer, self.queries, SURVEY)
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
        await _recovered(store, writable=write_db is not None)
        if store.writer.spooling and store.writer.spool is not None:
            log.error("store.spool_in_use", depth=depth(store.writer.spool.path),
                      spool=str(store.writer.spool.path),
                      error="the database cannot be written yet")
        store.writer.start(f"balagh-store-writer:{path}")
        log.info("store.opened", path=str(path), reports=len(store.calls.references),
                 writable=write_db is not None, spooling=store.writer.spooling)
        return store

    @classmethod
    async def open_server(cls, engine: PostgresEngine, spool_file: Path) -> ReportStore:
        """Open the store on a PostgreSQL server and start the writer. A server that is
        down or read-only (a standby) is logged loudly and the store runs anyway, its writes
        going to the spool until the server takes them; the reader waits for it likewise."""
        from . import postgres  # psycopg is imported only where a server is named

        with contextlib.suppress(OSError):
            make_private_folder(spool_file.parent)
        write_db: Any = None
        try:
            write_db = await engine.open_writer()
        except Exception as exc:
            if not engine.is_unavailable(exc):
                raise
            log.error("store.unwritable", database=engine.name, error=str(exc),
                      hint="calls go on; reports wait in the spool until the server "
                      "can be written")
        try:
            read_db: Any = await engine.open_reader()
        except Exception as exc:
            if not engine.is_unavailable(exc):
                if write_db is not None:
                    await write_db.close()
                raise
            log.error("store.unreadable", database=engine.name, error=str(exc))
            read_db = postgres.Unreachable(engine.open_reader)
        store = cls(spool_file, write_db, read_db, spool_file=spool_file, engine=engine)
        await _recovered(store, writable=write_db is not None)
        store.writer.start(f"balagh-store-writer:{engine.name}")
        log.info("store.opened", database=engine.name, reports=len(store.calls.references),
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
        # A server's connection answers as aiosqlite's does (postgres.PgConnection).
        reader: Any = (await self.engine.open_reader() if self.engine is not None
                       else await reads.connect(self.path, self.BUSY_TIMEOUT_MS))
        self.queries.db = reader
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
        log.info("store.closed", path=str(self.path), write_errors=self.writer.write_errors,
                 spooling=self.writer.spooling)


async def _recovered(store: ReportStore, *, writable: bool) -> None:
    """Replay what an earlier run spooled before anyone draws a reference number, then
    learn the numbers already given."""
    if writable:
        await store.writer.recover()
    try:
        store.calls.references.update(await store.queries.references())
    except Exception as exc:  # only a fresh-number check is lost; the calls go on
        log.warning("store.references_unread", error=str(exc))
