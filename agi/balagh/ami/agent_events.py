"""Agents' activity from app_queue's AMI events, into the store (store/agents.py).

AgentCalled, AgentConnect, AgentComplete, AgentRingNoAnswer and AgentDump say what each
offered call did to the agent; QueueMemberPause says when they paused and why;
QueueMemberStatus, when their device state changed; QueueMemberAdded (paused) and
QueueMemberRemoved, so a pause starts and ends with the membership too. Only Balagh's
queues count (balagh-NAME).
Wrap-up has no event of its own: an AgentComplete starts the queues' `wrapuptime`, which
AMI does not report (GetConfig needs the `config` write right, which would also let the
app rewrite Asterisk's files): balagh.yaml's `wrapup_seconds` says it, as queues.conf does.
Events during a gap in the AMI connection are lost, as for the reports' queue side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from balagh.ami.client import AmiSession, ami_int
from balagh.ami.queue_names import routing_queue
from balagh.store.agents import AgentActivity, AgentEvent, AgentEventKind

AGENT_EVENTS = frozenset({"AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer",
                          "AgentDump", "QueueMemberPause", "QueueMemberStatus",
                          "QueueMemberAdded", "QueueMemberRemoved"})
_KINDS = {"AgentCalled": AgentEventKind.OFFERED, "AgentConnect": AgentEventKind.ANSWERED,
          "AgentComplete": AgentEventKind.COMPLETED,
          "AgentRingNoAnswer": AgentEventKind.MISSED, "AgentDump": AgentEventKind.DUMPED}
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
                wrapup_seconds: int = 0) -> AgentEvent | None:
    """One AMI event as the row the store keeps; None for what is not an agent's step
    in a Balagh queue. `wrapup_seconds`: the queues' wrapuptime."""
    name = event.get("Event", "")
    queue = routing_queue(event.get("Queue", ""))
    agent = agent_of(event)
    if queue is None or agent is None:
        return None
    call_id = _text(event.get("Uniqueid"))
    if name == "QueueMemberRemoved":
        return AgentEvent(at=at, agent=agent, queue=queue, kind=AgentEventKind.REMOVED)
    if name == "QueueMemberAdded" and event.get("Paused") != "1":
        return None  # added and free: QueueMemberStatus tells the rest
    if name in ("QueueMemberPause", "QueueMemberAdded"):
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
                          wrapup_seconds=wrapup_seconds,
                          reason=_text(event.get("Reason")))
    if kind is AgentEventKind.MISSED:
        # RingTime is in milliseconds on AgentRingNoAnswer (seconds elsewhere).
        return AgentEvent(at=at, agent=agent, queue=queue, kind=kind, call_id=call_id,
                          ring_seconds=ami_int(event.get("RingTime")) // 1000)
    return AgentEvent(at=at, agent=agent, queue=queue, kind=kind, call_id=call_id)


class AgentEvents:
    """Follows the shared AMI session's agent events into the store until cancelled."""

    def __init__(self, ami: AmiSession, activity: AgentActivity, wrapup_seconds: int = 0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.ami = ami
        self.activity = activity
        self.wrapup_seconds = wrapup_seconds
        self.clock = clock
        self._status: dict[tuple[str, str], str | None] = {}

    async def run(self) -> None:
        events = self.ami.listen(lambda e: e.get("Event") in AGENT_EVENTS)
        try:
            while True:
                self.take(await events.get())
        finally:
            self.ami.unlisten(events)

    def take(self, event: Mapping[str, str]) -> None:
        row = agent_event(event, self.clock(), self.wrapup_seconds)
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


__all__ = ["AGENT_EVENTS", "AgentEvents", "agent_event", "agent_of"]
