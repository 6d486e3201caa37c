"""Schema migrations beside the running app: `balagh db migrate` (the package's postinst).

schema.migrate() applies each step in one transaction, as the app does when it starts:
right for a new or small database, but v9 and v10 count every report already kept (about
a minute a million) with the write lock held, and a starting app answers no call
meanwhile. Here the same steps run while the old app goes on answering and writing, so
the restart that follows finds nothing left to do:

- a step that changes only the schema (tables, columns, indexes, triggers) runs as it
  is, in one short transaction;
- v9 creates stats_daily and its triggers in one short transaction, and while that
  transaction still holds the write lock it opens a read snapshot: the reports exactly
  as the triggers found them. It then counts those reports from the snapshot a chunk at
  a time, each chunk's counts added in a transaction of its own. Every write after the
  triggers came is counted by them as a change (+new, -old) to the snapshot's figures,
  so snapshot counts plus trigger changes are the counts of the reports as they are.

user_version moves only when a step is complete: a migration stopped half-way (a crash,
Ctrl-C, a lock it waited too long for) leaves the previous version, and the app, or this
command run again, drops what it left (schema.unfinished) and redoes the step.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import daily
from .schema import COUNTING_STEPS, MIGRATIONS, VERSION, SchemaError, unfinished
from .short_transaction import locked

CHUNK = 2_000  # reports counted per chunk (about 10-20 ms of write lock each, 2 cores)
PAUSE = 0.01  # seconds between chunks: the app's writer takes the lock here
FORGET_ROWS = 5_000  # v9's summary rows deleted per transaction once v10 replaced it
BUSY_TIMEOUT = 30.0  # seconds a step waits for the app's writer to let go of the lock

# (step being made, reports counted so far, reports to count): once a chunk.
Progress = Callable[[int, int, int], None]


@dataclass
class Migration:
    """What one `balagh db migrate` did."""

    before: int
    after: int
    steps: list[int] = field(default_factory=list)  # versions reached, in order
    reports_counted: int = 0
    chunks: int = 0
    longest_lock: float = 0.0  # seconds, the longest one transaction held the write lock
    seconds: float = 0.0


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True,
                         isolation_level=None, timeout=BUSY_TIMEOUT)
    # As the app's writer: a commit without an fsync of its own. A power cut may undo the
    # last chunks, never half of one, and user_version moves last: a rerun redoes the step.
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def _version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate_beside(path: Path, *, chunk: int = CHUNK, pause: float = PAUSE,
                   progress: Progress | None = None) -> Migration:
    """Bring the database at `path` to this Balagh's schema while another process writes."""
    if not path.is_file():
        raise SchemaError(f"no database at {path}")
    db = _connect(path)
    try:
        # WAL: the snapshot below must not stop the app's writer (the app sets it too).
        db.execute("PRAGMA journal_mode = WAL")
        run = Migration(before=_version(db), after=VERSION)
        if run.before > VERSION:
            raise SchemaError(f"database schema version {run.before} is newer than this "
                              f"Balagh ({VERSION})")
        began = time.monotonic()
        for version in range(run.before, VERSION):
            if version + 1 in COUNTING_STEPS:
                _counts(path, db, run, version + 1, chunk, pause, progress)
            else:
                _whole(db, run, version)
            run.steps.append(version + 1)
        _forget_daily(db, run, pause)
        run.seconds = time.monotonic() - began
        return run
    finally:
        db.close()


def _statements(script: str) -> list[str]:
    """`script` cut into complete statements (triggers hold `;` inside BEGIN ... END)."""
    statements, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    return statements


def _whole(db: sqlite3.Connection, run: Migration, version: int) -> None:
    def work() -> None:
        for statement in _statements(MIGRATIONS[version]):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {version + 1}")

    locked(db, run, work)


def _forget_daily(db: sqlite3.Connection, run: Migration, pause: float) -> None:
    """v9's stats_daily, left by v10 without its triggers: emptied a chunk at a time, then
    dropped. Dropped whole, its rows (390,000 for a month of a million calls) held the
    write lock 0.3-0.7 s. A run stopped meanwhile leaves the rest to the next run."""
    if _version(db) < daily.SINCE_VERSION or not db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stats_daily'"
    ).fetchone():
        return
    key = "dim, day, value, kind, code"
    forget = (f"DELETE FROM stats_daily WHERE ({key}) IN"
              f" (SELECT {key} FROM stats_daily LIMIT {FORGET_ROWS})")
    deleted: list[int] = []
    while not deleted or deleted[-1]:
        locked(db, run, lambda: deleted.append(db.execute(forget).rowcount))
        time.sleep(pause)
    locked(db, run, lambda: db.execute("DROP TABLE stats_daily"))


def _add_counts(summary: daily.Summary) -> str:
    key = f"dim, {summary.key}, value, kind, code"
    return (f"INSERT INTO {summary.table} ({key}, n) VALUES (?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT ({key}) DO UPDATE SET n = n + excluded.n")


def _counts(path: Path, db: sqlite3.Connection, run: Migration, step: int, chunk: int,
            pause: float, progress: Progress | None) -> None:
    """v9 or v10 beside a writer: the triggers first, then the snapshot's reports in
    chunks; v10's last transaction drops v9's table."""
    summary = COUNTING_STEPS[step]
    snapshot = _connect(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        held = time.monotonic()
        try:
            ddl = unfinished(step - 1) + summary.ddl
            if summary is daily.DAILY:
                ddl += daily.BULK_TABLE
            for statement in _statements(ddl + daily.triggers(summary)):
                db.execute(statement)
            # Nobody else can commit while this transaction holds the lock, so the snapshot
            # opened now is the database exactly as the triggers start counting from.
            snapshot.execute("BEGIN")
            first, last = snapshot.execute(
                "SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM reports").fetchone()
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        run.longest_lock = max(run.longest_lock, time.monotonic() - held)
        total = snapshot.execute("SELECT count(*) FROM reports").fetchone()[0]  # unlocked
        # daily's own SELECT of the counts (as its backfill), for one range of ids.
        counts = [f"{daily.count_select(kind, summary)}"
                  " AND r.id >= ? AND r.id < ? GROUP BY 1, 2, 3, 4, 5"
                  for kind in daily.ALL_KINDS]
        add = _add_counts(summary)
        counted = 0
        for low in range(first, last + 1, chunk):
            high = low + chunk
            rows = [row for sql in counts for row in snapshot.execute(sql, (low, high))]
            locked(db, run, functools.partial(db.executemany, add, rows))
            counted += snapshot.execute("SELECT count(*) FROM reports WHERE id >= ? AND"
                                        " id < ?", (low, high)).fetchone()[0]
            run.chunks += 1
            if progress is not None:
                progress(step, counted, total)
            time.sleep(pause)
        snapshot.execute("COMMIT")  # let the WAL be checkpointed past it
        run.reports_counted += counted

        def done() -> None:
            if summary is daily.HOURLY:  # v9's table stops counting; emptied after
                for name in daily.trigger_names(daily.DAILY):
                    db.execute(f"DROP TRIGGER IF EXISTS {name}")
            db.execute(f"PRAGMA user_version = {step}")

        locked(db, run, done)
    finally:
        snapshot.close()
    with contextlib.suppress(sqlite3.Error):  # fold the chunks in; the app does it too
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
