"""Close each report from the queue's side: answered by whom after how long, or abandoned.

app_queue's AMI events name the caller's channel by Uniqueid, which is the ARI
channel id the report was started with, so an event finds its report directly;
events of calls that are not Balagh's match no report and change nothing. An answered
call whose AgentComplete never comes is ended from its channel's Hangup (unended.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from balagh.ami.client import AmiSession, ami_int
from balagh.ami.queue_names import routing_queue
from balagh.ami.steps import apply_step_event, is_step_event
from balagh.ami.unended import END_GRACE_SECONDS, UnendedCalls
from balagh.consent import consent_word
from balagh.handover.summary import Publisher
from balagh.routing import DANGER_ANSWER, DANGER_QUESTION
from balagh.store.calls import CallRecorder
from balagh.store.queries import Queries
from balagh.timeouts import within

log = structlog.get_logger(__name__)

QUEUE_EVENTS = frozenset({"QueueCallerJoin", "AgentConnect", "AgentComplete",
                          "QueueCallerAbandon"})


def position(event: dict[str, str]) -> int | None:
    """The caller's place in the queue (1 = next), when AMI gives it."""
    value = event.get("Position")
    return int(value) if value and value.isdigit() else None


def apply_queue_event(recorder: CallRecorder, event: dict[str, str], at: datetime) -> None:
    """One app_queue event onto its report (pure apart from the recorder's enqueue)."""
    kind = event.get("Event")
    call_id = event.get("Uniqueid", "")
    queue = routing_queue(event.get("Queue", "")) or event.get("Queue", "")
    if not call_id or kind not in QUEUE_EVENTS:
        return
    if kind == "QueueCallerJoin":
        recorder.queue_joined(call_id=call_id, queue=queue, at=at, position=position(event))
    elif kind == "AgentConnect":
        agent = event.get("MemberName") or event.get("Interface") or "unknown"
        recorder.queue_answered(call_id=call_id, queue=queue, agent=agent,
                                wait_seconds=ami_int(event.get("HoldTime")), at=at)
    elif kind == "QueueCallerAbandon":
        recorder.queue_abandoned(call_id=call_id, queue=queue,
                                 wait_seconds=ami_int(event.get("HoldTime")), at=at,
                                 position=position(event))
    elif kind == "AgentComplete":
        # Reason: who hung up (caller | agent) or transfer.
        recorder.queue_completed(call_id=call_id,
                                 talk_seconds=ami_int(event.get("TalkTime")),
                                 at=at, by=event.get("Reason") or None)


# The queue's side of a report, as handed over to the unit's systems.
HANDOVER_EVENTS = {"AgentConnect": "answered", "QueueCallerAbandon": "abandoned",
                   "AgentComplete": "ended"}
# A caller who hangs up the moment they join: the report's own writes (its route, the join
# just applied) may still be queued. Handing over waits this long at most for them.
HANDOVER_FLUSH_SECONDS = 0.5


class QueueOutcomes:
    def __init__(self, ami: AmiSession, recorder: CallRecorder, reports: Queries,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 outbox: Publisher | None = None,
                 end_grace: float = END_GRACE_SECONDS) -> None:
        self.ami = ami
        self.recorder = recorder  # the queue's side of each report
        self.reports = reports  # the report handed over
        self.clock = clock
        self.outbox = outbox
        self.end_grace = end_grace
        self.unended = UnendedCalls()
        self._grace: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Follow queue events from the shared AMI session until cancelled.

        Events during a gap in the connection are lost (AMI does not replay them):
        those reports keep what the IVR wrote and simply lack the queue's side."""
        # Every Hangup: whether its call awaits an end is known only once the events
        # before it (its AgentConnect, read in the same batch maybe) have been taken.
        events = self.ami.listen(lambda e: e.get("Event") in QUEUE_EVENTS
                                 or e.get("Event") == "Hangup" or is_step_event(e))
        try:
            while True:
                event = await events.get()
                at = self.clock()
                if event.get("Event") == "Hangup":
                    if self.unended.awaits_end(call_id := event.get("Uniqueid", "")):
                        self._after_grace(call_id, at)
                elif self.unended.follow(event, at):
                    await self.apply(event, at)
        finally:
            self.ami.unlisten(events)
            for task in self._grace:
                task.cancel()

    async def apply(self, event: dict[str, str], at: datetime) -> None:
        apply_queue_event(self.recorder, event, at)
        apply_step_event(self.recorder, event, at)
        await self.hand_over(event)

    def _after_grace(self, call_id: str, hung_up_at: datetime) -> None:
        task = asyncio.create_task(self._end_if_missing(call_id, hung_up_at))
        self._grace.add(task)
        task.add_done_callback(self._grace.discard)

    async def _end_if_missing(self, call_id: str, hung_up_at: datetime) -> None:
        await asyncio.sleep(self.end_grace)
        ended = self.unended.missing_end(call_id, hung_up_at)
        if ended is not None:
            log.warning("queue.end_inferred", call_id=call_id, talk_seconds=ended["TalkTime"])
            await self.apply(ended, hung_up_at)

    async def hand_over(self, event: dict[str, str]) -> None:
        """Publish the queue's side of a Balagh report (answered, abandoned, ended)."""
        kind = HANDOVER_EVENTS.get(event.get("Event", ""))
        if kind is None or self.outbox is None:
            return
        try:
            with contextlib.suppress(TimeoutError):
                await within(asyncio.shield(self.recorder.flush()),
                                       HANDOVER_FLUSH_SECONDS)
            report = await self.reports.get_report(event.get("Uniqueid", ""))
        except Exception as exc:  # the database is having trouble: the call is not waiting
            log.warning("handover.report_unreadable", event=kind, error=str(exc))
            return
        if report is None:
            return  # not a Balagh call
        # The queue the event names is the one the caller is in (the unit to alert),
        # whatever the database has committed so far.
        queue = routing_queue(event.get("Queue", "")) or report.joined_queue or report.queue
        fields: dict[str, object] = {
            "reference": report.reference, "queue": queue, "priority": report.priority,
            "danger": report.answers.get(DANGER_QUESTION) == DANGER_ANSWER,
            # as the routed document said it: the unit must not call back on a no
            "consent": consent_word(report.answers, report.caller)}
        details: dict[str, object] = {}
        if kind == "answered":
            details = {"agent": event.get("MemberName") or event.get("Interface") or "unknown",
                       "wait_seconds": ami_int(event.get("HoldTime"))}
        elif kind == "abandoned":
            details = {"wait_seconds": ami_int(event.get("HoldTime"))}
        else:
            details = {"talk_seconds": ami_int(event.get("TalkTime"))}
        self.outbox.publish(kind, fields, queue=queue, details=details)
