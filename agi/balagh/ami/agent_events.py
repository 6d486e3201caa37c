"""Agents' activity from app_queue's AMI events, into the store (store/agents.py).

AgentCalled, AgentConnect, AgentComplete, AgentRingNoAnswer and AgentDump say what each
offered call did to the agent; QueueMemberPause says when they paused and why;
QueueMemberStatus, when their device state changed. Only Balagh's queues count (balagh-NAME).
Wrap-up has no event of its own: an AgentComplete starts the queue's `wrapuptime`,
read from Asterisk's queues.conf (AMI GetConfig) each time the session (re)connects.
Events during a gap in the AMI connection are lost, as for the reports' queue side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from balagh.ami.client import AmiError, AmiSession, ami_int
from balagh.ami.queue_names import routing_queue
from balagh.store.agents import AgentActivity, AgentEvent, AgentEventKind

log = structlog.get_logger(__name__)

AGENT_EVENTS = frozenset({"AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer",
                          "AgentDump", "QueueMemberPause", "QueueMemberStatus"})
_KINDS = {"AgentCalled": AgentEventKind.OFFERED, "AgentConnect": AgentEventKind.ANSWERED,
          "AgentComplete": AgentEventKind.COMPLETED,
          "AgentRingNoAnswer": AgentEventKind.MISSED, "AgentDump": AgentEventKind.DUMPED}
# Asterisk greets each new login with FullyBooted, and says Reload after a reload: the
# moments queues.conf's wrapuptime may be new to us.
REREAD_WRAPUP = frozenset({"FullyBooted", "Reload"})
# Text from AMI is cut to this before it is stored (a member name, a pause reason).
MAX_TEXT = 128
# Members whose last device state is remembered (to store only changes); beyond it the
# memory starts again, which costs one repeated status row per member.
MAX_MEMBERS = 10_000


def _text(value: object) -> str | None:
    text = str(value) if value is not None else ""
    return text[:MAX_TEXT] or None


def agent_of(event: Mapping[str, str]) -> str | None:
    return _text(event.get("MemberName") or event.get("Interface"))


def agent_event(event: Mapping[str, str], at: datetime,
                wrapup: Mapping[str, int]) -> AgentEvent | None:
    """One AMI event as the row the store keeps; None for what is not an agent's step
    in a Balagh queue. `wrapup`: each routing queue's wrapuptime in seconds."""
    name = event.get("Event", "")
    queue = routing_queue(event.get("Queue", ""))
    agent = agent_of(event)
    if queue is None or agent is None:
        return None
    call_id = _text(event.get("Uniqueid"))
    if name == "QueueMemberPause":
        paused = event.get("Paused") == "1"
        return AgentEvent(at=at, agent=agent, queue=queue,
                          kind=AgentEventKind.PAUSED if paused else AgentEventKind.UNPAUSED,
                          reason=_text(event.get("PausedReason") or event.get("Reason"))
                          if paused else None)
    if name == "QueueMemberStatus":
        return AgentEvent(at=at, agent=agent, queue=queue, kind=AgentEventKind.STATUS,
                          status=_text(event.get("Status")))
    kind = _KINDS.get(name)
    if kind is None:
        return None
    if kind is AgentEventKind.ANSWERED:
        return AgentEvent(at=at, agent=agent, queue=queue, kind=kind, call_id=call_id,
                          ring_seconds=ami_int(event.get("RingTime")),
                          hold_seconds=ami_int(event.get("HoldTime")))
    if kind is AgentEventKind.COMPLETED:
        return AgentEvent(at=at, agent=agent, queue=queue, kind=kind, call_id=call_id,
                          talk_seconds=ami_int(event.get("TalkTime")),
                          wrapup_seconds=wrapup.get(queue, 0),
                          reason=_text(event.get("Reason")))
    if kind is AgentEventKind.MISSED:
        # RingTime is in milliseconds on AgentRingNoAnswer (seconds elsewhere).
        return AgentEvent(at=at, agent=agent, queue=queue, kind=kind, call_id=call_id,
                          ring_seconds=ami_int(event.get("RingTime")) // 1000)
    return AgentEvent(at=at, agent=agent, queue=queue, kind=kind, call_id=call_id)


def wrapup_times(messages: Any) -> dict[str, int]:
    """Each Balagh queue's wrapuptime from GetConfig's answer for queues.conf
    (Category-NNNNNN: name, Line-NNNNNN-MMMMMM: key=value, templates' lines included)."""
    fields: dict[str, str] = {}
    for message in messages if isinstance(messages, list) else [messages]:
        fields.update({str(k): str(v) for k, v in dict(message).items()})
    categories = {key.split("-", 1)[1]: value for key, value in fields.items()
                  if key.startswith("Category-")}
    times: dict[str, int] = {}
    for key, line in fields.items():
        if not key.startswith("Line-"):
            continue
        queue = routing_queue(categories.get(key.split("-")[1], ""))
        option, _, value = line.partition("=")
        if queue is not None and option.strip() == "wrapuptime":
            times[queue] = ami_int(value.strip())
    return times


class AgentEvents:
    """Follows the shared AMI session's agent events into the store until cancelled."""

    def __init__(self, ami: AmiSession, activity: AgentActivity,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.ami = ami
        self.activity = activity
        self.clock = clock
        self.wrapup: dict[str, int] = {}
        self._status: dict[tuple[str, str], str | None] = {}

    async def run(self) -> None:
        events = self.ami.listen(lambda e: e.get("Event") in AGENT_EVENTS
                                 or e.get("Event") in REREAD_WRAPUP)
        loads: set[asyncio.Task[None]] = set()

        def reread() -> None:
            task = asyncio.create_task(self.read_wrapup())
            loads.add(task)
            task.add_done_callback(loads.discard)

        if self.ami.connected.is_set():
            reread()
        try:
            while True:
                event = await events.get()
                if event.get("Event") in REREAD_WRAPUP:
                    reread()
                else:
                    self.take(event)
        finally:
            self.ami.unlisten(events)
            for task in loads:
                task.cancel()

    def take(self, event: Mapping[str, str]) -> None:
        row = agent_event(event, self.clock(), self.wrapup)
        if row is None:
            return
        if row.kind is AgentEventKind.STATUS:
            member = (row.agent, row.queue or "")
            if self._status.get(member, "") == row.status:
                return  # the same state again (a busy PBX repeats them): nothing new
            if len(self._status) >= MAX_MEMBERS:
                self._status.clear()
            self._status[member] = row.status
        self.activity.record(row)

    async def read_wrapup(self) -> None:
        """The queues' wrapuptime from Asterisk's queues.conf as loaded now."""
        try:
            answer = await self.ami.action({"Action": "GetConfig", "Filename": "queues.conf"})
            self.wrapup = wrapup_times(answer)
        except (AmiError, TimeoutError, OSError) as exc:
            log.warning("agents.wrapup_unread", error=str(exc))


__all__ = ["AGENT_EVENTS", "AgentEvents", "agent_event", "agent_of", "wrapup_times"]
