"""One way to keep a connection up: run its session again after every end, with backoff.

Every ARI and AMI consumer goes through `keep_up`, so they all retry the same way:
the first retry after a connection that was up comes within 100 ms (a restarted
Asterisk is answered at once), then the wait doubles up to a cap, so a PBX that stays
down is not hammered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import NoReturn

import structlog

log = structlog.get_logger(__name__)

# A session calls this once it is really connected (logged in, subscribed): from then on
# its end counts as a drop, and the next try comes at once rather than after the backoff.
MarkUp = Callable[[], None]
Session = Callable[[MarkUp], Awaitable[None]]


@dataclass(frozen=True)
class Backoff:
    first: float = 0.05  # seconds before the first retry
    factor: float = 2.0
    cap: float = 15.0

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(delay * self.factor, self.cap)


DEFAULT_BACKOFF = Backoff()


async def keep_up(link: str, session: Session, backoff: Backoff = DEFAULT_BACKOFF) -> NoReturn:
    """Run `session` until cancelled, starting it again whenever it ends or fails.

    `link` names the connection in the logs (connection.lost / connection.failed)."""
    delays = backoff.delays()
    while True:
        was_up = False

        def mark_up() -> None:
            nonlocal was_up, delays
            was_up = True
            delays = backoff.delays()

        try:
            await session(mark_up)
            error = None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = describe(exc)
        delay = next(delays)
        if was_up:
            log.warning("connection.lost", link=link, error=error, retry_in=delay)
        else:
            log.warning("connection.failed", link=link, error=error, retry_in=delay)
        await asyncio.sleep(delay)


def describe(exc: BaseException) -> str:
    """One line for a log: the first real error inside task groups (a websocket library
    may wrap a refused connection in an ExceptionGroup, which says nothing by itself)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"
