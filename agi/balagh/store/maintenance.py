"""Maintenance beside live calls: purge, redact and backup in small steps.

Each runs on its own blocking sqlite3 connection (call it from a thread or a
command), never through the app's writer, and takes the write lock for one
chunk at a time with a pause between chunks, so the app's writer waits a few
milliseconds at most. Each returns the rows really changed, records itself in
maintenance_runs, and raises MaintenanceError when it could not do its work:
a command must never print success for a write that did not happen.

Retention that really forgets: secure_delete zeroes what is deleted or
overwritten, and a WAL checkpoint (TRUNCATE) then an optional VACUUM leave no
old copy of a number in the database's files.
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
from typing import Any

import structlog

from balagh.vocabulary import EMIRATE_QUESTION

from . import daily
from .timestamps import iso, now

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

# location_source's word for a report whose number and place were forgotten: it marks the
# report done, so reports redacted by an older Balagh (which left the place in answers,
# timeline and outbox) are taken once more, and each report at most once after that.
REDACTED_SOURCE = "redacted"
_REDACTABLE = f"location_source IS NOT '{REDACTED_SOURCE}'"


def _forget_place(db: sqlite3.Connection, calls: list[str], references: list[str]) -> None:
    """Every other trace of where the callers of `calls` were, in the chunk's transaction:
    their emirate answers, the timeline rows that name the place, and the outbox documents
    (delivered ones deleted: the unit has them; the others keep going, without the place)."""
    marks = _marks(calls)
    db.execute("UPDATE answers SET value = NULL, key = NULL WHERE question = ?"
               f" AND call_id IN ({marks}) AND (value IS NOT NULL OR key IS NOT NULL)",
               (EMIRATE_QUESTION, *calls))
    db.execute("UPDATE report_events SET detail = json_object('emirate', NULL, 'source', ?)"
               f" WHERE kind = 'location' AND call_id IN ({marks})", (REDACTED_SOURCE, *calls))
    db.execute("UPDATE report_events SET detail = json_replace(detail, '$.value', NULL,"
               " '$.key', NULL) WHERE kind = 'answer' AND json_valid(detail)"
               f" AND json_extract(detail, '$.question') = ? AND call_id IN ({marks})",
               (EMIRATE_QUESTION, *calls))
    # outbox.key is REFERENCE:EVENT, indexed (UNIQUE key, url); reference is not.
    ranges = [(f"{reference}:", f"{reference};") for reference in references]
    db.executemany("DELETE FROM outbox WHERE status = 'delivered' AND key >= ? AND key < ?",
                   ranges)
    db.executemany("UPDATE outbox SET body = json_replace(body, '$.report.emirate', NULL,"
                   " '$.report.location_source', ?, '$.report.caller', NULL)"
                   " WHERE key >= ? AND key < ? AND json_valid(body)",
                   [(REDACTED_SOURCE, *bounds) for bounds in ranges])


def _forget_texts(db: sqlite3.Connection, references: list[str]) -> None:
    """The texts to the callers of `references`: number and words emptied, and a text not
    sent yet never will be (the sender would find no number anyway: consent.may_contact)."""
    db.executemany("UPDATE sms_outbox SET destination = NULL, text = NULL,"
                   " status = CASE WHEN status = 'pending' THEN 'withheld' ELSE status END"
                   " WHERE reference = ?", [(reference,) for reference in references])


def _forget_callbacks(db: sqlite3.Connection, references: list[str]) -> None:
    """A callback not dialled yet for a redacted report never will be (its number is gone;
    the dialler would find none anyway)."""
    db.executemany("UPDATE callbacks SET status = 'cancelled', cancelled_by = 'redacted'"
                   " WHERE reference = ? AND status = 'pending'",
                   [(reference,) for reference in references])


def pending(path: Path, action: str, when: datetime) -> int:
    """Rows `action` would change now: reports started before `when` (purge), those of
    them still holding a number or a place (redact), or reports started since `when`
    that still hold their number (rehash). What a command asks confirmation for."""
    wheres = {"purge": "started_at < ?", "redact": f"started_at < ? AND {_REDACTABLE}",
              "rehash": "started_at >= ? AND caller IS NOT NULL"}
    db = _open(path, action, writes=False)
    try:
        row = db.execute(f"SELECT COUNT(*) FROM reports WHERE {wheres[action]}",
                         (iso(when),)).fetchone()
    except sqlite3.Error as exc:
        raise MaintenanceError(f"{action}: cannot count in {path}: {exc}") from exc
    finally:
        db.close()
    return int(row[0])


def redact(path: Path, before: datetime, *, vacuum: bool = False, chunk: int = CHUNK,
           pause: float = PAUSE, progress: Progress | None = None) -> Run:
    """Forget who called and from where in reports started before `before`: the number,
    the channel, the location and its source on the report, and the place wherever else
    it was written (_forget_place); rows = reports redacted by this run."""
    when = iso(before)
    run = Run("redact")
    last = 0

    def step(db: sqlite3.Connection) -> int:
        nonlocal last
        # Walk the primary key from where the last chunk stopped: each row is looked at
        # once, however many already hold nothing to forget.
        rows = db.execute(
            "SELECT id, call_id, reference, started_at FROM reports WHERE id > ? AND started_at < ?"
            f" AND {_REDACTABLE} ORDER BY id LIMIT ?", (last, when, chunk)).fetchall()
        if not rows:
            return -1
        ids = [row[0] for row in rows]
        last = ids[-1]
        counted = daily.kept(db)
        if counted:  # the statistics' counts move with the location, in one go (daily.py)
            db.execute(daily.BULK_ON)
            db.execute(daily.count_reports(-1, len(ids), ["emirate"]), ids)
        cursor = db.execute(
            "UPDATE reports SET caller = NULL, location = NULL, location_source = ?,"
            f" channel = '' WHERE id IN ({_marks(ids)})", (REDACTED_SOURCE, *ids))
        if counted:
            db.execute(daily.count_reports(1, len(ids), ["emirate"]), ids)
            db.execute(daily.BULK_OFF)
            # A row left at zero still names the emirate of that day's redacted calls.
            days = sorted(row[3][:10] for row in rows)
            db.execute(daily.FORGET_ZEROS, (days[0], days[-1]))
        # After BULK_OFF: the answers' triggers keep the danger counts (an emirate answer
        # is never one, so they change nothing).
        _forget_place(db, [row[1] for row in rows], [row[2] for row in rows])
        _forget_texts(db, [row[2] for row in rows])
        _forget_callbacks(db, [row[2] for row in rows])
        return cursor.rowcount

    return _run(path, run, when, step, vacuum=vacuum, pause=pause, progress=progress)


def purge(path: Path, before: datetime, *, vacuum: bool = False, chunk: int = CHUNK,
          pause: float = PAUSE, progress: Progress | None = None) -> Run:
    """Delete reports started before `before` with their answers and timeline; their
    outbox rows go only once delivered (a pending event still has to reach its unit)."""
    when = iso(before)
    run = Run("purge")
    removed = {"answers": 0, "report_events": 0, "outbox": 0, "sms_outbox": 0,
               "callbacks": 0}

    def step(db: sqlite3.Connection) -> int:
        rows = db.execute("SELECT id, call_id, reference, started_at FROM reports"
                          " WHERE started_at < ? ORDER BY started_at LIMIT ?",
                          (when, chunk)).fetchall()
        if not rows:
            return -1
        calls, ids = [row[1] for row in rows], [row[0] for row in rows]
        counted = daily.kept(db)
        if counted:  # the chunk leaves the statistics' counts in one go (daily.py)
            db.execute(daily.BULK_ON)
            db.execute(daily.count_reports(-1, len(ids)), ids)
        for table in ("answers", "report_events"):
            removed[table] += db.execute(
                f"DELETE FROM {table} WHERE call_id IN ({_marks(calls)})", calls).rowcount
        # outbox.key is REFERENCE:EVENT, indexed (UNIQUE key, url); reference is not.
        removed["outbox"] += db.executemany(
            "DELETE FROM outbox WHERE status = 'delivered' AND key >= ? AND key < ?",
            [(f"{row[2]}:", f"{row[2]};") for row in rows]).rowcount
        # Texts go with their report, pending or not: nobody may be texted about it now.
        removed["sms_outbox"] += db.executemany(
            "DELETE FROM sms_outbox WHERE reference = ?", [(row[2],) for row in rows]).rowcount
        removed["callbacks"] += db.executemany(
            "DELETE FROM callbacks WHERE reference = ?", [(row[2],) for row in rows]).rowcount
        deleted = db.execute(f"DELETE FROM reports WHERE id IN ({_marks(ids)})", ids).rowcount
        if counted:  # and the rows it emptied go
            db.execute(daily.BULK_OFF)
            db.execute(daily.FORGET_ZEROS, (rows[0][3][:10], rows[-1][3][:10]))
        return deleted

    return _run(path, run, when, step, vacuum=vacuum, pause=pause, extra=removed,
                progress=progress)


def rehash_callers(path: Path, since: datetime, hash_of: Callable[[str], str | None], *,
                   chunk: int = CHUNK, pause: float = PAUSE,
                   progress: Progress | None = None) -> Run:
    """Set caller_hash again, with `hash_of`, for the reports started since `since` that
    still hold their number (a new caller-hash key: those callers stay recognised)."""
    when = iso(since)
    run = Run("rehash")
    last = 0

    def step(db: sqlite3.Connection) -> int:
        nonlocal last
        rows = db.execute("SELECT id, caller FROM reports WHERE id > ? AND started_at >= ?"
                          " AND caller IS NOT NULL ORDER BY id LIMIT ?",
                          (last, when, chunk)).fetchall()
        if not rows:
            return -1
        last = rows[-1][0]
        return db.executemany("UPDATE reports SET caller_hash = ? WHERE id = ?",
                              [(hash_of(caller), id_) for id_, caller in rows]).rowcount

    return _run(path, run, when, step, vacuum=False, pause=pause, progress=progress)


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _run(path: Path, run: Run, when: str | None, step: Callable[[sqlite3.Connection], int], *,
         vacuum: bool, pause: float, extra: dict[str, int] | None = None,
         progress: Progress | None = None) -> Run:
    began = time.monotonic()
    db = _open(path, run.action)
    try:
        try:
            while True:
                held = time.monotonic()
                db.execute("BEGIN IMMEDIATE")
                try:
                    changed = step(db)
                    db.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise
                run.longest_lock = max(run.longest_lock, time.monotonic() - held)
                if changed < 0:
                    break
                run.rows += changed
                run.chunks += 1
                if progress is not None:
                    progress(run.rows)
                # Fold the chunk into the main file now, outside the write lock, so the
                # app's next commit does not find a long WAL to checkpoint itself.
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                time.sleep(pause)
            run.detail.update(extra or {})
            _forget(db, run, vacuum)
        except sqlite3.Error as exc:
            run.seconds = time.monotonic() - began
            _record(db, run, when, "failed", error=str(exc))
            raise MaintenanceError(
                f"{run.action} stopped: {exc} ({run.rows} row(s) changed before it "
                "stopped; run it again)") from exc
        run.seconds = time.monotonic() - began
        _record(db, run, when, "done")
        return run
    finally:
        db.close()


def _open(path: Path, action: str, *, writes: bool = True) -> sqlite3.Connection:
    try:
        db = connect(path)
    except sqlite3.Error as exc:
        raise MaintenanceError(f"{action}: cannot open {path}: {exc}") from exc
    if not writes:
        return db
    try:
        write_check(db)  # before any work: a read-only file opens without a word
    except sqlite3.Error as exc:
        db.close()
        raise MaintenanceError(f"{action}: cannot write {path}: {exc}") from exc
    return db


def write_check(db: sqlite3.Connection) -> None:
    """A real write, committed then removed: a read-only file or a full disk only shows
    on a commit. Raises the error a write would meet."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("INSERT OR REPLACE INTO spool_applied (id, applied_at) VALUES"
                   " ('write-check', ?)", (now(),))
        db.execute("DELETE FROM spool_applied WHERE id = 'write-check'")
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise


def _forget(db: sqlite3.Connection, run: Run, vacuum: bool) -> None:
    """Push the changes out of the WAL into the (zeroed) main file, and empty the WAL."""
    busy, frames, done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    run.detail["checkpoint"] = "complete" if busy == 0 and frames == done else "partial"
    if vacuum:
        db.execute("VACUUM")  # rewrites the file: nothing of the old pages survives
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        run.detail["vacuum"] = True


def _record(db: sqlite3.Connection, run: Run, when: str | None, outcome: str,
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
    except sqlite3.Error as exc:
        log.error("maintenance.unrecorded", action=run.action, outcome=outcome, error=str(exc))
        if outcome == "done":
            raise MaintenanceError(f"{run.action} done ({run.rows} row(s)) but not recorded:"
                                   f" {exc}") from exc


# ------------------------------------------------------------------ backup


def backup(path: Path, target: Path, *, force: bool = False,
           pages: int = BACKUP_PAGES) -> Run:
    """A consistent copy of the database at `target`, taken while calls go on.

    The source holds one read transaction for the whole copy: in WAL mode that never
    blocks the app's writer, and it keeps the step-by-step copy on one snapshot (a
    backup whose source changes under it would otherwise start over at every commit).
    """
    if target.exists() and not force:
        raise MaintenanceError(f"{target} exists (--force to replace it)")
    began = time.monotonic()
    run = Run("backup")
    partial = target.with_name(target.name + ".part")
    source = _open(path, "backup", writes=False)  # a read-only database is still copied
    try:
        try:
            partial.unlink(missing_ok=True)
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                source.execute("BEGIN")
                source.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # the snapshot
                page_size = source.execute("PRAGMA page_size").fetchone()[0]
                with _Paced(partial, pages * page_size) as paced:
                    source.backup(copy, pages=pages, progress=paced.step)
                source.execute("COMMIT")
                copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
                run.rows = copy.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
            os.replace(partial, target)
        except (sqlite3.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            with contextlib.suppress(sqlite3.Error):
                source.execute("ROLLBACK")
            _record(source, run, None, "failed", error=str(exc))
            raise MaintenanceError(f"backup failed: {exc}") from exc
        run.seconds = time.monotonic() - began
        run.detail.update(target=str(target), bytes=target.stat().st_size)
        try:
            _record(source, run, None, "done")
        except MaintenanceError:  # the copy is good; the log says it went unrecorded
            run.detail["unrecorded"] = True
        return run
    finally:
        source.close()


class _Paced:
    """Flush the copy to disk as it grows, a little at a time, with a breath between steps.

    Left to itself the kernel keeps the whole copy dirty in memory and writes it out at
    the final fsync; on ext4 every other fsync (the app's WAL checkpoint) then waits
    behind hundreds of megabytes. Small flushes along the way keep those waits short.
    """

    SYNC_BYTES = 16 * 1024 * 1024
    BREATH = 0.002  # seconds after each step

    def __init__(self, path: Path, step_bytes: int) -> None:
        self.path = path
        self.step_bytes = step_bytes
        self.fd = -1
        self.unsynced = 0

    def __enter__(self) -> _Paced:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)

    def step(self, status: int, remaining: int, total: int) -> None:
        del status, total
        self.unsynced += self.step_bytes
        if self.unsynced >= self.SYNC_BYTES or remaining == 0:
            if self.fd < 0:
                self.fd = os.open(self.path, os.O_RDONLY)
            os.fsync(self.fd)
            self.unsynced = 0
        time.sleep(self.BREATH)
