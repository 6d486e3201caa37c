"""Agents' dispositions counted per queue for a period, for `balagh stats` and the report
pack. The console keeps them in console.sqlite3 (console/dispositions.py); this opens that
file read-only. No file yet (no agent ever saved one): no counts.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

from balagh.store.timestamps import iso

from .period import Period

_COUNTS = ("SELECT queue, disposition, count(*) FROM dispositions"
           " WHERE at >= ? AND at < ? GROUP BY queue, disposition")


def disposition_counts(console_database: Path, period: Period) -> Counter[tuple[str, str]]:
    """(queue, disposition) -> calls whose disposition was saved within the period."""
    counts: Counter[tuple[str, str]] = Counter()
    if not Path(console_database).exists():
        return counts
    db = sqlite3.connect(f"{Path(console_database).resolve().as_uri()}?mode=ro", uri=True,
                         timeout=1.0)
    try:
        try:
            rows = db.execute(_COUNTS, (iso(period.start), iso(period.end))).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # a console that never opened an agent's page
                return counts
            raise
    finally:
        db.close()
    for queue, disposition, count in rows:
        counts[(str(queue), str(disposition))] += int(count)
    return counts


def by_queue(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """{queue: {disposition: calls}}, queues and dispositions sorted."""
    table: dict[str, dict[str, int]] = {}
    for (queue, disposition), count in sorted(counts.items()):
        table.setdefault(queue, {})[disposition] = count
    return table


__all__ = ["by_queue", "disposition_counts"]
