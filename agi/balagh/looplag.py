"""How long the event loop is kept from running: a stall delays every call at once.

A task sleeps a short tick and measures how late it wakes. A late wake-up past
STALL_SECONDS is logged (`loop.stall`); the longest one is kept, logged every minute
and when the app stops (`loop.max_stall`), so a fault run can say how bad it got.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)

TICK_SECONDS = 0.05
STALL_SECONDS = 0.25
REPORT_SECONDS = 60.0


class LoopLag:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.max_stall = 0.0

    async def run(self) -> None:
        last_report = self.clock()
        try:
            while True:
                started = self.clock()
                await asyncio.sleep(TICK_SECONDS)
                late = self.clock() - started - TICK_SECONDS
                if late > STALL_SECONDS:
                    log.warning("loop.stall", seconds=round(late, 3))
                self.max_stall = max(self.max_stall, late)
                if self.clock() - last_report >= REPORT_SECONDS:
                    last_report = self.clock()
                    log.info("loop.max_stall", seconds=round(self.max_stall, 3))
        finally:
            log.info("loop.max_stall", seconds=round(self.max_stall, 3))
