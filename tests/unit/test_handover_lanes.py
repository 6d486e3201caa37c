"""The outbox against misbehaving units, real aiohttp servers on 127.0.0.1: a slow unit
delays no other unit's rows, a unit's danger alert goes ahead of its other rows, a
receiver's answer body is never read, and what a receiver says when it refuses is stored
scrubbed. Ordering by events (a server holding requests until the test lets go), never by
time."""

from __future__ import annotations

import asyncio
import sqlite3
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from balagh.handover.load import Endpoint, HandoverConfig
from balagh.handover.outbox import Outbox, verify
from balagh.store import ReportStore

from .handover_receiver import eventually, eventually_async

SECRET = "unit-secret-1"
ALL = frozenset({"routed", "answered", "abandoned", "ended"})
ALERT = "caller in danger hung up before anyone answered"


class PatientOutbox(Outbox):
    FIRST_RETRY = 0.02
    MAX_RETRY = 0.1
    POLL = 0.2
    TIMEOUT = 60.0  # a held request must not time out before the test lets it go


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """A real aiohttp server on 127.0.0.1 answering every POST with `handler`; its URL."""
    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/balagh/reports"
    finally:
        await runner.cleanup()


class Unit:
    """A receiver that keeps the signed keys it takes, and can hold every request until
    `release` is set (a unit answering slowly)."""

    def __init__(self, *, slow: bool = False) -> None:
        self.keys: list[str] = []
        self.arrived: list[str] = []
        self.release = asyncio.Event()
        self.first_arrived = asyncio.Event()
        if not slow:
            self.release.set()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.headers["Idempotency-Key"]
        self.arrived.append(key)
        self.first_arrived.set()
        await self.release.wait()
        assert verify(body, SECRET, request.headers.get("Balagh-Signature"))
        self.keys.append(key)
        return web.Response(status=200)


def report(reference: str, *, danger: bool = False) -> dict[str, object]:
    return {"reference": reference, "queue": "child-protection", "danger": danger}


def two_units(slow_url: str, other_url: str) -> HandoverConfig:
    return HandoverConfig({
        "child-protection": (Endpoint(slow_url, SECRET, ALL),),
        "women-protection": (Endpoint(other_url, SECRET, ALL),),
    })


@asynccontextmanager
async def working(outbox: Outbox) -> AsyncIterator[Outbox]:
    task = asyncio.create_task(outbox.run())
    try:
        yield outbox
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled(), task


async def delivered(store: ReportStore, count: int) -> bool:
    rows = await store.queries.deliveries(None, 100)
    return len(rows) == count and {row.status for row in rows} == {"delivered"}


async def test_a_slow_unit_does_not_hold_another_unit_s_danger_alert(
        store: ReportStore) -> None:
    slow, other = Unit(slow=True), Unit()
    async with serving(slow.handle) as slow_url, serving(other.handle) as other_url:
        outbox = PatientOutbox(store.outbox, lambda: two_units(slow_url, other_url))
        for n in range(8):
            outbox.publish("routed", report(f"100000{n}"), queue="child-protection")
        async with working(outbox):
            await slow.first_arrived.wait()  # the slow unit holds its first request
            outbox.publish("abandoned", report("2000000", danger=True),
                           queue="women-protection", details={"wait_seconds": 40})
            await eventually(lambda: other.keys == ["2000000:abandoned"],
                             what="the other unit's alert")
            # ... while the slow unit still holds its first request, the others queued.
            assert not slow.release.is_set() and slow.arrived == ["1000000:routed"]
            assert slow.keys == []
            slow.release.set()
            await eventually_async(lambda: delivered(store, 9), what="everything delivered")
    assert slow.keys == [f"100000{n}:routed" for n in range(8)]


async def test_within_a_unit_the_danger_alert_goes_first(store: ReportStore) -> None:
    unit = Unit(slow=True)
    async with serving(unit.handle) as url:
        config = HandoverConfig({"child-protection": (Endpoint(url, SECRET, ALL),)})
        outbox = PatientOutbox(store.outbox, lambda: config)
        outbox.publish("routed", report("3000000"), queue="child-protection")
        outbox.publish("routed", report("3000001", danger=True), queue="child-protection")
        for n in range(2, 6):
            outbox.publish("routed", report(f"300000{n}"), queue="child-protection")
        await store.writer.flush()
        async with working(outbox):
            # Queued before the worker started: the report in danger goes first.
            await unit.first_arrived.wait()
            assert unit.arrived == ["3000001:routed"]
            # Published while the unit holds a request: the alert is next, ahead of the
            # four rows already waiting (and of the lane's rows taken before it came).
            outbox.publish("abandoned", report("3000009", danger=True),
                           queue="child-protection", details={"wait_seconds": 3})
            await store.writer.flush()
            unit.release.set()
            await eventually_async(lambda: delivered(store, 7), what="everything delivered")
    assert unit.keys == ["3000001:routed", "3000009:abandoned", "3000000:routed",
                         "3000002:routed", "3000003:routed", "3000004:routed",
                         "3000005:routed"]


async def test_a_published_event_goes_at_once_not_at_the_next_poll(
        store: ReportStore) -> None:
    class Sleepy(PatientOutbox):
        POLL = 3600.0  # only the publish can wake the worker in time

    unit = Unit()
    async with serving(unit.handle) as url:
        config = HandoverConfig({"child-protection": (Endpoint(url, SECRET, ALL),)})
        outbox = Sleepy(store.outbox, lambda: config)
        # Another connection holds SQLite's write lock: the published row waits in the
        # spool, uncommitted, while the worker takes its first look; it must go once the
        # spool is replayed, not at the next poll.
        blocker = sqlite3.connect(store.path, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            outbox.publish("abandoned", report("6000000", danger=True),
                           queue="child-protection", details={"wait_seconds": 9})
            async with working(outbox):
                await asyncio.sleep(0.3)  # the worker's first look (well within the lock wait)
                blocker.execute("COMMIT")
                await eventually(lambda: unit.keys == ["6000000:abandoned"],
                                 what="the alert")
        finally:
            blocker.close()


class HugeBody:
    """A unit answering 200 with an endless body: counts the bytes it managed to send
    before the client went away."""

    CHUNK = b"x" * 65536
    CAP = 512 * 2**20  # stop by itself at 512 MB (a client that reads all of it)

    def __init__(self, *, declared: bool) -> None:
        self.declared = declared  # a (huge) Content-Length, else chunked
        self.sent = 0
        self.requests = 0
        self.done = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.requests += 1
        response = web.StreamResponse(status=200)
        if self.declared:
            response.content_length = 1536 * 2**20
        await response.prepare(request)
        try:
            while self.sent < self.CAP:
                await response.write(self.CHUNK)
                self.sent += len(self.CHUNK)
        except (ConnectionError, OSError):
            pass  # the client closed the connection: what we hoped for
        finally:
            self.done.set()
        return response


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_huge_answer_body_is_not_read(store: ReportStore, declared: bool) -> None:
    unit = HugeBody(declared=declared)
    async with serving(unit.handle) as url:
        config = HandoverConfig({"child-protection": (Endpoint(url, SECRET, ALL),)})
        outbox = PatientOutbox(store.outbox, lambda: config)
        tracemalloc.start()
        try:
            async with working(outbox):
                outbox.publish("routed", report("4000000"), queue="child-protection")
                await eventually_async(lambda: delivered(store, 1), what="delivered")
                await asyncio.wait_for(unit.done.wait(), 60)  # a failsafe, not a measure
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # The 2xx status line is the answer; the body was left unread and the connection
    # closed: only what the sockets' buffers took ever left the server.
    assert unit.requests == 1
    assert unit.sent < 32 * 2**20, unit.sent
    assert peak < 16 * 2**20, peak


async def test_a_refusal_s_reason_is_stored_scrubbed_and_bounded(store: ReportStore) -> None:
    reasons = ["Busy api_key=sk_live_4f9a2b call +971 50 123 4567 token=abc",
               "Down " + "x" * 3000 + " password=hunter2"]

    async def refuse(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=503, reason=reasons[0 if "5000000" in
                                                       request.headers["Idempotency-Key"]
                                                       else 1])

    async with serving(refuse) as url:
        config = HandoverConfig({"child-protection": (Endpoint(url, SECRET, ALL),)})

        class Impatient(PatientOutbox):
            MAX_ATTEMPTS = 1

        outbox = Impatient(store.outbox, lambda: config)
        async with working(outbox):
            outbox.publish("routed", report("5000000"), queue="child-protection")
            outbox.publish("routed", report("5000001"), queue="child-protection")

            async def both_failed() -> bool:
                return len(await store.queries.deliveries("failed", 10)) == 2

            await eventually_async(both_failed, what="both failed")
    errors = {row.key: row.last_error for row in await store.queries.deliveries("failed", 10)}
    assert errors["5000000:routed"] == ("HTTP 503 Busy api_key=[redacted] call +9715****4567"
                                        " token=[redacted]")
    long = errors["5000001:routed"]
    assert long is not None and long.startswith("HTTP 503 Down xxx")
    assert len(long) == Outbox.ERROR_CHARS and long.endswith("…")
