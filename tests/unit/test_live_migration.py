"""`balagh db migrate` (store/live_migration.py): the schema migrated beside a running app.

A real SQLite file at schema v9 with reports in it; the migration to v10 counts them in
small chunks while another connection keeps writing (new reports, changed ones, deleted
ones, danger answers added and taken away) between the chunks and from a thread. Nothing
the writer wrote is lost, and stats_hourly ends equal to a count made from scratch (v9's
stats_daily, kept meanwhile for the old app, goes with the last step).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest

from balagh.cli import main
from balagh.store import daily, live_migration
from balagh.store.schema import MIGRATIONS, VERSION, SchemaError, migrate

QUEUES = ("child-protection", "general", "women-protection", None)
STATUSES = ("routed", "fallback", "hung_up_in_ivr", "in_ivr")
COLUMNS = ("call_id, reference, channel, language, status, rule, queue, started_at, routed_at,"
           " updated_at, location, queue_outcome, wait_seconds, typed_ahead, to_queue_tenths,"
           " gave_up_in")


def at_version(path: Path, version: int) -> None:
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA journal_mode = WAL")
        for step in range(version):
            db.executescript(f"BEGIN; {MIGRATIONS[step]}; PRAGMA user_version = {step + 1};"
                             " COMMIT;")
    db.close()


def report(rng: random.Random, n: int, prefix: str = "c") -> tuple[object, ...]:
    day = f"2026-11-{rng.randint(1, 5):02d}"
    status = rng.choice(STATUSES)
    routed = status == "routed"
    return (f"{prefix}{n}", f"R{prefix}{n}", f"PJSIP/{n}", rng.choice(("ar", "en", None)),
            status, "child" if routed else None, rng.choice(QUEUES) if routed else None,
            f"{day}T10:00:00Z", f"{day}T10:00:09Z" if routed else None, f"{day}T10:01:00Z",
            rng.choice(("dubai", "sharjah", None)),
            rng.choice(("answered", "abandoned", None)) if routed else None,
            rng.randint(0, 30) if routed else None, rng.choice((0, 1, None)),
            90 if routed else None, "danger" if status == "hung_up_in_ivr" else None)


def add_report(db: sqlite3.Connection, rng: random.Random, n: int, prefix: str) -> None:
    marks = ", ".join("?" * len(COLUMNS.split(",")))
    db.execute(f"INSERT INTO reports ({COLUMNS}) VALUES ({marks})", report(rng, n, prefix))
    if rng.random() < 0.3:
        db.execute("INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
                   " VALUES (?, 'danger', 'yes', '1', 1, '2026-11-01T10:00:01Z')",
                   (f"{prefix}{n}",))


def fill(path: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with sqlite3.connect(path) as db:
        for n in range(count):
            add_report(db, rng, n, "c")
    db.close()


class Writer:
    """The old app, writing between the migration's chunks: what it wrote is kept here."""

    def __init__(self, path: Path, seed: int) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30,
                                  check_same_thread=False)  # the thread test hands it over
        self.rng = random.Random(seed)
        self.added: list[str] = []
        self.deleted: set[str] = set()
        self.turns = 0

    def turn(self, prefix: str) -> None:
        rng, db = self.rng, self.db
        self.turns += 1
        db.execute("BEGIN IMMEDIATE")
        add_report(db, rng, self.turns, prefix)
        self.added.append(f"{prefix}{self.turns}")
        # A report counted already or still to count: moved, its wait known, deleted...
        ids = [row[0] for row in db.execute("SELECT call_id FROM reports ORDER BY random()"
                                            " LIMIT 3")]
        db.execute("UPDATE reports SET status = 'routed', queue = ?, wait_seconds = ?,"
                   " location = 'ajman', routed_at = started_at WHERE call_id = ?",
                   (rng.choice(QUEUES[:3]), rng.randint(0, 40), ids[0]))
        db.execute("INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
                   " VALUES (?, 'danger', 'yes', '1', 1, '2026-11-02T10:00:01Z')", (ids[1],))
        db.execute("DELETE FROM answers WHERE call_id = ? AND question = 'danger'", (ids[2],))
        if rng.random() < 0.3 and ids[2] not in self.added:
            db.execute("DELETE FROM reports WHERE call_id = ?", (ids[2],))
            self.deleted.add(ids[2])
        db.execute("COMMIT")


def counts(db: sqlite3.Connection) -> set[tuple[object, ...]]:
    return set(db.execute("SELECT dim, hour, value, kind, code, n FROM stats_hourly"
                          " WHERE n != 0"))


def recounted(path: Path) -> set[tuple[object, ...]]:
    """stats_hourly as a migration of the database as it is now would make it."""
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("BEGIN")
        db.execute("DELETE FROM stats_hourly")
        for statement in daily.backfill().split(";"):
            if statement.strip():
                db.execute(statement)
        fresh = counts(db)
        db.execute("ROLLBACK")
    db.close()
    return fresh


def daily_counts(db: sqlite3.Connection) -> set[tuple[object, ...]]:
    return set(db.execute("SELECT dim, day, value, kind, code, n FROM stats_daily"
                          " WHERE n != 0"))


def daily_recounted(db: sqlite3.Connection) -> set[tuple[object, ...]]:
    """v9's stats_daily as its migration would make it now (what the old app reads)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS fresh (dim, day, value, kind, code, n)")
    db.execute("DELETE FROM temp.fresh")
    db.executescript(daily.backfill(daily.DAILY).replace("INSERT INTO stats_daily",
                                                         "INSERT INTO temp.fresh"))
    return set(db.execute("SELECT * FROM temp.fresh WHERE n != 0"))


def test_counts_from_a_snapshot_plus_the_writes_made_meanwhile_are_exact(tmp_path: Path):
    path = tmp_path / "balagh.sqlite3"
    at_version(path, 9)
    fill(path, 400)
    writer = Writer(path, seed=3)
    seen: list[tuple[int, int]] = []
    reader = sqlite3.connect(path)

    def between_chunks(step: int, counted: int, total: int) -> None:
        seen.append((counted, total))
        for _ in range(3):  # the old app goes on writing while the snapshot is counted
            writer.turn("w")
        # and its statistics (v9's table) stay right meanwhile
        assert daily_counts(reader) == daily_recounted(reader)

    run = live_migration.migrate_beside(path, chunk=23, pause=0, progress=between_chunks)
    reader.close()
    writer.turn("after")  # and after: the triggers are in place
    assert (run.before, run.after, run.steps) == (9, VERSION, list(range(10, VERSION + 1)))
    assert run.chunks == len(seen) >= 400 // 23
    assert seen[-1] == (400, 400)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
        assert not db.execute("SELECT name FROM sqlite_master WHERE name LIKE"
                              " 'stats_daily%' AND name != 'stats_daily_bulk'").fetchall()
        kept = {row[0] for row in db.execute("SELECT call_id FROM reports")}
        live = counts(db)
    db.close()
    assert set(writer.added) <= kept  # nothing the app wrote meanwhile is lost
    assert not writer.deleted & kept
    assert len(kept) == 400 + len(writer.added) - len(writer.deleted)
    assert live == recounted(path)


def test_a_writer_thread_beside_the_migration_loses_nothing(tmp_path: Path):
    path = tmp_path / "balagh.sqlite3"
    at_version(path, 9)
    fill(path, 600, seed=11)
    done, failures = threading.Event(), []
    writer = Writer(path, seed=5)
    turns = threading.Semaphore(0)

    def write() -> None:
        try:
            while not done.is_set():
                writer.turn("t")
                turns.release()
                done.wait(0.002)  # the app's writes come apart, not back to back
        except Exception as exc:  # a write the app could not make: the test fails
            failures.append(exc)
            turns.release()

    thread = threading.Thread(target=write)
    thread.start()
    turns.acquire()  # the writer is writing before the migration starts
    try:
        live_migration.migrate_beside(path, chunk=17, pause=0)
    finally:
        done.set()
        thread.join()
    assert not failures
    with sqlite3.connect(path) as db:
        kept = {row[0] for row in db.execute("SELECT call_id FROM reports")}
        live = counts(db)
    db.close()
    assert set(writer.added) <= kept
    assert live == recounted(path)


def test_the_same_counts_as_the_migration_the_app_makes(tmp_path: Path):
    beside, at_start = tmp_path / "beside.sqlite3", tmp_path / "start.sqlite3"
    for path in (beside, at_start):
        at_version(path, 9)
        fill(path, 250, seed=2)
    live_migration.migrate_beside(beside, chunk=40, pause=0)
    with sqlite3.connect(at_start, isolation_level=None) as db:
        db.executescript(f"BEGIN; {MIGRATIONS[9]}; PRAGMA user_version = 10; COMMIT;")
        expected = counts(db)
        triggers = sorted(db.execute("SELECT name, sql FROM sqlite_master WHERE type ="
                                     " 'trigger'"))
    db.close()
    with sqlite3.connect(beside) as db:
        assert counts(db) == expected
        assert sorted(db.execute("SELECT name, sql FROM sqlite_master WHERE type ="
                                 " 'trigger'")) == triggers
    db.close()


def test_from_an_older_schema_and_again_is_nothing_to_do(tmp_path: Path):
    path = tmp_path / "balagh.sqlite3"
    at_version(path, 6)
    run = live_migration.migrate_beside(path, pause=0)
    assert run.steps == list(range(7, VERSION + 1))
    again = live_migration.migrate_beside(path, pause=0)
    assert again.steps == [] and again.before == VERSION


def test_a_newer_or_missing_database_is_refused_untouched(tmp_path: Path):
    path = tmp_path / "balagh.sqlite3"
    at_version(path, 1)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.close()
    with pytest.raises(SchemaError, match="newer than this Balagh"):
        live_migration.migrate_beside(path)
    with pytest.raises(SchemaError, match="no database at"):
        live_migration.migrate_beside(tmp_path / "none.sqlite3")
    assert not (tmp_path / "none.sqlite3").exists()


def test_the_command_says_what_it_did(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    assert main(["db", "migrate"]) == 0
    assert "no database at" in capsys.readouterr().out
    at_version(tmp_path / "balagh.sqlite3", 9)
    fill(tmp_path / "balagh.sqlite3", 30)
    assert main(["db", "migrate", "--chunk", "10"]) == 0
    out = capsys.readouterr()
    assert f"schema v9 -> v{VERSION}" in out.out and "30 report(s) counted" in out.out
    assert "30 of 30 report(s) counted" in out.err
    assert main(["db", "migrate"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out


class Stopped(Exception):
    """Ctrl-C, a crash: the migration stops between two chunks."""


def interrupted(path: Path) -> None:
    def stop_after_two(step: int, counted: int, total: int) -> None:
        if counted > 40:
            raise Stopped

    with pytest.raises(Stopped):
        live_migration.migrate_beside(path, chunk=20, pause=0, progress=stop_after_two)
    with sqlite3.connect(path) as db:  # half counted, and still v9, its table right
        assert db.execute("PRAGMA user_version").fetchone()[0] == 9
        assert db.execute("SELECT count(*) FROM stats_hourly").fetchone()[0] > 0
        assert daily_counts(db) == daily_recounted(db)
    db.close()


def test_the_app_finishes_a_migration_stopped_half_way(tmp_path: Path):
    path = tmp_path / "balagh.sqlite3"
    at_version(path, 9)
    fill(path, 120)
    interrupted(path)

    async def start() -> int:
        async with aiosqlite.connect(path) as conn:
            return await migrate(conn)

    assert asyncio.run(start()) == VERSION
    with sqlite3.connect(path) as db:
        assert counts(db) == recounted(path)
    db.close()


def test_running_it_again_finishes_a_migration_stopped_half_way(tmp_path: Path):
    path = tmp_path / "balagh.sqlite3"
    at_version(path, 9)
    fill(path, 120)
    interrupted(path)
    assert live_migration.migrate_beside(path, pause=0).steps == list(range(10, VERSION + 1))
    with sqlite3.connect(path) as db:
        assert counts(db) == recounted(path)
    db.close()


def test_v9s_table_goes_a_chunk_at_a_time_and_a_stopped_run_is_finished(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "balagh.sqlite3"
    at_version(path, VERSION)
    fill(path, 300)
    # What a run stopped while it emptied v9's table leaves: the table, no triggers.
    with sqlite3.connect(path, isolation_level=None) as db:
        db.executescript(f"BEGIN; {daily.DAILY.ddl} {daily.backfill(daily.DAILY)} COMMIT;")
        rows = db.execute("SELECT count(*) FROM stats_daily").fetchone()[0]
    db.close()
    monkeypatch.setattr(live_migration, "FORGET_ROWS", 50)
    transactions: list[object] = []
    locked = live_migration._locked
    monkeypatch.setattr(live_migration, "_locked",
                        lambda db, run, work: transactions.append(work) or locked(db, run, work))
    assert live_migration.migrate_beside(path, pause=0).steps == []
    # one transaction per 50 rows, one finding none left, and the drop: no long lock
    assert len(transactions) == rows // 50 + 1 + (rows % 50 > 0) + 1
    with sqlite3.connect(path) as db:
        assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'stats_daily'"
                              ).fetchall()
        assert counts(db) == recounted(path)
    db.close()
