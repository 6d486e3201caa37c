"""What routing knows about one call when it decides: the inputs of every condition.

Built once per decision, so every condition (and `explain`) sees the same normalised
caller number and the same local time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from types import MappingProxyType

from balagh.routing.location import UNKNOWN, Location, locate
from balagh.routing.numbers import DEFAULT_COUNTRY_CODE, normalise_number

__all__ = ["Facts", "QueueState", "make_facts"]


@dataclass(frozen=True)
class QueueState:
    """Live state of one Asterisk queue (from AMI QueueSummary / QueueStatus)."""

    logged_in: int      # agents logged in (paused or not)
    available: int      # agents free to take a call now
    callers: int        # callers waiting
    longest_wait: float  # seconds the longest-waiting caller has waited


@dataclass(frozen=True)
class Facts:
    answers: Mapping[str, str]
    caller: str | None = None                  # E.164, or None when withheld
    location: Location = UNKNOWN
    now: datetime | None = None                # local time in the table's zone; None = unknown
    queues: Mapping[str, QueueState] = field(default_factory=lambda: MappingProxyType({}))


def make_facts(answers: Mapping[str, str], zone: tzinfo, *, caller: str | None = None,
               location: Location | None = None, now: datetime | None = None,
               queues: Mapping[str, QueueState] | None = None,
               country_code: str = DEFAULT_COUNTRY_CODE) -> Facts:
    """Normalise decide()'s inputs. A naive `now` is read as local time in `zone`; an aware
    one is converted to it. Without a `location`, the emirate answer (if any) is used."""
    if now is not None:
        now = now.replace(tzinfo=zone) if now.tzinfo is None else now.astimezone(zone)
    return Facts(
        answers=answers,
        caller=normalise_number(caller, country_code),
        location=location if location is not None else locate(answers, caller, None, {},
                                                               country_code),
        now=now,
        queues=queues if queues is not None else MappingProxyType({}),
    )
