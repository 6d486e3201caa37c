"""Answered calls that app_queue may never report as ended.

app_queue publishes AgentConnect before it starts watching the bridged call: a caller
(or agent) who hangs up in that instant gets no AgentComplete, and the report would stay
answered for ever, its unit never told that the call ended. So every connected call is
remembered until its AgentComplete. If its channel hangs up first, the missing
AgentComplete is made from what is known once a grace has passed in which a late real
one still wins; a real one later still is dropped, so the end is counted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

V = TypeVar("V")

END_GRACE_SECONDS = 5.0
# Connected calls followed at once (a hotline has a few dozen); beyond, the oldest are
# forgotten, as are calls whose Hangup fell in a gap of the AMI connection.
REMEMBERED = 10_000


@dataclass(frozen=True)
class Connected:
    queue: str
    at: datetime


class UnendedCalls:
    def __init__(self, limit: int = REMEMBERED) -> None:
        self.limit = limit
        self._connected: dict[str, Connected] = {}
        self._inferred: dict[str, None] = {}  # ends made here, oldest first

    def awaits_end(self, call_id: str) -> bool:
        """Connected, and no AgentComplete yet."""
        return call_id in self._connected

    def follow(self, event: dict[str, str], at: datetime) -> bool:
        """Note a queue event; False for an AgentComplete whose end was already made."""
        kind, call_id = event.get("Event"), event.get("Uniqueid", "")
        if kind == "AgentConnect" and call_id:
            self._connected[call_id] = Connected(event.get("Queue", ""), at)
            _trim(self._connected, self.limit)
        elif kind == "AgentComplete":
            self._connected.pop(call_id, None)
            if call_id in self._inferred:
                del self._inferred[call_id]
                return False
        return True

    def missing_end(self, call_id: str, hung_up_at: datetime) -> dict[str, str] | None:
        """The AgentComplete app_queue did not send for `call_id`, or None when it came.
        Who hung up is not known: Reason stays empty."""
        connected = self._connected.pop(call_id, None)
        if connected is None:
            return None
        self._inferred[call_id] = None
        _trim(self._inferred, self.limit)
        talk = max(0, round((hung_up_at - connected.at).total_seconds()))
        return {"Event": "AgentComplete", "Uniqueid": call_id, "Queue": connected.queue,
                "TalkTime": str(talk), "Reason": ""}


def _trim(calls: dict[str, V], limit: int) -> None:
    while len(calls) > limit:
        del calls[next(iter(calls))]
