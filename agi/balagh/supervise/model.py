"""Who may monitor: supervisors, the phones they call from and the queues they may hear.

A "phone" is what a supervisor calls from: an extension or caller-ID number ("201"),
or a PJSIP endpoint written as "PJSIP/sup1". A call is matched by its caller number
exactly, and by its channel name ("PJSIP/sup1-0000002a") without the part after the
last "-" (see phone_keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# The audit's words (monitor_audit.action, .detail for a refusal, .mode).
ACTIONS: tuple[str, ...] = ("refused", "pin-ok", "start", "mode", "end")
REFUSALS: tuple[str, ...] = ("unknown-phone", "wrong-pin", "locked", "queue-not-allowed",
                             "no-live-call")
MODES: tuple[str, ...] = ("listen", "whisper", "barge")


@dataclass(frozen=True, slots=True)
class Supervisor:
    name: str
    phones: frozenset[str]
    pin_hash: str = field(repr=False)  # scrypt$...; never the PIN itself
    queues: frozenset[str] | None  # None: every queue

    def may_monitor(self, queue: str | None) -> bool:
        """May this supervisor hear a call in `queue` (the routing queue's name)?

        A call whose queue is not known is only for a supervisor of every queue."""
        if self.queues is None:
            return True
        return queue is not None and queue in self.queues


@dataclass(frozen=True, slots=True)
class SupervisorTable:
    supervisors: tuple[Supervisor, ...] = ()
    lockout_attempts: int = 5  # this many wrong PINs in a row lock the supervisor out
    lockout_minutes: float = 15.0  # ... for this long after the last of them
    source: Path | None = None

    def find(self, *phones: str | None) -> Supervisor | None:
        """The supervisor with one of these phones (tried in order), or None.

        Pass the keys of phone_keys(): the caller number, then the channel's endpoint."""
        for phone in phones:
            if not phone:
                continue
            for supervisor in self.supervisors:
                if phone in supervisor.phones:
                    return supervisor
        return None

    def get(self, name: str) -> Supervisor | None:
        """The supervisor called `name` (exactly), or None."""
        return next((s for s in self.supervisors if s.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.supervisors)


def phone_keys(caller_number: str | None, channel_name: str) -> list[str]:
    """The phones a call may be known by, in the order to try them.

    ("201", "PJSIP/sup1-0000002a") -> ["201", "PJSIP/sup1"]; a channel name without
    a "-" is taken whole. Empty values are left out."""
    keys: list[str] = []
    number = (caller_number or "").strip()
    if number:
        keys.append(number)
    channel = (channel_name or "").strip()
    endpoint = channel.rpartition("-")[0] if "-" in channel else channel
    if endpoint and endpoint not in keys:
        keys.append(endpoint)
    return keys


