"""Texts to callers against a real HTTP "Kannel" on 127.0.0.1 (aiohttp) and a real store:
consent asked when sending, retries, idempotency, rows independent, delivery reports
through the inbound listener's route with the text's own token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from balagh.config import InboundSettings
from balagh.inbound import InboundServer
from balagh.reachback.sms import SmsSender, TextingPublisher
from balagh.reachback.sms_config import SmsConfig
from balagh.reachback.sms_reports import delivery_report_handler, route_path
from balagh.store import ReportStore
from balagh.store.events import decode

from .handover_receiver import eventually, eventually_async

pytestmark = pytest.mark.both_engines

AR = "تم تسجيل طلبك برقم {reference}. للاستفسار اتصل على {line}."
EN = "Your request {reference} is registered. Questions: call {line}."
CALLER = "+971501234567"


class FastSender(SmsSender):
    FIRST_RETRY = 0.02
    MAX_RETRY = 0.1
    POLL = 0.2
    TIMEOUT = 2.0


class FakeKannel:
    """smsbox's sendsms as far as the sender sees it: every request's query kept; the
    answer status set by the test; a number in `hold` is answered only when released."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.status = 202
        self.hold: set[str] = set()
        self.report_first = False  # deliver the report before answering, as Kannel may
        self.report_answers: list[int] = []
        self.release = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def sendsms(self, request: web.Request) -> web.Response:
        query = {key: values[0] for key, values in
                 parse_qs(request.query_string, keep_blank_values=True).items()}
        if query.get("to") in self.hold:
            await self.release.wait()
        self.requests.append(query)
        if self.report_first:
            async with aiohttp.ClientSession() as client, client.get(
                    query["dlr-url"].replace("%d", "1")) as answer:
                self.report_answers.append(answer.status)
        return web.Response(status=self.status, text="0: Accepted for delivery")

    async def start(self) -> FakeKannel:
        app = web.Application()
        app.router.add_get("/cgi-bin/sendsms", self.sendsms)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/sendsms"


@pytest.fixture
async def kannel() -> AsyncIterator[FakeKannel]:
    fake = await FakeKannel().start()
    yield fake
    await fake.stop()


def config(kannel: FakeKannel, enabled: bool = True) -> SmsConfig:
    return SmsConfig(enabled=enabled, kannel_url=kannel.url, sender="800700", line="800700",
                     templates={"registered": {"ar": AR, "en": EN}}, username="balagh",
                     password="s3cret")


def report(store: ReportStore, reference: str, *, caller: str | None = CALLER,
           consent: str | None = "yes", language: str = "ar") -> None:
    call_id = f"call-{reference}"
    now = datetime.now(UTC)
    store.calls.start_report(call_id=call_id, reference=reference, channel="PJSIP/x",
                             caller=caller, hotline="800700", started_at=now)
    store.calls.set_language(call_id=call_id, language=language, at=now)
    if consent is not None:
        store.calls.record_answer(call_id=call_id, question="contact_safe", value=consent,
                                  key="1", attempt=1, at=now)


class Worker:
    def __init__(self, sender: SmsSender) -> None:
        self.task = asyncio.create_task(sender.run())

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def workers() -> AsyncIterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        await worker.stop()


async def statuses(store: ReportStore) -> dict[str, str]:
    async with store.queries.db.execute("SELECT reference, status FROM sms_outbox") as cursor:
        return {row[0]: row[1] async for row in cursor}


async def sms_timeline(store: ReportStore, reference: str) -> list[str]:
    async with store.queries.db.execute(
            "SELECT detail FROM report_events"
            " WHERE kind = 'sms' AND call_id = ? ORDER BY id", (f"call-{reference}",)) as cursor:
        return [str(decode(row[0])["outcome"]) async for row in cursor]


async def test_consent_yes_sends_the_arabic_text_to_the_caller(
        store: ReportStore, kannel: FakeKannel, workers: list[Worker]) -> None:
    report(store, "3356375")
    sender = FastSender(store.sms, lambda: config(kannel), "http://127.0.0.1:8096")
    workers.append(Worker(sender))
    sender.queue("3356375", "registered", "ar")
    await eventually(lambda: kannel.requests, what="a text at Kannel")
    sent = kannel.requests[0]
    assert sent["to"] == CALLER
    assert sent["text"] == AR.format(reference="3356375", line="800700")
    assert (sent["coding"], sent["charset"], sent["dlr-mask"]) == ("2", "UTF-8", "31")
    assert (sent["username"], sent["password"], sent["from"]) == ("balagh", "s3cret", "800700")
    dlr = urlsplit(sent["dlr-url"])
    assert dlr.path.startswith("/sms/dlr/") and len(dlr.path) > len("/sms/dlr/") + 30
    assert dlr.query == "type=%d"  # Kannel fills in the report's type
    await eventually_async(lambda: _is(store, "3356375", "sent"), what="sent")
    assert await sms_timeline(store, "3356375") == ["sent"]


async def _is(store: ReportStore, reference: str, status: str) -> bool:
    return (await statuses(store)).get(reference) == status


@pytest.mark.parametrize("consent", [None, "no"])
async def test_no_consent_sends_nothing(store: ReportStore, kannel: FakeKannel,
                                        workers: list[Worker], consent: str | None) -> None:
    report(store, "3356375", consent=consent)
    report(store, "4455667", caller=None)  # withheld number, whatever it answered
    sender = FastSender(store.sms, lambda: config(kannel), "http://127.0.0.1:8096")
    workers.append(Worker(sender))
    sender.queue("3356375", "registered", "ar")
    sender.queue("4455667", "registered", "ar")
    await eventually_async(lambda: _all(store, "withheld", 2), what="both withheld")
    assert kannel.requests == []
    assert await sms_timeline(store, "3356375") == ["withheld"]
    async with store.queries.db.execute(
            "SELECT COUNT(*) FROM sms_outbox WHERE destination IS NOT NULL"
            " OR text IS NOT NULL") as cursor:
        assert (await cursor.fetchone())[0] == 0


async def _all(store: ReportStore, status: str, count: int) -> bool:
    found = await statuses(store)
    return len(found) == count and set(found.values()) == {status}


async def test_consent_withdrawn_after_queueing_stops_the_text(
        store: ReportStore, kannel: FakeKannel, workers: list[Worker]) -> None:
    report(store, "3356375")
    sender = FastSender(store.sms, lambda: config(kannel), "http://127.0.0.1:8096")
    sender.queue("3356375", "registered", "ar")  # the worker is not running yet
    store.calls.record_answer(call_id="call-3356375", question="contact_safe", value="no",
                              key="2", attempt=2, at=datetime.now(UTC))
    workers.append(Worker(sender))
    await eventually_async(lambda: _is(store, "3356375", "withheld"), what="withheld")
    assert kannel.requests == []


async def test_refused_then_taken_is_sent_once_and_queued_twice_is_one_text(
        store: ReportStore, kannel: FakeKannel, workers: list[Worker]) -> None:
    report(store, "3356375")
    kannel.status = 503
    sender = FastSender(store.sms, lambda: config(kannel), "http://127.0.0.1:8096")
    sender.queue("3356375", "registered", "ar")
    sender.queue("3356375", "registered", "ar")
    workers.append(Worker(sender))
    await eventually(lambda: len(kannel.requests) >= 2, what="two refused attempts")
    kannel.status = 202
    await eventually_async(lambda: _is(store, "3356375", "sent"), what="sent")
    refused = len(kannel.requests) - 1
    assert refused >= 2
    async with store.queries.db.execute(
            "SELECT attempts, last_error FROM sms_outbox") as cursor:
        rows = [tuple(row) for row in await cursor.fetchall()]
    assert len(rows) == 1 and rows[0][0] == refused + 1 and "HTTP 503" in rows[0][1]
    assert await sms_timeline(store, "3356375") == ["sent"]  # retries are not the report's


async def test_a_text_kannel_holds_delays_no_other(store: ReportStore, kannel: FakeKannel,
                                                   workers: list[Worker]) -> None:
    report(store, "3356375", caller="+971500000001")
    report(store, "4455667", caller="+971500000002")
    kannel.hold.add("+971500000001")
    sender = FastSender(store.sms, lambda: config(kannel), "http://127.0.0.1:8096")
    sender.queue("3356375", "registered", "ar")
    sender.queue("4455667", "registered", "en")
    workers.append(Worker(sender))
    await eventually_async(lambda: _is(store, "4455667", "sent"), what="the other sent")
    assert [r["to"] for r in kannel.requests] == ["+971500000002"]
    assert kannel.requests[0]["text"] == EN.format(reference="4455667", line="800700")
    kannel.release.set()
    await eventually_async(lambda: _is(store, "3356375", "sent"), what="the held one sent")


async def test_texts_off_queue_nothing(store: ReportStore, kannel: FakeKannel) -> None:
    sender = FastSender(store.sms, lambda: config(kannel, enabled=False), "http://x")
    sender.queue("3356375", "registered", "ar")
    await store.sms.flush()
    assert await statuses(store) == {}


class Recording:
    def __init__(self) -> None:
        self.events: list[str] = []

    def publish(self, event: str, report: object, *, queue: str | None,
                details: object = None) -> None:
        self.events.append(event)


async def test_the_call_path_publisher_queues_a_text_when_routed_only(
        store: ReportStore, kannel: FakeKannel) -> None:
    outbox = Recording()
    sender = FastSender(store.sms, lambda: config(kannel), "http://x")
    publisher = TextingPublisher(outbox, sender)
    publisher.publish("routed", {"reference": "3356375", "language": "en"}, queue="q")
    publisher.publish("answered", {"reference": "3356375"}, queue="q")
    publisher.publish("routed", {}, queue="q")  # a broken document: never raises
    await store.sms.flush()
    assert outbox.events == ["routed", "answered", "routed"]
    assert await statuses(store) == {"3356375": "pending"}
    async with store.queries.db.execute("SELECT key, event, language FROM sms_outbox") as c:
        assert tuple(await c.fetchone()) == ("3356375:registered", "registered", "en")


# ------------------------------------------------------------ delivery reports


@pytest.fixture
async def inbound(store: ReportStore) -> AsyncIterator[InboundServer]:
    server = InboundServer(InboundSettings(enabled=True, port=0))
    server.add_route("GET", route_path(), delivery_report_handler(store.sms))
    task = asyncio.create_task(server.run())
    await server.started.wait()
    yield server
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_delivery_reports_land_on_the_timeline_and_forgeries_do_not(
        store: ReportStore, kannel: FakeKannel, workers: list[Worker],
        inbound: InboundServer) -> None:
    report(store, "3356375")
    base = f"http://127.0.0.1:{inbound.port}"
    sender = FastSender(store.sms, lambda: config(kannel), base)
    workers.append(Worker(sender))
    sender.queue("3356375", "registered", "ar")
    await eventually_async(lambda: _is(store, "3356375", "sent"), what="sent")
    dlr_url = kannel.requests[0]["dlr-url"]
    async with aiohttp.ClientSession() as client:
        async def get(url: str) -> int:
            async with client.get(url) as answer:
                return answer.status

        forged = dlr_url.replace("/sms/dlr/", "/sms/dlr/x")
        assert await get(forged.replace("%d", "1")) == 404
        assert await get(f"{base}/sms/dlr/{'A' * 32}?type=1") == 404
        assert await get(dlr_url.replace("%d", "3")) == 400
        assert await get(dlr_url.replace("%d", "8")) == 200
        assert await _is(store, "3356375", "sent")  # an SMSC's ack is not a delivery
        assert await get(dlr_url.replace("%d", "1")) == 200
    assert await _is(store, "3356375", "delivered")
    assert await sms_timeline(store, "3356375") == ["sent", "smsc_accepted", "delivered"]


async def test_a_report_that_outruns_kannel_s_answer_is_kept(
        store: ReportStore, kannel: FakeKannel, workers: list[Worker],
        inbound: InboundServer) -> None:
    report(store, "3356375")
    kannel.report_first = True
    sender = FastSender(store.sms, lambda: config(kannel), f"http://127.0.0.1:{inbound.port}")
    workers.append(Worker(sender))
    sender.queue("3356375", "registered", "ar")
    await eventually_async(lambda: _sent_at(store, "3356375"), what="sent")
    assert kannel.report_answers == [200]
    assert await _is(store, "3356375", "delivered")  # not overwritten by "sent"
    assert await sms_timeline(store, "3356375") == ["delivered", "sent"]


async def _sent_at(store: ReportStore, reference: str) -> bool:
    async with store.queries.db.execute(
            "SELECT sent_at FROM sms_outbox WHERE reference = ?", (reference,)) as cursor:
        row = await cursor.fetchone()
    return row is not None and row[0] is not None


async def test_a_row_left_sending_by_a_stopped_worker_goes_again(
        store: ReportStore, kannel: FakeKannel, workers: list[Worker]) -> None:
    report(store, "3356375")
    sender = FastSender(store.sms, lambda: config(kannel), "http://127.0.0.1:8096")
    sender.queue("3356375", "registered", "ar")
    await store.sms.flush()
    (row,) = await store.sms.due(datetime.now(UTC), 10)
    await store.sms.sending(row.id, CALLER, "x")  # then the app died
    workers.append(Worker(sender))
    await eventually_async(lambda: _is(store, "3356375", "sent"), what="sent after restart")
    assert len(kannel.requests) == 1
