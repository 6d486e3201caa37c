"""The event loop of `balagh run`: uvloop's.

Every call's keys, prompts and requests go through one event loop on one core. uvloop
(libuv, compiled) runs the same asyncio code with a cheaper loop: callbacks, sockets
and timers cost less of that core, which `make bench` measures (bench/RESULTS.md).
BALAGH_EVENT_LOOP=asyncio runs the standard loop instead (to compare, or to rule it out).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    if os.environ.get("BALAGH_EVENT_LOOP", "uvloop") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # a platform without it: the standard loop does the same work
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
