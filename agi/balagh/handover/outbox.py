"""The outbox: report events pushed to the units' endpoints, surviving their outages and
ours.

`publish` is for the call path: it builds the document, serialises it once and queues one
delivery per endpoint that wants the event (rows in the report database, through the
single writer); it never waits and never raises. `run` is the worker: each endpoint (URL)
is a lane of its own, a task that POSTs that endpoint's due rows one at a time, the
danger alert and then the events of reports in danger first, so a slow or dead unit
delays nobody else's rows. A row is marked delivered on any 2xx status line (the body of
the answer is never read) or scheduled again with a backoff (2 s, 4 s, ... up to 5 min)
until it gives up after 20 attempts (`balagh outbox retry` puts those back). Rows live in
SQLite, so a receiver that is down, or an app restart, loses nothing: a new worker over
the same database sends what the old one left pending.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
import structlog

from balagh.privacy import mask_numbers_in_text, redact_text
from balagh.timeouts import within

from .document import URGENT_PATHS, idempotency_key, is_urgent, report_document, serialise
from .load import ANY_QUEUE, Endpoint, HandoverConfig
from .signature import HEADER, LEGACY_HEADER, sign, sign_body, verify

if TYPE_CHECKING:
    from balagh.store.outbox import OutboxRows
    from balagh.store.queries import Delivery

__all__ = ["Outbox", "sign", "verify"]

log = structlog.get_logger()

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def scrubbed(text: str, limit: int) -> str:
    """An error text fit to store: credentials redacted and phone numbers masked (the
    logs' rules), on one line, at most `limit` characters."""
    text = mask_numbers_in_text(redact_text(" ".join(text.split())))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Outbox:
    # Tunables as class attributes, as the writer's, so tests can shorten them.
    FIRST_RETRY = 2.0  # seconds after the first failed attempt, doubled after each
    MAX_RETRY = 300.0  # the longest wait between two attempts
    MAX_ATTEMPTS = 20  # then the delivery is failed, until `balagh outbox retry`
    POLL = 5.0  # seconds between looks at the table when nothing wakes the worker
    TIMEOUT = 10.0  # seconds for one attempt, all in (connect, TLS, send, status, headers)
    LANES = 16  # endpoints delivered to at once; more wait for a lane to end
    LANE_ROWS = 8  # rows a lane takes (and holds in memory) at one look
    URLS = 1000  # endpoints with pending rows looked at in one round
    ERROR_CHARS = 200  # the longest error text stored with a row
    # The answer: the status line and at most this many headers of this size are parsed;
    # the body is not read, and at most READ_BUFFER bytes of it are ever buffered.
    HEADER_LINE = 4096
    HEADERS = 32
    READ_BUFFER = 16384

    def __init__(self, rows: OutboxRows, config_provider: Callable[[], HandoverConfig],
                 clock: Clock = _utcnow) -> None:
        self.rows = rows
        self._config = config_provider
        self._clock = clock
        self._wake = asyncio.Event()
        # An endpoint that just failed rests until its failed row's next attempt: its other
        # rows wait with it rather than each finding it down in turn.
        self._resting: dict[str, datetime] = {}
        self._lanes: dict[str, asyncio.Task[None]] = {}
        # Endpoints an urgent row was published for since their lane last looked.
        self._urgent: set[str] = set()
        self._lanes_full = False  # due endpoints are waiting for a lane
        self._lane_ended: dict[str, float] = {}  # loop time each endpoint's lane last ended

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
            urgent = is_urgent(document)
            for endpoint in endpoints:
                self.rows.queue_delivery(key=key, url=endpoint.url, event=event,
                                         reference=reference, body=body, at=at)
                if urgent:
                    self._urgent.add(endpoint.url)
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
        async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.TIMEOUT),
                max_line_size=self.HEADER_LINE, max_field_size=self.HEADER_LINE,
                max_headers=self.HEADERS, read_bufsize=self.READ_BUFFER) as client:
            # A row published while the database was locked waited in the spool: it is
            # due the moment the spool is replayed, not at the next POLL.
            self.rows.on_drained.append(self._wake.set)
            try:
                while True:
                    self._wake.clear()
                    try:
                        # What woke us was queued on the writer, not committed yet:
                        # see it now rather than at the next POLL.
                        await self.rows.flush()
                        delay = await self.dispatch(client)
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # the database or a bug: try again later
                        with contextlib.suppress(Exception):
                            log.exception("handover.worker_failed", error=repr(exc))
                        delay = self.POLL
                    if delay > 0:
                        with contextlib.suppress(TimeoutError):
                            await within(self._wake.wait(), delay)
            finally:
                with contextlib.suppress(ValueError):
                    self.rows.on_drained.remove(self._wake.set)
                lanes = list(self._lanes.values())
                for lane in lanes:
                    lane.cancel()
                await asyncio.gather(*lanes, return_exceptions=True)

    async def dispatch(self, client: aiohttp.ClientSession) -> float:
        """Start a lane for each endpoint with due rows that has none (up to LANES, those
        whose lane ended longest ago first); the seconds until the next endpoint without
        a lane is due (at most POLL)."""
        now = self._clock()
        self._resting = {url: until for url, until in self._resting.items() if until > now}
        pending = await self.rows.pending_urls(self.URLS)
        pending_now = {url for url, _ in pending}
        self._lane_ended = {url: at for url, at in self._lane_ended.items()
                            if url in pending_now}
        due_now: list[str] = []
        soonest = self.POLL
        for url, due in pending:
            if url in self._lanes:
                continue  # its lane takes its rows as they come
            due = max(due, self._resting.get(url, due))
            if due > now:
                soonest = min(soonest, (due - now).total_seconds())
            else:
                due_now.append(url)
        due_now.sort(key=lambda url: self._lane_ended.get(url, 0.0))
        free = max(0, self.LANES - len(self._lanes))
        for url in due_now[:free]:
            self._start_lane(client, url)
        # Endpoints left waiting: every lane gives its place up after its current look,
        # and its end wakes this loop.
        self._lanes_full = len(due_now) > free
        return max(0.0, soonest)

    def _start_lane(self, client: aiohttp.ClientSession, url: str) -> None:
        task = asyncio.create_task(self._lane(client, url), name=f"outbox-lane {url}")
        self._lanes[url] = task

        def ended(_task: asyncio.Task[None]) -> None:
            if self._lanes.get(url) is task:
                del self._lanes[url]
            self._lane_ended[url] = asyncio.get_running_loop().time()
            self._wake.set()

        task.add_done_callback(ended)

    async def _lane(self, client: aiohttp.ClientSession, url: str) -> None:
        """One endpoint's rows, one at a time, urgent first, until none is due, the
        endpoint fails (it rests) or other endpoints wait for a lane."""
        try:
            while True:
                if url in self._urgent:  # an urgent row was published: let it be committed
                    self._urgent.discard(url)
                    await self.rows.flush()
                rows = await self.rows.due_at(url, self._clock(), self.LANE_ROWS,
                                              URGENT_PATHS)
                if not rows:
                    return
                for row in rows:
                    if not await self._deliver(client, self._config().endpoint(url), row):
                        return  # the endpoint is failing: its rows keep their schedule
                    if url in self._urgent:  # published since the look: look again
                        break
                if self._lanes_full:
                    return  # give the lane up; the dispatcher starts this one again later
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database or a bug: this endpoint rests a while
            self._resting[url] = self._clock() + timedelta(seconds=self.POLL)
            with contextlib.suppress(Exception):
                log.exception("handover.lane_failed", url=url, error=repr(exc))

    async def _deliver(self, client: aiohttp.ClientSession, endpoint: Endpoint | None,
                       row: Delivery) -> bool:
        if endpoint is None:
            await self._failed(row, "no endpoint with this url in handover.yaml any more",
                               give_up=True)
            return False
        body = row.body.encode("utf-8")
        timestamp = int(self._clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "balagh-outbox",
            "X-Balagh-Event": row.event,
            "Idempotency-Key": row.key,
            HEADER: sign(body, endpoint.secret, delivery_id=row.key, timestamp=timestamp),
            LEGACY_HEADER: sign_body(body, endpoint.secret),
        }
        try:
            async with client.post(row.url, data=body, headers=headers,
                                   allow_redirects=False) as response:
                status, reason = response.status, response.reason or ""
                # The body is never read: a receiver's answer, however large or slow,
                # costs at most READ_BUFFER bytes. A connection whose body has not all
                # come is closed rather than drained for reuse.
                if not response.content.is_eof():
                    response.close()
        except (aiohttp.ClientError, OSError) as exc:
            # Stored with the row: a unit's URL may carry a token in its query.
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            if 200 <= status < 300:
                await self.rows.delivery_done(row.id, self._clock())
                log.info("handover.delivered", key=row.key, url=row.url,
                         attempts=row.attempts + 1)
                return True
            error = f"HTTP {status} {reason}"
        await self._failed(row, scrubbed(error, self.ERROR_CHARS),
                           give_up=row.attempts + 1 >= self.MAX_ATTEMPTS)
        return False

    async def _failed(self, row: Delivery, error: str, *, give_up: bool) -> None:
        now = self._clock()
        delay = min(self.FIRST_RETRY * 2 ** min(row.attempts, 30), self.MAX_RETRY)
        next_at = now + timedelta(seconds=delay)
        self._resting[row.url] = next_at
        await self.rows.delivery_failed(row.id, now, error, next_at, give_up)
        if give_up:
            log.error("handover.gave_up", key=row.key, url=row.url, attempts=row.attempts + 1,
                      error=error)
        else:
            log.warning("handover.delivery_failed", key=row.key, url=row.url,
                        attempts=row.attempts + 1, error=error, retry_in=delay)


def _wanting(endpoints: list[Endpoint], event: str) -> list[Endpoint]:
    """Endpoints that want `event`, each URL once."""
    seen: set[str] = set()
    wanted = []
    for endpoint in endpoints:
        if event in endpoint.events and endpoint.url not in seen:
            seen.add(endpoint.url)
            wanted.append(endpoint)
    return wanted
