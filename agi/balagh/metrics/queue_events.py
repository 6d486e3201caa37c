"""Counters and histograms of calls by queue, from the AMI events ami/outcomes.py records:
joined (QueueCallerJoin), answered (AgentConnect), abandoned (QueueCallerAbandon), overflow
(the dialplan's BalaghOverflow user event, counted on the queue it left), and the waits.

Labels are bounded: a queue is named only if the loaded hotline has it, else "other".
Events lost while AMI is down are not counted (AMI does not replay them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram

from balagh.ami.client import AmiSession, ami_int
from balagh.ami.queue_names import routing_queue
from balagh.ami.steps import OVERFLOW_EVENT
from balagh.timeouts import within

log = structlog.get_logger(__name__)

OTHER_QUEUE = "other"
OUTCOMES = {"AgentConnect": "answered", "QueueCallerAbandon": "abandoned"}
WAIT_BUCKETS = (1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800)
MENU_BUCKETS = (2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300)
STARTED_LOOKUP_SECONDS = 2.0

StartedAt = Callable[[str], Awaitable[datetime | None]]


def _is_counted(event: dict[str, str]) -> bool:
    kind = event.get("Event")
    return kind == "QueueCallerJoin" or kind in OUTCOMES or (
        kind == "UserEvent" and event.get("UserEvent") == OVERFLOW_EVENT)


class QueueCounters:
    def __init__(self, registry: CollectorRegistry, queues: Callable[[], Collection[str]],
                 started_at: StartedAt | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.queues = queues  # the loaded hotline's queue names, of the moment
        self.started_at = started_at
        self.clock = clock
        self.joined = Counter("balagh_queue_calls", "Calls that joined a queue.",
                              ["queue"], registry=registry)
        self.outcomes = Counter(
            "balagh_queue_outcomes",
            "Calls leaving a queue, by outcome (answered, abandoned, overflow).",
            ["queue", "outcome"], registry=registry)
        self.wait = Histogram(
            "balagh_queue_wait_seconds",
            "Time a caller waited in a queue before being answered or hanging up.",
            ["queue", "outcome"], buckets=WAIT_BUCKETS, registry=registry)
        self.answer_to_queue = Histogram(
            "balagh_answer_to_queue_seconds",
            "Time from the hotline answering a caller to the caller joining a queue.",
            ["queue"], buckets=MENU_BUCKETS, registry=registry)

    def queue_label(self, asterisk_name: str) -> str:
        name = routing_queue(asterisk_name) or asterisk_name
        return name if name in self.queues() else OTHER_QUEUE

    async def count(self, event: dict[str, str]) -> None:
        kind = event.get("Event", "")
        if kind == "UserEvent":  # From: the queue's Asterisk name; To: kind:target[:wait]
            self.outcomes.labels(self.queue_label(event.get("From", "")), "overflow").inc()
            return
        queue = self.queue_label(event.get("Queue", ""))
        if kind == "QueueCallerJoin":
            self.joined.labels(queue).inc()
            await self._menu_time(event.get("Uniqueid", ""), queue)
        elif (outcome := OUTCOMES.get(kind)) is not None:
            self.outcomes.labels(queue, outcome).inc()
            self.wait.labels(queue, outcome).observe(ami_int(event.get("HoldTime")))

    async def _menu_time(self, call_id: str, queue: str) -> None:
        if self.started_at is None or not call_id:
            return
        joined = self.clock()
        try:
            started = await within(self.started_at(call_id), STARTED_LOOKUP_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the figure is lost, the counts are not
            log.warning("metrics.started_unknown", error=f"{type(exc).__name__}: {exc}")
            return
        if started is not None:  # None: not a Balagh call
            self.answer_to_queue.labels(queue).observe(
                max(0.0, (joined - started).total_seconds()))

    async def run(self, ami: AmiSession) -> None:
        events = ami.listen(_is_counted)
        try:
            while True:
                await self.count(await events.get())
        finally:
            ami.unlisten(events)
