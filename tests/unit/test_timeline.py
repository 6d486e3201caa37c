"""The report timeline in SQLite: each write appends its row in the same transaction."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from balagh.ami.outcomes import apply_queue_event
from balagh.ami.steps import apply_step_event
from balagh.readmodel.reader import reader_of
from balagh.status import ReportStatus
from balagh.store import ReportStore
from balagh.store.events import EventKind

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CALLER = "+971501234567"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def start(store: ReportStore, call_id: str = "c1", reference: str = "1234566") -> None:
    store.calls.start_report(call_id=call_id, reference=reference, channel="PJSIP/x-1",
                             caller=CALLER, hotline="800700", started_at=T0)


def steps(events) -> list[tuple[str, dict]]:
    return [(str(e.kind), dict(e.detail)) for e in events]


@pytest.mark.both_engines
async def test_the_ivr_writes_leave_a_timeline_in_order(store: ReportStore) -> None:
    start(store)
    store.calls.record_answer(call_id="c1", question="language", value="en", key="2", attempt=1,
                              at=at(3), typed_ahead=False)
    store.calls.set_language(call_id="c1", language="en", at=at(3))
    store.calls.record_answer(call_id="c1", question="danger", value="yes", key="9", attempt=2,
                              at=at(9), typed_ahead=True)
    store.calls.set_location(call_id="c1", emirate="sharjah", source="answer", at=at(10))
    store.calls.record_decision(call_id="c1", rule="child", queue="child-protection", priority=10,
                                at=at(10), danger=True)
    store.calls.set_status(call_id="c1", status=ReportStatus.ROUTED, at=at(12), typed_ahead=True)
    await store.writer.flush()

    events = await reader_of(store).timeline("1234566")
    assert [str(e.kind) for e in events] == [
        "started", "answer", "language", "answer", "location", "routing", "status"]
    by_kind = dict(steps(events))
    assert by_kind["started"] == {"hotline": "800700"}
    assert steps(events)[3][1] == {"question": "danger", "value": "yes", "key": "9",
                                   "attempt": 2, "typed_ahead": True}
    assert by_kind["location"] == {"emirate": "sharjah", "source": "answer"}
    assert by_kind["routing"] == {"rule": "child", "queue": "child-protection",
                                  "priority": 10, "danger": True}
    assert by_kind["status"] == {"status": "routed", "detail": None, "typed_ahead": True}
    assert [e.at for e in events][-1] == "2026-11-24T09:00:12.000Z"
    # The timeline never holds the caller's number.
    assert all(CALLER not in str(e.detail) for e in events)
    # The same timeline by call id; the report has the statistics' columns.
    assert await reader_of(store).timeline("c1") == events
    report = await store.queries.get_report("c1")
    assert report is not None and (report.typed_ahead, report.gave_up_in) == (1, None)


@pytest.mark.both_engines
async def test_hanging_up_in_the_ivr_names_the_question(store: ReportStore) -> None:
    start(store)
    store.calls.set_status(call_id="c1", status=ReportStatus.HUNG_UP_IN_IVR, at=at(20),
                           gave_up_in="age")
    await store.writer.flush()
    report = await store.queries.get_report("c1")
    assert report is not None
    assert (report.status, report.gave_up_in, report.typed_ahead) == (
        ReportStatus.HUNG_UP_IN_IVR, "age", None)
    [_, status] = await reader_of(store).timeline("c1")
    assert status.kind is EventKind.STATUS
    assert status.detail == {"status": "hung_up_in_ivr", "detail": None, "question": "age"}


async def test_a_report_update_and_its_event_commit_together(store: ReportStore) -> None:
    start(store)
    await store.writer.flush()
    # Break the events table from outside: the decision's write must fail as a whole.
    with sqlite3.connect(store.path) as db:
        db.execute("ALTER TABLE report_events RENAME TO report_events_away")
    store.calls.record_decision(call_id="c1", rule="child", queue="child-protection", priority=10,
                                at=at(5))
    await store.writer.flush()
    assert store.writer.write_errors == 1
    report = await store.queries.get_report("c1")
    assert report is not None and report.rule is None  # rolled back with its event


@pytest.mark.both_engines
async def test_the_queue_side_leaves_join_answer_and_end(store: ReportStore) -> None:
    start(store)
    apply_queue_event(store.calls, {"Event": "QueueCallerJoin", "Uniqueid": "c1",
                                    "Queue": "balagh-child-protection", "Position": "2"}, at(15))
    apply_queue_event(store.calls, {"Event": "AgentConnect", "Uniqueid": "c1",
                                    "Queue": "balagh-child-protection", "MemberName": "Amal",
                                    "HoldTime": "12"}, at(27))
    apply_queue_event(store.calls, {"Event": "AgentComplete", "Uniqueid": "c1", "TalkTime": "300",
                                    "Reason": "caller", "Queue": "balagh-child-protection"},
                      at(327))
    await store.writer.flush()
    assert steps(await reader_of(store).timeline("c1"))[1:] == [
        ("queue_join", {"queue": "child-protection", "position": 2}),
        ("agent_answer", {"queue": "child-protection", "agent": "Amal", "wait_seconds": 12}),
        ("end", {"talk_seconds": 300, "by": "caller"}),
    ]


@pytest.mark.both_engines
async def test_an_abandon_keeps_wait_and_position(store: ReportStore) -> None:
    start(store)
    apply_queue_event(store.calls, {"Event": "QueueCallerAbandon", "Uniqueid": "c1",
                                    "Queue": "balagh-general", "HoldTime": "45", "Position": "1"},
                      at(60))
    await store.writer.flush()
    assert steps(await reader_of(store).timeline("c1"))[-1] == (
        "abandon", {"queue": "general", "wait_seconds": 45, "position": 1})


@pytest.mark.both_engines
async def test_each_overflow_step_from_the_dialplan(store: ReportStore) -> None:
    start(store)
    for seconds, step in ((40, {"From": "women-protection", "Reason": "TIMEOUT",
                                "To": "number:+97165550000:20"}),
                          (61, {"From": "+97165550000", "Reason": "NOANSWER",
                                "To": "queue:general"})):
        apply_step_event(store.calls, {"Event": "UserEvent", "UserEvent": "BalaghOverflow",
                                       "Uniqueid": "c1", **step}, at(seconds))
    await store.writer.flush()
    assert steps(await reader_of(store).timeline("c1"))[1:] == [
        ("overflow", {"from": "women-protection", "to": "+97165550000", "to_kind": "number",
                      "reason": "TIMEOUT"}),
        ("overflow", {"from": "+97165550000", "to": "general", "to_kind": "queue",
                      "reason": "NOANSWER"}),
    ]


@pytest.mark.both_engines
async def test_a_transfer_is_recorded_on_the_caller_whichever_side(store: ReportStore) -> None:
    start(store)
    apply_step_event(store.calls, {"Event": "BlindTransfer", "Result": "Success",
                                   "TransfererChannel": "PJSIP/agent-1", "TransfererUniqueid": "a1",
                                   "TransfereeUniqueid": "c1", "BridgeUniqueid": "b1",
                                   "Extension": "2001", "Context": "units"}, at(90))
    apply_step_event(store.calls, {"Event": "AttendedTransfer", "Result": "Success",
                                   "OrigTransfererChannel": "PJSIP/agent-1",
                                   "OrigTransfererUniqueid": "a1", "TransfereeUniqueid": "c1",
                                   "TransferTargetChannel": "PJSIP/unit-7",
                                   "TransferTargetUniqueid": "u7"}, at(95))
    await store.writer.flush()
    assert steps(await reader_of(store).timeline("c1"))[1:] == [
        ("transfer", {"type": "blind", "result": "Success", "to": "2001@units",
                      "by": "PJSIP/agent-1"}),
        ("transfer", {"type": "attended", "result": "Success", "to": "PJSIP/unit-7",
                      "by": "PJSIP/agent-1"}),
    ]


async def test_events_of_calls_that_are_not_reports_leave_nothing(store: ReportStore) -> None:
    start(store)
    apply_queue_event(store.calls, {"Event": "QueueCallerJoin", "Uniqueid": "other",
                                    "Queue": "sales"}, at(1))
    apply_step_event(store.calls, {"Event": "BlindTransfer", "TransfererUniqueid": "x",
                                   "TransfereeUniqueid": "y"}, at(2))
    apply_step_event(store.calls, {"Event": "UserEvent", "UserEvent": "Other", "Uniqueid": "c1"},
                     at(3))
    await store.writer.flush()
    assert store.writer.write_errors == 0
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM report_events").fetchone()[0] == 1  # started


@pytest.mark.both_engines
async def test_supervisor_sessions_go_on_the_monitored_report(store: ReportStore) -> None:
    start(store)
    store.audit.record_monitor(at=at(100), action="pin-ok", session="s1", supervisor="Amina",
                               phone="201", reference="1234566")
    store.audit.record_monitor(at=at(101), action="start", session="s1", supervisor="Amina",
                               phone="201", reference="1234566", agent="Layla", mode="listen")
    store.audit.record_monitor(at=at(130), action="mode", session="s1", supervisor="Amina",
                               phone="201", reference="1234566", agent="Layla", mode="whisper")
    store.audit.record_monitor(at=at(140), action="end", session="s1", supervisor="Amina",
                               phone="201", reference="1234566", agent="Layla", mode="whisper")
    store.audit.record_monitor(at=at(141), action="refused", phone="202", reference="1234566",
                               detail="wrong-pin")
    await store.writer.flush()
    assert steps(await reader_of(store).timeline("1234566"))[1:] == [
        ("supervisor_start", {"supervisor": "Amina", "mode": "listen", "session": "s1"}),
        ("supervisor_mode", {"supervisor": "Amina", "mode": "whisper", "session": "s1"}),
        ("supervisor_end", {"supervisor": "Amina", "mode": "whisper", "session": "s1"}),
    ]


async def test_timeline_is_in_time_order_and_unknown_kinds_survive(store: ReportStore) -> None:
    start(store)
    store.calls.set_status(call_id="c1", status=ReportStatus.ROUTED, at=at(30))
    # An AMI event stamped earlier than a later-written IVR step still sorts by its time.
    apply_queue_event(store.calls, {"Event": "QueueCallerJoin", "Uniqueid": "c1",
                                    "Queue": "balagh-general"}, at(29))
    await store.writer.flush()
    with sqlite3.connect(store.path) as db:
        db.execute("INSERT INTO report_events (call_id, at, kind, detail)"
                   " VALUES ('c1', '2026-11-24T09:00:31.000Z', 'from-the-future', 'x')")
    events = await reader_of(store).timeline("c1")
    assert [str(e.kind) for e in events] == ["started", "queue_join", "status",
                                             "from-the-future"]
    assert events[-1].detail == {"raw": "x"}
    assert await reader_of(store).timeline("no-such-report") == []


@pytest.mark.both_engines
async def test_handover_delivered_or_given_up_goes_on_the_timeline(store: ReportStore) -> None:
    start(store)
    for event in ("routed", "answered", "ended"):
        store.outbox.queue_delivery(key=f"1234566:{event}", url="https://unit.example/in?t=SECRET",
                                    event=event, reference="1234566", body="{}", at=at(13))
    await store.writer.flush()
    routed, answered, ended = await store.queries.due_deliveries(at(13), 10)
    await store.outbox.delivery_done(routed.id, at(14))
    await store.outbox.delivery_failed(answered.id, at(30), "HTTP 503", at(90), give_up=False)
    await store.outbox.delivery_failed(ended.id, at(31), "HTTP 503", at(91), give_up=True)
    events = steps(await reader_of(store).timeline("c1"))
    assert events[1:] == [
        ("handover", {"attempts": 1, "event": "routed", "outcome": "delivered"}),
        ("handover", {"attempts": 1, "event": "ended", "outcome": "failed"}),
    ]  # a retry to come is the outbox's business, not the report's
    assert "SECRET" not in str(events)
