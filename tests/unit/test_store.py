"""The report store: round trips, partial reports, and calls that survive a broken database."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.readmodel.reader import reader_of
from balagh.status import ReportStatus
from balagh.store import ReportStore
from balagh.store import reference as refs
from balagh.store.schema import VERSION
from balagh.store.writer import Writer

T0 = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def start(store: ReportStore, call_id: str, **overrides) -> str:
    reference = store.calls.new_reference()
    fields = dict(
        call_id=call_id,
        reference=reference,
        channel=f"PJSIP/trunk-{call_id}",
        caller="+971500000001",
        hotline="800111",
        started_at=T0,
    )
    fields.update(overrides)
    store.calls.start_report(**fields)
    return str(fields["reference"])


def every_call_path_method(store: ReportStore, call_id: str) -> None:
    start(store, call_id)
    store.calls.set_language(call_id=call_id, language="ar")
    store.calls.record_answer(call_id=call_id, question="danger", value="yes", key="1", attempt=1,
                              at=T0)
    store.calls.record_decision(call_id=call_id, rule="danger", queue="urgent", priority=10, at=T0)
    store.calls.set_status(call_id=call_id, status=ReportStatus.ROUTED, at=T0,
                           detail="queue urgent")


@pytest.mark.both_engines
async def test_round_trip_start_answers_decision_routed(store: ReportStore) -> None:
    reference = start(store, "1700000000.1")
    store.calls.set_language(call_id="1700000000.1", language="en")
    store.calls.record_answer(
        call_id="1700000000.1", question="danger", value="no", key="2", attempt=1, at=at(3)
    )
    store.calls.record_answer(
        call_id="1700000000.1", question="age", value=None, key="9", attempt=1, at=at(6)
    )
    store.calls.record_answer(
        call_id="1700000000.1", question="age", value="child", key="1", attempt=2, at=at(8)
    )
    store.calls.record_decision(
        call_id="1700000000.1", rule="child", queue="child-protection", priority=5, at=at(9)
    )
    store.calls.set_status(
        call_id="1700000000.1", status=ReportStatus.ROUTED, at=at(10), detail="continued"
    )
    await store.writer.flush()

    report = await store.queries.get_report(reference)
    assert report is not None
    assert report == await store.queries.get_report("1700000000.1")
    assert report.reference == reference
    assert report.caller == "+971500000001"
    assert report.hotline == "800111"
    assert report.language == "en"
    assert report.status == ReportStatus.ROUTED
    assert report.status_detail == "continued"
    assert (report.rule, report.queue, report.priority) == ("child", "child-protection", 5)
    assert report.started_at == "2025-03-01T09:30:00.000Z"
    assert report.routed_at == "2025-03-01T09:30:10.000Z"
    assert report.ended_at is None
    # The latest answer per question wins; the log keeps every attempt.
    assert report.answers == {"danger": "no", "age": "child"}
    assert [(a.question, a.key, a.attempt) for a in report.answer_log] == [
        ("danger", "2", 1),
        ("age", "9", 1),
        ("age", "1", 2),
    ]
    assert report.answer_log[0].answered_at == "2025-03-01T09:30:03.000Z"
    assert store.writer.write_errors == 0


@pytest.mark.both_engines
async def test_partial_report_when_caller_hangs_up(store: ReportStore) -> None:
    reference = start(store, "c-partial", caller=None)
    store.calls.record_answer(
        call_id="c-partial", question="language", value="ar", key="1", attempt=1, at=at(2)
    )
    await store.writer.flush()
    report = await store.queries.get_report(reference)
    assert report is not None and report.status == ReportStatus.IN_IVR

    store.calls.record_answer(
        call_id="c-partial", question="danger", value="yes", key="1", attempt=1, at=at(4)
    )
    store.calls.set_status(
        call_id="c-partial", status=ReportStatus.HUNG_UP_IN_IVR, at=at(5), detail="age"
    )
    await store.writer.flush()

    report = await store.queries.get_report("c-partial")
    assert report is not None
    assert report.status == ReportStatus.HUNG_UP_IN_IVR
    assert report.status_detail == "age"
    assert report.caller is None
    assert report.answers == {"language": "ar", "danger": "yes"}
    assert report.ended_at == "2025-03-01T09:30:05.000Z"
    assert report.routed_at is None
    assert report.updated_at == "2025-03-01T09:30:05.000Z"


async def test_routing_stores_the_tenths_to_the_queue(store: ReportStore) -> None:
    # schema v8's to_queue_tenths, what the statistics read: set with routed_at, once
    start(store, "c-tq")
    store.calls.set_status(call_id="c-tq", status=ReportStatus.FALLBACK, at=at(7.3))
    store.calls.set_status(call_id="c-tq", status=ReportStatus.ROUTED, at=at(9))
    start(store, "c-ivr")
    store.calls.set_status(call_id="c-ivr", status=ReportStatus.HUNG_UP_IN_IVR, at=at(3))
    await store.writer.flush()
    with sqlite3.connect(store.path) as conn:
        rows = dict(conn.execute("SELECT call_id, to_queue_tenths FROM reports").fetchall())
    assert rows == {"c-tq": 73, "c-ivr": None}  # 7.3 s, the first routed status


@pytest.mark.both_engines
async def test_fallback_stamps_routed_at(store: ReportStore) -> None:
    start(store, "c-fb")
    store.calls.set_status(call_id="c-fb", status=ReportStatus.FALLBACK, at=at(7),
                           detail="ivr error")
    await store.writer.flush()
    report = await store.queries.get_report("c-fb")
    assert report is not None and report.routed_at == "2025-03-01T09:30:07.000Z"


@pytest.mark.both_engines
async def test_list_reports_newest_first(store: ReportStore) -> None:
    for n in range(5):
        start(store, f"c{n}", started_at=at(n))
        store.calls.record_answer(
            call_id=f"c{n}", question="danger", value=str(n), key="1", attempt=1, at=at(n)
        )
    await store.writer.flush()
    reports = await reader_of(store).list_reports(limit=3)
    assert [r.call_id for r in reports] == ["c4", "c3", "c2"]
    assert reports[0].answers == {"danger": "4"}
    assert await store.queries.get_report("nope") is None


@pytest.mark.both_engines
async def test_one_bad_write_does_not_take_its_neighbours(store: ReportStore) -> None:
    reference = start(store, "dup")
    start(store, "dup")  # the same call twice: the second insert breaks UNIQUE
    store.calls.record_answer(call_id="dup", question="danger", value="no", key="2", attempt=1,
                              at=T0)
    await store.writer.flush()
    report = await store.queries.get_report(reference)
    assert report is not None and report.answers == {"danger": "no"}
    assert store.writer.write_errors == 1


@pytest.mark.both_engines
async def test_naive_datetimes_are_taken_as_utc(store: ReportStore) -> None:
    start(store, "naive", started_at=datetime(2025, 3, 1, 9, 30))
    await store.writer.flush()
    report = await store.queries.get_report("naive")
    assert report is not None and report.started_at == "2025-03-01T09:30:00.000Z"


@pytest.mark.both_engines
async def test_bad_arguments_never_raise_on_the_call_path(store: ReportStore) -> None:
    store.calls.record_answer(
        call_id="x",
        question="q",
        value="v",
        key="1",
        attempt=1,
        at="not a datetime",  # type: ignore[arg-type]
    )
    store.calls.record_decision(call_id="x", rule="r", queue="q", priority="high", at=T0)  # type: ignore[arg-type]
    await store.writer.flush()
    assert store.writer.write_errors == 2


# ---------------------------------------------------------------- a broken database


def assert_call_path_survives(store: ReportStore, calls: int = 50) -> None:
    began = time.perf_counter()
    for n in range(calls):
        every_call_path_method(store, f"broken-{n}")
    # Enqueue only: 250 writes must not wait on the database at all.
    assert time.perf_counter() - began < 0.5


async def drained(store: ReportStore, timeout: float = 10) -> None:
    """Wait until the writer has left the spool (SQLite holds every write again)."""
    await store.writer.flush()
    async with asyncio.timeout(timeout):
        while store.writer.spooling:
            await asyncio.sleep(0.05)
            await store.writer.flush()


async def test_closed_connection_under_the_store(store: ReportStore) -> None:
    assert store.writer.db is not None
    await store.writer.db.close()  # the database goes away under a running store
    assert_call_path_survives(store)
    await asyncio.wait_for(store.writer.flush(), timeout=10)
    assert store.writer.spooling  # nothing dropped: the spool holds the writes
    await drained(store)  # a new connection replays them
    assert store.writer.write_errors == 0
    assert await store.queries.get_report("broken-49") is not None


async def test_read_only_database(store: ReportStore) -> None:
    assert store.writer.db is not None
    await store.writer.db.execute("PRAGMA query_only = ON")  # every write now fails
    assert_call_path_survives(store, calls=10)
    await asyncio.wait_for(store.writer.flush(), timeout=10)
    assert store.writer.spooling and store.writer.write_errors == 0
    # And it recovers once the database does, the spooled writes first.
    await store.writer.db.execute("PRAGMA query_only = OFF")
    start(store, "after")
    await drained(store)
    assert await store.queries.get_report("broken-0") is not None
    assert await store.queries.get_report("after") is not None
    assert store.writer.write_errors == 0


async def test_database_path_that_is_a_directory_fails_at_open(tmp_path: Path) -> None:
    # Start-up, not the call path: an unusable database is reported loudly there.
    (tmp_path / "balagh.db").mkdir()
    with pytest.raises(sqlite3.OperationalError):
        await ReportStore.open(tmp_path / "balagh.db")


async def test_a_locked_database_sends_the_write_to_the_spool_at_once(
    store: ReportStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Waiting out a lock in memory loses the write if the app is killed meanwhile.
    monkeypatch.setattr(Writer, "RETRY_DELAY", 60.0)  # a retry would outlast the test
    retried: list[int] = []
    store.writer.on_retry = retried.append
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        start(store, "locked")
        await asyncio.wait_for(store.writer.flush(), timeout=10)
        assert store.writer.spooling and retried == []
    finally:
        other.execute("ROLLBACK")
        other.close()
    await drained(store)
    assert store.writer.write_errors == 0
    assert await store.queries.get_report("locked") is not None


async def test_lock_that_outlasts_the_retries_spools_and_goes_on(
    store: ReportStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Writer, "RETRY_DELAY", 0.001)
    assert store.writer.db is not None
    await store.writer.db.execute("PRAGMA busy_timeout = 1")
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        start(store, "spooled")
        await asyncio.wait_for(store.writer.flush(), timeout=10)
        assert store.writer.spooling
        start(store, "kept")  # after the lock is gone, still behind "spooled"
    finally:
        other.execute("ROLLBACK")
        other.close()
    await drained(store)
    assert store.writer.write_errors == 0
    assert await store.queries.get_report("spooled") is not None
    assert await store.queries.get_report("kept") is not None


async def test_writes_after_close_are_counted_not_raised(tmp_path: Path) -> None:
    store = await ReportStore.open(tmp_path / "balagh.db")
    await store.close()
    every_call_path_method(store, "late")
    await store.writer.flush()  # returns at once
    assert store.writer.write_errors == 5


# ---------------------------------------------------------------- references and reopening


@pytest.mark.both_engines
async def test_references_unique_and_valid(store: ReportStore) -> None:
    drawn = [store.calls.new_reference() for _ in range(20_000)]
    assert len(set(drawn)) == len(drawn)
    assert all(len(r) == refs.LENGTH and refs.is_valid(r) for r in drawn)


@pytest.mark.both_engines
async def test_references_widen_when_the_space_is_full(
    store: ReportStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refs, "RANDOM_DIGITS", 1)  # only nine one-digit bodies exist
    drawn = {store.calls.new_reference() for _ in range(30)}
    assert len(drawn) == 30
    assert all(refs.is_valid(r) for r in drawn)
    assert {len(r) for r in drawn} >= {2, 3}


async def test_reopen_keeps_data_and_references(tmp_path: Path) -> None:
    path = tmp_path / "balagh.db"
    store = await ReportStore.open(path)
    reference = start(store, "keep")
    store.calls.record_answer(call_id="keep", question="danger", value="no", key="2", attempt=1,
                              at=T0)
    await store.close()

    again = await ReportStore.open(path)
    try:
        report = await again.queries.get_report(reference)
        assert report is not None and report.answers == {"danger": "no"}
        assert reference in again.calls.references
    finally:
        await again.close()


async def test_schema_version_and_wal(store: ReportStore) -> None:
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION >= 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"reports_started_at", "answers_call_id"} <= indexes


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "balagh.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {VERSION + 1}")
    with pytest.raises(Exception, match="newer"):
        await ReportStore.open(path)


@pytest.mark.both_engines
async def test_routed_stands_when_a_late_closer_says_otherwise(store: ReportStore) -> None:
    # The watchdog routed the caller; the app, whose link was frozen meanwhile, closes
    # the same report late with a fallback: the report stays routed.
    reference = start(store, "1700000000.9")
    store.calls.set_status(call_id="1700000000.9", status=ReportStatus.FALLBACK, at=at(1),
                           detail="TimeoutError")
    store.calls.set_status(call_id="1700000000.9", status=ReportStatus.ROUTED, at=at(2),
                           detail="moved by the watchdog")
    store.calls.set_status(call_id="1700000000.9", status=ReportStatus.FALLBACK, at=at(3),
                           detail="TimeoutError")
    await store.writer.flush()
    report = await store.queries.get_report(reference)
    assert report is not None
    assert (report.status, report.status_detail) == (ReportStatus.ROUTED,
                                                     "moved by the watchdog")
