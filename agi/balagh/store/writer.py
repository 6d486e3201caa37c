"""The single writer: one task owns an SQLite connection and applies queued writes in order.

The rule that shapes it: a database problem must never block or break the
caller of `submit`. Submitting only *enqueues* (no await, never raises); the
writer task commits writes in batches. When SQLite cannot be written (locked, read-only,
disk full, the file gone) the writes go to the spool file (spool.py) instead, in order,
and are replayed exactly once when SQLite works again; only a bad statement is dropped.
A lock is waited for only LOCK_WAIT_MS, never retried in memory: a write is safe once it
is committed or fsynced in the spool, and until then a SIGKILL loses it, so the time a
write spends in memory is kept to that short wait.
It knows nothing about what the statements mean; the modules beside it build them.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite
import structlog

from balagh.timeouts import within

from .spool import Spool, SpooledWrite, Statement, new_id
from .sqlite import DatabaseGone, check_writable, connect, file_identity, is_busy, is_unavailable
from .timestamps import now

log = structlog.get_logger()

__all__ = ["Statement", "Write", "Writer"]


@dataclass(frozen=True, slots=True)
class Write:
    """One operation: its statements commit together or not at all."""

    op: str
    statements: tuple[Statement, ...]
    context: Mapping[str, str] = field(default_factory=dict)  # logged if it is lost
    id: str = field(default_factory=new_id)  # its key in the spool and spool_applied

    def spooled(self) -> SpooledWrite:
        return SpooledWrite(self.id, self.op, self.statements, self.context)


class _Stop:
    """Queued by close(): everything before it is written, then the writer ends."""


_STOP = _Stop()
_Item = Write | _Stop | asyncio.Future[None]


class Writer:
    # Tunables as class attributes so tests (and a future config) can adjust them.
    RETRIES = 3  # further attempts after a "locked" error (only without a spool)
    # With a spool, how long the writer waits for another connection's write lock before
    # the writes go to the spool instead (SQLite's busy_timeout on its connection).
    LOCK_WAIT_MS = 50
    RETRY_DELAY = 0.05  # seconds, doubled on each retry
    MAX_BATCH = 200  # writes committed in one transaction
    MAX_PENDING = 100_000  # queued writes; beyond this submit() drops (and counts)
    CLOSE_TIMEOUT = 30.0  # seconds close() waits for the queue to drain
    PROBE_MIN = 0.5  # seconds between attempts to leave the spool, doubled up to PROBE_MAX
    PROBE_MAX = 2.0
    PROBE_BUSY_MS = 250  # a probe waits this little for the lock: the spool is safe meanwhile
    REPLAY_BATCH = 200  # spooled writes replayed in one transaction
    # Every write's id kept in spool_applied, not only replayed ones (a server: engine.py).
    RECORDS_EVERY_ID = False

    def __init__(self, db: aiosqlite.Connection | None, *, path: Path | None = None,
                 spool: Spool | None = None, busy_timeout_ms: int = 2000) -> None:
        """`path` lets the writer notice its file replaced or removed and reopen it;
        `spool` is where writes go while SQLite cannot take them (without one, they
        are dropped and counted, as before)."""
        self.db = db
        self.path = path
        self.spool = spool
        self.busy_timeout_ms = min(busy_timeout_ms, self.LOCK_WAIT_MS) if spool is not None \
            else busy_timeout_ms
        self._checkpoint_busy_ms = busy_timeout_ms  # at close nothing waits in memory
        self._identity = file_identity(path) if path is not None and db is not None else None
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=self.MAX_PENDING)
        self._write_errors = 0
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._spooling = False
        self._spooled = 0  # writes this writer put in the spool since it last drained
        self._probe_delay = self.PROBE_MIN
        self._next_probe = 0.0
        # Called with the attempt number each time a locked database is waited out.
        self.on_retry: Callable[[int], None] | None = None
        # Awaited after the connection was reopened (ReportStore reopens its reader).
        self.on_reopen: Callable[[], Awaitable[None]] | None = None
        # Called once the spool has been replayed: rows that waited there (an outbox's
        # deliveries) are in SQLite now, for whoever reads them.
        self.on_drained: list[Callable[[], None]] = []
        if spool is not None and (db is None or spool.path.exists()):
            self._spooling = True  # replay (or wait for the database) before any new write

    def start(self, name: str) -> None:
        """Start the writer task (once); until then, and after close(), submit() refuses."""
        if self._task is None and not self._closing:
            self._task = asyncio.create_task(self._run(), name=name)

    async def stop(self) -> None:
        """Write (or spool) everything already queued, then end the task; the
        connection stays open for close()."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            await self._queue.put(_STOP)
            try:
                await within(asyncio.shield(task), timeout=self.CLOSE_TIMEOUT)
            except TimeoutError:
                log.error("store.close_timeout", pending=self._queue.qsize())
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._abandon_queue()

    async def close(self) -> None:
        """stop(), then checkpoint the WAL into the main file and close the connection."""
        await self.stop()
        db, self.db = self.db, None
        if db is None:
            return
        try:
            # TRUNCATE: after a clean stop the main file alone holds every report.
            await db.execute(f"PRAGMA busy_timeout = {int(self._checkpoint_busy_ms)}")
            await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception as exc:  # locked by another process, or read-only: it is still safe
            log.warning("store.checkpoint_failed", error=str(exc))
        try:
            await db.close()
        except Exception as exc:  # already broken: nothing left to save
            log.warning("store.close_failed", error=str(exc))

    async def flush(self) -> None:
        """Return once every write queued before this call is committed, spooled or dropped."""
        if self._task is None or self._task.done():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(done)
        await done

    async def recover(self) -> bool:
        """Try to leave the spool now (reopen, replay); True when SQLite holds everything.
        Only for when the task is not running (open, tests): it owns the connection."""
        if not self._spooling:
            return True
        return await self._recover()

    @property
    def write_errors(self) -> int:
        """Writes that were lost: dropped, refused when queued, or not even spoolable."""
        return self._write_errors

    @property
    def spooling(self) -> bool:
        """True while writes go to the spool rather than to SQLite."""
        return self._spooling

    def submit(self, op: str, build: Callable[[], Iterable[Statement]], **context: str) -> None:
        """Queue one write. Never raises, never waits: the caller goes on regardless.

        `build` runs here, in the caller's order; if it raises, the write is
        refused and counted like any other lost write."""
        try:
            if self._closing or self._task is None:
                raise RuntimeError("store is closed")
            self._queue.put_nowait(Write(op, tuple(build()), context))
        except Exception as exc:
            self._write_errors += 1
            log.error("store.write_refused", op=op, **context, error=repr(exc))

    # ----------------------------------------------------------------- the task

    async def _run(self) -> None:
        if self.db is not None:  # opened by ReportStore with the readers' longer wait
            await self._guarded(self.db.execute(
                f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}"))
        while True:
            try:
                first = await self._next_item()
            except TimeoutError:  # spooling and nothing to write: time to probe
                await self._guarded(self._recover())
                continue
            batch = [first]
            while len(batch) < self.MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            writes = [item for item in batch if isinstance(item, Write)]
            if writes:
                await self._guarded(self._write(writes), writes)
            for item in batch:
                if isinstance(item, asyncio.Future) and not item.done():
                    item.set_result(None)
            if any(item is _STOP for item in batch):
                return

    async def _next_item(self) -> _Item:
        if not self._spooling:
            return await self._queue.get()
        wait = max(0.0, self._next_probe - time.monotonic())
        return await within(self._queue.get(), timeout=wait)

    async def _guarded(self, work: Awaitable[Any], writes: Sequence[Write] = ()) -> None:
        try:
            await work
        except Exception as exc:  # a bug here must not stop every later write
            self._write_errors += len(writes)
            with contextlib.suppress(Exception):  # nor may a broken log stream
                log.exception("store.writer_failed", error=repr(exc), dropped=len(writes))

    async def _write(self, writes: list[Write]) -> None:
        self._check_file()
        if self._spooling and time.monotonic() >= self._next_probe:
            await self._recover()
        if self._spooling:
            await self._to_spool(writes)
        else:
            await self._commit(writes)

    async def _commit(self, writes: list[Write]) -> None:
        try:
            await self._apply_with_retry(writes)
            return
        except Exception as exc:
            if self.spool is not None and self._unavailable(exc):
                await self._start_spooling(writes, exc)
                return
            if len(writes) == 1 or self._busy(exc):
                # Still locked after the retries: waiting longer would only grow the queue.
                for write in writes:
                    self._drop(write, exc)
                return
            log.warning("store.batch_failed", error=repr(exc), writes=len(writes))
        # One bad write must not take its neighbours down: retry them one by one.
        for n, write in enumerate(writes):
            try:
                await self._apply_with_retry([write])
            except Exception as exc:
                if self.spool is not None and self._unavailable(exc):
                    await self._start_spooling(writes[n:], exc)  # the rest keep their order
                    return
                self._drop(write, exc)

    async def _apply_with_retry(self, writes: list[Write]) -> None:
        for attempt in range(self.RETRIES + 1):
            try:
                await self._apply(writes)
                return
            except sqlite3.OperationalError as exc:
                # With a spool, a lock sends the writes to disk at once (_commit): waiting
                # here would keep them in memory, lost if the app is killed meanwhile.
                if not self._busy(exc) or attempt == self.RETRIES or self.spool is not None:
                    raise
                log.warning("store.write_retry", error=str(exc), attempt=attempt + 1)
                if self.on_retry is not None:
                    with contextlib.suppress(Exception):  # an observer must not stop writes
                        self.on_retry(attempt + 1)
                await asyncio.sleep(self.RETRY_DELAY * 2**attempt)

    async def _apply(self, writes: Sequence[Write], *, spooled: bool = False) -> None:
        if self.db is None:
            raise DatabaseGone("no database connection")
        db = self.db
        # IMMEDIATE takes the write lock up front, so "locked" comes before any work.
        await db.execute("BEGIN IMMEDIATE")
        try:
            applied_at = now()
            for write in writes:
                if spooled:
                    # Replayed before (the app died mid-replay): exactly once, so skip it.
                    async with db.execute("SELECT 1 FROM spool_applied WHERE id = ?",
                                          (write.id,)) as cursor:
                        if await cursor.fetchone() is not None:
                            continue
                for sql, params in write.statements:
                    await db.execute(sql, params)
                if spooled or self.RECORDS_EVERY_ID:
                    await db.execute("INSERT INTO spool_applied (id, applied_at) VALUES (?, ?)",
                                     (write.id, applied_at))
            await db.execute("COMMIT")
        except BaseException:
            try:
                await db.execute("ROLLBACK")
            except Exception:  # no transaction left, or no connection: nothing to undo
                pass
            raise

    # ----------------------------------------------------------------- the spool

    async def _start_spooling(self, writes: Sequence[Write], exc: BaseException | None) -> None:
        if not self._spooling:
            self._spooling = True
            self._probe_delay = self.PROBE_MIN
            self._next_probe = time.monotonic() + self._probe_delay
            log.error("store.spool_in_use", depth=self._spooled + len(writes),
                      spool=str(self.spool.path) if self.spool else None,
                      error=repr(exc) if exc else None)
        if writes:
            await self._to_spool(writes)

    async def _to_spool(self, writes: Sequence[Write]) -> None:
        assert self.spool is not None
        try:
            await asyncio.to_thread(self.spool.append, [write.spooled() for write in writes])
        except Exception as exc:  # the spool's disk is dead too: now it is lost
            for write in writes:
                self._write_errors += 1
                log.error("store.write_lost", op=write.op, **write.context, error=repr(exc))
            return
        self._spooled += len(writes)

    def _check_file(self) -> None:
        """Notice the database file removed or replaced under the open connection."""
        if self.path is None or self.spool is None or self.db is None:
            return
        current = file_identity(self.path)
        if current == self._identity:
            return
        if current is None:
            log.error("store.database_missing", path=str(self.path))
        else:
            log.error("store.database_replaced", path=str(self.path))
        db, self.db = self.db, None
        self._close_later(db)
        self._spooling = True
        self._next_probe = 0.0  # reopen at once: a replaced file may be fine to use
        log.error("store.spool_in_use", depth=self._spooled, spool=str(self.spool.path),
                  error="database file replaced or removed")

    def _close_later(self, db: aiosqlite.Connection) -> None:
        async def close() -> None:
            with contextlib.suppress(Exception):
                await db.close()
        task = asyncio.get_running_loop().create_task(close())
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    async def _recover(self) -> bool:
        """Reopen if needed, replay the spool, leave spooling; on failure back off."""
        if self.spool is None:
            self._spooling = False
            return True
        try:
            if self.db is None:
                await self._reopen()
            replayed = await self._replay()
        except Exception as exc:
            if isinstance(exc, ValueError) and self.db is not None:
                self.db = None  # aiosqlite: the connection is closed; open a new one next time
            self._probe_delay = min(self._probe_delay * 2, self.PROBE_MAX)
            self._next_probe = time.monotonic() + self._probe_delay
            if not self._unavailable(exc) and not isinstance(exc, OSError):
                log.exception("store.replay_failed", error=repr(exc))
            else:
                log.debug("store.still_unavailable", error=str(exc))
            return False
        self._spooling = False
        self._probe_delay = self.PROBE_MIN
        log.warning("store.spool_drained", replayed=replayed)
        self._spooled = 0
        for drained in self.on_drained:
            drained()
        return True

    async def _reopen(self) -> None:
        from .schema import migrate  # schema knows nothing of the writer; no cycle at import

        if self.path is None:
            raise DatabaseGone("no database path to reopen")
        db = await connect(self.path, self.busy_timeout_ms)
        try:
            await migrate(db)
            await check_writable(db)
        except BaseException:
            await db.close()
            raise
        self.db = db
        self._identity = file_identity(self.path)
        log.warning("store.reopened", path=str(self.path))
        if self.on_reopen is not None:
            await self.on_reopen()

    async def _replay(self) -> int:
        assert self.spool is not None and self.db is not None
        spool = self.spool
        fd = await asyncio.to_thread(spool.acquire)  # no appends from elsewhere meanwhile
        try:
            spooled = await asyncio.to_thread(spool.read)
            await self.db.execute(f"PRAGMA busy_timeout = {int(self.PROBE_BUSY_MS)}")
            try:
                for start in range(0, len(spooled), self.REPLAY_BATCH):
                    chunk = [Write(w.op, w.statements, w.context, w.id)
                             for w in spooled[start:start + self.REPLAY_BATCH]]
                    await self._replay_chunk(chunk)
            finally:
                with contextlib.suppress(Exception):
                    await self.db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            await asyncio.to_thread(spool.remove)
        finally:
            spool.release(fd)
        return len(spooled)

    async def _replay_chunk(self, chunk: list[Write]) -> None:
        try:
            await self._apply(chunk, spooled=True)
            return
        except Exception as exc:
            if self._unavailable(exc):
                raise
        for write in chunk:  # a bad write among them: find it, keep the others
            try:
                await self._apply([write], spooled=True)
            except Exception as exc:
                if self._unavailable(exc):
                    raise
                self._drop(write, exc)

    def _unavailable(self, exc: BaseException) -> bool:
        """The database cannot take a write now (spool it), as opposed to a wrong write."""
        return is_unavailable(exc)

    def _busy(self, exc: BaseException) -> bool:
        return is_busy(exc)

    def _drop(self, write: Write, exc: BaseException) -> None:
        self._write_errors += 1
        log.error("store.write_dropped", op=write.op, **write.context, error=repr(exc))

    def _abandon_queue(self) -> None:
        """After the task stopped: count what is left and release any flush() waiters."""
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, Write):
                self._drop(item, RuntimeError("store closed before the write"))
            elif isinstance(item, asyncio.Future) and not item.done():
                item.set_result(None)


_BACKGROUND: set[asyncio.Task[None]] = set()
