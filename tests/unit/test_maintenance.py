"""Maintenance beside live calls: chunked purge and redact that really forget, backups,
and `balagh health`; each says what it really did, and fails loudly when it did not."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.config import spool_path
from balagh.store import ReportStore, maintenance
from balagh.store.spool import Spool, SpooledWrite

NUMBER = "+971501234567"
OLD = datetime(2024, 1, 1, tzinfo=UTC)
NEW = datetime.now(UTC)


def seed(path: Path, count: int, *, started_at: datetime = OLD, prefix: str = "s") -> None:
    """`count` reports with a caller's number, an answer and a timeline event each."""
    when = started_at.isoformat()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executemany(
            "INSERT INTO reports (call_id, reference, channel, caller, status, started_at,"
            " updated_at, location, location_source) VALUES (?, ?, 'PJSIP/trunk', ?, 'ended',"
            " ?, ?, 'dubai', 'answer')",
            [(f"{prefix}{n}", f"{prefix.upper()}{n:07d}", NUMBER, when, when)
             for n in range(count)])
        db.executemany("INSERT INTO answers (call_id, question, value, key, attempt,"
                       " answered_at) VALUES (?, 'danger', 'no', '2', 1, ?)",
                       [(f"{prefix}{n}", when) for n in range(count)])
        db.executemany("INSERT INTO report_events (call_id, at, kind) VALUES (?, ?, 'end')",
                       [(f"{prefix}{n}", when) for n in range(count)])


def scalar(path: Path, sql: str) -> object:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchone()[0]


@pytest.fixture
async def database(tmp_path: Path) -> Path:
    path = tmp_path / "balagh.sqlite3"
    await (await ReportStore.open(path)).close()
    return path


def raw_bytes(path: Path) -> bytes:
    """Everything SQLite keeps on disk for this database: the file, its WAL, its -shm."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


# ------------------------------------------------------------------ retention


@pytest.mark.parametrize("vacuum", [False, True])
async def test_a_redacted_number_is_nowhere_in_the_files(database: Path, vacuum: bool) -> None:
    seed(database, 3000)  # several chunks
    store = await ReportStore.open(database)  # the app is running meanwhile
    try:
        assert NUMBER.encode() in raw_bytes(database)
        run = await asyncio.to_thread(maintenance.redact, database, NEW, vacuum=vacuum)
        assert run.rows == 3000 and run.chunks == 6
        assert NUMBER.encode() not in raw_bytes(database)
        again = await asyncio.to_thread(maintenance.redact, database, NEW)
        assert again.rows == 0  # the rows really changed, not the rows matched
    finally:
        await store.close()
    assert NUMBER.encode() not in raw_bytes(database)


async def test_purge_takes_answers_and_timeline_and_leaves_undelivered_outbox(
        database: Path) -> None:
    seed(database, 1500)
    seed(database, 10, started_at=NEW, prefix="k")
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        for n, status in ((0, "pending"), (1, "delivered")):
            db.execute("INSERT INTO outbox (key, url, body, event, reference, created_at,"
                       " next_attempt_at, status) VALUES (?, 'u', '{}', 'ended', ?, 'x', 'x', ?)",
                       (f"S{n:07d}:ended", f"S{n:07d}", status))
    run = maintenance.purge(database, NEW - timedelta(days=1))
    assert run.rows == 1500
    assert run.detail["answers"] == 1500 and run.detail["report_events"] == 1500
    assert scalar(database, "SELECT COUNT(*) FROM reports") == 10
    assert scalar(database, "SELECT COUNT(*) FROM answers") == 10
    assert scalar(database, "SELECT COUNT(*) FROM report_events") == 10
    assert scalar(database, "SELECT group_concat(status) FROM outbox") == "pending"
    recorded = scalar(database, "SELECT action || ' ' || rows || ' ' || outcome"
                                " FROM maintenance_runs")
    assert recorded == "purge 1500 done"


async def test_purge_beside_a_writer_that_keeps_writing_loses_nothing(database: Path) -> None:
    seed(database, 20_000)
    store = await ReportStore.open(database)
    purged = asyncio.ensure_future(store.retention.purge_before(NEW - timedelta(days=1)))
    written = 0
    while not purged.done():  # calls arriving all through the purge
        store.calls.start_report(call_id=f"live{written}", reference=f"L{written:07d}",
                                 channel="PJSIP/x", caller=None, hotline=None, started_at=NEW)
        written += 1
        await asyncio.sleep(0.002)
    assert await purged == 20_000
    await store.close()
    assert store.writer.write_errors == 0 and written > 10
    assert scalar(database, "SELECT COUNT(*) FROM reports") == written


def test_a_locked_database_fails_loudly(database: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    seed(database, 10)
    monkeypatch.setattr(maintenance, "BUSY_TIMEOUT", 0.1)
    monkeypatch.setenv("BALAGH_DATA_DIR", str(database.parent))
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. another long job holds the lock
    try:
        assert main(["reports", "purge", "--older-than", "30", "--yes"]) == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    out = capsys.readouterr()
    assert out.err.startswith("error: purge") and "database is locked" in out.err
    assert "deleted" not in out.out
    assert scalar(database, "SELECT COUNT(*) FROM reports") == 10
    assert main(["reports", "purge", "--older-than", "30", "--yes"]) == 0
    assert "deleted 10 report(s)" in capsys.readouterr().out
    assert scalar(database, "SELECT group_concat(outcome) FROM maintenance_runs") == "done"


def test_a_read_only_database_fails_loudly(database: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    seed(database, 5)
    monkeypatch.setenv("BALAGH_DATA_DIR", str(database.parent))
    if subprocess.run(["chattr", "+i", str(database)], capture_output=True).returncode:
        pytest.skip("chattr +i not permitted here")
    try:
        assert main(["reports", "redact", "--older-than", "30", "--yes"]) == 1
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=True)
    assert "error:" in capsys.readouterr().err
    assert scalar(database, "SELECT COUNT(*) FROM reports WHERE caller IS NOT NULL") == 5


# ------------------------------------------------------------------ backup


async def test_backup_while_the_app_writes(database: Path, tmp_path: Path) -> None:
    seed(database, 2000)
    store = await ReportStore.open(database)
    stop = threading.Event()
    copy = tmp_path / "copies" / "backup.sqlite3"
    copy.parent.mkdir()

    def back_up() -> maintenance.Run:
        try:
            return maintenance.backup(database, copy, pages=4)  # many small steps
        finally:
            stop.set()

    done = asyncio.ensure_future(asyncio.to_thread(back_up))
    n = 0
    while not stop.is_set():
        store.calls.start_report(call_id=f"b{n}", reference=f"B{n:07d}", channel="x", caller=None,
                                 hotline=None, started_at=NEW)
        n += 1
        await asyncio.sleep(0.001)
    run = await done
    await store.close()
    assert store.writer.write_errors == 0
    copied = scalar(copy, "SELECT COUNT(*) FROM reports")
    assert run.rows == copied and 2000 <= copied <= 2000 + n  # one consistent moment
    assert scalar(copy, "PRAGMA integrity_check") == "ok"
    assert scalar(database, "SELECT action || ' ' || outcome FROM maintenance_runs") \
        == "backup done"
    with pytest.raises(maintenance.MaintenanceError, match="exists"):
        maintenance.backup(database, copy)


def test_backup_command(database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    seed(database, 7)
    monkeypatch.setenv("BALAGH_DATA_DIR", str(database.parent))
    target = tmp_path / "b.sqlite3"
    assert main(["backup", str(target)]) == 0
    assert "backed up 7 report(s)" in capsys.readouterr().out
    assert main(["backup", str(target)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["backup", str(target), "--force", "--yes"]) == 0


# ------------------------------------------------------------------ health


def test_health(database: Path, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BALAGH_DATA_DIR", str(database.parent))
    assert main(["health", "--only", "store"]) == 0
    assert "healthy" in capsys.readouterr().out
    Spool(spool_path(database)).append([SpooledWrite("a" * 32, "op", (), {})] * 3)
    assert main(["health", "--json", "--only", "store"]) == 1
    state = json.loads(capsys.readouterr().out)["checks"]["store"]
    assert state["spool_depth"] == 3 and state["writable"] is True
    assert state["schema_version"] >= 7 and state["outbox"] == {"pending": 0, "failed": 0}


def test_health_of_a_read_only_database(database: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BALAGH_DATA_DIR", str(database.parent))
    if subprocess.run(["chattr", "+i", str(database)], capture_output=True).returncode:
        pytest.skip("chattr +i not permitted here")
    try:
        assert main(["health", "--only", "store"]) == 1
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=True)
    out = capsys.readouterr().out
    assert "NOT writable:" in out and "DEGRADED" in out


def test_backup_of_a_read_only_database_still_copies(database: Path, tmp_path: Path) -> None:
    seed(database, 4)
    if subprocess.run(["chattr", "+i", str(database)], capture_output=True).returncode:
        pytest.skip("chattr +i not permitted here")
    try:
        run = maintenance.backup(database, tmp_path / "copy.sqlite3")
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=True)
    assert run.rows == 4 and run.detail["unrecorded"] is True
    assert scalar(tmp_path / "copy.sqlite3", "SELECT COUNT(*) FROM reports") == 4
