"""Per-agent figures for a period, from the agents' activity (store/agents.py).

offered: calls that rang the agent (AgentCalled); answered (AgentConnect); missed: rang
out unanswered (AgentRingNoAnswer); talk: TalkTime of the calls they completed; wrap-up:
the queue's wrapuptime after each completed call; pause: time paused in at least one of
the queues counted (paused in three queues at once is counted once), cut to the period
and to `now`. A call counts on the day it rang; its talk and wrap-up on the day it ended.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .period import Period
from .stats_connection import StatsError, connect, has_table

if TYPE_CHECKING:
    from balagh.store.opening import ReportDatabase

TOTAL = "total"

_COUNTS = """
SELECT agent,
       sum(CASE WHEN kind = 'offered' THEN 1 ELSE 0 END),
       sum(CASE WHEN kind = 'answered' THEN 1 ELSE 0 END),
       sum(CASE WHEN kind = 'missed' THEN 1 ELSE 0 END),
       coalesce(sum(CASE WHEN kind = 'completed' THEN talk_seconds END), 0),
       coalesce(sum(CASE WHEN kind = 'completed' THEN wrapup_seconds END), 0)
FROM agent_events
WHERE at >= ? AND at < ? AND kind IN ('offered', 'answered', 'missed', 'completed') {queues}
GROUP BY agent
"""
# Every pause before the period's end: one open since before the period counts from its
# start (pauses are a few a day per agent; the partial index holds only them).
_PAUSES = """
SELECT agent, queue, kind, at FROM agent_events
WHERE kind IN ('paused', 'unpaused', 'removed') AND at < ? {queues}
ORDER BY agent, at, id
"""


@dataclass
class AgentFigures:
    agent: str
    offered: int = 0
    answered: int = 0
    missed: int = 0
    talk_seconds: int = 0
    pause_seconds: int = 0
    wrapup_seconds: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def add(self, other: AgentFigures) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.missed += other.missed
        self.talk_seconds += other.talk_seconds
        self.pause_seconds += other.pause_seconds
        self.wrapup_seconds += other.wrapup_seconds


@dataclass
class AgentStats:
    period: Period
    rows: list[AgentFigures]
    total: AgentFigures

    @property
    def empty(self) -> bool:
        return not self.rows


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def paused_seconds(events: Iterable[tuple[str | None, str, str]], start: float,
                   end: float) -> float:
    """One agent's time paused in any queue within [start, end), from their pause events
    (queue, kind, at) in order (unpaused or removed ends a queue's pause); a pause still
    open runs to `end`."""
    paused: set[str | None] = set()
    since = 0.0
    total = 0.0
    for queue, kind, at in events:
        moment = _epoch(at)
        was = bool(paused)
        if kind == "paused":
            paused.add(queue)
        else:
            paused.discard(queue)
        if not was and paused:
            since = moment
        elif was and not paused:
            total += max(0.0, min(moment, end) - max(since, start))
    if paused:
        total += max(0.0, end - max(since, start))
    return total


def _queue_filter(queues: Collection[str] | None) -> tuple[str, list[str]]:
    if queues is None:
        return "", []
    return f"AND queue IN ({', '.join('?' for _ in queues) or 'NULL'})", list(queues)


def figures(conn: Any, period: Period, now: datetime,
            queues: Collection[str] | None = None) -> AgentStats:
    """Each agent's figures for `period` (only their activity in `queues`, if given)."""
    start, end = period.bounds
    where, names = _queue_filter(queues)
    rows: dict[str, AgentFigures] = {}
    for agent, offered, answered, missed, talk, wrapup in conn.execute(
            _COUNTS.format(queues=where), (start, end, *names)):
        rows[agent] = AgentFigures(agent, int(offered), int(answered), int(missed),
                                   int(talk), 0, int(wrapup))
    until = min(period.end, now)
    by_agent: dict[str, list[tuple[str | None, str, str]]] = {}
    for agent, queue, kind, at in conn.execute(_PAUSES.format(queues=where), (end, *names)):
        by_agent.setdefault(agent, []).append((queue, kind, at))
    for agent, events in by_agent.items():
        seconds = round(paused_seconds(events, period.start.timestamp(), until.timestamp()))
        if seconds:
            rows.setdefault(agent, AgentFigures(agent)).pause_seconds = seconds
    total = AgentFigures(TOTAL)
    for row in rows.values():
        total.add(row)
    return AgentStats(period, [rows[name] for name in sorted(rows)], total)


def compute(path: ReportDatabase, period: Period, now: datetime,
            queues: Collection[str] | None = None) -> AgentStats:
    """figures() over a read-only connection to the report database at `path`."""
    with connect(path) as conn:
        if not has_table(path, conn, "agent_events"):
            raise StatsError(f"{path} has no agents' activity yet (start `balagh run` once "
                             "to migrate it)")
        return figures(conn, period, now, queues)


__all__ = ["TOTAL", "AgentFigures", "AgentStats", "compute", "figures", "paused_seconds"]
