"""What the call flow leaves for the statistics and the timeline: typed_ahead, gave_up_in,
and a row for every step, with a scripted caller and a real store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from balagh.ivr.flow import handle_call
from balagh.ivr.menu import Menu, load_menu
from balagh.ivr.port import CallGone
from balagh.readmodel.reader import reader_of
from balagh.routing import Table
from balagh.routing.load import load_table
from balagh.status import ReportStatus
from balagh.store.reports import ReportStore

from .fakes import DEFAULT_INFO, HANGUP, Ahead, FixedClock, ScriptedCall, call_store
from .shipped import IVR_FILE, ROUTING_FILE

T0 = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu(IVR_FILE)


@pytest.fixture(scope="module")
def table(menu: Menu) -> Table:
    return load_table(ROUTING_FILE, menu.answer_values())


async def run(script, menu: Menu, table: Table, store: ReportStore):
    call = ScriptedCall([*script, None])
    outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(T0))
    await store.writer.flush()
    report = await store.queries.get_report(outcome.reference)
    assert report is not None
    return report, await reader_of(store).timeline(outcome.reference)


def kinds(events) -> list[str]:
    return [str(e.kind) for e in events]


async def test_a_routed_call_leaves_every_step_in_order(menu, table, store):
    report, events = await run(["1", "1", "1", "2", "3", "0"], menu, table, store)
    assert kinds(events) == ["started", "answer", "language", "answer", "answer", "answer",
                             "answer", "answer", "location", "routing", "status"]
    answers = [e.detail for e in events if e.kind == "answer"]
    assert answers[2] == {"question": "age", "value": "child", "key": "1", "attempt": 1,
                          "typed_ahead": False}
    assert [a["question"] for a in answers] == ["language", "danger", "age", "gender",
                                                "emirate", "condition"]
    by_kind = {str(e.kind): e.detail for e in events}
    assert by_kind["language"] == {"language": "ar"}
    assert by_kind["location"] == {"emirate": "sharjah", "source": "answer"}
    assert by_kind["routing"] == {"rule": "child", "queue": "child-protection",
                                  "priority": 10, "danger": True}
    assert by_kind["status"] == {"status": "routed", "detail": None, "typed_ahead": False}
    # Keys pressed once each prompt had started: not typed ahead.
    assert (report.typed_ahead, report.gave_up_in) == (0, None)
    # Never the caller's number, anywhere in the timeline.
    assert all(DEFAULT_INFO.caller not in str(e.detail) for e in events)


async def test_the_menu_finished_by_a_key_typed_ahead(menu, table, store):
    report, events = await run(["1", *(Ahead(key) for key in "11230")], menu, table, store)
    assert report.typed_ahead == 1
    assert [e.detail["typed_ahead"] for e in events if e.kind == "answer"] == [
        False, True, True, True, True, True]


async def test_only_the_last_key_decides_typed_ahead(menu, table, store):
    # Typed ahead up to the last question, whose key came after its prompt started.
    report, _ = await run(["1", *(Ahead(key) for key in "1123"), "0"], menu, table, store)
    assert report.typed_ahead == 0


async def test_the_danger_key_typed_ahead_ends_the_menu(menu, table, store):
    report, events = await run(["2", Ahead("9")], menu, table, store)
    assert report.status_detail == "danger-key"
    assert report.typed_ahead == 1
    routing = next(e for e in events if e.kind == "routing")
    assert routing.detail["danger"] is True


async def test_hanging_up_names_the_question_being_asked(menu, table, store):
    report, events = await run(["2", "1", HANGUP], menu, table, store)
    assert report.status == ReportStatus.HUNG_UP_IN_IVR
    assert (report.gave_up_in, report.typed_ahead) == ("age", None)
    assert kinds(events) == ["started", "answer", "language", "answer", "status"]
    assert events[-1].detail == {"status": "hung_up_in_ivr", "detail": None,
                                 "question": "age"}


async def test_hanging_up_at_the_first_question(menu, table, store):
    report, _ = await run([HANGUP], menu, table, store)
    assert report.gave_up_in == "language"


async def test_hanging_up_after_the_questions_is_no_question(menu, table, store):
    # All six answers, then the caller is gone as the call is put through.
    call = ScriptedCall(["1", "1", "1", "2", "3", "0"],
                        fail={"continue_in_dialplan": CallGone("gone")})
    outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(T0))
    await store.writer.flush()
    report = await store.queries.get_report(outcome.reference)
    assert report is not None and report.status == ReportStatus.HUNG_UP_IN_IVR
    assert report.gave_up_in is None


async def test_no_answer_is_not_a_key_typed_ahead(menu, table, store):
    # The danger question has no default: silence on every attempt goes to a person.
    danger = menu.question("danger")
    report, _ = await run(["1", *([None] * danger.attempts)], menu, table, store)
    assert report.status_detail == "no-answer:danger"
    assert report.typed_ahead is None
