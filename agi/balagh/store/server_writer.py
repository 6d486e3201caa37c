"""The single writer over a PostgreSQL server: writer.py's contract unchanged (submit never
waits nor raises; a server that cannot take a write sends the writes to the same fsynced
spool, replayed exactly once), with what a server adds:

- its errors told apart by the engine (refused, reset, shut down, read-only standby);
- a connection that died (the server restarted, the primary was killed) is dropped and a
  new one opened through the engine on the next probe, which may reach a promoted standby;
- every write's id is kept in spool_applied in its own transaction: a COMMIT whose answer
  was lost with the server may have happened, and its spooled copy is then skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import structlog

from .engine import PostgresEngine
from .postgres import PgConnection
from .spool import Spool
from .writer import Write, Writer

log = structlog.get_logger()

__all__ = ["ServerWriter"]


class ServerWriter(Writer):
    RECORDS_EVERY_ID = True

    def __init__(self, db: PgConnection | None, *, engine: PostgresEngine, spool: Spool,
                 busy_timeout_ms: int = 2000) -> None:
        # A PgConnection answers the writer's calls as an aiosqlite connection does.
        super().__init__(cast(Any, db), spool=spool, busy_timeout_ms=busy_timeout_ms)
        self.engine = engine

    def _unavailable(self, exc: BaseException) -> bool:
        return self.engine.is_unavailable(exc) or super()._unavailable(exc)

    def _busy(self, exc: BaseException) -> bool:
        return self.engine.is_busy(exc) or super()._busy(exc)

    def _forget_broken(self) -> None:
        db = cast(Any, self.db)
        if db is not None and db.closed:
            self.db = None
            self._close_later(db)

    async def _apply(self, writes: Sequence[Write], *, spooled: bool = False) -> None:
        self._forget_broken()  # a dead connection: DatabaseGone, and the spool takes them
        await super()._apply(writes, spooled=spooled)

    async def _recover(self) -> bool:
        self._forget_broken()
        return await super()._recover()

    async def _reopen(self) -> None:
        self.db = cast(Any, await self.engine.open_writer())
        log.warning("store.reopened", database=self.engine.name)
        if self.on_reopen is not None:
            await self.on_reopen()
