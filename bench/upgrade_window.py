"""How long an upgrade that changes the schema keeps callers off the menu, before and after
`balagh db migrate`, over 1,000,000 generated reports.

  .venv/bin/python bench/upgrade_window.py            # generates the reports once (minutes)
  .venv/bin/python bench/upgrade_window.py --database /tmp/x.sqlite3 --count 100000

The app opens its database, migrating it, before it registers with Asterisk: until then
every caller goes to the general queue unasked. The reports come from
bench/generate_reports.py (the file bench_stats.py uses, kept in /tmp); a copy is taken
back to schema v8 (the statistics' summary and its triggers dropped), the upgrade this measures.

- before: the new app starts on the v8 copy: the start-up migration is the window;
- after: `balagh db migrate` (store/live_migration.py) runs on a fresh v8 copy while a
  writer plays the old app, still answering: a report and its answers every 50 ms, each a
  transaction that waits 50 ms for the lock at most, as the app's writer does (it spools
  the write then, replayed later; here it is retried, and counted). The window is then
  the new app's start on the migrated file. At the end every report the writer made must
  be in the file.

Prints the figures; nothing is timed in a test. Numbers are for this machine at that
moment (the load average is printed: the machine may be shared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_LOCK_WAIT = 0.05  # seconds the app's writer waits for the lock before it spools
WRITE_EVERY = 0.05  # seconds between the old app's reports


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} / {five:.1f}"


def at_v8(source: Path, copy: Path) -> None:
    """A copy of the generated file as Balagh before schema v9 left it."""
    print(f"copying {source} to {copy} ...", file=sys.stderr)
    shutil.copyfile(source, copy)
    db = sqlite3.connect(copy, isolation_level=None)
    # v9's stats_daily or v10's stats_hourly, whichever the generated file has
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type ="
                                          " 'trigger' AND (name LIKE 'stats_daily%'"
                                          " OR name LIKE 'stats_hourly%')")]
    db.execute("BEGIN IMMEDIATE")
    for name in names:
        db.execute(f"DROP TRIGGER {name}")
    for table in ("stats_daily", "stats_hourly", "stats_daily_bulk"):
        db.execute(f"DROP TABLE IF EXISTS {table}")
    db.execute("PRAGMA user_version = 8")
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


async def app_start_migration(path: Path) -> float:
    """What `balagh run` does to its database before it takes a call: the seconds."""
    import aiosqlite

    from balagh.store.schema import migrate

    began = time.perf_counter()
    async with aiosqlite.connect(path) as conn:
        await migrate(conn)
    return time.perf_counter() - began


@dataclass
class OldApp:
    """Writes a report with its answers every WRITE_EVERY seconds until stopped."""

    path: Path
    stop: threading.Event = field(default_factory=threading.Event)
    written: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    spooled: int = 0
    errors: list[str] = field(default_factory=list)

    def run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=APP_LOCK_WAIT)
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                self._one(db, f"upgrade-{n}")
                self.stop.wait(WRITE_EVERY)
        except Exception as exc:  # a write the app could not make at all
            self.errors.append(repr(exc))
        finally:
            db.close()

    def _one(self, db: sqlite3.Connection, call_id: str) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        began = time.perf_counter()
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO reports (call_id, reference, channel, status, queue,"
                           " started_at, routed_at, updated_at) VALUES (?, ?, 'PJSIP/x',"
                           " 'routed', 'general', ?, ?, ?)", (call_id, call_id, now, now, now))
                db.executemany("INSERT INTO answers (call_id, question, value, key, attempt,"
                               " answered_at) VALUES (?, ?, ?, '1', 1, ?)",
                               [(call_id, q, v, now) for q, v in
                                (("language", "ar"), ("danger", "yes"), ("age", "adult"))])
                db.execute("COMMIT")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if db.in_transaction:
                    db.execute("ROLLBACK")
                self.spooled += 1  # the app would spool it and replay it later
        self.waits.append(time.perf_counter() - began)
        self.written.append(call_id)


def migrate_beside_old_app(path: Path) -> tuple[float, OldApp, object]:
    from balagh.store import live_migration

    app = OldApp(path)
    thread = threading.Thread(target=app.run)
    thread.start()
    try:
        began = time.perf_counter()
        run = live_migration.migrate_beside(path)
        seconds = time.perf_counter() - began
        time.sleep(1.0)  # a few more of the old app's writes, on the new schema
    finally:
        app.stop.set()
        thread.join()
    return seconds, app, run


def missing(path: Path, call_ids: list[str]) -> int:
    with sqlite3.connect(path) as db:
        kept = {row[0] for row in db.execute("SELECT call_id FROM reports WHERE call_id"
                                             " LIKE 'upgrade-%'")}
    db.close()
    return len(set(call_ids) - kept)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, default=Path("/tmp/balagh-bench-1m.sqlite3"),
                        help="generated once, reused after (default %(default)s)")
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if not args.database.exists():
        print(f"generating {args.count} reports into {args.database} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(HERE / "generate_reports.py"), str(args.database),
                        "-n", str(args.count), "--month", "2026-11"], check=True)
    copy = args.database.with_name(f"{args.database.stem}-upgrade{args.database.suffix}")
    print(f"load average (1 / 5 min) {load()} at the start", file=sys.stderr)
    try:
        at_v8(args.database, copy)
        before = asyncio.run(app_start_migration(copy))
        print(f"before: the app's start-up migration v8 -> v9: {before:.1f} s without the menu")
        for suffix in ("-wal", "-shm", ""):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        at_v8(args.database, copy)
        seconds, app, run = migrate_beside_old_app(copy)
        start = asyncio.run(app_start_migration(copy))
        waits = sorted(app.waits)
        print(f"after: `balagh db migrate` beside the old app: {seconds:.1f} s with the menu on"
              f" ({run.chunks} chunks, longest write lock {run.longest_lock * 1000:.0f} ms);"
              f" the old app's {len(waits)} reports: median wait"
              f" {statistics.median(waits) * 1000:.1f} ms, max {waits[-1] * 1000:.0f} ms,"
              f" {app.spooled} would have gone to the spool, {missing(copy, app.written)}"
              f" missing, errors {app.errors or 'none'}")
        print(f"after: the new app's start-up on the migrated file: {start:.2f} s without"
              " the menu (plus the stop of the old app: up to 5 s for calls in the menu)")
    finally:
        for suffix in ("-wal", "-shm", ""):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
    print(f"load average (1 / 5 min) {load()} at the end", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
