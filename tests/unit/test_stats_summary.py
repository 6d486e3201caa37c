"""stats_hourly (schema v10; v9's stats_daily before it): filled from v8 data, kept right
by every write, and the figures
`balagh stats` prints from it equal the exact computation over the reports."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balagh.config import spool_path
from balagh.readmodel import statistics as query
from balagh.readmodel.period import parse_range
from balagh.status import ReportStatus
from balagh.store import ReportStore, maintenance
from balagh.store.schema import migrate
from balagh.store.spool import Spool, SpooledWrite

from .stats_data import ANSWERS, COLUMNS, REPORTS, make_database
from .summary_checks import assert_right, make_v8, summary_rows

PERIOD = parse_range("2026-11-01", "2026-11-02")
DAY0 = datetime(2026, 10, 31, tzinfo=UTC)  # the generated reports' first day (of six)


# ------------------------------------------------------------------ random reports

_REPORT = st.fixed_dictionaries({
    "seconds": st.integers(0, 6 * 86400 - 1),
    "status": st.sampled_from(["in_ivr", "routed", "fallback", "hung_up_in_ivr", "odd"]),
    "queue": st.sampled_from([None, "general", "child-protection"]),
    "rule": st.sampled_from([None, "default", "child"]),
    "location": st.sampled_from([None, "dubai", "sharjah"]),
    "language": st.sampled_from([None, "ar", "en"]),
    "queue_outcome": st.sampled_from([None, "answered", "abandoned", "odd"]),
    "wait_seconds": st.one_of(st.none(), st.integers(-2, 400)),
    "typed_ahead": st.sampled_from([None, 0, 1, 2]),
    "to_queue_tenths": st.one_of(st.none(), st.integers(0, 1500)),
    "gave_up_in": st.sampled_from([None, "age", "language", "emirate"]),
    "danger": st.lists(st.sampled_from(["yes", "no"]), max_size=3),
})
_CHANGE = st.fixed_dictionaries({
    "report": st.integers(0, 10_000),
    "column": st.sampled_from(["status", "queue", "location", "queue_outcome", "wait_seconds",
                               "typed_ahead", "to_queue_tenths", "started_at", "delete",
                               "danger+", "danger-", "danger-no", "updated_at"]),
    "value": st.integers(0, 300),
})


def started(seconds: int, day0: datetime = DAY0) -> str:
    return (day0 + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")[:23] + "Z"


def insert(db: sqlite3.Connection, reports: list[dict[str, Any]], prefix: str = "g",
           day0: datetime = DAY0) -> None:
    for n, report in enumerate(reports):
        call_id = f"{prefix}{n}"
        at = started(report["seconds"], day0)
        db.execute(
            "INSERT INTO reports (call_id, reference, channel, status, started_at, updated_at,"
            " queue, rule, location, language, queue_outcome, wait_seconds, typed_ahead,"
            " to_queue_tenths, gave_up_in) VALUES (?, ?, 'PJSIP/x', ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?)",
            (call_id, f"R{prefix}{n}", report["status"], at, at, report["queue"],
             report["rule"], report["location"], report["language"], report["queue_outcome"],
             report["wait_seconds"], report["typed_ahead"], report["to_queue_tenths"],
             report["gave_up_in"]))
        for value in report["danger"]:
            db.execute("INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
                       " VALUES (?, 'danger', ?, '1', 1, ?)", (call_id, value, at))


def change(db: sqlite3.Connection, count: int, step: dict[str, Any],
           prefix: str = "g") -> None:
    """One later write to a report: a column, its deletion, a danger answer added or gone."""
    call_id, column, value = f"{prefix}{step['report'] % count}", step["column"], step["value"]
    if column == "delete":
        db.execute("DELETE FROM reports WHERE call_id = ?", (call_id,))
    elif column == "danger+":
        db.execute("INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
                   " VALUES (?, 'danger', 'yes', '1', 2, 'x')", (call_id,))
    elif column == "danger-":
        db.execute("DELETE FROM answers WHERE id = (SELECT min(id) FROM answers WHERE"
                   " call_id = ? AND question = 'danger')", (call_id,))
    elif column == "danger-no":  # a danger answer corrected (an UPDATE of answers)
        db.execute("UPDATE answers SET value = CASE value WHEN 'yes' THEN 'no' ELSE 'yes' END"
                   " WHERE id = (SELECT min(id) FROM answers WHERE call_id = ?)", (call_id,))
    else:
        new: object = {
            "status": ["routed", "hung_up_in_ivr", "fallback"][value % 3],
            "queue": [None, "general", "elderly-care"][value % 3],
            "location": [None, "ajman", "dubai"][value % 3],
            "queue_outcome": [None, "answered", "abandoned"][value % 3],
            "typed_ahead": value % 2, "started_at": started(value * 1733),
            "updated_at": "later"}.get(column, value)
        db.execute(f"UPDATE reports SET {column} = ? WHERE call_id = ?", (new, call_id))


@contextlib.contextmanager
def v9_copy(template: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "balagh.sqlite3"
        shutil.copyfile(template, path)
        yield path


async def _migrated(path: Path) -> None:
    async with aiosqlite.connect(path) as conn:
        await migrate(conn)


@pytest.fixture(scope="module")
def empty_v9(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("v9") / "empty.sqlite3"
    asyncio.run(_migrated(path))
    return path


@pytest.fixture(scope="module")
def empty_v8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("v8") / "empty.sqlite3"
    make_v8(path)
    return path


# ------------------------------------------------------------------ migration v9

def test_migration_fills_the_summary_from_v8_reports(empty_v8: Path) -> None:
    with v9_copy(empty_v8) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.executemany(f"INSERT INTO reports ({', '.join(COLUMNS)}) VALUES"
                           f" ({', '.join('?' for _ in COLUMNS)})", REPORTS)
            db.executemany("INSERT INTO answers (call_id, question, value, key, attempt,"
                           " answered_at) VALUES (?, ?, ?, '1', 1, 'x')", ANSWERS)
            db.execute("UPDATE reports SET to_queue_tenths = CAST(round((julianday(routed_at)"
                       " - julianday(started_at)) * 864000.0) AS INTEGER)"
                       " WHERE routed_at IS NOT NULL")
        asyncio.run(_migrated(path))
        shown = assert_right(path)
        _, total, _ = shown["day"]
        assert (total["calls"], total["danger_calls"]) == (10, 3)  # c9, c10 outside PERIOD
        total = query.compute(path, PERIOD, "day").total
        assert (total.calls, total.answered, total.danger_calls) == (8, 3, 2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_REPORT, max_size=60))
def test_migration_backfill_equals_the_exact_figures(empty_v8: Path,
                                                     reports: list[dict[str, Any]]) -> None:
    with v9_copy(empty_v8) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            insert(db, reports)
        asyncio.run(_migrated(path))
        assert_right(path)


def test_statistics_read_the_summary(tmp_path: Path) -> None:
    """Not the reports: emptied by hand (no trigger fires), the summary shows no calls."""
    path = make_database(tmp_path / "balagh.sqlite3")
    assert query.compute(path, PERIOD, "queue").total.calls == 8
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM stats_hourly")
    assert query.compute(path, PERIOD, "queue").total.calls == 0
    assert query.compute(path, PERIOD, "queue", exact=True).total.calls == 8


def test_a_v8_file_still_gets_exact_figures(empty_v8: Path) -> None:
    """stats never migrate (read-only): an older file falls back to the scan."""
    with v9_copy(empty_v8) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.executemany(f"INSERT INTO reports ({', '.join(COLUMNS)}) VALUES"
                           f" ({', '.join('?' for _ in COLUMNS)})", REPORTS)
        assert query.compute(path, PERIOD, "day").total.calls == 8


# ------------------------------------------------------------------ every write keeps it

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_REPORT, min_size=1, max_size=60), st.lists(_CHANGE, max_size=40),
       st.integers(0, 6), st.integers(0, 6))
def test_summary_equals_the_exact_computation(empty_v9: Path, reports: list[dict[str, Any]],
                                              changes: list[dict[str, Any]], first: int,
                                              length: int) -> None:
    with v9_copy(empty_v9) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            insert(db, reports)
            for step in changes:
                change(db, len(reports), step)
        day = (DAY0 + timedelta(days=first)).date()
        period = parse_range(day.isoformat(), (day + timedelta(days=length)).isoformat())
        assert_right(path, period)


async def test_the_writer_updates_it_as_a_call_goes(store: ReportStore) -> None:
    at = datetime(2026, 11, 1, 10, tzinfo=UTC)
    store.calls.start_report(call_id="c1", reference=store.calls.new_reference(), channel="PJSIP/x",
                             caller="+971501234567", hotline="800700", started_at=at)
    await store.writer.flush()
    assert assert_right(store.path)["day"][1]["calls"] == 1
    store.calls.set_language(call_id="c1", language="ar", at=at)
    store.calls.record_answer(call_id="c1", question="danger", value="yes", key="1", attempt=1,
                              at=at + timedelta(seconds=3))
    store.calls.set_location(call_id="c1", emirate="dubai", source="answer",
                             at=at + timedelta(seconds=5))
    store.calls.record_decision(call_id="c1", rule="child", queue="child-protection", priority=1,
                                at=at + timedelta(seconds=7), danger=True)
    store.calls.set_status(call_id="c1", status=ReportStatus.ROUTED, at=at + timedelta(seconds=7.5),
                           typed_ahead=True)
    await store.writer.flush()
    queue_rows = assert_right(store.path)["queue"][0]
    assert [(row["key"], row["danger_calls"], row["to_queue_typed_ahead_p50"])
            for row in queue_rows] == [("child-protection", 1, 7.5)]
    store.calls.queue_answered(call_id="c1", queue="child-protection", agent="a1", wait_seconds=12,
                               at=at + timedelta(seconds=20))
    store.calls.start_report(call_id="c2", reference=store.calls.new_reference(), channel="PJSIP/x",
                             caller=None, hotline="800700", started_at=at)
    store.calls.set_status(call_id="c2", status=ReportStatus.HUNG_UP_IN_IVR, at=at,
                           gave_up_in="language")
    await store.writer.flush()
    total = assert_right(store.path)["day"][1]
    assert (total["calls"], total["answered"], total["wait_p95"], total["danger_wait_p95"],
            total["gave_up_in"]) == (2, 1, 12, 12, {"language": 1})
    with contextlib.closing(sqlite3.connect(store.path)) as db:
        # The counts changed with the report, not beside it: one row per value, no leftovers.
        assert db.execute("SELECT count(*) FROM stats_hourly WHERE n < 0").fetchone() == (0,)


# ------------------------------------------------------------------ purge, redact, retention

@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_REPORT, min_size=1, max_size=80), st.integers(0, 6 * 86400))
def test_purge_and_redact_keep_it_right(empty_v9: Path, reports: list[dict[str, Any]],
                                        cut: int) -> None:
    with v9_copy(empty_v9) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            insert(db, reports)
        before = DAY0 + timedelta(seconds=cut)  # mid-day: that day is partly purged
        maintenance.redact(path, before + timedelta(days=1), chunk=7, pause=0)
        assert_right(path)
        maintenance.purge(path, before, chunk=7, pause=0)
        assert_right(path)
        with contextlib.closing(sqlite3.connect(path)) as db:
            # the purged days' emptied rows are gone, not kept as zeros
            assert db.execute("SELECT count(*) FROM stats_hourly WHERE n = 0 AND hour < ?",
                              (before.date().isoformat(),)).fetchone() == (0,)
            assert db.execute("SELECT count(*) FROM stats_hourly WHERE hour < ?",
                              (started(cut)[:10],)).fetchone() == (0,)
            # the triggers stood aside only inside each chunk's transaction
            assert db.execute("SELECT count(*) FROM stats_daily_bulk").fetchone() == (0,)


async def test_retention_keeps_it_right(store: ReportStore) -> None:
    now = datetime.now(UTC)
    for n, age in enumerate((400, 100, 1)):
        at = now - timedelta(days=age)
        store.calls.start_report(call_id=f"c{n}", reference=store.calls.new_reference(),
                                 channel="PJSIP/x",
                                 caller="+97165551234", hotline="800700", started_at=at)
        store.calls.set_location(call_id=f"c{n}", emirate="sharjah", source="answer", at=at)
        store.calls.record_answer(call_id=f"c{n}", question="danger", value="yes", key="1",
                                  attempt=1, at=at)
    await store.writer.flush()
    period = parse_range((now - timedelta(days=500)).date().isoformat(), now.date().isoformat())
    assert assert_right(store.path, period)["emirate"][1]["danger_calls"] == 3
    assert await store.retention.redact_before(now - timedelta(days=30)) == 2
    emirates = assert_right(store.path, period)["emirate"][0]
    assert [(row["key"], row["calls"]) for row in emirates] == [("(unknown)", 2),
                                                                 ("sharjah", 1)]
    assert await store.retention.purge_before(now - timedelta(days=200)) == 1
    assert assert_right(store.path, period)["day"][1]["danger_calls"] == 2


# ------------------------------------------------------------------ spool replay

def _spooled(n: int) -> SpooledWrite:
    at = f"2026-11-01T10:00:{n % 60:02d}.000Z"
    return SpooledWrite(f"{n:032x}", "call", (
        ("INSERT INTO reports (call_id, reference, channel, status, started_at, updated_at)"
         " VALUES (?, ?, 'PJSIP/x', 'in_ivr', ?, ?)", (f"c{n}", f"R{n:06d}", at, at)),
        ("INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
         " VALUES (?, 'danger', 'yes', '1', 1, ?)", (f"c{n}", at)),
        ("UPDATE reports SET status = 'routed', queue = 'general', queue_outcome = 'answered',"
         " wait_seconds = ? WHERE call_id = ?", (n, f"c{n}")),
    ), {})


async def test_spool_replay_counts_each_write_once(tmp_path: Path) -> None:
    path = tmp_path / "balagh.sqlite3"
    await (await ReportStore.open(path)).close()
    spool = Spool(spool_path(path))
    writes = [_spooled(n) for n in range(50)]
    spool.append(writes)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        # The app died after replaying the first 20 (committed with their ids) ...
        for write in writes[:20]:
            for sql, params in write.statements:
                db.execute(sql, params)
            db.execute("INSERT INTO spool_applied VALUES (?, 'x')", (write.id,))
    await (await ReportStore.open(path)).close()  # ... and replays at start-up
    assert not spool.path.exists()
    spool.append(writes)  # a spool replayed but not removed (a crash just after)
    await (await ReportStore.open(path)).close()
    total = assert_right(path)["day"][1]
    assert (total["calls"], total["danger_calls"], total["answered"]) == (50, 50, 50)
    assert sum(n for dim, _, _, kind, _, n in summary_rows(path)
               if dim == "day" and kind == 0) == 50
