"""Lockout after wrong PINs (pure: the attempts come from the audit).

A supervisor is locked when their last `lockout_attempts` PIN attempts were all
wrong and the newest of them is less than `lockout_minutes` old. A right PIN
starts the count again; a lock simply runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from balagh.vocabulary import PinAttempt

from .model import SupervisorTable


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def locked_until(attempts: Sequence[PinAttempt], table: SupervisorTable,
                 now: datetime) -> datetime | None:
    """When the lock ends, or None if the supervisor may try a PIN now.

    `attempts` are one supervisor's, in any order (the store gives newest first)."""
    needed = table.lockout_attempts
    if needed < 1 or len(attempts) < needed:
        return None
    latest = sorted(attempts, key=lambda attempt: _aware(attempt.at), reverse=True)[:needed]
    if any(attempt.ok for attempt in latest):
        return None
    until = _aware(latest[0].at) + timedelta(minutes=table.lockout_minutes)
    return until if _aware(now) < until else None


__all__ = ["PinAttempt", "locked_until"]
