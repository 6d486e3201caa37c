"""Each way a call can go leaves the right report and timeline, on the sandbox PBX:
answered, abandoned in the queue, hung up in the IVR, and overflowed.

The timeline is read straight from the SQLite file; every wait is for the row itself.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from balagh.ami.client import AmiSession
from balagh.config import Settings
from balagh.pbx.test_user import ami_for_tests
from balagh.testcall import place_call

from .conftest import balagh, report_by_call, wait_for

CHILD_IN_DANGER = "1,1,1,2,3,0"  # Arabic, danger, child, female, Sharjah: child-protection
ADULT_MAN = ["1", "2", "2", "1", "1", "0"]  # Arabic, no danger, adult, male, Abu Dhabi: general
ADULT_WOMAN = ["2", "2", "2", "2", "1", "0"]  # English, ..., female: women-protection
GENERAL_AGENT = ("balagh-general", "Local/1007@balagh-agents/n")
WOMEN_AGENT = ("balagh-women-protection", "Local/1002@balagh-agents/n")
CALLER_NUMBER = "+97165551234"  # place_call's default caller ID


@asynccontextmanager
async def agent_paused(settings: Settings, queue: str, interface: str) -> AsyncIterator[None]:
    async with AmiSession(ami_for_tests(settings)) as ami:  # QueuePause: agent class
        await ami.action({"Action": "QueuePause", "Queue": queue, "Interface": interface,
                          "Paused": "true", "Reason": "e2e"})
        try:
            yield
        finally:
            await ami.action({"Action": "QueuePause", "Queue": queue, "Interface": interface,
                              "Paused": "false"})


def timeline(settings: Settings, call_id: str) -> list[tuple[str, dict[str, Any]]]:
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT kind, detail FROM report_events WHERE call_id = ?"
                          " ORDER BY at, id", (call_id,)).fetchall()
    return [(kind, json.loads(detail)) for kind, detail in rows]


async def timeline_until(settings: Settings, call_id: str, last_kind: str
                         ) -> list[tuple[str, dict[str, Any]]]:
    """The timeline once a `last_kind` row is in it (AMI's rows come after the call)."""
    def ready() -> list[tuple[str, dict[str, Any]]] | None:
        steps = timeline(settings, call_id)
        return steps if any(kind == last_kind for kind, _ in steps) else None

    return await asyncio.to_thread(wait_for, ready, timeout=30,
                                   what=f"a {last_kind} row in the timeline of {call_id}")


def kinds(steps: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The steps' kinds, without deliveries to the unit's receiver (every e2e queue has
    one): they interleave with the call's own steps at the receiver's pace."""
    return [kind for kind, _ in steps if kind != "handover"]


def first(steps: list[tuple[str, dict[str, Any]]], kind: str) -> dict[str, Any]:
    return next(detail for k, detail in steps if k == kind)


async def test_answered_call(settings, running_app):
    result = await place_call(settings, "800700", CHILD_IN_DANGER.split(","), wait_agent=True)
    assert result.agent_answered
    steps = await timeline_until(settings, result.hotline_id, "end")
    # The app stamps "routed" when the dialplan has the call; app_queue may be quicker.
    seen = kinds(steps)
    assert any(kind == "handover" for kind, _ in steps)
    assert seen[:10] == ["started", "answer", "language", *["answer"] * 5, "location",
                         "routing"], seen
    assert sorted(seen[10:12]) == ["queue_join", "status"], seen
    assert seen[12:] == ["agent_answer", "end"], seen
    assert first(steps, "routing") == {"rule": "child", "queue": "child-protection",
                                       "priority": 10, "danger": True}
    assert first(steps, "queue_join")["queue"] == "child-protection"
    answered = first(steps, "agent_answer")
    assert answered["agent"] == "Sandbox child-protection agent"
    assert answered["wait_seconds"] >= 0
    assert first(steps, "end")["talk_seconds"] >= 0
    assert all(CALLER_NUMBER not in json.dumps(detail) for _, detail in steps)
    report = report_by_call(settings, result.hotline_id, status="routed")
    # Each key was pressed after its prompt had started.
    assert report is not None and report["typed_ahead"] == 0
    assert report["gave_up_in"] is None
    # The operator's view: the timeline in time order, the number masked.
    shown = await asyncio.to_thread(balagh, settings, "reports", result.reference)
    assert shown.returncode == 0, shown.stderr
    assert "timeline:" in shown.stdout and "agent_answer" in shown.stdout
    assert CALLER_NUMBER not in shown.stdout and "+9716****1234" in shown.stdout


async def test_abandoned_in_the_queue(settings, running_app):
    # Nobody answers the general line; the caller gives up as soon as they are queued.
    async with agent_paused(settings, *GENERAL_AGENT):
        result = await place_call(settings, "800700", ADULT_MAN, ahead=True)
        assert result.queue == "general"
        steps = await timeline_until(settings, result.hotline_id, "abandon")
    assert sorted(kinds(steps)[-3:-1]) == ["queue_join", "status"]
    assert kinds(steps)[-1] == "abandon"
    assert first(steps, "abandon")["queue"] == "general"
    assert first(steps, "abandon")["wait_seconds"] >= 0
    report = report_by_call(settings, result.hotline_id,
                            where=lambda r: r["queue_outcome"] == "abandoned")
    assert report is not None
    assert report["typed_ahead"] == 1  # every key typed ahead, the last one too


async def test_hung_up_in_the_ivr(settings, running_app):
    result = await place_call(settings, "800700", ["2", "1", "1"], hang_up_after=2)
    assert result.hung_up_early
    report = report_by_call(settings, result.hotline_id, status="hung_up_in_ivr", wait=15)
    assert report is not None, running_app.log_text()[-3000:]
    assert report["gave_up_in"] == "age"  # answered language and danger, then left
    steps = await timeline_until(settings, result.hotline_id, "status")
    assert kinds(steps) == ["started", "answer", "language", "answer", "status"]
    assert steps[-1][1] == {"status": "hung_up_in_ivr", "detail": None, "question": "age"}


async def test_overflowed_to_the_general_line(settings, running_app):
    # Women-protection has nobody who could answer: the chain moves the caller on at once.
    async with agent_paused(settings, *WOMEN_AGENT):
        result = await place_call(settings, "800700", ADULT_WOMAN, ahead=True)
    assert result.asterisk_queue == "balagh-general"
    steps = await timeline_until(settings, result.hotline_id, "queue_join")
    assert first(steps, "routing")["queue"] == "women-protection"
    overflow = first(steps, "overflow")
    assert (overflow["from"], overflow["to"], overflow["to_kind"]) == (
        "women-protection", "general", "queue")
    assert overflow["reason"] in ("JOINEMPTY", "LEAVEEMPTY", "TIMEOUT")
    assert kinds(steps).index("overflow") < kinds(steps).index("queue_join")
    assert first(steps, "queue_join")["queue"] == "general"
    # --queue finds it by the queue it was routed to and by the one it waited in.
    for queue in ("women-protection", "general"):
        found = await asyncio.to_thread(balagh, settings, "reports", "--queue", queue,
                                        "--format", "json")
        assert result.reference in [r["reference"] for r in json.loads(found.stdout)]
