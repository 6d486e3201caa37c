"""The units' follow-up in figures, for `balagh stats --followup` and the report pack: for
the reports started in a period, how many stand at each status (the unit's latest word,
"none" before the first), and per queue and unit the time from the call to the unit's first
"resolved": median and 90th percentile (nearest rank), over the reports resolved so far.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from balagh.store.timestamps import iso

from .period import Period
from .stats_connection import connect, has_table

if TYPE_CHECKING:
    from balagh.store.opening import ReportDatabase

__all__ = ["NO_STATUS", "FollowupFigures", "Resolution", "followup_figures", "percentile"]

NO_STATUS = "none"  # reports no unit has given a status yet
_RESOLVED = "resolved"  # reachback/followup.py's word; the read model imports no feature


@dataclass(frozen=True)
class Resolution:
    queue: str
    unit: str
    resolved: int
    median_seconds: float
    p90_seconds: float


@dataclass
class FollowupFigures:
    by_status: Counter[str] = field(default_factory=Counter)
    resolutions: list[Resolution] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.by_status


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (not empty): the smallest value with at
    least `share` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end.replace("Z", "+00:00"))
            - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def followup_figures(path: ReportDatabase, period: Period) -> FollowupFigures:
    figures = FollowupFigures()
    window = (iso(period.start), iso(period.end))
    with connect(path) as conn:
        if not has_table(path, conn, "report_statuses"):
            return figures
        for status, count in conn.execute(
                "SELECT followup_status, COUNT(*) FROM reports WHERE queue IS NOT NULL"
                " AND started_at >= ? AND started_at < ? GROUP BY followup_status", window):
            figures.by_status[status or NO_STATUS] += int(count)
        waits: dict[tuple[str, str], list[float]] = defaultdict(list)
        for queue, unit, started, resolved in conn.execute(
                "SELECT r.queue, s.unit, r.started_at, MIN(s.at) FROM report_statuses s"
                " JOIN reports r ON r.reference = s.reference WHERE s.status = ?"
                " AND r.started_at >= ? AND r.started_at < ?"
                " GROUP BY r.reference, s.unit, r.queue, r.started_at",
                (_RESOLVED, *window)):
            waits[(str(queue), str(unit))].append(max(0.0, _seconds(started, resolved)))
    figures.resolutions = [
        Resolution(queue, unit, len(values), percentile(values, 0.5), percentile(values, 0.9))
        for (queue, unit), values in sorted(waits.items())]
    return figures
