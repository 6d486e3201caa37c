"""`balagh stats --by agent` output: an aligned table (default), CSV or JSON."""

from __future__ import annotations

import json

from balagh.readmodel.agents import AgentFigures, AgentStats
from balagh.readmodel.table import csv_text, table_lines

# Table headings; docs/statistics.md explains each.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("offered", "offered"),
    ("answered", "answered"),
    ("missed", "missed"),
    ("talk_seconds", "talk s"),
    ("pause_seconds", "pause s"),
    ("wrapup_seconds", "wrap-up s"),
)


def _rows(stats: AgentStats) -> list[AgentFigures]:
    return [*stats.rows, stats.total]


def table(stats: AgentStats) -> str:
    lines = [("agent", *(title for _, title in COLUMNS))]
    for row in _rows(stats):
        values = row.as_dict()
        lines.append((row.agent, *(str(values[name]) for name, _ in COLUMNS)))
    out = [f"{stats.period.label} ({stats.period.shown}, {stats.period.zone}), by agent;"
           " times in seconds", ""]
    out += [line.rstrip() for line in table_lines(lines, set(range(1, len(COLUMNS) + 1)))]
    return "\n".join(out) + "\n"


def as_csv(stats: AgentStats) -> str:
    return csv_text(["agent", *(name for name, _ in COLUMNS)],
                    ([row.agent, *(row.as_dict()[name] for name, _ in COLUMNS)]
                     for row in _rows(stats)))


def as_json(stats: AgentStats) -> str:
    return json.dumps({"period": stats.period.label, "from": stats.period.start.isoformat(),
                       "until": stats.period.end.isoformat(), "by": "agent",
                       "rows": [row.as_dict() for row in stats.rows],
                       "total": stats.total.as_dict()}, indent=2, ensure_ascii=False) + "\n"


__all__ = ["COLUMNS", "as_csv", "as_json", "table"]
