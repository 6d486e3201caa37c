"""The IVR call flow with a scripted caller, the shipped menu and table, and a real store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from balagh.ivr.flow import ask, handle_call, reference_sounds
from balagh.ivr.menu import Menu, load_menu
from balagh.ivr.port import CallGone
from balagh.routing import DEFAULT_RULE, Table, load_table
from balagh.store import reference as refs
from balagh.store.reports import FALLBACK, HUNG_UP_IN_IVR, ROUTED, ReportStore

from .fakes import DEFAULT_INFO, HANGUP, FixedClock, ScriptedCall, ScriptExhausted

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)
QUESTION_PROMPTS = ["ask-language", "ask-danger", "ask-age", "ask-gender", "ask-emirate",
                    "ask-condition"]


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu(ROOT / "config" / "ivr.yaml")


@pytest.fixture(scope="module")
def table(menu: Menu) -> Table:
    return load_table(ROOT / "config" / "routing.yaml", menu.answer_values())


@pytest.fixture
async def store(tmp_path: Path):
    store = await ReportStore.open(tmp_path / "r.sqlite3")
    yield store
    await store.close()


async def run(script, menu: Menu, table: Table, store: ReportStore, **kwargs):
    call = ScriptedCall(script, **kwargs)
    outcome = await handle_call(call, menu, table, store, clock=FixedClock(T0))
    await store.flush()
    report = await store.get_report(outcome.reference)
    assert report is not None
    return call, outcome, report


def answer_rows(report) -> dict[str, tuple[str | None, str | None, int]]:
    return {row["question"]: (row["value"], row["key"], row["attempt"])
            for row in report["answer_log"]}


# -- the whole call ---------------------------------------------------------------


async def test_issue_example_routes_child_in_danger_to_child_protection(menu, table, store):
    call, outcome, report = await run(["1", "1", "1", "2", "3", "0"], menu, table, store)

    assert outcome.status == ROUTED
    assert outcome.decision is not None
    assert (outcome.decision.rule, outcome.decision.queue, outcome.decision.priority) == (
        "child", "child-protection", 10)
    assert call.answered
    assert call.languages == ["ar"]
    assert call.variables == {"BALAGH_QUEUE": "child-protection", "BALAGH_PRIO": "10",
                              "BALAGH_REFERENCE": outcome.reference, "BALAGH_RULE": "child"}
    assert call.continued
    assert call.log[-1] == ("continue_in_dialplan", None)
    assert not call.script  # every key consumed, none asked for twice
    assert "invalid" not in call.sounds

    expected = {"language": "ar", "danger": "yes", "age": "child", "gender": "female",
                "emirate": "sharjah", "condition": "none"}
    assert outcome.answers == expected
    assert report["status"] == ROUTED
    assert report["status_detail"] is None
    assert report["queue"] == "child-protection"
    assert report["priority"] == 10
    assert report["rule"] == "child"
    assert report["language"] == "ar"
    assert report["call_id"] == call.info.call_id
    assert report["caller"] == call.info.caller
    assert report["hotline"] == call.info.hotline
    assert report["answers"] == expected
    assert answer_rows(report) == {
        "language": ("ar", "1", 1), "danger": ("yes", "1", 1), "age": ("child", "1", 1),
        "gender": ("female", "2", 1), "emirate": ("sharjah", "3", 1),
        "condition": ("none", "0", 1)}


async def test_questions_are_asked_in_menu_order_with_their_timeouts(menu, table, store):
    call, _, _ = await run(["1", "2", "2", "1", "2", "0"], menu, table, store)
    prompts = [group[0] for group in call.played if group[0].startswith("ask-")]
    assert prompts == QUESTION_PROMPTS
    assert call.timeouts == [question.timeout for question in menu.questions]


async def test_english_caller_gets_english_channel_language(menu, table, store):
    call, outcome, report = await run(["2", "2", "2", "2", "2", "0"], menu, table, store)
    assert call.languages == ["en"]
    assert report["language"] == "en"
    # Language is set right after it is chosen, before the next question is played.
    index = call.log.index(("set_language", "en"))
    assert call.log[index + 1] == ("play", ("ask-danger",))
    # adult female, not in danger
    assert outcome.decision is not None
    assert (outcome.decision.queue, outcome.decision.priority) == ("women-protection", 0)
    assert report["status"] == ROUTED


async def test_invalid_key_then_valid_key_plays_invalid_and_stores_attempt_two(
        menu, table, store):
    # '9' means nothing for the danger question; then '2' (no).
    call, outcome, report = await run(["1", "9", "2", "2", "1", "1", "0"], menu, table, store)
    assert ("invalid",) in call.played
    index = call.played.index(("invalid",))
    assert call.played[index - 1] == ("ask-danger",)
    assert call.played[index + 1] == ("ask-danger",)
    assert call.sounds.count("invalid") == 1
    assert outcome.answers["danger"] == "no"
    assert answer_rows(report)["danger"] == ("no", "2", 2)
    assert outcome.status == ROUTED


async def test_question_timing_out_every_time_is_skipped_and_call_still_routed(
        menu, table, store):
    age = menu.question("age")
    assert age.default is None
    silence = [None] * age.attempts
    call, outcome, report = await run(["1", "2", *silence, "2", "1", "0"], menu, table, store)

    assert "age" not in outcome.answers
    assert "age" not in report["answers"]
    assert "age" not in answer_rows(report)
    assert call.sounds.count("ask-age") == age.attempts
    assert call.sounds.count("invalid") == age.attempts - 1
    assert outcome.status == ROUTED
    assert call.continued
    # No rule matches without the age: the general line.
    assert outcome.decision is not None
    assert (outcome.decision.rule, outcome.decision.queue) == (DEFAULT_RULE, "general")
    assert report["queue"] == "general"
    assert call.variables["BALAGH_QUEUE"] == "general"


async def test_silent_caller_still_reaches_the_general_line(menu, table, store):
    silence = [None] * sum(question.attempts for question in menu.questions)
    call, outcome, report = await run(silence, menu, table, store)
    assert outcome.answers == {"language": "ar"}
    assert outcome.status == ROUTED
    assert call.continued
    assert report["queue"] == "general"
    assert report["priority"] == 0


async def test_language_timeout_takes_default_arabic_with_no_key(menu, table, store):
    language = menu.language_question
    silence = [None] * language.attempts
    call, outcome, report = await run([*silence, "2", "2", "2", "2", "0"], menu, table, store)
    assert outcome.answers["language"] == "ar" == menu.default_language
    assert answer_rows(report)["language"] == ("ar", None, language.attempts)
    assert report["language"] == "ar"
    assert call.languages == ["ar"]
    assert outcome.status == ROUTED


async def test_hangup_after_two_answers_keeps_exactly_those_answers(menu, table, store):
    call, outcome, report = await run(["2", "1", HANGUP], menu, table, store)
    assert outcome.status == HUNG_UP_IN_IVR
    assert outcome.decision is None
    assert outcome.answers == {"language": "en", "danger": "yes"}
    assert report["status"] == HUNG_UP_IN_IVR
    assert report["answers"] == {"language": "en", "danger": "yes"}
    assert len(report["answer_log"]) == 2
    assert report["ended_at"] is not None
    assert report["routed_at"] is None
    assert report["queue"] is None
    assert not call.continued
    assert call.variables == {}
    assert ("continue_in_dialplan", None) not in call.log


async def test_hangup_before_any_answer(menu, table, store):
    call, outcome, report = await run([HANGUP], menu, table, store)
    assert outcome.status == HUNG_UP_IN_IVR
    assert report["status"] == HUNG_UP_IN_IVR
    assert report["answers"] == {}
    assert not call.continued


async def test_bug_in_set_variables_still_continues_the_caller(menu, table, store):
    boom = RuntimeError("boom in set_variables")
    call, outcome, report = await run(["1", "2", "2", "2", "1", "0"], menu, table, store,
                                      fail={"set_variables": boom})
    assert call.continued
    assert outcome.status == FALLBACK
    assert report["status"] == FALLBACK
    assert report["status_detail"] == "RuntimeError: boom in set_variables"
    assert report["routed_at"] is not None
    # The answers given before the bug are kept.
    assert len(report["answers"]) == 6


async def test_bug_in_routing_still_continues_the_caller(menu, table, store, monkeypatch):
    def broken_decide(answers, table):
        raise KeyError("no such rule")

    monkeypatch.setattr("balagh.ivr.flow.decide", broken_decide)
    call, outcome, report = await run(["1", "2", "2", "2", "1", "0"], menu, table, store)
    assert call.continued
    assert outcome.status == FALLBACK
    assert report["status"] == FALLBACK
    assert "KeyError" in report["status_detail"]
    assert call.variables == {}


async def test_fallback_when_the_caller_is_already_gone(menu, table, store):
    call, outcome, report = await run(
        ["1", "2", "2", "2", "1", "0"], menu, table, store,
        fail={"set_variables": RuntimeError("bug"), "continue_in_dialplan": CallGone("x")})
    assert outcome.status == HUNG_UP_IN_IVR
    assert report["status"] == HUNG_UP_IN_IVR
    assert not call.continued


async def test_withheld_caller_is_stored_without_a_number(menu, table, store):
    info = replace(DEFAULT_INFO, call_id="1700000000.99", caller=None)
    _, outcome, report = await run(["1", "2", "2", "2", "1", "0"], menu, table, store, info=info)
    assert outcome.status == ROUTED
    assert report["caller"] is None


async def test_reference_is_read_back_digit_by_digit_and_is_valid(menu, table, store):
    call, outcome, report = await run(["1", "2", "2", "2", "1", "0"], menu, table, store)
    reference = outcome.reference
    assert refs.is_valid(reference)
    assert len(reference) == refs.LENGTH
    assert report["reference"] == reference
    assert call.variables["BALAGH_REFERENCE"] == reference
    readback = ("reference", *(f"digit-{digit}" for digit in reference))
    assert tuple(reference_sounds(reference)) == readback
    assert readback in call.played
    # Read back after the variables are set, then "connecting", then the queue.
    names = [name for name, _ in call.log]
    assert names[-4:] == ["set_variables", "play", "play", "continue_in_dialplan"]
    assert call.played[-2:] == [readback, ("connecting",)]


async def test_every_call_gets_its_own_reference(menu, table, store):
    references = set()
    for n in range(5):
        info = replace(DEFAULT_INFO, call_id=f"1700000000.{n}", channel=f"PJSIP/trunk-{n}")
        _, outcome, _ = await run(["1", "2", "2", "2", "1", "0"], menu, table, store, info=info)
        references.add(outcome.reference)
    assert len(references) == 5
    assert all(refs.is_valid(reference) for reference in references)


# -- ask() on its own ----------------------------------------------------------------


async def test_ask_returns_answer_key_and_attempt(menu):
    call = ScriptedCall(["7", "3"])
    value, key, attempt = await ask(call, menu.question("emirate"), menu.invalid_prompt)
    assert (value, key, attempt) == ("fujairah", "7", 1)
    assert call.played == [("ask-emirate",)]
    assert list(call.script) == ["3"]


async def test_ask_reasks_after_timeout_and_invalid_key(menu):
    question = menu.question("gender")
    call = ScriptedCall([None, "5", "2"])
    value, key, attempt = await ask(call, question, menu.invalid_prompt)
    assert (value, key, attempt) == ("female", "2", 3)
    assert call.played == [("ask-gender",), ("invalid",), ("ask-gender",), ("invalid",),
                           ("ask-gender",)]
    assert call.timeouts == [question.timeout] * 3


async def test_ask_gives_up_after_the_attempts(menu):
    question = menu.question("danger")
    call = ScriptedCall(["8", "9", None, "1"])
    assert await ask(call, question, menu.invalid_prompt) == (None, None, question.attempts)
    assert list(call.script) == ["1"]  # the fourth key is never asked for


async def test_ask_gives_the_default_after_the_attempts(menu):
    question = menu.language_question
    call = ScriptedCall(["3"] * question.attempts)
    assert await ask(call, question, menu.invalid_prompt) == ("ar", None, question.attempts)


async def test_ask_lets_callgone_through(menu):
    call = ScriptedCall([HANGUP])
    with pytest.raises(CallGone):
        await ask(call, menu.question("age"), menu.invalid_prompt)


async def test_scripted_call_refuses_unscripted_keys(menu):
    call = ScriptedCall([])
    with pytest.raises(ScriptExhausted):
        await ask(call, menu.question("age"), menu.invalid_prompt)
