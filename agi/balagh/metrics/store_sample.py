"""The store's side, sampled every few seconds off the scrape: the outbox's backlog and
failures (two bounded reads) and the spool's depth (its lines counted in a thread)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import structlog

from balagh.store.queries import Queries

log = structlog.get_logger(__name__)

BACKLOG_CAP = 1000  # pending deliveries counted at most (a scrape reads no unbounded list)
SAMPLE_SECONDS = 5.0
READ_SECONDS = 2.0


def spool_lines(path: Path) -> int:
    """Writes in the spool, one a line, counted without decoding them: a spool grown large
    while the database was away must not hold the interpreter every few seconds."""
    try:
        with path.open("rb") as spool:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: spool.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


@dataclass(frozen=True, slots=True)
class StoreSample:
    outbox_pending: int
    outbox_failed: int
    spool_depth: int


class StoreSampler:
    def __init__(self, queries: Queries, spool_file: Path, *,
                 interval: float = SAMPLE_SECONDS) -> None:
        self.queries = queries
        self.spool_file = spool_file
        self.interval = interval
        self.last: StoreSample | None = None  # replaced whole; None until the first sample

    async def sample(self) -> StoreSample:
        async with asyncio.timeout(READ_SECONDS):
            pending = len(await self.queries.deliveries("pending", limit=BACKLOG_CAP))
            failed = await self.queries.count_failed(None)
            spooled = await asyncio.to_thread(spool_lines, self.spool_file)
        return StoreSample(pending, failed, spooled)

    async def run(self) -> None:
        while True:
            try:
                self.last = await self.sample()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the gauges disappear rather than lie
                self.last = None
                log.warning("metrics.store_sample_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self.interval)
