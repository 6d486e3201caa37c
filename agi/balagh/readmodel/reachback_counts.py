"""How reaching callers back is going, counted for `balagh health`: the texts waiting in
sms_outbox (and the oldest's age), the callbacks and satisfaction calls still open, and
what failed for good since a moment. Read-only and bounded by LOCK_WAIT, on either engine
(the same SQL text; store/postgres_sync.py translates it), beside the running app.

Times are the store's ISO-8601 UTC text (store/timestamps.py), so they compare as text.
A text failed when Kannel was given up on (its next_attempt_at is then the give-up time,
plus the gap) or when its delivery report said so (reported_at). A call failed when it
ended without reaching the caller, its last attempt unanswered or not dialled (status
no-answer or failed), at its row's last change (updated_at).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balagh.store.callbacks import FAILED as CALL_FAILED
from balagh.store.callbacks import NO_ANSWER as CALL_NO_ANSWER
from balagh.store.callbacks import OPEN as CALL_OPEN
from balagh.store.sms import FAILED as TEXT_FAILED
from balagh.store.sms import PENDING as TEXT_PENDING
from balagh.store.sms import SENDING as TEXT_SENDING
from balagh.store.uri import read_only_uri

from .health import LOCK_WAIT, server_schema_version
from .stats_connection import has_table

if TYPE_CHECKING:
    from balagh.store.opening import ReportDatabase

__all__ = ["CALL_TABLES", "UNREACHED", "CallCounts", "ReachbackUnreadable", "TextCounts",
           "call_counts", "text_counts"]

# How a call ends when it never reached the caller: every attempt unanswered, or the last
# one not dialled.
UNREACHED = (CALL_NO_ANSWER, CALL_FAILED)
# The tables of the calls the app places (store/callbacks.py's PURPOSES), by health line.
CALL_TABLES = {"callbacks": "callbacks", "survey": "survey_calls"}


class ReachbackUnreadable(Exception):
    """The counts cannot be read: no database, a schema without the table, a server away."""


@dataclass(frozen=True)
class TextCounts:
    pending: int               # waiting to be handed to Kannel (or being handed now)
    retrying: int              # of those, the ones Kannel already failed at least once
    oldest_pending: str | None  # created_at of the oldest waiting text
    failed: int                # failed for good since the moment asked


@dataclass(frozen=True)
class CallCounts:
    open: int    # pending, claimed or dialling
    failed: int  # ended unreached (no-answer, failed) since the moment asked


_PENDING_TEXTS = ("SELECT COUNT(*), COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0),"
                  " MIN(created_at) FROM sms_outbox WHERE status IN (?, ?)")
_FAILED_TEXTS = ("SELECT COUNT(*) FROM sms_outbox WHERE status = ?"
                 " AND COALESCE(reported_at, next_attempt_at) >= ?")


def text_counts(database: ReportDatabase, since: str) -> TextCounts:
    """The texts waiting, and those failed at or after `since` (ISO UTC text)."""
    with _reading(database, "sms_outbox") as db:
        pending, retrying, oldest = db.execute(
            _PENDING_TEXTS, (TEXT_PENDING, TEXT_SENDING)).fetchone()
        failed = db.execute(_FAILED_TEXTS, (TEXT_FAILED, since)).fetchone()[0]
    return TextCounts(int(pending), int(retrying), None if oldest is None else str(oldest),
                      int(failed))


def call_counts(database: ReportDatabase, table: str, since: str) -> CallCounts:
    """`table` (one of CALL_TABLES, never input): the calls open, and those that ended
    unreached at or after `since`."""
    if table not in CALL_TABLES.values():
        raise ValueError(f"not a table of calls: {table!r}")
    marks = ", ".join("?" for _ in CALL_OPEN)
    with _reading(database, table) as db:
        open_ = db.execute(f"SELECT COUNT(*) FROM {table} WHERE status IN ({marks})",
                           CALL_OPEN).fetchone()[0]
        failed = db.execute(f"SELECT COUNT(*) FROM {table} WHERE status IN (?, ?)"
                            " AND updated_at >= ?",
                            (*UNREACHED, since)).fetchone()[0]
    return CallCounts(int(open_), int(failed))


@contextlib.contextmanager
def _reading(database: ReportDatabase, table: str) -> Iterator[Any]:
    """A read-only connection that has `table`; ReachbackUnreadable saying why not."""
    if isinstance(database, Path):
        with _file(database) as db:
            _has(database, db, table)
            yield db
        return
    import psycopg

    try:
        server = database.open_sync_reader(timeout=LOCK_WAIT)
    except psycopg.Error as exc:
        raise ReachbackUnreadable(database.down(exc)) from None
    try:
        if server_schema_version(server) is None:
            raise ReachbackUnreadable(f"{database.name} holds no Balagh tables")
        _has(database, server, table)
        yield server
    except psycopg.Error as exc:
        raise ReachbackUnreadable(_first_line(exc)) from None
    finally:
        server.close()


@contextlib.contextmanager
def _file(path: Path) -> Iterator[sqlite3.Connection]:
    if not path.is_file():
        raise ReachbackUnreadable(f"no report database at {path}")
    try:
        with contextlib.closing(sqlite3.connect(read_only_uri(path), uri=True,
                                                timeout=LOCK_WAIT)) as db:
            yield db
    except sqlite3.Error as exc:
        raise ReachbackUnreadable(f"{path}: {exc}") from None


def _has(database: ReportDatabase, db: Any, table: str) -> None:
    if not has_table(database, db, table):
        raise ReachbackUnreadable(f"no {table} table yet (start `balagh run` once to "
                                  "migrate the database)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
