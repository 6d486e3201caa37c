"""Checks shared by the stats_hourly tests: the table against a recount, the figures from it
against the exact scan of the reports."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from balagh.readmodel import statistics as query
from balagh.readmodel.figures import Figures
from balagh.readmodel.period import Period, parse_range
from balagh.store import daily, schema

BYS = list(query.GROUPINGS)
Row = tuple[str, str, str, int, Any, int]


def summary_rows(path: Path) -> set[Row]:
    """stats_hourly as kept by the triggers (rows emptied by purges or moves aside)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return set(db.execute("SELECT dim, hour, value, kind, code, n FROM stats_hourly"
                              " WHERE n != 0"))


def recounted(path: Path) -> set[Row]:
    """stats_hourly as migration v10 would fill it from the reports there now."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TEMP TABLE fresh (dim, hour, value, kind, code, n)")
        db.executescript(daily.backfill().replace("INSERT INTO stats_hourly",
                                                  "INSERT INTO temp.fresh"))
        return set(db.execute("SELECT * FROM temp.fresh"))


def _figures(row: Figures) -> dict[str, Any]:
    histograms = {name: dict(getattr(row, name).counts) for name in (
        "wait", "answered_wait", "danger_wait", "to_queue_typed", "to_queue_not_typed")}
    return {**row.as_dict(20), **histograms, "routed": row.routed}


def figures(path: Path, period: Period, *, exact: bool) -> dict[str, Any]:
    report = query.compute_many(path, period, BYS, exact=exact)
    shown: dict[str, Any] = {"per_day_and_queue": report.per_day_and_queue}
    for by, stats in report.stats.items():
        shown[by] = ([_figures(row) for row in stats.rows], _figures(stats.total),
                     stats.questions)
    return shown


def assert_right(path: Path, period: Period | None = None) -> dict[str, Any]:
    """The table equals a recount, and every grouping's figures from it equal the exact
    ones; returns the figures."""
    assert summary_rows(path) == recounted(path)
    period = period or parse_range("2026-10-30", "2026-11-06")
    from_summary = figures(path, period, exact=False)
    assert from_summary == figures(path, period, exact=True)
    return from_summary


def make_v8(path: Path) -> None:
    """An empty database as Balagh with schema v8 left it."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        for version, script in enumerate(schema.MIGRATIONS[:8]):
            db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version + 1};\nCOMMIT;")
