"""A blocking PostgreSQL connection for maintenance (purge, redact, rehash, backup's count),
which runs in a thread or a command as it does on SQLite's sqlite3 connection: the same
statements, in SQLite's dialect, translated by postgres.translate. Imported only when a
server is maintained, so psycopg stays out of a SQLite site."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from .engine import PostgresEngine
from .postgres import translate

__all__ = ["ERRORS", "BlockingPg", "connect"]

ERRORS: tuple[type[Exception], ...] = (psycopg.Error,)


class _NoRows:
    """What a statement with no meaning on a server (a PRAGMA) gives: nothing."""

    rowcount = -1

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []


class BlockingPg:
    """The part of sqlite3.Connection maintenance uses; autocommit, so BEGIN and COMMIT
    are maintenance's own, as on SQLite."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        text = translate(sql)
        if text is None:
            return _NoRows()
        return self.raw.execute(text.encode(), tuple(parameters))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        text = translate(sql)
        cursor = self.raw.cursor()
        if text is not None:
            cursor.executemany(text.encode(), [tuple(row) for row in rows])
        return cursor  # rowcount: the rows every statement changed, summed

    def close(self) -> None:
        self.raw.close()


def connect(engine: PostgresEngine, *, lock_timeout: float) -> BlockingPg:
    """A connection to the engine's server; a lock held by the app's writer is waited
    `lock_timeout` seconds (its transactions last milliseconds)."""
    extra: dict[str, Any] = {"connect_timeout": 5, "application_name": "balagh-maintenance"}
    if engine.password:
        extra["password"] = engine.password
    raw = psycopg.connect(engine.url, autocommit=True, **extra)
    raw.execute(f"SET lock_timeout = {int(lock_timeout * 1000)}".encode())
    return BlockingPg(raw)
