"""Live queue state for routing rules, read from AMI's QueueSummary.

Polled rather than rebuilt from events: one small action every few seconds is
cheap, and it cannot drift after a missed event or a reconnect. A snapshot older
than `max_age` is not offered at all, so a rule about "no agent logged in" never
fires on stale data (routing treats a missing queue as unknown: no match).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import structlog

from balagh.ami.client import AmiSession, ami_int
from balagh.ami.queue_names import routing_queue
from balagh.routing import QueueState

log = structlog.get_logger(__name__)

def parse_summary(events: list[Any]) -> dict[str, QueueState]:
    """QueueSummary events -> routing queue name -> state."""
    states: dict[str, QueueState] = {}
    for event in events:
        if event.get("Event") != "QueueSummary":
            continue
        name = routing_queue(str(event.get("Queue", "")))
        if name is None:
            continue
        states[name] = QueueState(
            logged_in=ami_int(event.get("LoggedIn")), available=ami_int(event.get("Available")),
            callers=ami_int(event.get("Callers")),
            longest_wait=float(ami_int(event.get("LongestHoldTime"))))
    return states


class QueueMonitor:
    def __init__(self, ami: AmiSession, *, interval: float = 2.0,
                 max_age: float = 10.0) -> None:
        self.ami = ami
        self.interval = interval
        self.max_age = max_age
        self._states: dict[str, QueueState] = {}
        self._taken_at = 0.0

    def snapshot(self) -> Mapping[str, QueueState]:
        if time.monotonic() - self._taken_at > self.max_age:
            return {}
        return self._states

    async def run(self) -> None:
        """Poll through the shared AMI session until cancelled; while it is down, wait
        for it (the snapshot ages out meanwhile, so nothing stale is offered)."""
        while True:
            await self.ami.connected.wait()
            try:
                events = await self.ami.action_list({"Action": "QueueSummary"})
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("ami.queue_summary_failed", error=f"{type(exc).__name__}: {exc}")
            else:
                states = parse_summary(events)
                _log_agent_changes(self._states, states)
                self._states = states
                self._taken_at = time.monotonic()
            await asyncio.sleep(self.interval)


def _log_agent_changes(before: Mapping[str, QueueState], after: Mapping[str, QueueState]) -> None:
    """One line when a queue's agents change (logged in, available), not for every caller."""
    for name, state in after.items():
        old = before.get(name)
        if old is None or (old.logged_in, old.available) != (state.logged_in, state.available):
            log.info("queue.agents", queue=name, logged_in=state.logged_in,
                     available=state.available)
