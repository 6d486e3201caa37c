"""The period's counts from stats_hourly (schema v10, store/daily.py) instead of the reports.

The table holds, per UTC hour and grouping value, the same keys query.py counts from the
reports (a status/outcome/wait code per call, the give-up question, the answer-to-queue
code, the danger calls' code), already counted. A day of the hotline's zone is a run of
whole UTC hours when the zone's offset is whole hours (DST included: a 23- or 25-hour day
is 23 or 25 hours of rows), so a period is the sum of its hours: SQLite adds them up into
the zone's days, Python gets a few thousand rows per grouping. The figures are the exact
ones, not an approximation (tests/unit/test_stats_summary.py compares both). A zone whose
days start on a half hour (Asia/Kolkata) is counted from the reports (statistics.py).
The same statements read a PostgreSQL server's stats_hourly (store/postgres_schema.py),
through statistics.connect's connection; there every code is text (`int()` reads both).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from balagh.store.daily import ALL_KINDS, SINCE_VERSION

from .period import Period

NEEDS_VERSION = SINCE_VERSION
# (key, code) -> calls, for each kind: calls, give-ups, answer to queue, danger calls
KindCounts = list[Counter[tuple[str, str | int]]]


def _on_the_hour(moment: datetime) -> bool:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0) == moment


def usable(kept: bool, period: Period) -> bool:
    """The summary answers, when the schema `kept` it, for days that start on a whole UTC
    hour: every day of the period, not only its ends (a zone may move by half an hour
    within it)."""
    return kept and all(
        _on_the_hour(start) for _, start, _ in period.slices()) and _on_the_hour(period.end)


def _hour(moment: datetime) -> str:
    """The stored key of the UTC hour `moment` starts: 2026-11-30T20."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _days(period: Period) -> tuple[str, list[str]]:
    """A table of the period's days, `days(day, first, stop)` (stop: the next day's first
    hour), for a WITH clause, and its parameters."""
    rows, params = [], []
    for day, start, end in period.slices():
        rows.append("(?, ?, ?)")
        params += [day, _hour(start), _hour(end)]
    return f"days(day, first, stop) AS (VALUES {', '.join(rows)})", params


def counts(conn: Any, period: Period, by: str) -> KindCounts:
    """Per day of the zone (by 'day') or per value of the grouping over the whole period."""
    if by == "day":
        days, params = _days(period)
        # Each day a range of the primary key (dim, hour): one seek per day.
        rows = conn.execute(f"WITH {days} SELECT days.day, kind, code, sum(n)"
                            " FROM days JOIN stats_hourly AS s ON s.dim = 'day'"
                            " AND s.hour >= days.first AND s.hour < days.stop"
                            " GROUP BY days.day, kind, code HAVING sum(n) != 0", params)
    else:
        rows = conn.execute("SELECT value, kind, code, sum(n) FROM stats_hourly WHERE dim = ?"
                            " AND hour >= ? AND hour < ? GROUP BY value, kind, code"
                            " HAVING sum(n) != 0",
                            (by, _hour(period.start), _hour(period.end)))
    kinds: KindCounts = [Counter() for _ in ALL_KINDS]
    for key, kind, code, n in rows:
        kinds[kind][(key, code)] += n
    return kinds


def per_day_and_queue(conn: Any, period: Period) -> dict[str, dict[str, int]]:
    """queue -> day -> calls, for the chart of calls per day stacked by queue."""
    days, params = _days(period)
    result: dict[str, dict[str, int]] = {}
    for queue, day, n in conn.execute(
            f"WITH {days} SELECT s.value, days.day, sum(n) FROM days JOIN stats_hourly AS s"
            " ON s.dim = 'queue' AND s.kind = 0 AND s.hour >= days.first"
            " AND s.hour < days.stop GROUP BY s.value, days.day HAVING sum(n) != 0", params):
        result.setdefault(queue, {})[day] = n
    return result
