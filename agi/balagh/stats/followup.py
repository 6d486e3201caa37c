"""The units' follow-up figures (readmodel/followups.py) as `balagh stats --followup` prints
them: an aligned table, CSV or JSON; the report pack shows the same rows."""

from __future__ import annotations

import json
from typing import Any

from balagh.readmodel.followups import FollowupFigures
from balagh.readmodel.table import csv_text, table_lines

RESOLUTION_COLUMNS = ("queue", "unit", "resolved", "median_seconds", "p90_seconds")


def as_dict(figures: FollowupFigures) -> dict[str, Any]:
    return {"by_status": dict(sorted(figures.by_status.items())),
            "resolution": [{column: getattr(row, column) for column in RESOLUTION_COLUMNS}
                           for row in figures.resolutions]}


def resolution_rows(figures: FollowupFigures) -> list[list[str]]:
    return [[row.queue, row.unit, str(row.resolved), f"{row.median_seconds:.0f}",
             f"{row.p90_seconds:.0f}"] for row in figures.resolutions]


def table(figures: FollowupFigures) -> str:
    statuses = [["status", "reports"], *([s, str(n)] for s, n in
                                         sorted(figures.by_status.items()))]
    lines = table_lines(statuses, right={1})
    lines.append("")
    lines.append("time from the call to resolved (seconds):")
    rows = resolution_rows(figures)
    if rows:
        lines += table_lines([list(RESOLUTION_COLUMNS), *rows], right={2, 3, 4})
    else:
        lines.append("no report resolved yet")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def as_csv(figures: FollowupFigures) -> str:
    return csv_text(RESOLUTION_COLUMNS, resolution_rows(figures))


def as_json(figures: FollowupFigures) -> str:
    return json.dumps(as_dict(figures), indent=1) + "\n"


WRITERS = {"table": table, "csv": as_csv, "json": as_json}

__all__ = ["RESOLUTION_COLUMNS", "WRITERS", "as_dict", "resolution_rows"]
