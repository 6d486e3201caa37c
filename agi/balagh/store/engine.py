"""The seam between the store and a database server: what the writer and ReportStore ask of
PostgreSQL that they ask of SQLite through sqlite.py and a file path (a connection, errors
told apart, the schema). SQLite needs no object here: without an engine the store is what
it always was. The statements themselves are shared (postgres.translate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from .timestamps import iso, now

if TYPE_CHECKING:
    from .postgres import PgConnection
    from .postgres_sync import SyncPgConnection

# psycopg is imported by the methods, not here: a site on SQLite never loads it (+5 MiB).

log = structlog.get_logger()

__all__ = ["PostgresEngine"]


@dataclass(frozen=True)
class PostgresEngine:
    url: str
    password: str | None = field(default=None, repr=False)
    # Write ids kept to make a lost commit answer replay once: a day outlives any spool
    # the writer could still be holding them in (it probes every 2 s).
    APPLIED_KEPT = timedelta(days=1)

    @property
    def name(self) -> str:
        """The server as logs may show it: no password, no user."""
        host = self.url.split("@", 1)[-1] if "@" in self.url else self.url.split("//", 1)[-1]
        return f"postgresql://{host}"

    async def open_writer(self) -> PgConnection:
        """A connection fit for the writer: schema migrated, a write really made."""
        from . import postgres
        from .postgres_schema import migrate

        db = await postgres.connect(self.url, password=self.password)
        try:
            await migrate(db)
            await self.check_writable(db)
        except BaseException:
            await db.close()
            raise
        return db

    async def open_reader(self) -> PgConnection:
        from . import postgres

        return await postgres.connect(self.url, password=self.password, read_only=True)

    def open_sync_reader(self, timeout: float = 5.0, *,
                         read_only: bool = True) -> SyncPgConnection:
        """A synchronous connection, read-only unless told: the statistics' and health's."""
        from .postgres_sync import connect_sync

        return connect_sync(self.url, password=self.password, timeout=timeout,
                            read_only=read_only)

    def down(self, exc: BaseException) -> str:
        """One line saying the server cannot be read, naming it without a password (a
        driver's message may quote the URL it was given)."""
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if self.password:
            detail = detail.replace(self.password, "***")
        return f"{self.name} is unreachable: {detail.replace(self.url, self.name)}"

    async def check_writable(self, db: PgConnection) -> None:
        """Really write: a standby (or a demoted primary) refuses only on a write. Forgets
        the write ids older than APPLIED_KEPT at the same time."""
        cut = iso(datetime.now(UTC) - self.APPLIED_KEPT)
        await db.execute("BEGIN")
        try:
            await db.execute("INSERT INTO spool_applied (id, applied_at) VALUES (?, ?)"
                             " ON CONFLICT (id) DO UPDATE SET applied_at = excluded.applied_at",
                             ("write-check", now()))
            await db.execute("DELETE FROM spool_applied WHERE applied_at < ?", (cut,))
            await db.execute("COMMIT")
        except BaseException:
            await db.rollback()
            raise

    def write_check_sync(self, db: SyncPgConnection) -> None:
        """check_writable on a sync connection opened for writing (health's probe): the
        same row, so it leaves nothing the writer does not."""
        db.execute("INSERT INTO spool_applied (id, applied_at) VALUES (?, ?)"
                   " ON CONFLICT (id) DO UPDATE SET applied_at = excluded.applied_at",
                   ("write-check", now()))

    @staticmethod
    def is_unavailable(exc: BaseException) -> bool:
        """The server cannot take a write now (spool it), not a wrong write."""
        from . import postgres

        return postgres.is_unavailable(exc)

    @staticmethod
    def is_busy(exc: BaseException) -> bool:
        from . import postgres

        return postgres.is_busy(exc)
