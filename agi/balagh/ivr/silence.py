"""A caller who presses nothing at all.

A child who cannot, a phone without keys, a caller too frightened to look at the
keypad: asked every question three times, they would wait over a minute for a person.
From the answer on, such a caller is given `silent_caller_seconds`; if no key at all
has come by then, the questions stop and the call is put through. The first key of
any kind (even a wrong one) switches this off: a slow caller keeps every attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SilentCaller:
    def __init__(self, seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._until: float | None = now() + seconds if seconds > 0 else None

    def heard_a_key(self) -> None:
        self._until = None

    def remaining(self) -> float | None:
        """Seconds left to a silent caller; None once a key came (or with the limit off)."""
        if self._until is None:
            return None
        return max(0.0, self._until - self._now())

    @property
    def expired(self) -> bool:
        return self.remaining() == 0.0


NEVER_SILENT = SilentCaller(0)
