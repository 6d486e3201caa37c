"""The SQL side: two passes over the period's reports per grouping, aggregated in SQLite.

Pass one groups by (group, status, queue outcome, danger, wait, give-up question) and
pass two by (group, typed ahead, answer-to-queue tenths); both return at most a few
thousand rows however many calls there are, which figures.py turns into exact figures.
The connection is read-only (`mode=ro`): statistics never write, and never take the
write lock from the running app.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from balagh.routing.model import DANGER_ANSWER, DANGER_QUESTION
from balagh.store.queries import read_only_uri

from .figures import Figures
from .period import Period

NOT_ROUTED = "(not routed)"
UNKNOWN = "(unknown)"
# What each --by groups on. category: the routing rule that matched (routing.yaml's rule
# names: child, adult-female, ..., default), i.e. what the caller's answers say the case
# is; queue: the queue the decision chose (overflow may have moved the caller on later).
GROUPINGS: dict[str, str] = {
    "day": "substr(r.started_at, 1, 10)",
    "queue": f"coalesce(r.queue, '{NOT_ROUTED}')",
    "category": f"coalesce(r.rule, '{NOT_ROUTED}')",
    "emirate": f"coalesce(r.location, '{UNKNOWN}')",
    "language": f"coalesce(r.language, '{UNKNOWN}')",
}
# The schema version that has typed_ahead and gave_up_in (store/schema.py, v7).
NEEDS_VERSION = 7

_IN_PERIOD = "r.started_at >= :start AND r.started_at < :end"
# A caller in danger: answered 'yes' to the danger question, or pressed the danger key
# (recorded as the same answer). The subquery is evaluated once into a temporary index.
_DANGER = ("r.call_id IN (SELECT call_id FROM answers WHERE question = :danger_q"
           " AND value = :danger_a)")


class StatsError(Exception):
    """The database cannot give statistics (missing, or too old)."""


@dataclass
class Stats:
    period: Period
    by: str
    service_level_seconds: int
    rows: list[Figures]
    total: Figures
    questions: list[str] = field(default_factory=list)  # give-up columns, menu order

    @property
    def empty(self) -> bool:
        return self.total.calls == 0


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection; a clear error if the file is missing or too old."""
    if not path.exists():
        raise StatsError(f"no report database at {path}")
    conn = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version < NEEDS_VERSION:
            raise StatsError(f"{path} has schema version {version}; statistics need "
                             f"{NEEDS_VERSION} (start `balagh run` once to migrate it)")
        yield conn
    finally:
        conn.close()


def _params(period: Period) -> dict[str, str]:
    start, end = period.bounds
    return {"start": start, "end": end, "danger_q": DANGER_QUESTION, "danger_a": DANGER_ANSWER}


def _outcomes(conn: sqlite3.Connection, group: str, period: Period,
              rows: dict[str, Figures]) -> None:
    sql = (f"SELECT {group} AS g, r.status, r.queue_outcome, {_DANGER} AS danger,"
           " r.wait_seconds, r.gave_up_in, COUNT(*)"
           f" FROM reports AS r WHERE {_IN_PERIOD} GROUP BY 1, 2, 3, 4, 5, 6")
    for key, status, outcome, danger, wait, gave_up_in, count in conn.execute(
            sql, _params(period)):
        row = rows.setdefault(key, Figures(key))
        row.calls += count
        if status in ("routed", "fallback"):
            row.routed += count
        elif status == "hung_up_in_ivr":
            row.hung_up_in_ivr += count
            row.gave_up_in[gave_up_in or UNKNOWN] += count
        if danger:
            row.danger_calls += count
        if outcome == "answered":
            row.answered += count
        elif outcome == "abandoned":
            row.abandoned += count
        if outcome in ("answered", "abandoned") and wait is not None:
            row.wait.add(wait, count)
            if outcome == "answered":
                row.answered_wait.add(wait, count)
            if danger:
                row.danger_wait.add(wait, count)


def _to_queue(conn: sqlite3.Connection, group: str, period: Period,
              rows: dict[str, Figures]) -> None:
    # Tenths of a second between the call's start and its hand-over to the queue.
    sql = (f"SELECT {group} AS g, r.typed_ahead, CAST(round((julianday(r.routed_at)"
           " - julianday(r.started_at)) * 864000.0) AS INTEGER) AS tenths, COUNT(*)"
           f" FROM reports AS r WHERE {_IN_PERIOD} AND r.routed_at IS NOT NULL"
           " AND r.typed_ahead IS NOT NULL GROUP BY 1, 2, 3")
    for key, typed, tenths, count in conn.execute(sql, _params(period)):
        row = rows.setdefault(key, Figures(key))
        (row.to_queue_typed if typed else row.to_queue_not_typed).add(tenths, count)


def compute(conn: sqlite3.Connection, period: Period, by: str, *,
            service_level_seconds: int = 20, questions: list[str] | None = None) -> Stats:
    """Every figure for the period, one row per group (every day of the period for
    `day`, calls or not), and the total."""
    group = GROUPINGS[by]
    rows: dict[str, Figures] = {}
    _outcomes(conn, group, period, rows)
    _to_queue(conn, group, period, rows)
    if by == "day":
        for day in period.each_day():
            rows.setdefault(day, Figures(day))
    total = Figures("total")
    for row in rows.values():
        total.merge(row)
    known = list(questions or [])
    seen = sorted(set(total.gave_up_in) - set(known), key=lambda q: -total.gave_up_in[q])
    return Stats(period, by, service_level_seconds, [rows[k] for k in sorted(rows)], total,
                 [q for q in known if q in total.gave_up_in] + seen)


def calls_per_day_and_queue(conn: sqlite3.Connection,
                            period: Period) -> dict[str, dict[str, int]]:
    """queue -> day -> calls, for the stacked chart (calls ended in the IVR: NOT_ROUTED)."""
    sql = (f"SELECT {GROUPINGS['queue']}, {GROUPINGS['day']}, COUNT(*) FROM reports AS r"
           f" WHERE {_IN_PERIOD} GROUP BY 1, 2")
    counts: dict[str, dict[str, int]] = {}
    for queue, day, count in conn.execute(sql, _params(period)):
        counts.setdefault(queue, {})[day] = count
    return counts
