"""The IVR call flow with a scripted caller, the shipped menu and table, and a real store."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from balagh.ivr.ask import Asked, Outcome, ask
from balagh.ivr.flow import MenuEnd, handle_call, reference_sounds, resume_call
from balagh.ivr.menu import Menu, load_menu
from balagh.ivr.port import CallGone
from balagh.routing import DEFAULT_RULE, Table
from balagh.routing.load import load_table
from balagh.say import say_digits
from balagh.status import ReportStatus
from balagh.store import reference as refs
from balagh.store.reports import ReportStore

from .fakes import (
    DEFAULT_INFO,
    HANGUP,
    Ahead,
    FixedClock,
    ScriptedCall,
    ScriptExhausted,
    call_store,
)
from .shipped import IVR_FILE, ROUTING_FILE

T0 = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)
QUESTION_PROMPTS = ["ask-language", "ask-danger", "ask-age", "ask-gender", "ask-emirate",
                    "ask-condition"]


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu(IVR_FILE)


@pytest.fixture(scope="module")
def table(menu: Menu) -> Table:
    return load_table(ROUTING_FILE, menu.answer_values())


def waiting_for(reference: str) -> list[str]:
    """What the shipped menu tells a caller in the queue: two readings of the reference."""
    return ["connecting", *reference_sounds(reference), *say_digits(reference)]


async def run(script, menu: Menu, table: Table, store: ReportStore, **kwargs):
    call = ScriptedCall(script, **kwargs)
    outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(T0))
    await store.writer.flush()
    report = await store.queries.get_report(outcome.reference)
    assert report is not None
    return call, outcome, report


def answer_rows(report) -> dict[str, tuple[str | None, str | None, int]]:
    return {row.question: (row.value, row.key, row.attempt)
            for row in report.answer_log}


# -- the whole call ---------------------------------------------------------------


async def test_issue_example_routes_child_in_danger_to_child_protection(menu, table, store):
    call, outcome, report = await run(["1", "1", "1", "2", "3", "0"], menu, table, store)

    assert outcome.status == ReportStatus.ROUTED
    assert outcome.decision is not None
    assert (outcome.decision.rule, outcome.decision.queue, outcome.decision.priority) == (
        "child", "child-protection", 10)
    assert call.answered
    assert call.languages == ["ar"]
    # The queue, its wait and the overflow chain (to the general line) for the dialplan.
    # Each queue the caller may wait in has its whisper (its agents' language; here both ar).
    whisper = call.variables.pop("BALAGH_WHISPER_child_protection")
    assert call.variables.pop("BALAGH_WHISPER_general") == whisper
    summary = call.variables.pop("__BALAGH_SUMMARY")  # inherited by the agent's channel
    assert call.variables == {"BALAGH_QUEUE": "child-protection", "BALAGH_PRIO": "10",
                              "BALAGH_REFERENCE": outcome.reference, "BALAGH_RULE": "child",
                              "BALAGH_QUEUE_WAIT": "90", "BALAGH_OVERFLOW": "queue:general"}
    # What the agent hears first: the facts in the agents' language, then the reference.
    assert whisper.startswith("ar/balagh/w-report&ar/balagh/w-in-danger&"
                              "ar/balagh/w-queue-child-protection&ar/balagh/w-age-child&"
                              "ar/balagh/w-gender-female&ar/balagh/w-emirate-sharjah&"
                              "ar/balagh/w-location-answer&ar/balagh/w-reference&")
    assert summary == f"child-protection; IN DANGER; child; female; sharjah (answer); " \
                      f"ref {outcome.reference}"
    assert call.continued
    # Into the queue first; "connecting" and the reference are told while waiting there.
    assert call.log[-2] == ("continue_in_dialplan", None)
    assert call.told == [(tuple(waiting_for(outcome.reference)), "ar")]
    assert not call.script  # every key consumed, none asked for twice
    assert "invalid" not in call.sounds

    expected = {"language": "ar", "danger": "yes", "age": "child", "gender": "female",
                "emirate": "sharjah", "condition": "none"}
    assert outcome.answers == expected
    assert report.status == ReportStatus.ROUTED
    assert report.status_detail is None
    assert report.queue == "child-protection"
    assert report.priority == 10
    assert report.rule == "child"
    assert report.language == "ar"
    assert report.call_id == call.info.call_id
    assert report.caller == call.info.caller
    assert report.hotline == call.info.hotline
    assert report.answers == expected
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
    assert report.language == "en"
    # Language is set right after it is chosen, before the next question is played.
    index = call.log.index(("set_language", "en"))
    later = [entry for entry in call.log[index + 1:] if entry[0] == "play"]
    assert later[0] == ("play", ("ask-danger",))
    # adult female, not in danger
    assert outcome.decision is not None
    assert (outcome.decision.queue, outcome.decision.priority) == ("women-protection", 0)
    assert report.status == ReportStatus.ROUTED


async def test_invalid_key_then_valid_key_plays_invalid_and_stores_attempt_two(
        menu, table, store):
    # '8' means nothing for the danger question; then '2' (no).
    call, outcome, report = await run(["1", "8", "2", "2", "1", "1", "0"], menu, table, store)
    # "Sorry, I did not get that" and the full question again, as one playback.
    index = call.played.index(("invalid", "ask-danger"))
    assert call.played[index - 1] == ("ask-danger",)
    assert call.sounds.count("invalid") == 1
    assert outcome.answers["danger"] == "no"
    assert answer_rows(report)["danger"] == ("no", "2", 2)
    assert outcome.status == ReportStatus.ROUTED


async def test_question_timing_out_every_time_goes_straight_to_a_person(menu, table, store):
    age = menu.question("age")
    assert age.default is None
    silence = [None] * age.attempts
    call, outcome, report = await run(["1", "1", *silence, "2", "1", "0"], menu, table, store)

    assert outcome.answers == {"language": "ar", "danger": "yes"}
    assert "age" not in answer_rows(report)
    assert call.sounds.count("ask-age") == age.attempts
    assert call.sounds.count("invalid") == age.attempts - 1
    assert "ask-gender" not in call.sounds  # no more questions after the last attempt
    assert outcome.status == ReportStatus.ROUTED and call.continued
    assert outcome.menu is not None and outcome.menu.ended is MenuEnd.NO_ANSWER
    assert report.status_detail == "no-answer:age"
    # No rule matches without the age: the general line, with the danger priority kept.
    assert outcome.decision is not None
    assert (outcome.decision.rule, outcome.decision.queue) == (DEFAULT_RULE, "general")
    assert (report.queue, report.priority) == ("general", 10)
    assert call.variables["BALAGH_QUEUE"] == "general"
    # Straight through: no read-back for a caller who could not use the keypad.
    assert "reference" not in call.sounds


async def test_silent_caller_still_reaches_the_general_line(menu, table, store):
    silence = [None] * sum(question.attempts for question in menu.questions)
    call, outcome, report = await run(silence, menu, table, store)
    assert outcome.answers == {"language": "ar"}
    assert outcome.status == ReportStatus.ROUTED
    assert call.continued
    assert report.queue == "general"
    assert report.priority == 0


async def test_language_timeout_takes_default_arabic_with_no_key(menu, table, store):
    language = menu.language_question
    silence = [None] * language.attempts
    call, outcome, report = await run([*silence, "2", "2", "2", "2", "0"], menu, table, store)
    assert outcome.answers["language"] == "ar" == menu.default_language
    assert answer_rows(report)["language"] == ("ar", None, language.attempts)
    assert report.language == "ar"
    assert call.languages == ["ar"]
    assert outcome.status == ReportStatus.ROUTED


async def test_hangup_after_two_answers_keeps_exactly_those_answers(menu, table, store):
    call, outcome, report = await run(["2", "1", HANGUP], menu, table, store)
    assert outcome.status == ReportStatus.HUNG_UP_IN_IVR
    assert outcome.decision is None
    assert outcome.answers == {"language": "en", "danger": "yes"}
    assert report.status == ReportStatus.HUNG_UP_IN_IVR
    assert report.answers == {"language": "en", "danger": "yes"}
    assert len(report.answer_log) == 2
    assert report.ended_at is not None
    assert report.routed_at is None
    assert report.queue is None
    assert not call.continued
    assert call.variables == {}
    assert ("continue_in_dialplan", None) not in call.log


async def test_hangup_before_any_answer(menu, table, store):
    call, outcome, report = await run([HANGUP], menu, table, store)
    assert outcome.status == ReportStatus.HUNG_UP_IN_IVR
    assert report.status == ReportStatus.HUNG_UP_IN_IVR
    assert report.answers == {}
    assert not call.continued


async def test_bug_in_set_variables_still_continues_the_caller(menu, table, store):
    boom = RuntimeError("boom in set_variables")
    call, outcome, report = await run(["1", "2", "2", "2", "1", "0"], menu, table, store,
                                      fail={"set_variables": boom})
    assert call.continued
    assert outcome.status == ReportStatus.FALLBACK
    assert report.status == ReportStatus.FALLBACK
    # The kind only: a message can quote a URL with the ARI credentials.
    assert report.status_detail == "RuntimeError"
    assert report.routed_at is not None
    # The answers given before the bug are kept.
    assert len(report.answers) == 6


async def test_bug_in_routing_still_continues_the_caller(menu, table, store, monkeypatch):
    def broken_decide(facts, table):
        raise KeyError("no such rule")

    monkeypatch.setattr("balagh.ivr.routed.decide", broken_decide)
    call, outcome, report = await run(["1", "2", "2", "2", "1", "0"], menu, table, store)
    assert call.continued
    assert outcome.status == ReportStatus.FALLBACK
    assert report.status == ReportStatus.FALLBACK
    assert "KeyError" in report.status_detail
    assert call.variables == {}


async def test_fallback_when_the_caller_is_already_gone(menu, table, store):
    call, outcome, report = await run(
        ["1", "2", "2", "2", "1", "0"], menu, table, store,
        fail={"set_variables": RuntimeError("bug"), "continue_in_dialplan": CallGone("x")})
    assert outcome.status == ReportStatus.HUNG_UP_IN_IVR
    assert report.status == ReportStatus.HUNG_UP_IN_IVR
    assert not call.continued


async def test_withheld_caller_is_stored_without_a_number(menu, table, store):
    info = replace(DEFAULT_INFO, call_id="1700000000.99", caller=None)
    _, outcome, report = await run(["1", "2", "2", "2", "1", "0"], menu, table, store, info=info)
    assert outcome.status == ReportStatus.ROUTED
    assert report.caller is None


async def test_reference_is_read_back_digit_by_digit_and_is_valid(menu, table, store):
    call, outcome, report = await run(["1", "2", "2", "2", "1", "0"], menu, table, store)
    reference = outcome.reference
    assert refs.is_valid(reference)
    assert len(reference) == refs.LENGTH
    assert report.reference == reference
    assert call.variables["BALAGH_REFERENCE"] == reference
    digits = tuple(f"digit-{digit}" for digit in reference)
    assert tuple(reference_sounds(reference)) == ("reference", *digits)
    # Nothing is played between the last answer and the queue: the variables, the queue,
    # then the reference is read (twice, the second time digits only) over its music.
    names = [name for name, _ in call.log]
    assert names[-3:] == ["set_variables", "continue_in_dialplan", "tell_while_waiting"]
    assert call.told == [(("connecting", "reference", *digits, *digits), "ar")]
    assert not any(sound.startswith("digit-") for sound in call.sounds)


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
    asked = await ask(call, menu.question("emirate"), menu, 5.0)
    assert asked == Asked(Outcome.ANSWERED, "fujairah", "7", 1)
    assert call.played == [("ask-emirate",)]
    assert list(call.script) == ["3"]


async def test_ask_reasks_after_timeout_and_invalid_key(menu):
    question = menu.question("gender")
    call = ScriptedCall([None, "5", "2"])
    asked = await ask(call, question, menu, question.timeout)
    assert (asked.outcome, asked.value, asked.key, asked.attempt) == (
        Outcome.ANSWERED, "female", "2", 3)
    assert call.played == [("ask-gender",), ("invalid", "ask-gender"), ("invalid", "ask-gender")]
    assert call.timeouts == [question.timeout] * 3


async def test_ask_gives_up_after_the_attempts(menu):
    question = menu.question("danger")
    call = ScriptedCall(["8", "7", None, "1"])
    assert await ask(call, question, menu, 5.0) == Asked(Outcome.NO_ANSWER, None, None,
                                                         question.attempts)
    assert list(call.script) == ["1"]  # the fourth key is never asked for


async def test_ask_gives_the_default_after_the_attempts(menu):
    question = menu.language_question
    call = ScriptedCall(["3"] * question.attempts)
    assert await ask(call, question, menu, 5.0) == Asked(Outcome.DEFAULTED, "ar", None,
                                                         question.attempts)


async def test_repeat_key_plays_the_question_again_without_using_an_attempt(menu):
    question = menu.question("age")
    call = ScriptedCall(["*", "*", "3"])
    asked = await ask(call, question, menu, 5.0)
    assert (asked.value, asked.attempt) == ("elderly", 1)
    assert call.played == [("ask-age",)] * 3
    assert "invalid" not in call.sounds


async def test_danger_key_at_any_question_is_danger(menu):
    for question in menu.questions:
        call = ScriptedCall([None, menu.danger_key])
        asked = await ask(call, question, menu, 5.0)
        assert (asked.outcome, asked.value, asked.key, asked.attempt) == (
            Outcome.DANGER, "yes", "9", 2)


async def test_typed_ahead_key_skips_the_prompt(menu):
    call = ScriptedCall([Ahead("2")])
    asked = await ask(call, menu.question("gender"), menu, 5.0)
    assert asked.typed_ahead and asked.value == "female"
    assert call.played == []


async def test_ask_lets_callgone_through(menu):
    call = ScriptedCall([HANGUP])
    with pytest.raises(CallGone):
        await ask(call, menu.question("age"), menu, 5.0)


async def test_scripted_call_refuses_unscripted_keys(menu):
    call = ScriptedCall([])
    with pytest.raises(ScriptExhausted):
        await ask(call, menu.question("age"), menu, 5.0)


# -- issue 3: the dialogue a caller in distress needs ------------------------------------


async def test_all_answers_typed_ahead_reach_the_queue_with_no_prompt_after_the_first(
        menu, table, store):
    # The first key is pressed during the first prompt; the rest were typed ahead.
    script = ["1", *(Ahead(key) for key in "11230")]
    call, outcome, report = await run(script, menu, table, store)
    assert call.played == [("ask-language",)]
    assert outcome.menu is not None and outcome.menu.typed_ahead and call.continued
    assert (report.queue, report.priority) == ("child-protection", 10)
    assert call.variables["BALAGH_REFERENCE"] == outcome.reference  # for the agent to give


@pytest.mark.parametrize("at", range(6))
async def test_danger_key_at_any_question_routes_at_once_with_top_priority(
        menu, table, store, at):
    answers = ["2", "2", "2", "2", "1", "0"]  # English, no danger, adult, female, Abu Dhabi
    call, outcome, report = await run([*answers[:at], "9"], menu, table, store)
    asked = [group[-1] for group in call.played if group[-1].startswith("ask-")]
    assert asked == QUESTION_PROMPTS[:at + 1]  # nothing asked after the danger key
    assert outcome.menu is not None and outcome.menu.ended is MenuEnd.DANGER_KEY
    assert report.status_detail == "danger-key"
    assert report.priority == table.danger_priority
    assert report.answers["danger"] == "yes"
    kept = {q.id for q in menu.questions[:at]} - {"danger"}
    assert kept <= set(report.answers)
    assert answer_rows(report)["danger"][1] == "9"
    assert "reference" not in call.sounds  # straight through


async def test_elderly_callers_get_longer_timeouts_from_then_on(menu, table, store):
    call, _, _ = await run(["2", "2", "3", "1", "1", "0"], menu, table, store)
    longer = menu.longer_timeouts
    assert longer is not None
    assert call.timeouts[:3] == [5.0, 5.0, 5.0]
    assert call.timeouts[3:6] == [longer.timeout] * 3


async def test_english_callers_are_told_their_reference_in_english(menu, table, store):
    call, _, _ = await run(["2", "2", "2", "2", "1", "0"], menu, table, store)
    [(sounds, language)] = call.told
    assert language == "en"
    assert sounds[:2] == ("connecting", "reference")


async def test_a_caller_in_danger_is_told_no_announcement_but_still_the_reference(
        menu, table, store):
    call, outcome, _ = await run([Ahead("9")], menu, table, store)
    [(sounds, _language)] = call.told
    assert sounds == tuple(waiting_for(outcome.reference))


async def test_option_jump_skips_to_the_named_question(tmp_path, table, store):
    text = (IVR_FILE).read_text()
    text = text.replace("      1: child              # under 18",
                        "      1: {answer: child, next: emirate}")
    path = tmp_path / "ivr.yaml"
    path.write_text(text)
    jumping = load_menu(path)
    call, outcome, _ = await run(["2", "2", "1", "3", "0"], jumping, table, store)
    assert "ask-gender" not in call.sounds
    assert outcome.answers["emirate"] == "sharjah"


# -- issue 4: what routing knows besides the answers ------------------------------------


async def test_location_from_the_answer_is_stored_with_its_source(menu, table, store):
    _, outcome, report = await run(["2", "2", "2", "2", "3", "0"], menu, table, store)
    assert (report.location, report.location_source) == ("sharjah", "answer")
    assert outcome.location is not None and outcome.location.source == "answer"


async def test_location_from_the_number_prefix_when_the_emirate_is_not_given(
        menu, table, store):
    from balagh.ivr.flow import RoutingContext

    # Emirate question timed out: the Dubai landline prefix places the caller.
    info = replace(DEFAULT_INFO, call_id="1700000000.77", caller="+97143334444")
    call = ScriptedCall(["2", "2", "2", "2", None, None, None, None], info=info)
    outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(T0),
                                context=RoutingContext(prefixes={"+9714": "dubai"}))
    await store.writer.flush()
    report = await store.queries.get_report(outcome.reference)
    assert (report.location, report.location_source) == ("dubai", "number-prefix")


async def test_geolocation_point_places_the_caller(menu, table, store):
    info = replace(DEFAULT_INFO, call_id="1700000000.78", caller=None)
    call = ScriptedCall(["2", "2", "2", "2", None, None, None, None], info=info)
    call.channel_vars = {"GEOLOC_PROFILE(format)": "GML",
                         "GEOLOC_PROFILE(location_info)": "shape=Point,crs=2d,pos=25.20 55.27"}
    outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(T0))
    assert outcome.location is not None
    assert (outcome.location.emirate, outcome.location.source) == ("dubai", "geolocation")


# -- a call taken back after the app restarted -------------------------------------------


async def test_resumed_call_is_routed_by_the_answers_stored_before_the_crash(
        menu, table, store):
    first = ScriptedCall(["2", "2", "1", HANGUP])  # the old app stored three answers
    before = await handle_call(first, menu, table, call_store(store), clock=FixedClock(T0))
    await store.writer.flush()                             # the old app's writes are on disk
    again = ScriptedCall([])                        # the same channel, found by the new app
    outcome = await resume_call(again, menu, table, call_store(store), clock=FixedClock(T0))
    await store.writer.flush()
    report = await store.queries.get_report(before.reference)
    assert outcome.reference == before.reference
    assert (report.queue, report.status) == ("child-protection", ReportStatus.ROUTED)
    assert report.status_detail == "resumed after the app restarted"
    assert again.continued and again.played == []  # straight through, no questions again


async def test_resumed_call_without_a_stored_report_gets_one(menu, table, store):
    info = replace(DEFAULT_INFO, call_id="unknown-to-the-store")
    call = ScriptedCall([], info=info)
    outcome = await resume_call(call, menu, table, call_store(store), clock=FixedClock(T0))
    await store.writer.flush()
    report = await store.queries.get_report("unknown-to-the-store")
    assert report is not None and report.reference == outcome.reference
    assert report.queue == "general" and call.continued


async def test_resumed_caller_is_handed_to_the_dialplan_when_the_app_stops(menu, table, store):
    # The app stops (its call tasks are cancelled) while a resumed caller is being routed.
    first = ScriptedCall(["2", "2", "1", HANGUP])
    before = await handle_call(first, menu, table, call_store(store), clock=FixedClock(T0))
    await store.writer.flush()
    routing = asyncio.Event()
    stopping = asyncio.Event()

    class StoppedMidRoute(ScriptedCall):
        async def set_variables(self, variables: dict[str, str]) -> None:
            routing.set()
            await stopping.wait()  # cancelled here, as the app's shutdown does

    again = StoppedMidRoute([])
    task = asyncio.create_task(resume_call(again, menu, table, call_store(store),
                                           clock=FixedClock(T0)))
    await routing.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.writer.flush()
    report = await store.queries.get_report(before.reference)
    assert report is not None
    assert again.continued  # on to the dialplan's general queue, not left in silence
    assert report.status == ReportStatus.FALLBACK
    assert report.status_detail == "resumed after the app restarted; app stopping"
