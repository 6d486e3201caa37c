"""Is a heartbeat variable changing? (ari/liveness.py: the app writes it every second.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Reader = Callable[[], Awaitable[str | None]]

# A live writer beats every second: a window of 2.5 s sees at least one change even
# when one beat is late, and polling stops at the first change, so a healthy app
# answers in about a second.
WINDOW_SECONDS = 2.5
POLL_SECONDS = 0.3


@dataclass(frozen=True)
class Beat:
    first: str | None  # the value first read (None: never set)
    last: str | None
    seconds: float  # how long it was watched

    @property
    def beating(self) -> bool:
        return self.last is not None and self.last != self.first

    @property
    def never_set(self) -> bool:
        return self.first is None and self.last is None


async def watch(read: Reader, *, window: float = WINDOW_SECONDS, poll: float = POLL_SECONDS,
                clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Beat:
    """Read the variable until its value changes or `window` seconds have passed."""
    start = clock()
    first = last = await read()
    while clock() - start < window:
        await sleep(poll)
        last = await read()
        if last is not None and last != first:
            break
    return Beat(first, last, round(clock() - start, 2))
