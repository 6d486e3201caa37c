"""A real call through the whole path on the sandbox PBX:
dialplan -> ARI app -> IVR -> routing -> app_queue, with the report in SQLite."""

from __future__ import annotations

import asyncio

import pytest

from balagh.testcall import place_call

from .conftest import answers_after, last_report_id, report_by_call, report_row, wait_for

# language, danger, age, gender, emirate, condition
ROUTES = [
    pytest.param("1,1,1,2,3,0", "child-protection", 10, id="child-in-danger"),
    pytest.param("2,2,1,1,2,1", "child-protection", 0, id="child-before-disability"),
    pytest.param("2,2,2,1,2,1", "disability-support", 0, id="disability"),
    pytest.param("1,2,2,1,4,2", "mental-health", 0, id="psychiatric"),
    pytest.param("2,2,2,1,5,3", "social-welfare", 0, id="unable-to-self-care"),
    pytest.param("1,2,3,1,6,0", "elderly-care", 0, id="elderly"),
    pytest.param("2,1,2,2,7,0", "women-protection", 10, id="adult-woman-in-danger"),
    pytest.param("1,2,2,1,1,0", "general", 0, id="adult-man-general"),
]


async def test_issue_example_call_reaches_child_protection(settings, running_app):
    """`balagh call 800700 --digits 1,1,1,2,3,0`: Arabic, danger, child, female, Sharjah, none."""
    result = await place_call(settings, "800700", "1,1,1,2,3,0".split(","), wait_agent=True)
    assert result.queue == "child-protection"
    assert result.priority == 10
    assert result.agent_answered
    # Every question prompt was played (the caller keyed after each one started).
    assert [m for m in result.played if m.startswith("ask-")] == [
        "ask-language", "ask-danger", "ask-age", "ask-gender", "ask-emirate", "ask-condition"]
    # Nothing after the last answer before the queue: the reference is told there.
    assert result.played[-1] == "ask-condition"

    report = report_row(settings, result.reference, routed=True)
    assert report is not None
    assert report["answers"] == {"language": "ar", "danger": "yes", "age": "child",
                                 "gender": "female", "emirate": "sharjah", "condition": "none"}
    assert report["status"] == "routed"
    assert (report["rule"], report["queue"], report["priority"]) == ("child",
                                                                     "child-protection", 10)
    assert report["caller"] == "+97165551234"
    assert report["language"] == "ar"
    assert report["hotline"] == "800700"
    # The queue's side, from AMI: who answered after how long; closed when the call ends.
    answered = report_by_call(settings, result.hotline_id, wait=10,
                              where=lambda r: r["ended_at"] is not None)
    assert answered is not None, running_app.log_text()[-2000:]
    assert answered["queue_outcome"] == "answered"
    assert answered["answered_by"] == "Sandbox child-protection agent"
    assert answered["joined_queue"] == "child-protection"
    # The wait includes the report's summary whispered to the agent before the bridge
    # (about 14 s with the placeholder Arabic voice; test_whisper.py measures it).
    assert answered["wait_seconds"] is not None and answered["wait_seconds"] < 30


@pytest.mark.parametrize(("digits", "queue", "priority"), ROUTES)
async def test_every_default_route(settings, running_app, digits, queue, priority):
    result = await place_call(settings, "800700", digits.split(","), ahead=True)
    assert (result.queue, result.priority) == (queue, priority)
    # The status is written just after the caller is sent on: wait for it.
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report is not None
    assert (report["queue"], report["priority"], report["status"]) == (queue, priority, "routed")
    assert len(report["answers"]) == 6
    print(f"\n{queue}: answer to queue join {result.seconds_to_queue:.2f} s (type-ahead)")


async def test_hang_up_half_way_keeps_the_partial_report(settings, running_app):
    result = await place_call(settings, "800700", ["2", "1", "1"], hang_up_after=2)
    assert result.hung_up_early and result.queue is None
    report = report_by_call(settings, result_call_id(result), status="hung_up_in_ivr")
    assert report is not None, running_app.log_text()[-3000:]
    assert report["answers"] == {"language": "en", "danger": "yes"}
    assert report["queue"] is None


async def test_withheld_number_is_served_and_stored_as_null(settings, running_app):
    result = await place_call(settings, "800700", "2,2,3,2,2,0".split(","), ahead=True,
                              caller_id=None)
    assert result.queue == "elderly-care"
    report = report_row(settings, result.reference, routed=True)
    assert report["caller"] is None


async def test_concurrent_calls_each_reach_their_own_queue(settings, running_app):
    calls = [("1,1,1,2,3,0", "child-protection", 10), ("2,2,3,1,1,0", "elderly-care", 0),
             ("2,2,2,2,2,0", "women-protection", 0), ("1,2,2,1,1,2", "mental-health", 0),
             ("2,1,2,1,7,0", "general", 10)]
    results = await asyncio.gather(*(
        place_call(settings, "800700", digits.split(","), ahead=True) for digits, _, _ in calls))
    assert [(r.queue, r.priority) for r in results] == [(q, p) for _, q, p in calls]
    assert len({r.reference for r in results}) == len(calls)


async def test_app_not_running_caller_still_reaches_general(settings, running_app):
    running_app.stop()
    try:
        result = await place_call(settings, "800700", [], wait_agent=True)
        assert result.queue == "general"
        assert result.priority == 0
        assert result.fallback == "FAILED"
        assert result.agent_answered
        assert result.reference is None
    finally:
        running_app.start()


def result_call_id(result) -> str:
    """The hotline leg's ARI id, which the app uses as the report's call id."""
    return result.hotline_id


async def test_app_stopping_mid_call_sends_the_caller_on(settings, running_app):
    """A caller still in the menu when the app stops is not left in silence."""
    before = last_report_id(settings)
    call = asyncio.create_task(place_call(settings, "800700", [], timeout=90))
    await asyncio.to_thread(wait_for, lambda: last_report_id(settings) > before, timeout=30,
                            what="the app to take the call")
    await asyncio.to_thread(running_app.stop)
    try:
        result = await call
        assert result.queue == "general"
        assert result.fallback == "NO_DECISION"
        report = report_by_call(settings, result.hotline_id, status="fallback")
        assert report is not None and report["status_detail"] == "app stopping"
    finally:
        await asyncio.to_thread(running_app.start)


async def test_app_crash_mid_call_the_restarted_app_routes_by_the_answers_so_far(
        settings, running_app):
    """A crash loses no caller: the new app finds the call and routes it by what it knows."""
    before = last_report_id(settings)
    # English, not in danger, a child; then the app dies before the next answer.
    call = asyncio.create_task(place_call(settings, "800700", ["2", "2", "1"], timeout=90))
    await asyncio.to_thread(wait_for, lambda: answers_after(settings, before) >= 3,
                            timeout=60, what="three answers stored")
    await asyncio.to_thread(running_app.crash)
    await asyncio.to_thread(running_app.start)
    result = await call
    assert (result.queue, result.priority) == ("child-protection", 0)
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report["status_detail"] == "resumed after the app restarted"
    assert report["answers"] == {"language": "en", "danger": "no", "age": "child"}
