"""The monitoring audit in SQLite: append-only rows, typed reads, the v4 migration."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.readmodel.reader import MonitorEvent, reader_of
from balagh.store import ReportStore
from balagh.store.schema import MIGRATIONS, VERSION
from balagh.supervise import PinAttempt, SupervisorTable, locked_until

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.both_engines
async def test_a_session_round_trips(store: ReportStore) -> None:
    store.audit.record_monitor(at=at(0), action="refused", phone="PJSIP/x", detail="unknown-phone",
                               session="s0")
    store.audit.record_monitor(at=at(1), action="pin-ok", session="s1", supervisor="Amina",
                               phone="201")
    store.audit.record_monitor(at=at(2), action="start", session="s1", supervisor="Amina",
                               phone="201", reference="3356375", agent="Layla", mode="listen")
    store.audit.record_monitor(at=at(3), action="mode", session="s1", supervisor="Amina",
                               phone="201", reference="3356375", agent="Layla", mode="whisper")
    store.audit.record_monitor(at=at(4), action="end", session="s1", supervisor="Amina",
                               phone="201", reference="3356375", agent="Layla")
    store.audit.record_monitor(at=at(5), action="start", supervisor="Omar", reference="7000001",
                               mode="barge")
    await store.writer.flush()
    assert store.writer.write_errors == 0

    events = await reader_of(store).monitor_events()
    assert [e.action for e in events] == ["start", "end", "mode", "start", "pin-ok", "refused"]
    assert events[-1] == MonitorEvent(id=1, at="2026-03-01T12:00:00.000Z", session="s0",
                                      supervisor=None, phone="PJSIP/x", action="refused",
                                      reference=None, agent=None, mode=None,
                                      detail="unknown-phone")
    one = await reader_of(store).monitor_events(reference="3356375")
    assert [(e.action, e.mode) for e in one] == [("end", None), ("mode", "whisper"),
                                                 ("start", "listen")]
    assert {e.agent for e in one} == {"Layla"}
    assert len(await reader_of(store).monitor_events(limit=2)) == 2
    assert await reader_of(store).monitor_events(reference="nope") == []


@pytest.mark.both_engines
async def test_pin_attempts_feed_the_lockout(store: ReportStore) -> None:
    table = SupervisorTable(lockout_attempts=3, lockout_minutes=15)
    for second in range(3):
        store.audit.record_monitor(at=at(second), action="refused", supervisor="Amina", phone="201",
                                   detail="wrong-pin")
    # neither of these is a PIN attempt
    store.audit.record_monitor(at=at(10), action="refused", supervisor="Amina", detail="locked")
    store.audit.record_monitor(at=at(11), action="start", supervisor="Amina", reference="1")
    store.audit.record_monitor(at=at(12), action="refused", supervisor="Omar", detail="wrong-pin")
    await store.writer.flush()

    attempts = await store.audit.pin_attempts("Amina", 3)
    assert attempts == [PinAttempt(at(2), False), PinAttempt(at(1), False),
                        PinAttempt(at(0), False)]
    assert locked_until(attempts, table, at(60)) == at(2) + timedelta(minutes=15)

    store.audit.record_monitor(at=at(70), action="pin-ok", supervisor="Amina")
    await store.writer.flush()
    attempts = await store.audit.pin_attempts("Amina", 3)
    assert attempts[0] == PinAttempt(at(70), True)
    assert locked_until(attempts, table, at(80)) is None
    assert await store.audit.pin_attempts("Nobody", 5) == []


@pytest.mark.both_engines
async def test_a_wrong_pin_recorded_a_moment_ago_counts_without_a_flush(
        store: ReportStore) -> None:
    """The audit owns the lockout's read: it waits for its own queued rows first, so a
    supervisor retrying at once cannot slip past the lockout (the session no longer
    flushes the writer itself)."""
    # The writer's connection busy with a long statement: the row stays queued behind it.
    assert store.writer.db is not None
    busy = asyncio.ensure_future(store.writer.db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)"
        " SELECT count(*) FROM n"))
    store.audit.record_monitor(at=at(0), action="refused", supervisor="Amina",
                               detail="wrong-pin")
    assert await store.audit.pin_attempts("Amina", 5) == [PinAttempt(at(0), False)]
    await busy


async def test_recording_after_close_never_raises(tmp_path: Path) -> None:
    store = await ReportStore.open(tmp_path / "b.db")
    await store.close()
    store.audit.record_monitor(at=T0, action="start")  # refused and counted, not raised
    assert store.writer.write_errors == 1


async def test_migration_from_v3_keeps_the_reports(tmp_path: Path) -> None:
    path = tmp_path / "balagh.db"
    with sqlite3.connect(path) as conn:
        for version, script in enumerate(MIGRATIONS[:3]):
            conn.executescript(f"{script}\nPRAGMA user_version = {version + 1};")
        conn.execute("INSERT INTO reports (call_id, reference, channel, status, started_at,"
                     " updated_at, answered_by) VALUES ('c1', '3356375', 'PJSIP/x', 'routed',"
                     " '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'Layla')")
        conn.execute("INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
                     " VALUES ('c1', 'danger', 'no', '2', 1, '2026-01-01T00:00:01.000Z')")
    conn.close()
    store = await ReportStore.open(path)
    try:
        report = await store.queries.get_report("3356375")
        assert report is not None and report.answered_by == "Layla"
        assert report.answers == {"danger": "no"}
        store.audit.record_monitor(at=T0, action="start", supervisor="Amina", reference="3356375")
        await store.writer.flush()
        assert [e.reference for e in await reader_of(store).monitor_events()] == ["3356375"]
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION >= 4
        indexes = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE tbl_name = 'monitor_audit' AND type = 'index'")}
    conn.close()
    assert indexes == {"monitor_audit_reference", "monitor_audit_supervisor"}
