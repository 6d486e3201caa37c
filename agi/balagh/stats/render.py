"""`balagh stats` output: an aligned table (default), CSV or JSON of the same figures."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from balagh.readmodel.figures import Figures
from balagh.readmodel.statistics import Stats
from balagh.readmodel.table import table_lines

# Table headings, short so that a row fits a terminal; docs/statistics.md explains each.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("calls", "calls"),
    ("answered", "answered"),
    ("abandoned_in_queue", "abandoned"),
    ("abandoned_in_ivr", "ivr hang-ups"),
    ("service_level", "SL"),
    ("wait_avg", "wait avg"),
    ("wait_p95", "wait p95"),
    ("danger_calls", "danger"),
    ("danger_wait_avg", "danger avg"),
    ("danger_wait_p95", "danger p95"),
    ("to_queue_typed_ahead_p50", "typed p50"),
    ("to_queue_typed_ahead_p95", "typed p95"),
    ("to_queue_not_typed_ahead_p50", "not typed p50"),
    ("to_queue_not_typed_ahead_p95", "not typed p95"),
)


def cell(name: str, value: Any) -> str:
    """One figure as the table shows it: '-' when there is nothing to measure."""
    if value is None:
        return "-"
    if name == "service_level":
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _rows(stats: Stats) -> list[Figures]:
    return [*stats.rows, stats.total]


def table(stats: Stats) -> str:
    sl = stats.service_level_seconds
    head = f"{stats.by}"
    lines = [(head, *(title for _, title in COLUMNS))]
    for row in _rows(stats):
        values = row.as_dict(sl)
        lines.append((row.key, *(cell(name, values[name]) for name, _ in COLUMNS)))
    right = set(range(1, len(COLUMNS) + 1))
    out = [f"{stats.period.label} ({stats.period.shown}, {stats.period.zone}),"
           f" by {stats.by}; SL = answered within {sl} s; waits and times in seconds", ""]
    out += [line.rstrip() for line in table_lines(lines, right)]
    if stats.questions:
        out += ["", "hung up in the IVR, by the question being asked:", ""]
        give_ups = [(stats.by, *stats.questions)]
        # Only groups with give-ups: by queue, everyone who hung up is '(not routed)'.
        for row in [*(row for row in stats.rows if row.hung_up_in_ivr), stats.total]:
            give_ups.append((row.key, *(str(row.gave_up_in.get(q, 0)) for q in stats.questions)))
        out += [line.rstrip() for line in
                table_lines(give_ups, set(range(1, len(stats.questions) + 1)))]
    if sum(stats.consent.values()):
        out += ["", f"safe to text or call back (callers asked): yes {stats.consent['yes']},"
                f" no {stats.consent['no']}"]
    if any(stats.texts.values()):
        out += ["", "texts to callers: " + ", ".join(
            f"{name} {stats.texts.get(name, 0)}"
            for name in ("sent", "delivered", "failed", "withheld"))]
    return "\n".join(out)


def as_json(stats: Stats) -> str:
    sl = stats.service_level_seconds
    return json.dumps({
        "period": {"label": stats.period.label, "start": stats.period.bounds[0],
                   "end": stats.period.bounds[1]},
        "by": stats.by,
        "service_level_seconds": sl,
        "questions": stats.questions,
        "rows": [row.as_dict(sl) for row in stats.rows],
        "total": stats.total.as_dict(sl),
        "consent": {"yes": stats.consent["yes"], "no": stats.consent["no"]},
        "texts": {name: stats.texts.get(name, 0)
                  for name in ("sent", "delivered", "failed", "withheld")},
    }, indent=2, ensure_ascii=False)


def as_csv(stats: Stats) -> str:
    """One line per group and a `total` line; give-ups as gave_up_in:QUESTION columns."""
    sl = stats.service_level_seconds
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([stats.by, *(name for name, _ in COLUMNS),
                     *(f"gave_up_in:{q}" for q in stats.questions)])
    for row in _rows(stats):
        values = row.as_dict(sl)
        writer.writerow([row.key, *("" if values[name] is None else values[name]
                                    for name, _ in COLUMNS),
                         *(row.gave_up_in.get(q, 0) for q in stats.questions)])
    return buffer.getvalue()


def dispositions(table: dict[str, dict[str, int]], choices: tuple[str, ...],
                 form: str) -> str:
    """Agents' dispositions per queue (`balagh stats --dispositions`): one row per queue,
    one column per disposition (the configured ones, then any no longer configured), a
    total row; as a table, CSV or JSON."""
    seen = {d for row in table.values() for d in row}
    columns = [*choices, *sorted(seen - set(choices))]
    totals = {d: sum(row.get(d, 0) for row in table.values()) for d in columns}
    rows = [(queue, [row.get(d, 0) for d in columns]) for queue, row in table.items()]
    rows.append(("total", [totals[d] for d in columns]))
    if form == "json":
        return json.dumps({queue: dict(zip(columns, values, strict=True))
                           for queue, values in rows}, indent=2, ensure_ascii=False)
    if form == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["queue", *columns, "calls"])
        for queue, values in rows:
            writer.writerow([queue, *values, sum(values)])
        return buffer.getvalue()
    lines = [["queue", *columns, "calls"],
             *([queue, *map(str, values), str(sum(values))] for queue, values in rows)]
    return "\n".join(table_lines(lines, right=range(1, len(columns) + 2)))
