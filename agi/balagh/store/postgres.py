"""PostgreSQL as the store meets it: a connection that answers the store's SQL as aiosqlite
does, and how to tell a server that cannot take a write now from a write that is wrong.

The store's statements are written once, in SQLite's dialect; `translate` turns the few
differences into PostgreSQL's (placeholders, INSERT OR IGNORE, json_object, PRAGMAs), and
the schema (postgres_schema.py) gives PostgreSQL SQLite's julianday, json_valid, json_type
and strftime, so no statement has two texts. The driver is psycopg 3's async API.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Sequence
from types import TracebackType
from typing import Any

import psycopg
from psycopg import errors as pgerrors

__all__ = ["PgConnection", "PgCursor", "PgRow", "Unreachable", "connect", "is_busy",
           "is_unavailable", "translate"]

_BUSY = re.compile(r"^\s*PRAGMA\s+busy_timeout\s*=\s*(\d+)\s*$", re.IGNORECASE)
_PRAGMA = re.compile(r"^\s*PRAGMA\b", re.IGNORECASE)
_OR_IGNORE = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_JSON_OBJECT = re.compile(r"\bjson_object\(", re.IGNORECASE)
_BEGIN = re.compile(r"^\s*BEGIN\s+(IMMEDIATE|DEFERRED|EXCLUSIVE)\s*$", re.IGNORECASE)
_DATA_VERSION = re.compile(r"^\s*PRAGMA\s+data_version\s*$", re.IGNORECASE)
_GROUP_CONCAT = re.compile(r"\bgroup_concat\(", re.IGNORECASE)
# SQLite's data_version moves when another connection commits; the server's WAL position
# moves with every commit (and a standby's replay position with every one it replays).
_WAL_POSITION = ("SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
                 " ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint")


def translate(sql: str) -> str | None:
    """The store's SQLite text as PostgreSQL's; None for what has no meaning there (a
    PRAGMA other than busy_timeout and data_version: WAL checkpoints, journal modes)."""
    busy = _BUSY.match(sql)
    if busy:  # how long a write waits for another's lock before saying so
        return f"SET lock_timeout = {int(busy.group(1))}"
    if _DATA_VERSION.match(sql):
        return _WAL_POSITION
    if _PRAGMA.match(sql):
        return None
    if _BEGIN.match(sql):
        return "BEGIN"
    text = sql.replace("%", "%%").replace("?", "%s")
    text = _JSON_OBJECT.sub("json_build_object(", text)  # SQLite's name, PostgreSQL's args
    # The same aggregate; its values are text where the read model uses it (statistics.py).
    text = _GROUP_CONCAT.sub("string_agg(", text)
    if _OR_IGNORE.search(text):
        text = _OR_IGNORE.sub("INSERT INTO", text).rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    return text


class PgRow:
    """A row read by index or by column name, and dict(row): sqlite3.Row's manners."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: tuple[str, ...], values: Sequence[Any]) -> None:
        self._names = names
        self._values = tuple(values)

    def keys(self) -> tuple[str, ...]:
        return self._names

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return self._values[self._names.index(key)]
        return self._values[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _row_factory(cursor: Any) -> Any:
    names = tuple(column.name for column in (cursor.description or ()))
    return lambda values: PgRow(names, values)


class PgCursor:
    """What `await conn.execute(...)` and `async with conn.execute(...)` give: the rows."""

    def __init__(self, conn: PgConnection, sql: str, params: Sequence[Any]) -> None:
        self._conn = conn
        self._sql = sql
        self._params = params
        self._cursor: psycopg.AsyncCursor[Any] | None = None
        self.rowcount = -1

    async def _run(self) -> PgCursor:
        text = translate(self._sql)
        if text is None:
            return self
        cursor = self._conn.raw.cursor(row_factory=_row_factory)
        # Always a tuple, even empty: psycopg then reads `%%` back as `%`.
        await cursor.execute(text.encode(), tuple(self._params))
        self._cursor = cursor
        self.rowcount = cursor.rowcount
        return self

    def __await__(self) -> Any:
        return self._run().__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        if self._cursor is not None:
            await self._cursor.close()

    async def fetchone(self) -> PgRow | None:
        if self._cursor is None or self._cursor.description is None:
            return None
        row: PgRow | None = await self._cursor.fetchone()
        return row

    async def fetchall(self) -> list[PgRow]:
        if self._cursor is None or self._cursor.description is None:
            return []
        rows: list[PgRow] = await self._cursor.fetchall()
        return rows

    def __aiter__(self) -> AsyncIterator[PgRow]:
        return self._rows()

    async def _rows(self) -> AsyncIterator[PgRow]:
        for row in await self.fetchall():
            yield row


class PgConnection:
    """The subset of aiosqlite.Connection the store's parts use, over psycopg. Autocommit:
    the writer says BEGIN and COMMIT itself, as it does to SQLite."""

    def __init__(self, raw: psycopg.AsyncConnection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        return PgCursor(self, sql, params)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        text = translate(sql)
        if text is None:
            return
        async with self.raw.cursor() as cursor:
            await cursor.executemany(text.encode(), [tuple(row) for row in rows])

    async def commit(self) -> None:
        """Nothing to do: autocommit, or the writer's own COMMIT."""

    async def rollback(self) -> None:
        if self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            await self.raw.execute(b"ROLLBACK")

    @property
    def closed(self) -> bool:
        return bool(self.raw.closed) or self.raw.broken

    async def close(self) -> None:
        await self.raw.close()

    async def __aenter__(self) -> PgConnection:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


class _Refused:
    def __init__(self) -> None:
        self.rowcount = -1

    def _fail(self) -> None:
        raise psycopg.OperationalError("the PostgreSQL server was unreachable when the "
                                       "store opened; reads come back with its writer")

    def __await__(self) -> Any:
        self._fail()
        yield  # pragma: no cover  (a generator, for __await__'s type)

    async def __aenter__(self) -> PgCursor:
        self._fail()
        raise AssertionError  # pragma: no cover

    async def __aexit__(self, *exc: object) -> None:
        return None


class Unreachable:
    """The reader's stand-in while the server could not be reached at open: every read
    fails as the server would, until the writer reconnects and the store swaps it out."""

    def __init__(self, reconnect: Any) -> None:
        self.reconnect = reconnect
        self.closed = True

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return _Refused()

    async def close(self) -> None:
        return None


async def connect(url: str, *, password: str | None = None, read_only: bool = False,
                  timeout: float = 5.0) -> PgConnection:
    """A connection to the server at `url` (postgresql://user@host:port/name); the password
    comes from the secrets, never from the URL in YAML."""
    extra: dict[str, Any] = {"connect_timeout": max(1, int(timeout)),
                             "application_name": "balagh"}
    if password:
        extra["password"] = password
    raw = await psycopg.AsyncConnection.connect(url, autocommit=True, **extra)
    if read_only:
        await raw.execute(b"SET default_transaction_read_only = on")
    return PgConnection(raw)


# SQLSTATE classes that say "the server cannot take this now", not "this write is wrong":
# 08 connection exception, 53 insufficient resources (disk full), 57 operator intervention
# (shutdown, crash), 58 system error, 55P03 lock not available, 40 serialization/deadlock,
# 25006 read-only transaction (a standby, or a primary not promoted yet).
_UNAVAILABLE_CLASSES = ("08", "53", "57", "58", "40")
_UNAVAILABLE_STATES = frozenset({"55P03", "25006"})


def is_unavailable(exc: BaseException) -> bool:
    """True when the write failed because of the server (down, read-only, full, locked)."""
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        state = getattr(exc, "sqlstate", None)
        if state is None:  # no answer from the server at all: refused, reset, closed
            return True
        return state[:2] in _UNAVAILABLE_CLASSES or state in _UNAVAILABLE_STATES
    if isinstance(exc, pgerrors.ReadOnlySqlTransaction | pgerrors.LockNotAvailable):
        return True
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate or ""
        return state[:2] in _UNAVAILABLE_CLASSES or state in _UNAVAILABLE_STATES
    return False


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, pgerrors.LockNotAvailable)
