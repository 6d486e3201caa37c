"""The handover summary: what the agent hears, built from the answers and the decision."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from balagh.config import SOUNDS_DIR
from balagh.handover.agents import ACCEPT_PROMPT, Accept, QueueAgents
from balagh.handover.callers import caller_hash, caller_hash_key
from balagh.handover.summary import (
    HandoverSettings,
    agent_variables,
    short_whisper_prompts,
    summarise,
    whisper_files,
    whisper_prompts,
)
from balagh.ivr.port import CallInfo
from balagh.ivr.record import CallRecord
from balagh.routing import Decision, Location, OverflowStep
from balagh.routing.load import load_table
from balagh.sounds import load_catalogue

from .fakes import call_store
from .shipped import ROUTING_FILE, VALUES

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DECISION = Decision(rule="child", queue="child-protection", priority=10)
CHILD = {"language": "ar", "danger": "yes", "age": "child", "gender": "female",
         "emirate": "sharjah", "condition": "none"}


def test_the_agent_hears_danger_first_then_the_facts_and_the_reference():
    summary = summarise("3352994", CHILD, DECISION, Location("sharjah", "answer"), 3)
    assert whisper_prompts(summary) == [
        "w-report", "w-in-danger", "w-queue-child-protection", "w-age-child",
        "w-gender-female", "w-emirate-sharjah", "w-location-answer",
        "w-repeat", "digit-3", "w-reference", *(f"digit-{d}" for d in "3352994")]
    assert whisper_files(summary, "en").split("&")[:2] == ["en/balagh/w-report",
                                                           "en/balagh/w-in-danger"]
    assert summary.text() == ("child-protection; IN DANGER; child; female; sharjah (answer); "
                              "3 calls/30 days; ref 3352994")


def test_unknown_facts_are_left_out_and_a_first_call_is_not_a_repeat():
    summary = summarise("1234567", {"danger": "no", "condition": "psychiatric"},
                        Decision(rule="", queue="mental-health", priority=0),
                        Location(None, "unknown"), 1)
    assert whisper_prompts(summary)[:4] == ["w-report", "w-queue-mental-health",
                                            "w-location-unknown", "w-condition-psychiatric"]
    assert "w-repeat" not in whisper_prompts(summary)


def test_every_phrase_the_shipped_menu_and_table_can_need_is_in_the_catalogue():
    catalogue = set(load_catalogue(SOUNDS_DIR / "prompts.yaml").ids)
    table = load_table(ROUTING_FILE, VALUES)
    needed = {"w-report", "w-in-danger", "w-repeat", "w-reference", "w-location-unknown",
              ACCEPT_PROMPT}
    needed |= {f"w-queue-{queue}" for queue in table.queues}
    for question in ("age", "gender", "emirate"):
        needed |= {f"w-{question}-{value}" for value in VALUES[question]}
    needed |= {f"w-condition-{v}" for v in VALUES["condition"] if v != "none"}
    needed |= {f"w-location-{s}" for s in ("answer", "geolocation", "number-prefix")}
    assert needed - catalogue == set()


def test_the_caller_hash_is_keyed_normalised_and_never_for_withheld_numbers(tmp_path: Path):
    key = caller_hash_key(tmp_path / "data", environ={})
    assert stat.S_IMODE((tmp_path / "data" / "keys" / "caller-hash.key").stat().st_mode) == 0o600
    assert caller_hash_key(tmp_path / "data", environ={}) == key  # made once, then read
    assert caller_hash(key, "+97165551234") == caller_hash(key, "065551234")
    assert caller_hash(key, "+97165551234") != caller_hash(b"another install", "+97165551234")
    assert "97165551234" not in (caller_hash(key, "+97165551234") or "")
    assert caller_hash(key, None) is None and caller_hash(key, "anonymous") is None


async def test_repeat_calls_count_this_numbers_calls_in_30_days(store):
    key = b"test-key"
    info = CallInfo(call_id="c0", channel="PJSIP/trunk-1", caller="+97165551234", hotline="800")
    for n, days_ago in enumerate((40, 10, 1)):  # one call too old to count
        at = T0 - timedelta(days=days_ago)
        CallRecord.start(call_store(store), CallInfo("old" + str(n), "x", info.caller, "800"),
                         lambda at=at: at, key)
    await store.writer.flush()  # the earlier calls are on disk when the new one comes in
    record = CallRecord.start(call_store(store), info, lambda: T0, key)
    assert await record.repeat_calls() == 3
    withheld = CallRecord.start(call_store(store), CallInfo("c9", "x", None, "800"), lambda: T0,
                                key)
    assert await withheld.repeat_calls() is None


def test_each_queue_of_the_chain_gets_its_agents_whisper_and_accept_rule():
    decision = Decision(rule="women", queue="women-protection", priority=0, wait=60,
                        overflow=(OverflowStep("queue", "social-welfare", 60),
                                  OverflowStep("number", "+97165555555"),
                                  OverflowStep("queue", "general")))
    summary = summarise("3352994", CHILD, decision, Location("sharjah", "answer"), None)
    settings = HandoverSettings(agent_language="ar", agents={
        "women-protection": QueueAgents(language="en", accept=Accept("1", 8)),
        "general": QueueAgents(accept=Accept("0", 10))})
    variables = agent_variables(summary, decision, settings)
    # One variable per queue, named as the dialplan's REPLACE(EXTEN,-.,_) spells it.
    # Where agents accept with a key, the whisper ends asking for that key.
    assert variables == {
        "BALAGH_WHISPER_women_protection":
            whisper_files(summary, "en") + "&en/balagh/w-accept&en/balagh/digit-1",
        "BALAGH_ACCEPT_women_protection": "1^8",
        "BALAGH_WHISPER_social_welfare": whisper_files(summary, "ar"),
        "BALAGH_WHISPER_general":
            whisper_files(summary, "ar") + "&ar/balagh/w-accept&ar/balagh/digit-0",
        "BALAGH_ACCEPT_general": "0^10",
    }
    assert variables["BALAGH_WHISPER_women_protection"].startswith("en/balagh/w-report&")


def test_agents_with_the_screen_hear_only_what_must_be_heard_of_a_caller_in_danger():
    decision = Decision(rule="child", queue="child-protection", priority=10,
                        overflow=(OverflowStep("queue", "social-welfare", 60),))
    summary = summarise("3352994", CHILD, decision, Location("sharjah", "answer"), 3)
    assert short_whisper_prompts(summary) == ["w-in-danger", "w-age-child", "w-emirate-sharjah"]
    settings = HandoverSettings(agent_language="ar", agents={
        "child-protection": QueueAgents(screen=True),
        "general": QueueAgents(screen=True, accept=Accept("0", 10))})
    variables = agent_variables(summary, decision, settings)
    assert variables == {
        "BALAGH_WHISPER_child_protection":
            "ar/balagh/w-in-danger&ar/balagh/w-age-child&ar/balagh/w-emirate-sharjah",
        # a queue without the screen: the whole summary, as before
        "BALAGH_WHISPER_social_welfare": whisper_files(summary, "ar"),
        # the accept key is still asked for after the short whisper
        "BALAGH_WHISPER_general": whisper_files(summary, "ar", short=True)
        + "&ar/balagh/w-accept&ar/balagh/digit-0",
        "BALAGH_ACCEPT_general": "0^10",
    }


def test_a_caller_not_in_danger_is_summarised_whole_even_where_agents_have_the_screen():
    calm = {**CHILD, "danger": "no"}
    summary = summarise("1234567", calm, DECISION, Location(None, "unknown"), None)
    settings = HandoverSettings(agents={"child-protection": QueueAgents(screen=True)})
    variables = agent_variables(summary, DECISION, settings)
    assert variables["BALAGH_WHISPER_child_protection"] == whisper_files(summary, "ar")
    danger = summarise("1234567", CHILD, DECISION, Location(None, "unknown"), None)
    assert short_whisper_prompts(danger)[-1] == "w-location-unknown"
