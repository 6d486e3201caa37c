"""A synchronous read-only PostgreSQL connection with sqlite3's manners, for the readers
that run without an event loop: the statistics (a thread per share of the days, as on
SQLite) and `balagh health`'s store probe.

Why sync and not psycopg's async API: the statistics and health are synchronous code,
called off the loop by the console (asyncio.to_thread) and directly by the CLI; a sync
connection keeps them one code path on both engines, and psycopg releases the GIL while
it waits on the server just as SQLite does while it scans. The statements are the same
SQLite-dialect text as on SQLite, translated by postgres.translate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import psycopg

from .postgres import PgRow, translate

__all__ = ["SyncPgConnection", "SyncPgCursor", "connect_sync"]

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _row_factory(cursor: Any) -> Any:
    names = tuple(column.name for column in (cursor.description or ()))
    return lambda values: PgRow(names, values)


class SyncPgCursor:
    """The rows of one statement: fetchone, fetchall, or iterate, as sqlite3's cursor."""

    def __init__(self, cursor: psycopg.Cursor[Any] | None) -> None:
        self._cursor = cursor

    def fetchone(self) -> Any:  # PgRow | None; Any as sqlite3's, for code shared with it
        if self._cursor is None or self._cursor.description is None:
            return None
        return self._cursor.fetchone()

    def fetchall(self) -> list[PgRow]:
        if self._cursor is None or self._cursor.description is None:
            return []
        rows: list[PgRow] = self._cursor.fetchall()
        return rows

    def __iter__(self) -> Iterator[PgRow]:
        return iter(self.fetchall())


class SyncPgConnection:
    """`execute(sql, params)` with `?` or `:name` placeholders, as sqlite3 takes them."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
                ) -> SyncPgCursor:
        text = translate(sql)
        if text is None:
            return SyncPgCursor(None)
        cursor = self.raw.cursor(row_factory=_row_factory)
        if isinstance(params, Mapping):
            # translate made `?` into %s; SQLite's :name becomes psycopg's %(name)s.
            cursor.execute(_NAMED.sub(r"%(\1)s", text).encode(), dict(params))
        else:
            cursor.execute(text.encode(), tuple(params))
        return SyncPgCursor(cursor)

    def close(self) -> None:
        self.raw.close()


def connect_sync(url: str, *, password: str | None = None, read_only: bool = True,
                 timeout: float = 5.0) -> SyncPgConnection:
    """A connection to the server at `url`; read-only unless told: a reader never writes."""
    extra: dict[str, Any] = {"connect_timeout": max(1, int(timeout)),
                             "application_name": "balagh-reader"}
    if password:
        extra["password"] = password
    raw = psycopg.connect(url, autocommit=True, **extra)
    if read_only:
        raw.execute(b"SET default_transaction_read_only = on")
    return SyncPgConnection(raw)
