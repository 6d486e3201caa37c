"""Agents' activity: AMI agent events as stored rows (ami/agent_events.py), through the
single writer on both engines (store/agents.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from balagh.ami.agent_events import MAX_TEXT, AgentEvents, agent_event
from balagh.store import ReportStore
from balagh.store.agents import AgentEvent, AgentEventKind

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
AGENT = {"Queue": "balagh-child-protection", "MemberName": "Sandbox agent",
         "Interface": "Local/1001@balagh-agents/n"}


def test_each_agent_event_becomes_its_row() -> None:
    wrapup = 15
    called = agent_event({"Event": "AgentCalled", "Uniqueid": "c1", **AGENT}, T0, wrapup)
    assert called == AgentEvent(at=T0, agent="Sandbox agent", kind=AgentEventKind.OFFERED,
                                queue="child-protection", call_id="c1")
    connect = agent_event({"Event": "AgentConnect", "Uniqueid": "c1", "HoldTime": "7",
                           "RingTime": "3", **AGENT}, T0, wrapup)
    assert connect is not None and (connect.kind, connect.hold_seconds,
                                    connect.ring_seconds) == (AgentEventKind.ANSWERED, 7, 3)
    complete = agent_event({"Event": "AgentComplete", "Uniqueid": "c1", "TalkTime": "42",
                            "Reason": "caller", **AGENT}, T0, wrapup)
    assert complete is not None and (complete.talk_seconds, complete.wrapup_seconds,
                                     complete.reason) == (42, 15, "caller")
    # AgentRingNoAnswer's RingTime is in milliseconds
    missed = agent_event({"Event": "AgentRingNoAnswer", "Uniqueid": "c2", "RingTime": "15000",
                          **AGENT}, T0, wrapup)
    assert missed is not None and (missed.kind, missed.ring_seconds) == \
        (AgentEventKind.MISSED, 15)
    paused = agent_event({"Event": "QueueMemberPause", "Paused": "1", "PausedReason": "lunch",
                          **AGENT}, T0, wrapup)
    assert paused is not None and (paused.kind, paused.reason) == (AgentEventKind.PAUSED,
                                                                   "lunch")
    back = agent_event({"Event": "QueueMemberPause", "Paused": "0", "PausedReason": "lunch",
                        **AGENT}, T0, wrapup)
    assert back is not None and (back.kind, back.reason) == (AgentEventKind.UNPAUSED, None)
    added = agent_event({"Event": "QueueMemberAdded", "Paused": "1", "PausedReason": "login",
                         **AGENT}, T0, wrapup)
    assert added is not None and (added.kind, added.reason) == (AgentEventKind.PAUSED, "login")
    assert agent_event({"Event": "QueueMemberAdded", "Paused": "0", **AGENT}, T0) is None
    removed = agent_event({"Event": "QueueMemberRemoved", **AGENT}, T0, wrapup)
    assert removed is not None and removed.kind is AgentEventKind.REMOVED
    status = agent_event({"Event": "QueueMemberStatus", "Status": "6", **AGENT}, T0, wrapup)
    assert status is not None and (status.kind, status.status) == (AgentEventKind.STATUS, "6")


def test_other_queues_and_nameless_members_leave_no_row() -> None:
    assert agent_event({"Event": "AgentCalled", "Queue": "sales", "MemberName": "a"},
                       T0, {}) is None
    assert agent_event({"Event": "AgentCalled", "Queue": "balagh-general"}, T0) is None
    assert agent_event({"Event": "QueueCallerJoin", **AGENT}, T0) is None


def test_long_text_from_ami_is_cut() -> None:
    row = agent_event({"Event": "QueueMemberPause", "Paused": "1", "PausedReason": "x" * 5000,
                       **AGENT, "MemberName": "n" * 5000}, T0)
    assert row is not None and row.reason is not None
    assert len(row.agent) == MAX_TEXT and len(row.reason) == MAX_TEXT


class _NoAmi:
    """take() needs no session: only run() listens."""


@pytest.mark.both_engines
async def test_agent_events_reach_the_store(store: ReportStore) -> None:
    moments = iter(T0 + timedelta(seconds=n) for n in range(100))
    follower = AgentEvents(_NoAmi(), store.agents, 5,  # type: ignore[arg-type]
                           clock=lambda: next(moments))
    for event in ({"Event": "AgentCalled", "Uniqueid": "c1", **AGENT},
                  {"Event": "QueueMemberStatus", "Status": "6", **AGENT},
                  {"Event": "QueueMemberStatus", "Status": "6", **AGENT},  # no change
                  {"Event": "AgentConnect", "Uniqueid": "c1", "HoldTime": "4",
                   "RingTime": "2", **AGENT},
                  {"Event": "QueueMemberStatus", "Status": "2", **AGENT},
                  {"Event": "AgentComplete", "Uniqueid": "c1", "TalkTime": "30",
                   "Reason": "agent", **AGENT}):
        follower.take(event)
    await store.agents.flush()
    async with store.queries.db.execute(
            "SELECT kind, call_id, hold_seconds, talk_seconds, wrapup_seconds, status"
            " FROM agent_events ORDER BY id") as cursor:
        rows = [tuple(row) async for row in cursor]
    assert rows == [("offered", "c1", None, None, None, None),
                    ("status", None, None, None, None, "6"),
                    ("answered", "c1", 4, None, None, None),
                    ("status", None, None, None, None, "2"),
                    ("completed", "c1", None, 30, 5, None)]
    assert store.writer.write_errors == 0


def test_wrapup_seconds_setting_is_bounded(tmp_path) -> None:
    from balagh.config import ConfigError, load_settings

    path = tmp_path / "balagh.yaml"
    path.write_text("wrapup_seconds: 20\n")
    assert load_settings(path).wrapup_seconds == 20
    path.write_text("wrapup_seconds: 99999\n")
    with pytest.raises(ConfigError, match="wrapup_seconds: must be from 0 to 3600"):
        load_settings(path)
