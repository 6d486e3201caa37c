"""The queue's side of a report, from app_queue's AMI events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from balagh.ami.outcomes import apply_queue_event
from balagh.status import ReportStatus
from balagh.store import ReportStore

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def routed_call(store: ReportStore) -> None:
    """Every test starts with call c1 routed by the IVR."""
    store.start_report(call_id="c1", reference="1234566", channel="PJSIP/x", caller=None,
                       hotline="800700", started_at=T0)
    store.set_status(call_id="c1", status=ReportStatus.ROUTED, at=T0)


async def test_answered_then_completed(store):
    apply_queue_event(store, {"Event": "QueueCallerJoin", "Uniqueid": "c1",
                              "Queue": "balagh-women-protection"}, T0)
    apply_queue_event(store, {"Event": "AgentConnect", "Uniqueid": "c1",
                              "Queue": "balagh-women-protection", "MemberName": "Amal",
                              "HoldTime": "12"}, T0 + timedelta(seconds=12))
    apply_queue_event(store, {"Event": "AgentComplete", "Uniqueid": "c1", "TalkTime": "300",
                              "Queue": "balagh-women-protection"}, T0 + timedelta(seconds=312))
    await store.flush()
    report = await store.get_report("c1")
    # The IVR's status is kept beside the queue's outcome.
    assert report.status == ReportStatus.ROUTED
    assert (report.queue_outcome, report.answered_by, report.joined_queue) == (
        "answered", "Amal", "women-protection")
    assert (report.wait_seconds, report.talk_seconds) == (12, 300)
    assert report.ended_at == "2026-11-24T09:05:12.000Z"


async def test_abandoned_in_the_queue(store):
    apply_queue_event(store, {"Event": "QueueCallerAbandon", "Uniqueid": "c1",
                              "Queue": "balagh-general", "HoldTime": "45"}, T0)
    await store.flush()
    report = await store.get_report("c1")
    assert (report.queue_outcome, report.wait_seconds) == ("abandoned", 45)
    assert report.ended_at is not None


async def test_events_of_other_calls_change_nothing(store):
    apply_queue_event(store, {"Event": "AgentConnect", "Uniqueid": "someone-else",
                              "Queue": "sales", "MemberName": "Bob"}, T0)
    apply_queue_event(store, {"Event": "Hangup", "Uniqueid": "c1"}, T0)
    await store.flush()
    report = await store.get_report("c1")
    assert report.queue_outcome is None and store.write_errors == 0
