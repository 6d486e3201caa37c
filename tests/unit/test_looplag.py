"""The loop-lag monitor sees a blocked event loop."""

from __future__ import annotations

import asyncio
import time

from balagh.looplag import LoopLag


async def test_a_blocked_loop_is_measured() -> None:
    lag = LoopLag()
    task = asyncio.create_task(lag.run())
    await asyncio.sleep(0.1)
    time.sleep(0.4)  # noqa: ASYNC251 (the point: something holding the loop, as a parse did)
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert lag.max_stall >= 0.3
