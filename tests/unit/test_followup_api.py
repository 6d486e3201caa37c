"""The units' follow-up API over real HTTP: the app's inbound listener, a real SQLite store,
requests signed as docs/units.md shows. Each answer the page promises: 200 (taken or
duplicate), 400 with the field, 401 (unsigned, wrong secret, stale, future), 404 (unknown or
another unit's report, the same answer), 409, 413; and the resolved hook."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from balagh.config import InboundSettings
from balagh.handover.load import Endpoint, HandoverConfig
from balagh.handover.signature import HEADER, REPLAY_WINDOW, sign
from balagh.inbound import InboundServer, serve_inbound
from balagh.reachback.followup_api import PATH, FollowupApi, Resolved
from balagh.readmodel.reader import reader_of
from balagh.store import ReportStore
from balagh.store.events import EventKind

CHILD, WOMEN = "child-secret-value", "women-secret-value"
HANDOVER = HandoverConfig(endpoints={
    "child-protection": (Endpoint("https://child.example/in", CHILD,
                                  secret_name="CHILD_UNIT_HOOK"),),
    "women-protection": (Endpoint("https://women.example/in", WOMEN,
                                  secret_name="WOMEN_UNIT_HOOK"),),
})
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    base: str
    store: ReportStore
    api: FollowupApi
    resolved: list[Resolved] = field(default_factory=list)

    async def post(self, reference: str, payload: object, *, secret: str = CHILD,
                   id: str = "case-1", t: float | None = None,
                   raw: bytes | None = None) -> tuple[int, dict[str, object]]:
        data = raw if raw is not None else json.dumps(payload).encode()
        header = sign(data, secret, delivery_id=id,
                      timestamp=int(time.time() if t is None else t))
        async with aiohttp.ClientSession() as http, http.post(
                self.base + PATH.format(reference=reference), data=data,
                headers={HEADER: header, "Content-Type": "application/json"}) as answer:
            return answer.status, await answer.json()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    store = await ReportStore.open(tmp_path / "balagh.db")
    for call_id, reference, queue in (("c1", "3356375", "child-protection"),
                                      ("c2", "4400012", "women-protection")):
        store.calls.start_report(call_id=call_id, reference=reference, channel="PJSIP/x",
                                 caller="+971501234567", hotline="800", started_at=T0)
        store.calls.record_decision(call_id=call_id, rule="r", queue=queue, priority=5,
                                    at=T0 + timedelta(seconds=3))
    store.calls.start_report(call_id="c3", reference="5500017", channel="PJSIP/x",
                             caller=None, hotline="800", started_at=T0)  # never routed
    await store.writer.flush()
    server = InboundServer(InboundSettings(enabled=True, port=free_port()))
    api = FollowupApi(store.followups, store.queries, lambda: HANDOVER)
    server.add_route("POST", PATH, api.handle)
    task = asyncio.create_task(serve_inbound(server))
    await asyncio.wait_for(server.started.wait(), 10)
    served = Served(f"http://127.0.0.1:{server.port}", store, api)
    api.on_resolved.append(served.resolved.append)
    yield served
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await store.close()


async def followups(served: Served, reference: str = "3356375") -> list[dict[str, object]]:
    return [dict(e.detail) for e in await reader_of(served.store).timeline(reference)
            if e.kind == EventKind.FOLLOWUP]


async def test_a_signed_status_is_taken_once(served: Served) -> None:
    status, answer = await served.post("3356375", {"status": "received"})
    assert (status, answer) == (200, {"result": "taken", "status": "received", "id": "case-1"})
    status, answer = await served.post("3356375", {"status": "received"})  # the same id again
    assert (status, answer) == (200, {"result": "duplicate", "id": "case-1"})
    assert [s["status"] for s in await followups(served)] == ["received"]
    report = await served.store.queries.get_report("3356375")
    assert report is not None and report.followup_status == "received"


async def test_resolved_tells_the_listeners_once(served: Served) -> None:
    assert (await served.post("3356375", {"status": "resolved", "reason": "visited"},
                              id="r-1"))[0] == 200
    assert (await served.post("3356375", {"status": "resolved", "reason": "visited"},
                              id="r-1"))[0] == 200
    assert [(r.reference, r.call_id, r.queue, r.unit) for r in served.resolved] == [
        ("3356375", "c1", "child-protection", "CHILD_UNIT_HOOK")]


async def test_a_listener_that_fails_does_not_fail_the_unit(served: Served) -> None:
    def broken(_: Resolved) -> None:
        raise RuntimeError("sms sender down")

    served.api.on_resolved.insert(0, broken)
    status, _ = await served.post("3356375", {"status": "resolved"})
    assert status == 200 and len(served.resolved) == 1


@pytest.mark.parametrize("when", ["unsigned", "wrong secret", "stale", "future", "other body"])
async def test_an_unproven_request_is_401_and_changes_nothing(served: Served,
                                                               when: str) -> None:
    url = served.base + PATH.format(reference="3356375")
    data = json.dumps({"status": "resolved"}).encode()
    now = time.time()
    headers = {
        "wrong secret": sign(data, "guessed", delivery_id="x", timestamp=int(now)),
        "stale": sign(data, CHILD, delivery_id="x", timestamp=int(now - REPLAY_WINDOW - 30)),
        "future": sign(data, CHILD, delivery_id="x", timestamp=int(now + REPLAY_WINDOW + 30)),
        "other body": sign(b'{"status": "received"}', CHILD, delivery_id="x",
                           timestamp=int(now)),
    }
    async with aiohttp.ClientSession() as http, http.post(
            url, data=data,
            headers={HEADER: headers[when]} if when in headers else {}) as answer:
        assert answer.status == 401
    assert await followups(served) == [] and served.resolved == []


@pytest.mark.parametrize("reference", ["4400012", "9999999", "5500017", "c1"])
async def test_another_units_report_is_not_found_like_a_missing_one(served: Served,
                                                                    reference: str) -> None:
    status, answer = await served.post(reference, {"status": "resolved"})
    assert (status, answer) == (404, {"error": "no such report for this unit"})
    assert await followups(served, "4400012") == []


async def test_the_other_unit_may_write_its_own(served: Served) -> None:
    status, _ = await served.post("4400012", {"status": "received"}, secret=WOMEN)
    assert status == 200
    assert [s["unit"] for s in await followups(served, "4400012")] == ["WOMEN_UNIT_HOOK"]


async def test_a_bad_body_is_400_with_its_field(served: Served) -> None:
    status, answer = await served.post("3356375", {"status": "closed"})
    assert status == 400 and answer["field"] == "reason"
    status, answer = await served.post("3356375", None, raw=b"not json")
    assert status == 400 and answer["field"] == "body"
    status, answer = await served.post("3356375", {"status": "received"}, id="x" * 101)
    assert status == 400 and answer["field"] == "id"
    assert await followups(served) == []


async def test_a_refused_transition_is_409(served: Served) -> None:
    assert (await served.post("3356375", {"status": "resolved"}, id="a"))[0] == 200
    status, answer = await served.post("3356375", {"status": "in_progress"}, id="b")
    assert status == 409 and answer["current"] == "resolved"
    status, _ = await served.post("3356375", {"status": "in_progress",
                                              "reason": "the caller rang again"}, id="c")
    assert status == 200
    assert [s["status"] for s in await followups(served)] == ["resolved", "in_progress"]


async def test_a_body_over_its_bound_is_413(served: Served) -> None:
    status, answer = await served.post("3356375", None, raw=b" " * 4000)
    assert status == 413 and answer["limit"] == 2048


async def test_the_units_guide_sender_is_answered(served: Served) -> None:
    """`send_status` as docs/units.md writes it, run against the API."""
    import re

    from .handover_receiver import UNITS_GUIDE

    [code] = re.findall(r"```py\n(.*?)```", UNITS_GUIDE.read_text(encoding="utf-8"), re.S)
    namespace: dict[str, object] = {}
    exec(code, namespace)
    send = namespace["send_status"]
    assert callable(send)
    args = (served.base, "3356375", "resolved", "visited", "guide-1", CHILD)
    assert await asyncio.to_thread(send, *args) == 200
    assert await asyncio.to_thread(send, served.base, "3356375", "closed", None,
                                   "guide-2", CHILD) == 400
    assert await asyncio.to_thread(send, served.base, "4400012", "resolved", None,
                                   "guide-3", CHILD) == 404
    assert [s["id"] for s in await followups(served)] == ["guide-1"]


async def test_resolved_queues_the_callers_text_once(served: Served) -> None:
    """With texts on, a unit's "resolved" queues the caller's text for it (sent only with
    consent, asked when due: tests/unit/test_sms_texts.py), one per report."""
    import sqlite3

    from balagh.reachback.sms import SmsSender
    from balagh.reachback.sms_config import SmsConfig
    from balagh.reachback.wiring import text_on_resolved

    config = SmsConfig(enabled=True, sender="800700", line="800700",
                       templates={"resolved": {"ar": "تم {reference} {line}"}})
    sender = SmsSender(served.store.sms, lambda: config, "http://127.0.0.1:9")
    listener = text_on_resolved(sender)
    served.api.on_resolved.append(listener)
    assert (await served.post("3356375", {"status": "resolved"}, id="r-1"))[0] == 200
    listener(served.resolved[0])  # told again (a resend while the store spooled)
    await served.store.writer.flush()
    with sqlite3.connect(served.store.path) as db:
        rows = db.execute("SELECT key, event, status FROM sms_outbox").fetchall()
    assert rows == [("3356375:resolved", "resolved", "pending")]
