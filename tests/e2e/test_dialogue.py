"""The IVR dialogue on the real sandbox PBX: type-ahead, barge-in, re-prompts, defaults,
'*' repeat, the danger key at every question, elderly timeouts, hang-up between questions."""

from __future__ import annotations

import pytest

from balagh.testcall import place_call

from .conftest import report_by_call, report_row

QUESTIONS = ["language", "danger", "age", "gender", "emirate", "condition"]
# English, not in danger, adult, female, Abu Dhabi, no condition -> women-protection
ADULT_WOMAN = ["2", "2", "2", "2", "1", "0"]


def starts(result, media: str) -> list[float]:
    return [t for t, kind, m in result.timeline if kind == "start" and m == media]


def finishes(result, media: str) -> list[float]:
    return [t for t, kind, m in result.timeline if kind == "finish" and m == media]


async def test_type_ahead_of_all_answers_plays_no_prompt_after_the_first_key(
        settings, running_app):
    result = await place_call(settings, "800700", ADULT_WOMAN, ahead=True)
    assert (result.queue, result.priority) == ("women-protection", 0)
    # Only the greeting question had started when the first key came; nothing after it
    # (the reference is told to the caller in the queue: test_waiting_words.py).
    assert result.played == ["ask-language"]
    report = report_row(settings, result.reference, routed=True)
    assert report["answers"] == dict(zip(QUESTIONS, ["en", "no", "adult", "female",
                                                     "abu-dhabi", "none"], strict=True))
    print(f"\ntype-ahead: answer to queue join {result.seconds_to_queue:.2f} s")
    assert result.seconds_to_queue is not None


async def test_barge_in_stops_a_long_prompt_at_once(settings, running_app):
    # Arabic: ask-age is a long prompt (about 7 s); the key comes 0.3 s into it.
    result = await place_call(settings, "800700", ["1", "2", "2", "2", "1", "0"])
    assert result.queue == "women-protection"
    started, stopped = starts(result, "ask-age")[0], finishes(result, "ask-age")[0]
    assert stopped - started < 2.0, result.timeline


async def test_timeout_reprompt_then_default(settings, running_app):
    # A wrong key, then nothing pressed twice at the language question: "sorry", the
    # question again, and in the end the default, Arabic. The call goes on with the next
    # questions. (A caller who has pressed no key at all is put through sooner: below.)
    result = await place_call(settings, "800700", ["7", "-", "-", "2", "2", "2", "1", "0"],
                              timeout=120)
    assert result.played[:5] == ["ask-language", "invalid", "ask-language", "invalid",
                                 "ask-language"]
    assert result.queue == "women-protection"
    report = report_row(settings, result.reference, routed=True)
    assert report["language"] == "ar"
    assert report["answers"]["language"] == "ar"


async def test_invalid_key_is_asked_again(settings, running_app):
    result = await place_call(settings, "800700", ["2", "7", "2", "2", "2", "1", "0"])
    assert result.played[1:4] == ["ask-danger", "invalid", "ask-danger"]
    report = report_by_call(settings, result.hotline_id, status="routed")
    danger = [row for row in _answer_log(settings, report) if row[0] == "danger"]
    assert danger == [("danger", "no", "2", 2)]


async def test_star_repeats_the_question(settings, running_app):
    result = await place_call(settings, "800700", ["2", "2", "*", "2", "2", "1", "0"])
    assert result.played.count("ask-age") == 2
    assert "invalid" not in result.played
    assert result.queue == "women-protection"


@pytest.mark.parametrize("at", range(len(QUESTIONS)), ids=QUESTIONS)
async def test_danger_key_from_every_question(settings, running_app, at):
    result = await place_call(settings, "800700", [*ADULT_WOMAN[:at], "9"])
    assert result.queue is not None
    assert result.priority == 10
    asked = [m for m in result.played if m.startswith("ask-")]
    assert asked == [f"ask-{q}" for q in QUESTIONS[:at + 1]]  # nothing asked after it
    assert "reference" not in result.played  # straight to the queue: nothing after the key
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report["status_detail"] == "danger-key"
    assert report["answers"]["danger"] == "yes"
    for question in QUESTIONS[:at]:
        if question != "danger":
            assert question in report["answers"]


async def test_a_caller_who_presses_nothing_reaches_a_person(settings, running_app):
    # No key at all, ever: after silent_caller_seconds the questions stop and the caller
    # waits for a person on the general line, with Arabic, the default language.
    result = await place_call(settings, "800700", ["-"] * 8, timeout=120)
    assert result.queue == "general"
    assert result.played[:3] == ["ask-language", "invalid", "ask-language"]
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report["status_detail"].startswith("silent:")
    print(f"\nsilent caller: answer to queue join {result.seconds_to_queue:.1f} s")


async def test_elderly_callers_wait_longer_for_a_key(settings, running_app):
    # English, no danger, elderly; then silence at the gender question.
    result = await place_call(settings, "800700", ["2", "2", "3", "-", "1", "1", "0"],
                              timeout=120)
    assert result.queue == "elderly-care"
    prompt_end = finishes(result, "ask-gender")[0]
    reprompt = starts(result, "invalid")[0]
    waited = reprompt - prompt_end
    assert 9.0 <= waited <= 12.0, result.timeline  # 10 s for elderly callers, not 5


async def test_hang_up_between_questions_keeps_the_answers_given(settings, running_app):
    result = await place_call(settings, "800700", ["2", "2", "3", "1"], hang_up_after=3)
    assert result.hung_up_early and result.queue is None
    report = report_by_call(settings, result.hotline_id, status="hung_up_in_ivr")
    assert report is not None
    assert report["answers"] == {"language": "en", "danger": "no", "age": "elderly"}


def _answer_log(settings, report) -> list[tuple[str, str, str, int]]:
    import sqlite3

    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        return list(db.execute("SELECT question, value, key, attempt FROM answers "
                               "WHERE call_id = ? ORDER BY id", (report["call_id"],)))
