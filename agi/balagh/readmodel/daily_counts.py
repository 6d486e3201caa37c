"""The period's counts from stats_daily (schema v9, store/daily.py) instead of the reports.

The table holds, per UTC day and grouping value, the same keys query.py counts from the
reports (a status/outcome/wait code per call, the give-up question, the answer-to-queue
code, the danger calls' code), already counted. A period of whole days is the sum of
its days: SQLite adds them up, Python gets a few thousand rows per grouping. The figures
are the exact ones, not an approximation (tests/unit/test_stats_summary.py compares both).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import UTC, time

from balagh.store.daily import ALL_KINDS

from .period import Period

NEEDS_VERSION = 9
# (key, code) -> calls, for each kind: calls, give-ups, answer to queue, danger calls
KindCounts = list[Counter[tuple[str, str | int]]]


def usable(conn: sqlite3.Connection, period: Period) -> bool:
    """The summary answers for whole UTC days only: a period whose days are the zone's
    (Asia/Dubai's start at 20:00 UTC) is counted from the reports themselves."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return version >= NEEDS_VERSION and all(
        moment.astimezone(UTC).time() == time(0) and moment.astimezone(UTC).date() == day
        for moment, day in ((period.start, period.first), (period.end, period.stop)))


def _days(period: Period) -> tuple[str, str]:
    return period.first.isoformat(), period.stop.isoformat()


def counts(conn: sqlite3.Connection, period: Period, by: str) -> KindCounts:
    """Per day (by 'day') or per value of the grouping over the whole period."""
    first, end = _days(period)
    if by == "day":
        rows = conn.execute("SELECT day, kind, code, n FROM stats_daily WHERE dim = 'day'"
                            " AND day >= ? AND day < ? AND n != 0", (first, end))
    else:
        rows = conn.execute("SELECT value, kind, code, sum(n) FROM stats_daily WHERE dim = ?"
                            " AND day >= ? AND day < ? GROUP BY value, kind, code"
                            " HAVING sum(n) != 0", (by, first, end))
    kinds: KindCounts = [Counter() for _ in ALL_KINDS]
    for key, kind, code, n in rows:
        kinds[kind][(key, code)] += n
    return kinds


def per_day_and_queue(conn: sqlite3.Connection, period: Period) -> dict[str, dict[str, int]]:
    """queue -> day -> calls, for the chart of calls per day stacked by queue."""
    first, end = _days(period)
    result: dict[str, dict[str, int]] = {}
    for queue, day, n in conn.execute(
            "SELECT value, day, sum(n) FROM stats_daily WHERE dim = 'queue' AND kind = 0"
            " AND day >= ? AND day < ? GROUP BY value, day HAVING sum(n) != 0", (first, end)):
        result.setdefault(queue, {})[day] = n
    return result
