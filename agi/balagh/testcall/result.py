"""What a test call did: what the caller heard and pressed, where the call ended up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallResult:
    hotline_id: str = ""          # ARI id of the hotline leg: the report's call_id
    hotline_channel: str = ""
    played: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    # (seconds since the hotline answered, "start" | "finish", sound): for timing assertions
    timeline: list[tuple[float, str, str]] = field(default_factory=list)
    queue: str | None = None      # routing queue name, e.g. child-protection
    asterisk_queue: str | None = None  # the app_queue queue joined, e.g. balagh-child-protection
    dialled: str | None = None    # an outside number an overflow step dialled instead
    priority: int | None = None
    reference: str | None = None
    fallback: str | None = None
    # Channel variables read when the call joined the queue (place_call's read_variables).
    variables: dict[str, str | None] = field(default_factory=dict)
    seconds_to_queue: float | None = None
    agent_answered: bool = False
    hung_up_early: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "played": " ".join(self.played) or "-",
            "keys sent": ",".join(self.sent) or "-",
            "queue": f"{self.queue} (app_queue {self.asterisk_queue})" if self.queue
            else f"- (dialled {self.dialled})" if self.dialled else "-",
            "priority": "-" if self.priority is None else self.priority,
            "reference": self.reference or "-",
            "answer to queue": "-" if self.seconds_to_queue is None
            else f"{self.seconds_to_queue:.2f} s",
            "agent answered": "yes" if self.agent_answered else "no",
        }



__all__ = ["CallResult"]
