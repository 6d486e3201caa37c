"""Per queue: callers waiting, in danger, the longest wait, agents by state (AMI QueueStatus).

Polled, like ami/queues.py's QueueSummary: a poll cannot drift after a missed event or a
reconnect, and a snapshot older than `max_age` is not offered (the gauges disappear rather
than show stale callers). Whether a waiting caller is in danger is their report's answer,
read once per caller (the report was written during the menu; a caller whose report is
not found yet is asked about again at the next poll).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from balagh.ami.client import AmiSession, ami_int
from balagh.ami.queue_names import routing_queue
from balagh.timeouts import within

log = structlog.get_logger(__name__)

AGENT_STATES = ("free", "busy", "paused", "unavailable")
# AMI's device states (QueueMember Status): 0 unknown (app_queue still rings it),
# 1 not in use, 2 in use, 3 busy, 4 invalid, 5 unavailable, 6 ringing, 7 ringing in use,
# 8 on hold.
_UNAVAILABLE = frozenset({4, 5})
_BUSY = frozenset({2, 3, 6, 7, 8})
DANGER_LOOKUP_SECONDS = 2.0  # one report read; a slow store leaves the caller unknown

# A waiting caller's report says they are in danger; None: no report (yet), not Balagh's.
DangerOf = Callable[[str], Awaitable[bool | None]]


@dataclass(frozen=True, slots=True)
class Waiting:
    call_id: str
    wait_seconds: float


@dataclass(slots=True)
class QueueFigures:
    waiting: list[Waiting] = field(default_factory=list)
    agents: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AGENT_STATES, 0))


def agent_state(member: Mapping[str, str]) -> str:
    """One QueueMember event -> free | busy | paused | unavailable."""
    status = ami_int(member.get("Status"))
    if status in _UNAVAILABLE:
        return "unavailable"
    if member.get("Paused") == "1":
        return "paused"
    if status in _BUSY or member.get("InCall") == "1":
        return "busy"
    return "free"


def parse_status(events: Iterable[Mapping[str, Any]]) -> dict[str, QueueFigures]:
    """QueueStatus's events -> routing queue name -> figures (other queues left out)."""
    queues: dict[str, QueueFigures] = {}
    for event in events:
        kind = event.get("Event")
        name = routing_queue(str(event.get("Queue", "")))
        if name is None or kind not in ("QueueParams", "QueueMember", "QueueEntry"):
            continue
        figures = queues.setdefault(name, QueueFigures())
        if kind == "QueueMember":
            figures.agents[agent_state({k: str(v) for k, v in event.items()})] += 1
        elif kind == "QueueEntry":
            figures.waiting.append(Waiting(str(event.get("Uniqueid", "")),
                                           float(ami_int(event.get("Wait")))))
    return queues


class QueueStatusPoller:
    def __init__(self, ami: AmiSession, danger_of: DangerOf, *, interval: float = 2.0,
                 max_age: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ami = ami
        self.danger_of = danger_of
        self.interval = interval
        self.max_age = max_age
        self.clock = clock
        self._queues: dict[str, QueueFigures] = {}
        self._danger: dict[str, bool] = {}  # call id -> in danger, for callers waiting now
        self._taken_at = -max_age - 1.0

    def snapshot(self) -> tuple[Mapping[str, QueueFigures], Mapping[str, bool]]:
        """The last poll and who in it is in danger; empty once older than max_age.
        Read from the scrape's thread: both are replaced whole, never changed in place."""
        if self.clock() - self._taken_at > self.max_age:
            return {}, {}
        return self._queues, self._danger

    async def poll(self) -> None:
        events = await self.ami.action_list({"Action": "QueueStatus"})
        queues = parse_status(events)
        waiting = {w.call_id for figures in queues.values() for w in figures.waiting}
        danger = {call_id: known for call_id, known in self._danger.items()
                  if call_id in waiting}
        unknown = sorted(waiting - danger.keys())
        found = await asyncio.gather(*(self._in_danger(call_id) for call_id in unknown))
        danger.update({call_id: known for call_id, known in zip(unknown, found, strict=True)
                       if known is not None})
        self._queues, self._danger = queues, danger
        self._taken_at = self.clock()

    async def _in_danger(self, call_id: str) -> bool | None:
        """None: not known yet (no report, or the store slow); asked again next poll."""
        try:
            return await within(self.danger_of(call_id), DANGER_LOOKUP_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("metrics.danger_unknown", error=f"{type(exc).__name__}: {exc}")
            return None

    async def run(self) -> None:
        while True:
            await self.ami.connected.wait()
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("metrics.queue_status_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self.interval)
