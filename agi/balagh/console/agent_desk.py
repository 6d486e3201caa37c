"""Which call is at each agent's desk, from app_queue's AMI events: pure.

AgentCalled names the member that rings (Interface) and the caller's channel (Uniqueid:
the report's call id); AgentConnect says the agent answered; AgentComplete that the call
ended: it moves to the after-call form, which stays until the agent saves a disposition,
apart from the desk, so a next call that rings meanwhile shows at once and the form is
not lost. A ring that goes unanswered (AgentRingNoAnswer), or a caller who gives up
while it rings (QueueCallerAbandon), clears the desk.

The calls an agent took are remembered (a bounded list per member): a disposition is
accepted only for one of them, so an agent can describe only their own calls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace

from balagh.ami.queue_names import routing_queue

RINGING, TALKING, WRAP_UP = "ringing", "talking", "wrap-up"
TAKEN_KEPT = 50  # an agent's answered calls still open to a disposition (per member)

DESK_EVENTS = frozenset({"AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer",
                         "AgentDump", "QueueCallerAbandon"})


@dataclass(frozen=True)
class DeskCall:
    call_id: str   # the caller's channel Uniqueid: the report's call id
    queue: str     # the routing queue (child-protection), not app_queue's balagh-...
    state: str     # ringing | talking | wrap-up
    since: float   # when it entered this state (time.time())


def member_key(interface: str) -> str:
    """Asterisk reports PJSIP/agent1 as it was configured; compare without case."""
    return interface.strip().lower()


class AgentDesk:
    def __init__(self) -> None:
        self._desks: dict[str, DeskCall] = {}   # ringing or talking
        self._after: dict[str, DeskCall] = {}   # ended, waiting for its disposition
        self._taken: dict[str, deque[str]] = {}
        self.version = 0  # moves on every change: the page reloads its report then

    def current(self, member: str) -> DeskCall | None:
        """The call ringing or talking at this member."""
        return self._desks.get(member_key(member))

    def after_call(self, member: str) -> DeskCall | None:
        """The last call this member took that ended without a disposition yet."""
        return self._after.get(member_key(member))

    def took(self, member: str, call_id: str) -> bool:
        """Whether this member answered this call (and it is recent enough to describe)."""
        return call_id in self._taken.get(member_key(member), ())

    def done(self, member: str, call_id: str) -> None:
        """The disposition is saved: the after-call form goes away."""
        key = member_key(member)
        after = self._after.get(key)
        if after is not None and after.call_id == call_id:
            del self._after[key]
            self.version += 1

    def apply(self, event: Mapping[str, str], now: float) -> bool:
        """One AMI event; True if a desk changed."""
        kind = event.get("Event", "")
        call_id = event.get("Uniqueid", "")
        queue = routing_queue(event.get("Queue", "")) or event.get("Queue", "")
        if kind == "QueueCallerAbandon":
            return self._clear_call(call_id)
        interface = event.get("Interface") or event.get("MemberName") or ""
        if kind not in DESK_EVENTS or not interface or not call_id:
            return False
        key = member_key(interface)
        desk = self._desks.get(key)
        if kind == "AgentCalled":
            return self._set(key, DeskCall(call_id, queue, RINGING, now))
        if desk is None or desk.call_id != call_id:
            if kind != "AgentConnect":  # a late event of an older call
                return False
            desk = DeskCall(call_id, queue, RINGING, now)  # AgentCalled missed (a reconnect)
        if kind == "AgentConnect":
            taken = self._taken.setdefault(key, deque(maxlen=TAKEN_KEPT))
            if call_id not in taken:
                taken.append(call_id)
            return self._set(key, replace(desk, state=TALKING, since=now))
        if kind == "AgentComplete":
            self._after[key] = replace(desk, state=WRAP_UP, since=now)
            self._set(key, None)
            return True
        if desk.state == RINGING:  # AgentRingNoAnswer, AgentDump while ringing
            return self._set(key, None)
        if kind == "AgentDump":  # the agent hung up during the whisper: nothing to describe
            return self._set(key, None)
        return False

    def _clear_call(self, call_id: str) -> bool:
        gone = [key for key, desk in self._desks.items()
                if desk.call_id == call_id and desk.state == RINGING]
        for key in gone:
            self._set(key, None)
        return bool(gone)

    def _set(self, key: str, desk: DeskCall | None) -> bool:
        if desk is None:
            if self._desks.pop(key, None) is None:
                return False
        else:
            self._desks[key] = desk
        self.version += 1
        return True


__all__ = ["DESK_EVENTS", "RINGING", "TALKING", "WRAP_UP", "AgentDesk", "DeskCall",
           "member_key"]
