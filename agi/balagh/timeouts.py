"""Bounded waits that keep a cancellation.

Python 3.11's `asyncio.wait_for` can lose a cancellation that arrives just as the awaited
thing completes (fixed in 3.12 by rewriting it on `asyncio.timeout`): the result is
returned and the task goes on, so a worker told to stop (the outbox, the writer, a text
sender) may never end and whoever awaits it hangs. Every bounded wait goes through
`within`, on `asyncio.timeout`, which does not lose it (a test keeps `wait_for` out).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["within"]

T = TypeVar("T")


async def within(awaitable: Awaitable[T], timeout: float | None) -> T:
    """`await awaitable`, or TimeoutError after `timeout` seconds (None: no bound)."""
    if timeout is None:
        return await awaitable
    async with asyncio.timeout(timeout):
        return await awaitable
