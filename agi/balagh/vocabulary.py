"""The words the features and the store both use, at the bottom of the house.

The store writes and reads what features mean (a danger answer, a supervisor's PIN
attempt, the repeat callers' window) without importing any feature: they meet here.
Nothing here imports anything of Balagh's (tests/unit/test_house_rules.py keeps it so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# The answer that lifts a call to the danger priority, whatever rule matched.
DANGER_QUESTION = "danger"
DANGER_ANSWER = "yes"
# The question whose answer names the caller's emirate (what redaction forgets).
EMIRATE_QUESTION = "emirate"
# The consent question (consent.py has the rule): may we text or call back?
CONSENT_QUESTION = "contact_safe"
CONSENT_YES = "yes"
CONSENT_NO = "no"
# How far back a caller's earlier calls count: the agent hears "calls in the last 30 days".
REPEAT_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class PinAttempt:
    """One PIN a supervisor typed: when, and whether it was right."""

    at: datetime
    ok: bool


@dataclass(frozen=True, slots=True)
class ReloadAttempt:
    """One load of the hotline (applied or refused), as routing_reloads records it: the
    routing table's file and hash, who asked, and how many rules it holds when applied."""

    file: str
    sha256: str | None
    trigger: str
    outcome: str
    rules: int | None
    error: str | None
    at: datetime


__all__ = [
    "CONSENT_NO",
    "CONSENT_QUESTION",
    "CONSENT_YES",
    "DANGER_ANSWER",
    "DANGER_QUESTION",
    "EMIRATE_QUESTION",
    "REPEAT_WINDOW",
    "PinAttempt",
    "ReloadAttempt",
]
