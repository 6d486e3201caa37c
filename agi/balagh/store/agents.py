"""Agents' activity as app_queue reports it: one append-only row per AMI agent event.

Like the call path, recording only enqueues on the single writer (no await, never raises):
AMI follows every agent of the PBX, and a database problem must not slow its reader.
Rows name the agent (queue member) and the caller's channel id, never the caller's number
or place, so redaction has nothing to forget here; retention's purge drops them by age
with the reports (maintenance.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .timestamps import iso
from .writer import Statement, Writer


class AgentEventKind(StrEnum):
    OFFERED = "offered"      # AgentCalled: the agent's phone rings with a caller
    ANSWERED = "answered"    # AgentConnect: ring_seconds, hold_seconds (the caller's wait)
    COMPLETED = "completed"  # AgentComplete: talk_seconds, reason (caller | agent |
    #                          transfer), wrapup_seconds (the queue's wrapuptime)
    MISSED = "missed"        # AgentRingNoAnswer: ring_seconds
    DUMPED = "dumped"        # AgentDump: the agent hung up before the caller was put through
    PAUSED = "paused"        # QueueMemberPause Paused=1, or QueueMemberAdded paused:
    #                          reason (PausedReason)
    UNPAUSED = "unpaused"    # QueueMemberPause Paused=0
    REMOVED = "removed"      # QueueMemberRemoved: out of the queue, so no longer paused there
    STATUS = "status"        # QueueMemberStatus, when the device state changed: status


@dataclass(frozen=True, slots=True)
class AgentEvent:
    at: datetime
    agent: str                  # MemberName, else the member's Interface
    kind: AgentEventKind
    queue: str | None = None    # the routing queue (child-protection, ...)
    call_id: str | None = None  # the caller's Uniqueid
    ring_seconds: int | None = None
    hold_seconds: int | None = None
    talk_seconds: int | None = None
    wrapup_seconds: int | None = None
    reason: str | None = None
    status: str | None = None   # AST_DEVICE_* number as AMI gives it


def insert(event: AgentEvent) -> Statement:
    return ("INSERT INTO agent_events (at, agent, queue, kind, call_id, ring_seconds,"
            " hold_seconds, talk_seconds, wrapup_seconds, reason, status)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (iso(event.at), event.agent, event.queue, str(event.kind), event.call_id,
             event.ring_seconds, event.hold_seconds, event.talk_seconds,
             event.wrapup_seconds, event.reason, event.status))


class AgentActivity:
    """The agent_events table's one writer."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def record(self, event: AgentEvent) -> None:
        self.writer.submit("record_agent_event", lambda: [insert(event)],
                           agent=event.agent, kind=str(event.kind))

    async def flush(self) -> None:
        await self.writer.flush()


__all__ = ["AgentActivity", "AgentEvent", "AgentEventKind", "insert"]
