"""The outbox against a real HTTP receiver on 127.0.0.1: order, signatures, idempotency
keys, a receiver refusing or down and back, an app restart, and publish never failing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from balagh.handover.document import schema
from balagh.handover.load import Endpoint, HandoverConfig
from balagh.handover.outbox import Outbox, verify
from balagh.store import ReportStore

from .handover_receiver import Receiver, eventually, eventually_async

pytestmark = pytest.mark.both_engines  # on SQLite and on PostgreSQL (conftest.py)

SECRET = "unit-secret-1"
REPORT: dict[str, object] = {"reference": "3356375", "queue": "child-protection",
                             "danger": True}
ALL = frozenset({"routed", "answered", "abandoned", "ended"})


class FastOutbox(Outbox):
    FIRST_RETRY = 0.02
    MAX_RETRY = 0.1
    POLL = 0.2
    TIMEOUT = 2.0


def config_for(*urls: str, queue: str = "child-protection",
               events: frozenset[str] = ALL) -> HandoverConfig:
    return HandoverConfig({queue: tuple(Endpoint(url, SECRET, events) for url in urls)})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(SECRET).start()
    yield receiver
    receiver.stop()


class Running:
    """An outbox whose worker runs until the test ends (or stop())."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.task = asyncio.create_task(outbox.run())

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        assert self.task.cancelled(), self.task  # the worker never ended by itself


@pytest.fixture
async def running() -> AsyncIterator[list[Running]]:
    started: list[Running] = []
    yield started
    for worker in started:
        await worker.stop()


def start(running: list[Running], outbox: Outbox) -> Outbox:
    running.append(Running(outbox))
    return outbox


async def statuses(store: ReportStore) -> list[str]:
    return [row.status for row in await store.queries.deliveries(None, 100)]


def publish_life(outbox: Outbox) -> None:
    outbox.publish("routed", REPORT, queue="child-protection",
                   details={"rule": "child-in-danger"})
    outbox.publish("answered", REPORT, queue="child-protection",
                   details={"agent": "Layla", "wait_seconds": 12})
    outbox.publish("ended", REPORT, queue="child-protection", details={"talk_seconds": 95})


KEYS = ["3356375:routed", "3356375:answered", "3356375:ended"]


async def test_a_report_s_life_arrives_in_order_signed(store: ReportStore,
                                                       receiver: Receiver,
                                                       running: list[Running]) -> None:
    outbox = start(running, FastOutbox(store.outbox, lambda: config_for(receiver.url)))
    publish_life(outbox)
    await eventually(lambda: len(receiver.accepted) == 3, what="three deliveries")
    assert receiver.keys() == KEYS
    check = jsonschema.Draft202012Validator(schema())
    for received, event in zip(receiver.accepted, ["routed", "answered", "ended"], strict=True):
        assert received.headers["Content-Type"] == "application/json"
        assert received.headers["X-Balagh-Event"] == event
        assert verify(received.body, SECRET, received.headers["Balagh-Signature"])
        assert not verify(received.body, "another-secret",
                          received.headers["Balagh-Signature"])
        document = received.document
        assert document["id"] == received.headers["Idempotency-Key"] == f"3356375:{event}"
        assert document["event"] == event and document["report"] == REPORT
        check.validate(document)
    assert receiver.accepted[1].document["agent"] == "Layla"
    await eventually_async(lambda: _all_delivered(store, 3), what="rows delivered")
    rows = await store.queries.deliveries(None, 10)
    assert all(row.attempts == 1 and row.delivered_at for row in rows)


async def _all_delivered(store: ReportStore, count: int) -> bool:
    values = await statuses(store)
    return len(values) == count and set(values) == {"delivered"}


async def test_published_twice_sent_once(store: ReportStore, receiver: Receiver,
                                         running: list[Running]) -> None:
    outbox = FastOutbox(store.outbox, lambda: config_for(receiver.url))
    outbox.publish("routed", REPORT, queue="child-protection")
    outbox.publish("routed", REPORT, queue="child-protection")
    await store.writer.flush()
    assert len(await store.queries.deliveries(None, 10)) == 1
    start(running, outbox)
    await eventually_async(lambda: _all_delivered(store, 1), what="delivered")
    assert receiver.keys() == ["3356375:routed"]


async def test_a_refusing_receiver_gets_each_event_once_when_it_takes_them(
        store: ReportStore, receiver: Receiver, running: list[Running]) -> None:
    receiver.refusing = True
    outbox = start(running, FastOutbox(store.outbox, lambda: config_for(receiver.url)))
    publish_life(outbox)
    await eventually(lambda: receiver.refused >= 6, what="refusals")
    rows = await store.queries.deliveries("pending", 10)
    assert rows and all(row.last_error == "HTTP 500 Internal Server Error" for row in rows
                        if row.attempts)
    receiver.refusing = False
    await eventually_async(lambda: _all_delivered(store, 3), what="all delivered")
    assert sorted(receiver.keys()) == sorted(KEYS)  # each exactly once
    assert max(row.attempts for row in await store.queries.deliveries(None, 10)) > 1


async def test_a_receiver_that_is_down_gets_everything_when_it_is_back(
        store: ReportStore, receiver: Receiver, running: list[Running]) -> None:
    receiver.stop()  # its port is closed now
    outbox = start(running, FastOutbox(store.outbox, lambda: config_for(receiver.url)))
    publish_life(outbox)

    async def tried_twice() -> bool:
        rows = await store.queries.deliveries("pending", 10)
        return len(rows) == 3 and max(row.attempts for row in rows) >= 2

    await eventually_async(tried_twice, what="failed attempts")
    errors = {row.last_error for row in await store.queries.deliveries("pending", 10)} - {None}
    assert errors and all(error.startswith("ClientConnectorError") for error in errors)
    receiver.start()  # back on the same port
    await eventually_async(lambda: _all_delivered(store, 3), what="all delivered")
    assert sorted(receiver.keys()) == sorted(KEYS)


async def test_a_new_outbox_delivers_what_the_old_one_left(tmp_path: Path,
                                                           receiver: Receiver,
                                                           running: list[Running]) -> None:
    path = tmp_path / "data" / "balagh.db"
    receiver.refusing = True
    store = await ReportStore.open(path)
    old = start(running, FastOutbox(store.outbox, lambda: config_for(receiver.url)))
    publish_life(old)
    await eventually(lambda: receiver.refused >= 2, what="refusals")
    await running.pop().stop()  # the app stops
    await store.close()
    receiver.refusing = False

    store = await ReportStore.open(path)  # and starts again
    try:
        assert len(await store.queries.deliveries("pending", 10)) == 3
        start(running, FastOutbox(store.outbox, lambda: config_for(receiver.url)))
        await eventually_async(lambda: _all_delivered(store, 3), what="all delivered")
        assert sorted(receiver.keys()) == sorted(KEYS)
        await running.pop().stop()
    finally:
        await store.close()


async def test_gives_up_then_retry_puts_it_back(store: ReportStore, receiver: Receiver,
                                                running: list[Running]) -> None:
    class Impatient(FastOutbox):
        MAX_ATTEMPTS = 3

    receiver.refusing = True
    outbox = start(running, Impatient(store.outbox, lambda: config_for(receiver.url)))
    outbox.publish("abandoned", REPORT, queue="child-protection", details={"wait_seconds": 5})

    async def failed() -> bool:
        return bool(await store.queries.deliveries("failed", 10))

    await eventually_async(failed, what="given up")
    [row] = await store.queries.deliveries("failed", 10)
    assert row.attempts == 3 and receiver.refused == 3
    assert row.last_error == "HTTP 500 Internal Server Error"
    receiver.refusing = False
    assert await store.outbox.retry_deliveries([row.id + 1],
                                               datetime.now(UTC)) == 0  # not a failed one
    assert await store.outbox.retry_deliveries(None, datetime.now(UTC)) == 1
    await eventually_async(lambda: _all_delivered(store, 1), what="delivered after retry")
    [received] = receiver.accepted
    assert received.document["alert"] == "caller in danger hung up before anyone answered"
    [row] = await store.queries.deliveries(None, 10)
    assert row.attempts == 1  # a retried delivery starts its count again


async def test_each_endpoint_gets_the_events_it_wants(store: ReportStore,
                                                      running: list[Running]) -> None:
    units = [Receiver(secret).start() for secret in (SECRET, "second", "desk")]
    try:
        config = HandoverConfig({
            "child-protection": (Endpoint(units[0].url, SECRET, ALL),
                                 Endpoint(units[1].url, "second", frozenset({"answered"}))),
            "*": (Endpoint(units[2].url, "desk", frozenset({"abandoned", "routed"})),
                  Endpoint(units[0].url, SECRET, ALL)),  # already the queue's: sent once
        })
        outbox = start(running, FastOutbox(store.outbox, lambda: config))
        publish_life(outbox)
        outbox.publish("routed", {"reference": "4400001"}, queue="women-protection")
        outbox.publish("routed", {"reference": "4400002"}, queue=None)
        await eventually_async(lambda: _all_delivered(store, 9), what="all delivered")
        assert units[0].keys() == [*KEYS, "4400001:routed", "4400002:routed"]
        assert units[1].keys() == ["3356375:answered"]
        assert verify(units[1].accepted[0].body, "second",
                      units[1].accepted[0].headers["Balagh-Signature"])
        assert not any(unit.unsigned for unit in units)
        assert units[2].keys() == ["3356375:routed", "4400001:routed", "4400002:routed"]
    finally:
        for unit in units:
            unit.stop()


async def test_an_endpoint_gone_from_the_config_fails_its_rows(store: ReportStore,
                                                               receiver: Receiver,
                                                               running: list[Running]) -> None:
    config = [config_for(receiver.url)]
    outbox = FastOutbox(store.outbox, lambda: config[0])
    outbox.publish("routed", REPORT, queue="child-protection")
    config[0] = HandoverConfig()
    start(running, outbox)

    async def failed() -> bool:
        return bool(await store.queries.deliveries("failed", 10))

    await eventually_async(failed, what="failed")
    [row] = await store.queries.deliveries("failed", 10)
    assert row.last_error is not None and "handover.yaml" in row.last_error
    assert receiver.accepted == []


async def test_nothing_is_queued_without_endpoints(store: ReportStore) -> None:
    outbox = Outbox(store.outbox, HandoverConfig)
    publish_life(outbox)
    await store.writer.flush()
    assert await store.queries.deliveries(None, 10) == []


async def test_publish_never_raises(tmp_path: Path, receiver: Receiver) -> None:
    store = await ReportStore.open(tmp_path / "closed.db")
    await store.close()
    outbox = Outbox(store.outbox, lambda: config_for(receiver.url))
    publish_life(outbox)  # the store is closed: refused, counted, not raised
    assert store.writer.write_errors == 3

    def broken() -> HandoverConfig:
        raise RuntimeError("config gone")

    Outbox(store.outbox, broken).publish("routed", REPORT, queue="child-protection")
    outbox.publish("opened", REPORT, queue="child-protection")  # no such event
    outbox.publish("routed", {"queue": "x"}, queue="child-protection")  # no reference
    outbox.publish("routed", REPORT, queue="child-protection",
                   details={"event": "x"})  # would overwrite the envelope
    outbox.publish("routed", {**REPORT, "odd": object()}, queue="child-protection")
    assert store.writer.write_errors == 4  # only the last got as far as the (closed) store


async def test_the_body_is_the_document_serialised_once(store: ReportStore) -> None:
    outbox = Outbox(store.outbox, lambda: config_for("http://127.0.0.1:9/a", "http://127.0.0.1:9/b"))
    outbox.publish("answered", REPORT, queue="child-protection",
                   details={"agent": "Layla", "wait_seconds": 3})
    await store.writer.flush()
    first, second = await store.queries.deliveries(None, 10)
    assert first.body == second.body
    assert json.loads(first.body)["agent"] == "Layla"
    assert {first.url, second.url} == {"http://127.0.0.1:9/a", "http://127.0.0.1:9/b"}
    assert first.status == "pending" and first.attempts == 0 and first.reference == "3356375"
