"""The consent question: asked last, once routed, of whom, what is stored and who is told."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from balagh.cli.reports import print_report
from balagh.config.yamlsrc import ConfigError
from balagh.consent import CONSENT_QUESTION, may_contact
from balagh.handover.agents import variable_suffix
from balagh.handover.document import report_document, schema
from balagh.handover.summary import HandoverSettings, HandoverSummary, whisper_prompts
from balagh.hotline.load import HotlineFiles, load_routing
from balagh.ivr.check import check_menu
from balagh.ivr.consent import skip_reason
from balagh.ivr.flow import handle_call
from balagh.ivr.menu import Menu, load_menu
from balagh.ivr.port import CallInfo
from balagh.readmodel import statistics
from balagh.readmodel.period import days_period
from balagh.readmodel.rows import record
from balagh.routing import Table
from balagh.routing.load import load_table
from balagh.stats import render
from balagh.store.reports import ReportStore

from .fakes import DEFAULT_INFO, Ahead, FixedClock, ScriptedCall, call_store
from .shipped import IVR_FILE, ROUTING_FILE

T0 = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)
CONSENT_BLOCK = """
consent:
  prompt: ask-contact-safe
  options:
    1: 'yes'
    2: 'no'
  timeout: 5
  attempts: 2
"""
# Arabic, not in danger, adult, female, Dubai, no condition: women's protection.
ADULT_WOMAN = ["1", "2", "2", "2", "2", "0"]
WHISPER = f"BALAGH_WHISPER_{variable_suffix('women-protection')}"


def menu_file(tmp_path: Path, block: str = CONSENT_BLOCK) -> Path:
    path = tmp_path / "ivr.yaml"
    path.write_text(IVR_FILE.read_text(encoding="utf-8") + block, encoding="utf-8")
    return path


@pytest.fixture
def menu(tmp_path: Path) -> Menu:
    return load_menu(menu_file(tmp_path))


@pytest.fixture
def table(menu: Menu) -> Table:
    return load_table(ROUTING_FILE, menu.answer_values())


async def run(script, menu: Menu, table: Table, store: ReportStore,
              info: CallInfo = DEFAULT_INFO):
    call = ScriptedCall(script, info=info)
    outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(T0),
                                handover=HandoverSettings(agent_language="en"))
    await store.writer.flush()
    report = await store.queries.get_report(outcome.reference)
    assert report is not None
    return call, outcome, report


async def test_yes_is_asked_last_stored_and_told_to_the_agent(menu, table, store):
    call, outcome, report = await run([*ADULT_WOMAN, "1"], menu, table, store)
    prompts = [group[-1] for group in call.played]
    assert prompts[-1] == "ask-contact-safe" and prompts[-2] == "ask-condition"
    assert not call.script
    assert report.answers[CONSENT_QUESTION] == "yes"
    assert may_contact(report.answers, report.caller)
    assert outcome.decision is not None and outcome.decision.queue == "women-protection"
    # Asked before the caller is put into the queue, and the agent hears it.
    names = [name for name, _ in call.log]
    assert names.index("continue_in_dialplan") > max(
        i for i, (name, _) in enumerate(call.log) if name == "get_digit")
    assert "contact ok" in call.variables["__BALAGH_SUMMARY"]
    assert "en/balagh/w-contact-safe" in call.variables[WHISPER]


async def test_no_key_after_the_attempts_stores_no(menu, table, store):
    call, _, report = await run([*ADULT_WOMAN, None, None], menu, table, store)
    assert [group[-1] for group in call.played][-2:] == ["ask-contact-safe"] * 2
    assert report.answers[CONSENT_QUESTION] == "no"
    assert not may_contact(report.answers, report.caller)
    assert "contact ok" not in call.variables["__BALAGH_SUMMARY"]
    assert "w-contact-safe" not in call.variables[WHISPER]


async def test_a_withheld_number_is_never_asked(menu, table, store):
    withheld = replace(DEFAULT_INFO, caller=None)
    call, outcome, report = await run(ADULT_WOMAN, menu, table, store, info=withheld)
    assert "ask-contact-safe" not in call.sounds
    assert CONSENT_QUESTION not in report.answers
    assert outcome.decision is not None and outcome.decision.queue == "women-protection"


async def test_a_caller_in_danger_is_not_asked(menu, table, store):
    in_danger = ["1", "1", "2", "2", "2", "0"]
    call, _, report = await run(in_danger, menu, table, store)
    assert "ask-contact-safe" not in call.sounds
    assert CONSENT_QUESTION not in report.answers


async def test_the_danger_key_at_the_danger_key_is_not_asked(menu, table, store):
    call, _, report = await run(["1", "9"], menu, table, store)
    assert "ask-contact-safe" not in call.sounds
    assert report.answers["danger"] == "yes"


async def test_the_danger_key_at_consent_routes_again_in_danger(menu, table, store):
    call, outcome, report = await run([*ADULT_WOMAN, "9"], menu, table, store)
    assert report.answers["danger"] == "yes"
    assert CONSENT_QUESTION not in report.answers
    assert outcome.decision is not None and report.priority == outcome.decision.priority
    assert call.variables["BALAGH_PRIO"] == str(outcome.decision.priority)
    assert "IN DANGER" in call.variables["__BALAGH_SUMMARY"]


async def test_a_key_typed_ahead_past_the_menu_does_not_say_yes(menu, table, store):
    call, _, report = await run([*ADULT_WOMAN, Ahead("1"), "2"], menu, table, store)
    assert "ask-contact-safe" in call.sounds  # heard, then answered
    assert report.answers[CONSENT_QUESTION] == "no"


def test_skip_reasons(menu: Menu) -> None:
    asked = dict(menu_completed=True, answers={"danger": "no"}, caller="+971500000001",
                 queue="general")
    assert skip_reason(menu.consent, **asked) is None
    assert skip_reason(None, **asked) == "off"
    assert skip_reason(menu.consent, **{**asked, "answers": {"danger": "yes"}}) == "danger"
    assert skip_reason(menu.consent, **{**asked, "caller": None}) == "withheld"
    assert skip_reason(menu.consent, **{**asked, "caller": "anonymous"}) == "withheld"
    assert skip_reason(menu.consent, **{**asked, "menu_completed": False}) == "menu-ended"
    not_general = replace(menu.consent, not_for_queues=frozenset({"general"}))
    assert skip_reason(not_general, **asked) == "queue"


async def test_not_for_queues_skips_that_queue_only(tmp_path, table, store):
    menu = load_menu(menu_file(tmp_path, CONSENT_BLOCK + "  not_for_queues: [women-protection]\n"))
    call, _, report = await run(ADULT_WOMAN, menu, table, store)
    assert "ask-contact-safe" not in call.sounds
    assert CONSENT_QUESTION not in report.answers


@pytest.mark.parametrize(("block", "message"), [
    ("consent:\n  prompt: p\n  options: {1: 'yes', 2: 'maybe'}\n", "one key for 'yes'"),
    ("consent:\n  prompt: p\n  options: {9: 'yes', 2: 'no'}\n", "danger key"),
    ("consent:\n  prompt: p\n  options: {1: {answer: 'yes', next: route}, 2: 'no'}\n",
     "take no next"),
    ("consent:\n  prompt: p\n  options: {1: 'yes', 2: 'no'}\n  default: 'yes'\n", "default"),
    ("consent:\n  prompt: p\n  options: {1: 'yes', 2: 'no'}\n  not_for_queues: general\n",
     "list of routing queue names"),
])
def test_bad_consent_blocks_are_refused_with_the_place(tmp_path, block, message):
    with pytest.raises(ConfigError, match=message) as error:
        load_menu(menu_file(tmp_path, "\n" + block))
    assert "consent" in str(error.value)


def test_an_unknown_queue_in_not_for_queues_is_refused_at_load(tmp_path):
    path = menu_file(tmp_path, CONSENT_BLOCK + "  not_for_queues: [child-protectoin]\n")
    files = HotlineFiles(ivr=path, routing=ROUTING_FILE, handover=tmp_path / "h.yaml",
                         supervisors=tmp_path / "s.yaml")
    with pytest.raises(ConfigError, match="'child-protectoin' is not a queue") as error:
        load_routing(files)
    assert error.value.line is not None


def test_ivr_check_walks_the_consent_question(menu, table):
    without = check_menu(replace(menu, consent=None), table)
    walked = check_menu(menu, table)
    assert walked.ok and without.ok
    assert walked.consent_asked > 0 and without.consent_asked == 0
    # Its danger key is one more path wherever it is asked, each ending in a queue.
    assert walked.paths == without.paths + walked.consent_asked


def test_ivr_check_names_an_unknown_queue(tmp_path, table):
    menu = load_menu(menu_file(tmp_path, CONSENT_BLOCK + "  not_for_queues: [nowhere]\n"))
    result = check_menu(menu, table)
    assert not result.ok
    assert "'nowhere' is not a queue" in str(result.problems[0])


def summary(consent: str) -> HandoverSummary:
    return HandoverSummary(reference="3352994", queue="general", priority=0, danger=False,
                           age="adult", gender="female", emirate="dubai",
                           location_source="answer", condition="none", language="ar",
                           repeat_calls=None, consent=consent)


def test_the_units_document_says_yes_or_no_and_is_valid() -> None:
    for word in ("yes", "no"):
        document = report_document("routed", summary(word).fields(), at=T0)
        assert document["report"]["consent"] == word  # type: ignore[index]
        jsonschema.validate(document, schema())
    old = report_document("routed", {"reference": "3352994", "danger": False}, at=T0)
    jsonschema.validate(old, schema())  # a 1.0 document stays valid
    wrong = report_document("routed", {**summary("no").fields(), "consent": "maybe"}, at=T0)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, schema())


def test_the_whisper_says_it_only_when_yes() -> None:
    assert "w-contact-safe" in whisper_prompts(summary("yes"))
    assert "w-contact-safe" not in whisper_prompts(summary("no"))
    assert "contact ok" in summary("yes").text()
    assert "contact ok" not in summary("no").text()


async def test_reports_exports_and_statistics_say_it(menu, table, store, tmp_path, capsys):
    await run([*ADULT_WOMAN, "1"], menu, table, store)
    said_nothing = replace(DEFAULT_INFO, call_id="1700000000.45")
    await run([*ADULT_WOMAN, None, None], menu, table, store, info=said_nothing)
    withheld = replace(DEFAULT_INFO, caller=None, call_id="1700000000.43")
    _, outcome, _ = await run(ADULT_WOMAN, menu, table, store, info=withheld)
    yes_call = replace(DEFAULT_INFO, call_id="1700000000.44")
    _, yes_outcome, _ = await run([*ADULT_WOMAN, "1"], menu, table, store, info=yes_call)
    reports = [await store.queries.get_report(ref)
               for ref in (outcome.reference, yes_outcome.reference)]
    assert [record(r, False, UTC)["consent"] for r in reports if r] == ["no", "yes"]

    print_report(reports[1])  # type: ignore[arg-type]
    assert "consent        yes\n" in capsys.readouterr().out

    path = tmp_path / "data" / "balagh.db"
    assert path.exists()
    period = days_period(T0.date(), T0.date(), UTC)
    stats = statistics.compute(path, period, "queue")
    assert stats.consent == {"yes": 2, "no": 1}  # the withheld caller was not asked
    assert "safe to text or call back (callers asked): yes 2, no 1" in render.table(stats)
    assert '"consent": {\n    "yes": 2,\n    "no": 1\n  }' in render.as_json(stats)
