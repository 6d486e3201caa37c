"""The queue's side of a report, from app_queue's AMI events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from balagh.ami.client import AmiSession
from balagh.ami.outcomes import QueueOutcomes, apply_queue_event
from balagh.ami.unended import UnendedCalls
from balagh.config import AmiSettings
from balagh.readmodel.reader import reader_of
from balagh.status import ReportStatus
from balagh.store import ReportStore

pytestmark = pytest.mark.both_engines  # on SQLite and on PostgreSQL (conftest.py)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def routed_call(store: ReportStore) -> None:
    """Every test starts with call c1 routed by the IVR."""
    store.calls.start_report(call_id="c1", reference="1234566", channel="PJSIP/x", caller=None,
                             hotline="800700", started_at=T0)
    store.calls.set_status(call_id="c1", status=ReportStatus.ROUTED, at=T0)


async def test_answered_then_completed(store):
    apply_queue_event(store.calls, {"Event": "QueueCallerJoin", "Uniqueid": "c1",
                                    "Queue": "balagh-women-protection"}, T0)
    apply_queue_event(store.calls, {"Event": "AgentConnect", "Uniqueid": "c1",
                                    "Queue": "balagh-women-protection", "MemberName": "Amal",
                                    "HoldTime": "12"}, T0 + timedelta(seconds=12))
    apply_queue_event(store.calls, {"Event": "AgentComplete", "Uniqueid": "c1", "TalkTime": "300",
                                    "Queue": "balagh-women-protection"},
                      T0 + timedelta(seconds=312))
    await store.writer.flush()
    report = await store.queries.get_report("c1")
    # The IVR's status is kept beside the queue's outcome.
    assert report.status == ReportStatus.ROUTED
    assert (report.queue_outcome, report.answered_by, report.joined_queue) == (
        "answered", "Amal", "women-protection")
    assert (report.wait_seconds, report.talk_seconds) == (12, 300)
    assert report.ended_at == "2026-11-24T09:05:12.000Z"


async def test_abandoned_in_the_queue(store):
    apply_queue_event(store.calls, {"Event": "QueueCallerAbandon", "Uniqueid": "c1",
                                    "Queue": "balagh-general", "HoldTime": "45"}, T0)
    await store.writer.flush()
    report = await store.queries.get_report("c1")
    assert (report.queue_outcome, report.wait_seconds) == ("abandoned", 45)
    assert report.ended_at is not None


async def test_events_of_other_calls_change_nothing(store):
    apply_queue_event(store.calls, {"Event": "AgentConnect", "Uniqueid": "someone-else",
                                    "Queue": "sales", "MemberName": "Bob"}, T0)
    apply_queue_event(store.calls, {"Event": "Hangup", "Uniqueid": "c1"}, T0)
    await store.writer.flush()
    report = await store.queries.get_report("c1")
    assert report.queue_outcome is None and store.writer.write_errors == 0


# --------------------------------------------- an answered call whose end app_queue lost

class Clock:
    """The outcomes' clock: each event the test sends is read at the time it was sent
    with (QueueOutcomes reads the clock once per event it takes)."""

    def __init__(self) -> None:
        self.times: list[datetime] = []

    def __call__(self) -> datetime:
        return self.times.pop(0)


class Sent:
    """The outbox: what was handed over to the unit, waited on by event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.queues: list[str | None] = []  # the queue each event was handed over for
        self.reports: list[Mapping[str, object]] = []  # what each event said of its report
        self._changed = asyncio.Condition()

    def publish(self, event: str, report: Mapping[str, object], *, queue: str | None,
                details: Mapping[str, object] | None = None) -> None:
        self.events.append((str(report["reference"]), event))
        self.queues.append(queue)
        self.reports.append(report)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, count: int, event: str) -> None:
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: self.kinds().count(event) >= count)

    def kinds(self) -> list[str]:
        return [kind for _, kind in self.events]


@pytest.fixture
async def following(store: ReportStore) -> AsyncIterator[tuple[AmiSession, Clock, Sent]]:
    """QueueOutcomes on an AmiSession fed by the test (its own dispatch, no socket), with
    a grace short enough for a unit test; a second routed call c2 marks progress."""
    store.calls.start_report(call_id="c2", reference="7654321", channel="PJSIP/y", caller=None,
                             hotline="800700", started_at=T0)
    await store.writer.flush()  # the reports are there before their calls' queue events
    ami, clock, sent = AmiSession(AmiSettings()), Clock(), Sent()
    outcomes = QueueOutcomes(ami, store.calls, store.queries, clock=clock, outbox=sent,
                             end_grace=0.05)
    task = asyncio.create_task(outcomes.run())
    await asyncio.sleep(0)  # listening
    yield ami, clock, sent
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def ami_event(ami: AmiSession, clock: Clock, seconds: float, **event: str) -> None:
    clock.times.append(T0 + timedelta(seconds=seconds))
    ami._on_event(None, event)  # as panoramisk hands AMI's events over


def connect(ami: AmiSession, clock: Clock, call_id: str = "c1") -> None:
    ami_event(ami, clock, 12, Event="AgentConnect", Uniqueid=call_id,
              Queue="balagh-general", MemberName="Amal", HoldTime="12")


async def ends(store: ReportStore, call_id: str = "c1") -> list[dict]:
    await store.writer.flush()
    events = await reader_of(store).timeline(call_id)
    return [dict(e.detail) for e in events if str(e.kind) == "end"]


async def test_a_hang_up_without_agent_complete_still_ends_the_report(store, following):
    ami, clock, sent = following
    connect(ami, clock)
    ami_event(ami, clock, 42, Event="Hangup", Uniqueid="c1", Cause="16")
    await sent.until(1, "ended")
    await store.writer.flush()  # handed over as the end is queued for the writer, not committed
    report = await store.queries.get_report("c1")
    assert (report.queue_outcome, report.talk_seconds) == ("answered", 30)
    assert report.ended_at == "2026-11-24T09:00:42.000Z"  # when the channel hung up
    assert await ends(store) == [{"talk_seconds": 30, "by": None}]


async def test_agent_complete_within_the_grace_is_the_one_end(store, following):
    ami, clock, sent = following
    connect(ami, clock)
    ami_event(ami, clock, 42, Event="Hangup", Uniqueid="c1")
    ami_event(ami, clock, 43, Event="AgentComplete", Uniqueid="c1", TalkTime="30",
              Reason="caller", Queue="balagh-general")
    await sent.until(1, "ended")
    connect(ami, clock, "c2")  # after the grace: c1's Hangup led to nothing more
    ami_event(ami, clock, 50, Event="Hangup", Uniqueid="c2")
    await sent.until(2, "ended")
    assert await ends(store) == [{"talk_seconds": 30, "by": "caller"}]
    assert sent.events.count(("1234566", "ended")) == 1


async def test_an_agent_complete_after_the_made_end_is_not_counted_again(store, following):
    ami, clock, sent = following
    connect(ami, clock)
    ami_event(ami, clock, 42, Event="Hangup", Uniqueid="c1")
    await sent.until(1, "ended")
    ami_event(ami, clock, 60, Event="AgentComplete", Uniqueid="c1", TalkTime="30",
              Reason="agent", Queue="balagh-general")
    connect(ami, clock, "c2")  # events are taken in order: c2's answer comes after
    await sent.until(2, "answered")
    assert await ends(store) == [{"talk_seconds": 30, "by": None}]
    assert sent.kinds().count("ended") == 1


async def test_the_usual_order_ends_once_and_ignores_the_hangup(store, following):
    ami, clock, sent = following
    connect(ami, clock)
    ami_event(ami, clock, 40, Event="AgentComplete", Uniqueid="c1", TalkTime="28",
              Reason="agent", Queue="balagh-general")
    ami_event(ami, clock, 41, Event="Hangup", Uniqueid="c1")
    await sent.until(1, "ended")
    connect(ami, clock, "c2")
    ami_event(ami, clock, 50, Event="Hangup", Uniqueid="c2")
    await sent.until(2, "ended")  # c2's made end: c1's Hangup would have come first
    assert await ends(store) == [{"talk_seconds": 28, "by": "agent"}]


def test_connected_calls_followed_are_bounded():
    calls = UnendedCalls(limit=3)
    for n in range(5):
        calls.follow({"Event": "AgentConnect", "Uniqueid": f"c{n}"}, T0)
    assert not calls.awaits_end("c1")  # forgotten
    assert calls.awaits_end("c4")
    assert calls.missing_end("c4", T0 + timedelta(seconds=9)) == {
        "Event": "AgentComplete", "Uniqueid": "c4", "Queue": "", "TalkTime": "9", "Reason": ""}
    assert calls.missing_end("c4", T0) is None  # made once


async def test_an_abandon_the_moment_of_joining_alerts_the_queue_the_caller_was_in(
        store, following):
    """The join and the abandon come together: the report's join is not committed when the
    abandon is handed over, and the alert must still go to that queue's unit."""
    ami, clock, sent = following
    ami_event(ami, clock, 1, Event="QueueCallerJoin", Uniqueid="c2",
              Queue="balagh-child-protection")
    ami_event(ami, clock, 1, Event="QueueCallerAbandon", Uniqueid="c2",
              Queue="balagh-child-protection", HoldTime="0")
    await sent.until(1, "abandoned")
    assert sent.events == [("7654321", "abandoned")]
    assert sent.queues == ["child-protection"]


async def test_the_queue_events_say_the_consent_as_the_routed_one_did(store, following):
    """The unit must not call back on a no: answered, abandoned and ended documents carry
    the caller's consent too (yes only when said, on a number we have)."""
    ami, clock, sent = following
    store.calls.start_report(call_id="c3", reference="5550003", channel="PJSIP/z",
                             caller="+971501234567", hotline="800700", started_at=T0)
    store.calls.record_answer(call_id="c3", question="contact_safe", value="yes", key="1",
                              attempt=1, at=T0)
    await store.writer.flush()
    ami_event(ami, clock, 30, Event="QueueCallerAbandon", Uniqueid="c3",
              Queue="balagh-general", HoldTime="30", Position="1", OriginalPosition="1")
    ami_event(ami, clock, 31, Event="QueueCallerAbandon", Uniqueid="c1",
              Queue="balagh-general", HoldTime="31", Position="1", OriginalPosition="1")
    await sent.until(2, "abandoned")
    said = {str(report["reference"]): report["consent"] for report in sent.reports}
    assert said == {"5550003": "yes", "1234566": "no"}
