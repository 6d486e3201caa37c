"""The outbox: report events pushed to the units' endpoints, surviving their outages and
ours.

`publish` is for the call path: it builds the document, serialises it once and queues one
delivery per endpoint that wants the event (rows in the report database, through the
single writer); it never waits and never raises. `run` is the worker: it POSTs due rows,
signed, and marks each delivered (any 2xx) or schedules it again with a backoff (2 s,
4 s, ... up to 5 min) until it gives up after 20 attempts (`balagh outbox retry` puts
those back). Rows live in SQLite, so a receiver that is down, or an app restart, loses
nothing: a new worker over the same database sends what the old one left pending.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
import structlog

from balagh.privacy import redact_text

from .document import idempotency_key, report_document, serialise
from .load import ANY_QUEUE, Endpoint, HandoverConfig
from .signature import sign, verify

if TYPE_CHECKING:
    from balagh.store.queries import Delivery
    from balagh.store.reports import ReportStore

__all__ = ["Outbox", "sign", "verify"]

log = structlog.get_logger()

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Outbox:
    # Tunables as class attributes, as the writer's, so tests can shorten them.
    FIRST_RETRY = 2.0  # seconds after the first failed attempt, doubled after each
    MAX_RETRY = 300.0  # the longest wait between two attempts
    MAX_ATTEMPTS = 20  # then the delivery is failed, until `balagh outbox retry`
    POLL = 5.0  # seconds between looks at the table when nothing wakes the worker
    TIMEOUT = 10.0  # seconds for one POST (connect, send, answer)
    BATCH = 100  # rows taken in one round

    def __init__(self, store: ReportStore, config_provider: Callable[[], HandoverConfig],
                 clock: Clock = _utcnow) -> None:
        self.store = store
        self._config = config_provider
        self._clock = clock
        self._wake = asyncio.Event()
        # An endpoint that just failed rests until its failed row's next attempt: its other
        # rows wait with it rather than each finding it down in turn.
        self._resting: dict[str, datetime] = {}

    # ------------------------------------------------------------ the call path

    def publish(self, event: str, report: Mapping[str, object], *, queue: str | None,
                details: Mapping[str, object] | None = None) -> None:
        """Queue `event` of `report` for every endpoint of `queue` (and of "*") that wants
        it; `queue` None: only those of "*". Never waits, never raises."""
        try:
            config = self._config()
            endpoints = _wanting(config.endpoints_for(queue or ANY_QUEUE), event)
            if not endpoints:
                return
            at = self._clock()
            document = report_document(event, report, at=at, details=details)
            body = serialise(document)
            key = idempotency_key(report["reference"], event)
            reference = str(report["reference"])
            for endpoint in endpoints:
                self.store.queue_delivery(key=key, url=endpoint.url, event=event,
                                          reference=reference, body=body, at=at)
            self._wake.set()
        except Exception as exc:
            with contextlib.suppress(Exception):  # not even a broken log may reach the call
                log.error("handover.publish_failed", event=str(event), queue=str(queue),
                          error=repr(exc))

    def wake(self) -> None:
        """Look at the table now (e.g. after `balagh outbox retry` in this process)."""
        self._wake.set()

    # --------------------------------------------------------------- the worker

    async def run(self) -> None:
        """Deliver until cancelled: at once when something is published, otherwise when
        the next retry is due, and at least every POLL seconds."""
        # aiohttp, as ARI's requests (ari/rest.py): a tenth of httpx's CPU per POST, and a
        # call makes two to four. Each unit's URL is posted to directly, redirects not
        # followed; no proxy or ~/.netrc from the environment (aiohttp would read
        # ~/.netrc again for every POST).
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.TIMEOUT)
                                         ) as client:
            while True:
                self._wake.clear()
                try:
                    full = await self.deliver_due(client)
                    delay = 0.0 if full else await self._until_next()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database or a bug: try again later
                    with contextlib.suppress(Exception):
                        log.exception("handover.worker_failed", error=repr(exc))
                    delay = self.POLL
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), delay)

    async def deliver_due(self, client: aiohttp.ClientSession) -> bool:
        """One round: every due row, one endpoint's in order (stopping at its first
        failure), the endpoints side by side. True if there may be more due already."""
        now = self._clock()
        self._resting = {url: until for url, until in self._resting.items() if until > now}
        rows = await self.store.due_deliveries(now, self.BATCH)
        by_url: dict[str, list[Delivery]] = {}
        for row in rows:
            if row.url not in self._resting:
                by_url.setdefault(row.url, []).append(row)
        config = self._config()
        async with asyncio.TaskGroup() as group:
            for url, queued in by_url.items():
                group.create_task(self._deliver_to(client, config.endpoint(url), queued))
        return len(rows) >= self.BATCH

    async def _deliver_to(self, client: aiohttp.ClientSession, endpoint: Endpoint | None,
                          rows: list[Delivery]) -> None:
        for row in rows:
            if not await self._deliver(client, endpoint, row):
                return  # the endpoint is failing: its other rows keep their own schedule

    async def _deliver(self, client: aiohttp.ClientSession, endpoint: Endpoint | None,
                       row: Delivery) -> bool:
        if endpoint is None:
            await self._failed(row, "no endpoint with this url in handover.yaml any more",
                               give_up=True)
            return False
        body = row.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "balagh-outbox",
            "X-Balagh-Event": row.event,
            "Idempotency-Key": row.key,
            "X-Balagh-Signature": sign(body, endpoint.secret),
        }
        try:
            async with client.post(row.url, data=body, headers=headers,
                                   allow_redirects=False) as response:
                await response.read()
                status, reason = response.status, response.reason or ""
        except (aiohttp.ClientError, OSError) as exc:
            # Stored with the row: a unit's URL may carry a token in its query.
            error = redact_text(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        else:
            if 200 <= status < 300:
                await self.store.delivery_done(row.id, self._clock())
                log.info("handover.delivered", key=row.key, url=row.url,
                         attempts=row.attempts + 1)
                return True
            error = f"HTTP {status} {reason}".strip()
        await self._failed(row, error, give_up=row.attempts + 1 >= self.MAX_ATTEMPTS)
        return False

    async def _failed(self, row: Delivery, error: str, *, give_up: bool) -> None:
        now = self._clock()
        delay = min(self.FIRST_RETRY * 2 ** min(row.attempts, 30), self.MAX_RETRY)
        next_at = now + timedelta(seconds=delay)
        self._resting[row.url] = next_at
        await self.store.delivery_failed(row.id, now, error, next_at, give_up)
        if give_up:
            log.error("handover.gave_up", key=row.key, url=row.url, attempts=row.attempts + 1,
                      error=error)
        else:
            log.warning("handover.delivery_failed", key=row.key, url=row.url,
                        attempts=row.attempts + 1, error=error, retry_in=delay)

    async def _until_next(self) -> float:
        """Seconds until a pending row is due at an endpoint that is not resting (or
        until the first rest ends), at most POLL."""
        now = self._clock()
        due = await self.store.next_delivery_at()
        if due is None:
            return self.POLL
        if due <= now and self._resting:  # due rows, but at resting endpoints
            due = min(self._resting.values())
        return max(0.0, min((due - now).total_seconds(), self.POLL))


def _wanting(endpoints: list[Endpoint], event: str) -> list[Endpoint]:
    """Endpoints that want `event`, each URL once."""
    seen: set[str] = set()
    wanted = []
    for endpoint in endpoints:
        if event in endpoint.events and endpoint.url not in seen:
            seen.add(endpoint.url)
            wanted.append(endpoint)
    return wanted
