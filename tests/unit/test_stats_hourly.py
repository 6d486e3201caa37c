"""Statistics in the hotline's zone from the summary (schema v10, stats_hourly).

Counts kept per UTC hour serve the days of any zone whose offset is whole hours, DST
included (Asia/Dubai's days start at 20:00 UTC; Europe/London's 29 March 2026 is 23 hours),
with the figures of the exact scan; a half-hour zone (Asia/Kolkata) is counted from the
reports. Migration v10 replaces v9's per-UTC-day table, and v9 stays as shipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balagh.readmodel import daily_counts
from balagh.readmodel import statistics as query
from balagh.readmodel.period import days_period
from balagh.store import schema

from .summary_checks import assert_right, make_v8, summary_rows
from .test_stats_summary import _CHANGE, _REPORT, change, insert, v9_copy

DUBAI, LONDON, KOLKATA = ZoneInfo("Asia/Dubai"), ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata")
# London's clocks go forward at 01:00 UTC on Sunday 29 March 2026: that day is 23 hours.
MARCH = datetime(2026, 3, 26, tzinfo=UTC)  # the generated reports' first day (of six)
# sha256 of migration v9 as shipped (b5a9c6b): v10 must not have changed it.
V9_SHA256 = "4b11df2faae5c7bf2f9cf333423cbf3f3a61c80ccba73046932c67e1ccb44d14"


async def _migrate(path: Path) -> None:
    async with aiosqlite.connect(path) as conn:
        await schema.migrate(conn)


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("v10") / "empty.sqlite3"
    asyncio.run(_migrate(path))
    return path


def _every_half_hour(days: int) -> list[dict[str, Any]]:
    """A routed, answered call every 30 minutes from MARCH."""
    return [{"seconds": n * 1800, "status": "routed", "queue": "general", "rule": "default",
             "location": "dubai", "language": "ar", "queue_outcome": "answered",
             "wait_seconds": n % 40, "typed_ahead": n % 2, "to_queue_tenths": 80 + n % 9,
             "gave_up_in": None, "danger": ["yes"] if n % 5 == 0 else []}
            for n in range(days * 48)]


@pytest.mark.parametrize(("zone", "per_day"), [
    (UTC, [48, 48, 48]),
    (DUBAI, [48, 48, 48]),
    (LONDON, [48, 46, 48]),  # 28 March GMT, 29 March 23 hours, 30 March BST
], ids=str)
def test_a_whole_hour_zones_days_are_read_from_the_summary(empty: Path, zone: tzinfo,
                                                            per_day: list[int]) -> None:
    with v9_copy(empty) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            insert(db, _every_half_hour(6), day0=MARCH)
        period = days_period(date(2026, 3, 28), date(2026, 3, 30), zone)
        shown = assert_right(path, period)  # every grouping: the summary's = the scan's
        assert [(row["key"], row["calls"]) for row in shown["day"][0]] == list(
            zip(period.each_day(), per_day, strict=True))
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.execute("DELETE FROM stats_hourly")  # no trigger fires: only the summary empties
        assert query.compute(path, period, "queue").total.calls == 0
        assert query.compute(path, period, "queue", exact=True).total.calls == sum(per_day)


def test_a_half_hour_zone_is_counted_from_the_reports(empty: Path) -> None:
    with v9_copy(empty) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            insert(db, _every_half_hour(6), day0=MARCH)
            db.execute("DELETE FROM stats_hourly")
        period = days_period(date(2026, 3, 28), date(2026, 3, 30), KOLKATA)
        assert period.start == datetime(2026, 3, 27, 18, 30, tzinfo=UTC)
        with query.connect(path) as conn:
            assert not daily_counts.usable(conn, period)
        assert [row.calls for row in query.compute(path, period, "day").rows] == [48, 48, 48]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_REPORT, min_size=1, max_size=60), st.lists(_CHANGE, max_size=30),
       st.sampled_from([UTC, DUBAI, LONDON, KOLKATA]), st.integers(0, 5), st.integers(0, 5))
def test_the_summary_equals_the_scan_in_the_zones_days(
        empty: Path, reports: list[dict[str, Any]], changes: list[dict[str, Any]],
        zone: tzinfo, first: int, length: int) -> None:
    with v9_copy(empty) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            insert(db, reports, day0=MARCH)
            for step in changes:
                change(db, len(reports), step)
        day = (MARCH + timedelta(days=first)).date()
        period = days_period(day, day + timedelta(days=length), zone)
        with query.connect(path) as conn:
            assert daily_counts.usable(conn, period) == (zone is not KOLKATA)
        assert_right(path, period)


def test_v10_counts_a_v9_files_reports_per_hour_and_leaves_v9_as_shipped(
        tmp_path: Path) -> None:
    assert hashlib.sha256(schema.MIGRATIONS[8].encode()).hexdigest() == V9_SHA256
    path = tmp_path / "balagh.sqlite3"
    make_v8(path)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(f"BEGIN; {schema.MIGRATIONS[8]}; PRAGMA user_version = 9; COMMIT;")
        with db:
            insert(db, _every_half_hour(2), day0=MARCH)
        assert db.execute("SELECT sum(n) FROM stats_daily WHERE dim = 'day' AND kind = 0"
                          ).fetchone() == (96,)
    asyncio.run(_migrate(path))
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (schema.VERSION,)
        assert not db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'stats_daily%'"
                              " AND name != 'stats_daily_bulk'").fetchall()
    rows = summary_rows(path)
    assert {hour for dim, hour, _, kind, _, _ in rows if dim == "day" and kind == 0} == {
        (MARCH + timedelta(hours=h)).strftime("%Y-%m-%dT%H") for h in range(48)}
    assert_right(path, days_period(date(2026, 3, 26), date(2026, 3, 27), DUBAI))


def test_the_scan_counts_a_danger_call_on_the_zones_day(empty: Path) -> None:
    """The exact scan (older files, half-hour zones) counted danger calls on UTC days: a
    call at 21:00 UTC on 27 March, 01:00 on the 28th in Dubai, made a 27 March row."""
    with v9_copy(empty) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            insert(db, [{**_every_half_hour(1)[0], "seconds": 21 * 3600 + 86400}], day0=MARCH)
        period = days_period(date(2026, 3, 28), date(2026, 3, 28), DUBAI)
        rows = query.compute(path, period, "day", exact=True).rows
        assert [(row.key, row.calls, row.danger_calls) for row in rows] == [
            ("2026-03-28", 1, 1)]
