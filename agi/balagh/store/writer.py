"""The single writer: one task owns an SQLite connection and applies queued writes in order.

The rule that shapes it: a database problem must never block or break the
caller of `submit`. Submitting only *enqueues* (no await, never raises); the
writer task commits writes in batches, retries briefly when the database is
locked, and logs, counts and drops what it cannot write. It knows nothing about
what the statements mean; the modules beside it build them.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite
import structlog

log = structlog.get_logger()

Statement = tuple[str, Sequence[Any]]


@dataclass(frozen=True, slots=True)
class Write:
    """One operation: its statements commit together or not at all."""

    op: str
    statements: tuple[Statement, ...]
    context: Mapping[str, str] = field(default_factory=dict)  # logged if it is lost


class _Stop:
    """Queued by close(): everything before it is written, then the writer ends."""


_STOP = _Stop()
_Item = Write | _Stop | asyncio.Future[None]


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "busy": another connection holds the write lock."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return "locked" in text or "busy" in text


async def connect(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    """A connection fit for the writer: WAL, explicit transactions, a lock timeout."""
    # isolation_level=None: the writer issues BEGIN IMMEDIATE/COMMIT itself.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across app crashes in WAL mode; only a power cut
        # can lose the last moments, and it keeps commits cheap.
        await conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await conn.close()
        raise
    return conn


class Writer:
    # Tunables as class attributes so tests (and a future config) can adjust them.
    RETRIES = 3  # further attempts after a "locked" error
    RETRY_DELAY = 0.05  # seconds, doubled on each retry
    MAX_BATCH = 200  # writes committed in one transaction
    MAX_PENDING = 100_000  # queued writes; beyond this submit() drops (and counts)
    CLOSE_TIMEOUT = 30.0  # seconds close() waits for the queue to drain

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=self.MAX_PENDING)
        self._write_errors = 0
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        # Called with the attempt number each time a locked database is waited out.
        self.on_retry: Callable[[int], None] | None = None

    def start(self, name: str) -> None:
        """Start the writer task (once); until then, and after close(), submit() refuses."""
        if self._task is None and not self._closing:
            self._task = asyncio.create_task(self._run(), name=name)

    async def close(self) -> None:
        """Write everything already queued, then close the connection."""
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
        try:
            await self.db.close()
        except Exception as exc:  # already broken: nothing left to save
            log.warning("store.close_failed", error=str(exc))

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
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            writes = [item for item in batch if isinstance(item, Write)]
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

    async def _commit(self, writes: list[Write]) -> None:
        try:
            await self._apply_with_retry(writes)
            return
        except Exception as exc:
            if len(writes) == 1 or is_busy(exc):
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

    async def _apply_with_retry(self, writes: list[Write]) -> None:
        for attempt in range(self.RETRIES + 1):
            try:
                await self._apply(writes)
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or attempt == self.RETRIES:
                    raise
                log.warning("store.write_retry", error=str(exc), attempt=attempt + 1)
                if self.on_retry is not None:
                    with contextlib.suppress(Exception):  # an observer must not stop writes
                        self.on_retry(attempt + 1)
                await asyncio.sleep(self.RETRY_DELAY * 2**attempt)

    async def _apply(self, writes: list[Write]) -> None:
        # IMMEDIATE takes the write lock up front, so "locked" comes before any work.
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            for write in writes:
                for sql, params in write.statements:
                    await self.db.execute(sql, params)
            await self.db.execute("COMMIT")
        except BaseException:
            try:
                await self.db.execute("ROLLBACK")
            except Exception:  # no transaction left, or no connection: nothing to undo
                pass
            raise

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
