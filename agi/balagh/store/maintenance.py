"""Maintenance beside live calls: purge, redact and backup in small steps.

Each runs on its own blocking connection (call it from a thread or a command),
never through the app's writer: sqlite3 on the SQLite file, or blocking_pg on a
PostgreSQL server (the engine's `database_url`), with the same statements. Each
takes one short transaction per chunk with a pause between chunks, so the
app's writer waits a few milliseconds at most. Each returns the rows really
changed, records itself in maintenance_runs, and raises MaintenanceError when it
could not do its work: a command must never print success for a write that did
not happen.

Retention that really forgets: on SQLite, secure_delete zeroes what is deleted
or overwritten, and a WAL checkpoint (TRUNCATE) then an optional VACUUM leave no
old copy of a number in the database's files. On a server, no row holds it
after the run; old row versions stay in the tables' free space until VACUUM
(--vacuum) and reuse, and in the WAL, standbys and dumps until those are
recycled (docs/scale.md).

On a server the chunks are plain short transactions, not `FOR UPDATE SKIP
LOCKED`: a row skipped because the app holds it would stay unredacted while the
run says done. The rows a run touches are old (started days ago), which the
app's writer rarely meets; when it does, one waits for the other's chunk.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import structlog

from . import daily
from .paced_copy import PacedCopy
from .redaction import (
    BESIDE_REPORTS,
    REDACTABLE,
    REDACTED_SOURCE,
    delete_beside,
    forget_callbacks,
    forget_place,
    forget_reasons,
    forget_texts,
    forget_zero_counts,
    on_server,
    purge_agent_events,
)
from .short_transaction import Db, locked
from .timestamps import iso, now

if TYPE_CHECKING:
    from .engine import PostgresEngine

log = structlog.get_logger()

CHUNK = 500  # rows per transaction
PAUSE = 0.02  # seconds between chunks: the app's writer takes the lock here
BUSY_TIMEOUT = 5.0  # seconds a chunk waits for the app's writer to let go
BACKUP_PAGES = 1024  # pages copied per backup step


# Told the rows done so far after each chunk (a command shows it as progress).
Progress = Callable[[int], None]


class MaintenanceError(Exception):
    """The maintenance did not (fully) happen; the message says what and how far it got."""


@dataclass
class Run:
    """What one maintenance run did."""

    action: str
    rows: int = 0  # rows really changed (reports purged or redacted; reports in a backup)
    chunks: int = 0
    longest_lock: float = 0.0  # seconds, the longest one chunk held the write lock
    seconds: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


def connect(path: Path) -> sqlite3.Connection:
    """A connection for maintenance; refuses a database that does not exist (no new file)."""
    if not path.is_file():
        raise MaintenanceError(f"no database at {path}")
    db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True,
                         isolation_level=None, timeout=BUSY_TIMEOUT)
    # Deleted and overwritten content is zeroed on disk, not merely marked free.
    db.execute("PRAGMA secure_delete = ON")
    return db


# ------------------------------------------------------------------ purge and redact

def _counted(db: Db) -> bool:
    """The statistics' summary is kept by SQLite's triggers (daily.py); a server has none."""
    return isinstance(db, sqlite3.Connection) and daily.kept(db)


def pending(path: Path | PostgresEngine, action: str, when: datetime) -> int:
    """Rows `action` would change now: reports started before `when` (purge), those of
    them still holding a number or a place (redact), or reports started since `when`
    that still hold their number (rehash). What a command asks confirmation for."""
    wheres = {"purge": "started_at < ?", "redact": f"started_at < ? AND {REDACTABLE}",
              "rehash": "started_at >= ? AND caller IS NOT NULL"}
    db = open_database(path, action, writes=False)
    try:
        row = db.execute(f"SELECT COUNT(*) FROM reports WHERE {wheres[action]}",
                         (iso(when),)).fetchone()
    except _errors(db) as exc:
        raise MaintenanceError(f"{action}: cannot count in {_named(path)}: {_line(exc)}"
                               ) from exc
    finally:
        db.close()
    return int(row[0])


def redact(path: Path | PostgresEngine, before: datetime, *, vacuum: bool = False,
           chunk: int = CHUNK, pause: float = PAUSE, progress: Progress | None = None) -> Run:
    """Forget who called and from where in reports started before `before`: the number,
    the channel, the location and its source on the report, and the place wherever else
    it was written (_forget_place); rows = reports redacted by this run."""
    when = iso(before)
    run = Run("redact")
    last = 0

    def step(db: Db) -> int:
        nonlocal last
        # Walk the primary key from where the last chunk stopped: each row is looked at
        # once, however many already hold nothing to forget.
        rows = db.execute(
            "SELECT id, call_id, reference, started_at FROM reports WHERE id > ? AND started_at < ?"
            f" AND {REDACTABLE} ORDER BY id LIMIT ?", (last, when, chunk)).fetchall()
        if not rows:
            return -1
        ids = [row[0] for row in rows]
        last = ids[-1]
        counted = _counted(db)
        if counted:  # the statistics' counts move with the location, in one go (daily.py)
            db.execute(daily.BULK_ON)
            db.execute(daily.count_reports(-1, len(ids), ["emirate"]), ids)
        cursor = db.execute(
            "UPDATE reports SET caller = NULL, location = NULL, location_source = ?,"
            f" channel = '' WHERE id IN ({_marks(ids)})", (REDACTED_SOURCE, *ids))
        if counted:
            db.execute(daily.count_reports(1, len(ids), ["emirate"]), ids)
            db.execute(daily.BULK_OFF)
        # A row left at zero still names the emirate of that day's redacted calls (on a
        # server the row triggers moved the counts: daily's rows are there all the same).
        days = sorted(row[3][:10] for row in rows)
        forget_zero_counts(db, days[0], days[-1])
        # After BULK_OFF: the answers' triggers keep the danger counts (an emirate answer
        # is never one, so they change nothing).
        forget_place(db, [row[1] for row in rows], [row[2] for row in rows])
        forget_texts(db, [row[2] for row in rows])
        forget_reasons(db, [row[1] for row in rows], [row[2] for row in rows])
        forget_callbacks(db, [row[2] for row in rows])
        return int(cursor.rowcount)

    return _run(path, run, when, step, vacuum=vacuum, pause=pause, progress=progress)


def purge(path: Path | PostgresEngine, before: datetime, *, vacuum: bool = False,
          chunk: int = CHUNK, pause: float = PAUSE, progress: Progress | None = None) -> Run:
    """Delete reports started before `before` with their answers and timeline; their
    outbox rows go only once delivered (a pending event still has to reach its unit)."""
    when = iso(before)
    run = Run("purge")
    removed = dict.fromkeys((*BESIDE_REPORTS, "agent_events"), 0)

    def step(db: Db) -> int:
        rows = db.execute("SELECT id, call_id, reference, started_at FROM reports"
                          " WHERE started_at < ? ORDER BY started_at LIMIT ?",
                          (when, chunk)).fetchall()
        if not rows:
            # Then the agents' activity of the same age (it names calls, never callers).
            gone = purge_agent_events(db, when, chunk)
            removed["agent_events"] += gone
            return 0 if gone else -1
        calls, ids = [row[1] for row in rows], [row[0] for row in rows]
        counted = _counted(db)
        if counted:  # the chunk leaves the statistics' counts in one go (daily.py)
            db.execute(daily.BULK_ON)
            db.execute(daily.count_reports(-1, len(ids)), ids)
        for table, count in delete_beside(db, calls, [row[2] for row in rows]).items():
            removed[table] += count
        deleted = db.execute(f"DELETE FROM reports WHERE id IN ({_marks(ids)})", ids).rowcount
        if counted:
            db.execute(daily.BULK_OFF)
        forget_zero_counts(db, rows[0][3][:10], rows[-1][3][:10])  # and the rows it emptied go
        return int(deleted)

    return _run(path, run, when, step, vacuum=vacuum, pause=pause, extra=removed,
                progress=progress)


def rehash_callers(path: Path | PostgresEngine, since: datetime,
                   hash_of: Callable[[str], str | None], *, chunk: int = CHUNK,
                   pause: float = PAUSE, progress: Progress | None = None) -> Run:
    """Set caller_hash again, with `hash_of`, for the reports started since `since` that
    still hold their number (a new caller-hash key: those callers stay recognised)."""
    when = iso(since)
    run = Run("rehash")
    last = 0

    def step(db: Db) -> int:
        nonlocal last
        rows = db.execute("SELECT id, caller FROM reports WHERE id > ? AND started_at >= ?"
                          " AND caller IS NOT NULL ORDER BY id LIMIT ?",
                          (last, when, chunk)).fetchall()
        if not rows:
            return -1
        last = rows[-1][0]
        return int(db.executemany("UPDATE reports SET caller_hash = ? WHERE id = ?",
                                  [(hash_of(caller), id_) for id_, caller in rows]).rowcount)

    return _run(path, run, when, step, vacuum=False, pause=pause, progress=progress)


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _run(path: Path | PostgresEngine, run: Run, when: str | None, step: Callable[[Db], int],
         *, vacuum: bool, pause: float, extra: dict[str, int] | None = None,
         progress: Progress | None = None) -> Run:
    began = time.monotonic()
    db = open_database(path, run.action)
    try:
        try:
            while True:
                changed = locked(db, run, lambda: step(db))
                if changed < 0:
                    break
                run.rows += changed
                run.chunks += 1
                if progress is not None:
                    progress(run.rows)
                # Fold the chunk into the main file now, outside the write lock, so the
                # app's next commit does not find a long WAL to checkpoint itself
                # (nothing on a server: postgres.translate drops PRAGMAs).
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                time.sleep(pause)
            run.detail.update(extra or {})
            _forget(db, run, vacuum)
        except _errors(db) as exc:
            run.seconds = time.monotonic() - began
            record_run(db, run, when, "failed", error=str(exc))
            raise MaintenanceError(
                f"{run.action} stopped: {_line(exc)} ({run.rows} row(s) changed before it "
                "stopped; run it again)") from exc
        run.seconds = time.monotonic() - began
        record_run(db, run, when, "done")
        return run
    finally:
        db.close()


def open_database(path: Path | PostgresEngine, action: str, *, writes: bool = True) -> Db:
    db: Db
    if isinstance(path, Path):
        try:
            db = connect(path)
        except sqlite3.Error as exc:
            raise MaintenanceError(f"{action}: cannot open {path}: {exc}") from exc
    else:
        from . import blocking_pg

        try:
            db = blocking_pg.connect(path, lock_timeout=BUSY_TIMEOUT)
        except blocking_pg.ERRORS as exc:
            raise MaintenanceError(f"{action}: cannot open {path.name}: {_line(exc)}") from exc
    if not writes:
        return db
    try:
        write_check(db)  # before any work: a read-only file (or standby) opens without a word
    except _errors(db) as exc:
        db.close()
        raise MaintenanceError(f"{action}: cannot write {_named(path)}: {_line(exc)}") from exc
    return db


def _named(path: Path | PostgresEngine) -> str:
    """The database as a message may name it: a path, or a server without its user."""
    return str(path) if isinstance(path, Path) else path.name


def _line(exc: BaseException) -> str:
    """An error's first line: libpq adds hints on lines of their own, a command says one."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _errors(db: Db) -> tuple[type[Exception], ...]:
    """What the database's driver raises when a statement fails."""
    if isinstance(db, sqlite3.Connection):
        return (sqlite3.Error,)
    from . import blocking_pg

    return blocking_pg.ERRORS


class _Timer:
    longest_lock = 0.0


def write_check(db: Db) -> None:
    """A real write, committed then removed: a read-only file or a full disk only shows
    on a commit (a standby on a write). Raises the error a write would meet."""
    def write() -> None:
        db.execute("INSERT INTO spool_applied (id, applied_at) VALUES ('write-check', ?)"
                   " ON CONFLICT (id) DO UPDATE SET applied_at = excluded.applied_at", (now(),))
        db.execute("DELETE FROM spool_applied WHERE id = 'write-check'")

    locked(db, _Timer(), write)


# The tables redact and purge change; VACUUM on a server clears their dead row versions.
_CHANGED_TABLES = ("reports", "answers", "report_events", "outbox")


def _forget(db: Db, run: Run, vacuum: bool) -> None:
    """Push the changes out of the WAL into the (zeroed) main file, and empty the WAL.
    On a server: with `vacuum`, a plain VACUUM of the tables changed (not FULL: that
    locks them against the app's writes for the whole rewrite)."""
    if on_server(db):
        run.detail["checkpoint"] = "server"
        if vacuum:
            db.execute(f"VACUUM {', '.join(_CHANGED_TABLES)}")
            run.detail["vacuum"] = True
        return
    busy, frames, done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    run.detail["checkpoint"] = "complete" if busy == 0 and frames == done else "partial"
    if vacuum:
        db.execute("VACUUM")  # rewrites the file: nothing of the old pages survives
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        run.detail["vacuum"] = True


def record_run(db: Db, run: Run, when: str | None, outcome: str,
            error: str | None = None) -> None:
    """A maintenance_runs row; for a failed run this may fail too (logged, then raised)."""
    detail = dict(run.detail, chunks=run.chunks, longest_lock_ms=round(run.longest_lock * 1000),
                  seconds=round(run.seconds, 2))
    if error:
        detail["error"] = error
    try:
        db.execute("INSERT INTO maintenance_runs (at, action, before, rows, outcome, detail)"
                   " VALUES (?, ?, ?, ?, ?, ?)",
                   (now(), run.action, when, run.rows, outcome, json.dumps(detail)))
    except _errors(db) as exc:
        log.error("maintenance.unrecorded", action=run.action, outcome=outcome, error=str(exc))
        if outcome == "done":
            raise MaintenanceError(f"{run.action} done ({run.rows} row(s)) but not recorded:"
                                   f" {exc}") from exc


# ------------------------------------------------------------------ backup


def backup_done(db: Db, run: Run, began: float, target: Path) -> Run:
    """A backup's "done" row, on either engine, once `target` is in place. A row that
    cannot be written leaves the good copy where it is: the run says it went unrecorded."""
    run.seconds = time.monotonic() - began
    run.detail.update(target=str(target), bytes=target.stat().st_size)
    try:
        record_run(db, run, None, "done")
    except MaintenanceError:  # the copy is good; the log says it went unrecorded
        run.detail["unrecorded"] = True
    return run


def backup_failed(db: Db, run: Run, exc: Exception) -> NoReturn:
    """A backup's "failed" row, on either engine; then `exc` as a MaintenanceError (one
    that already is one goes out as it is)."""
    record_run(db, run, None, "failed", error=str(exc))
    if isinstance(exc, MaintenanceError):
        raise exc
    raise MaintenanceError(f"backup failed: {exc}") from exc


def backup(path: Path, target: Path, *, force: bool = False,
           pages: int = BACKUP_PAGES) -> Run:
    """A consistent copy of the database at `target`, taken while calls go on (a
    server's: server_backup.py).

    The source holds one read transaction for the whole copy: in WAL mode that never
    blocks the app's writer, and it keeps the step-by-step copy on one snapshot (a
    backup whose source changes under it would otherwise start over at every commit).
    """
    if target.exists() and not force:
        raise MaintenanceError(f"{target} exists (--force to replace it)")
    began = time.monotonic()
    run = Run("backup")
    partial = target.with_name(target.name + ".part")
    try:
        source = connect(path)  # a read-only database is still copied
    except sqlite3.Error as exc:
        raise MaintenanceError(f"backup: cannot open {path}: {exc}") from exc
    try:
        try:
            partial.unlink(missing_ok=True)
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                source.execute("BEGIN")
                source.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # the snapshot
                page_size = source.execute("PRAGMA page_size").fetchone()[0]
                with PacedCopy(partial, pages * page_size) as paced:
                    source.backup(copy, pages=pages, progress=paced.step)
                source.execute("COMMIT")
                copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
                run.rows = copy.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
            os.replace(partial, target)
        except (sqlite3.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            with contextlib.suppress(sqlite3.Error):
                source.execute("ROLLBACK")
            backup_failed(source, run, exc)
        return backup_done(source, run, began, target)
    finally:
        source.close()
