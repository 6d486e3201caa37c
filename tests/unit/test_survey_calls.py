"""The satisfaction call's scheduling and dialling (reachback/survey.py on the shared
dialler, reachback/dialler.py): a unit's "resolved" schedules one call per report; it is
dialled only with consent, while the report is still resolved, within the cap, and never
while a caller waits with no free agent; a kill between claim and Originate spends the
attempt; callbacks and survey calls are rows of their own, with their own ChannelIds."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.ari.router import StasisRouter
from balagh.config import Settings
from balagh.config.yamlsrc import ConfigError
from balagh.ivr.port import CallInfo
from balagh.reachback.dialler import Dialler
from balagh.reachback.followup_api import Resolved
from balagh.reachback.survey import SurveyPolicy, survey_on_resolved
from balagh.reachback.survey_config import Question, SurveyConfig
from balagh.reachback.survey_entry import SurveyLine, survey_entry
from balagh.reachback.survey_wiring import surveying
from balagh.routing import QueueState
from balagh.say import say_digits
from balagh.store import ReportStore, maintenance
from balagh.store.callbacks import Callback

from .fakes import HANGUP
from .reachback_helpers import (
    DUBAI,
    NUMBER,
    Asterisk,
    Callee,
    dialled_once,
    originate_variables,
    settle,
    undialled,
    write_reachback,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # 12:00 in Dubai
QUEUE = "child-protection"
CONFIG = SurveyConfig(enabled=True, delay_seconds=0, attempts=2, gap_seconds=60,
                      dial="Local/{number}@balagh-test-callee", ring_seconds=20, at_once=1)
FREE = {QUEUE: QueueState(logged_in=2, available=1, callers=0, longest_wait=0.0),
        "women-protection": QueueState(logged_in=1, available=0, callers=0,
                                       longest_wait=0.0)}


async def resolved_report(store: ReportStore, call_id: str = "c1", *,
                          consent: str | None = "yes", status: str = "resolved",
                          caller: str | None = NUMBER) -> Resolved:
    reference = str(3356000 + int(call_id[1:]))
    store.calls.start_report(call_id=call_id, reference=reference, channel="PJSIP/x",
                             caller=caller, hotline="800", started_at=T0 - timedelta(days=3))
    if consent is not None:
        store.writer.submit("seed", lambda: [
            ("INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
             " VALUES (?, 'contact_safe', ?, '1', 1, ?)", (call_id, consent, T0.isoformat()))])
    store.calls.record_decision(call_id=call_id, rule="child", queue=QUEUE, priority=5,
                                at=T0 - timedelta(days=3))
    assert await store.followups.record(unit="CHILD", id=f"{call_id}-s", reference=reference,
                                        call_id=call_id, queue=QUEUE, status=status,
                                        reason=None, signed_at=T0, at=T0)
    return Resolved(reference, call_id, QUEUE, "CHILD", T0)


async def scheduled(store: ReportStore, **kwargs: object) -> Callback:
    resolved = await resolved_report(store, **kwargs)  # type: ignore[arg-type]
    woken: list[bool] = []
    survey_on_resolved(store.survey_calls, lambda: CONFIG, lambda: woken.append(True))(
        resolved)
    await store.writer.flush()
    assert woken == [True]
    [row] = [r for r in await store.survey_calls.listing(("pending",))
             if r.reference == resolved.reference]
    return row


def dialler(store: ReportStore, ami: Asterisk, queues: dict[str, QueueState] | None = None,
            config: SurveyConfig = CONFIG) -> Dialler:
    states = FREE if queues is None else queues
    return Dialler(store.survey_calls, store.queries, ami,
                   SurveyPolicy(lambda: states, lambda: config), DUBAI, clock=lambda: T0)


async def test_resolved_with_consent_is_dialled_once_into_the_survey_context(
        store: ReportStore) -> None:
    row = await scheduled(store)
    ami = Asterisk()
    worker = dialler(store, ami)
    sent = await dialled_once(worker, ami)
    assert sent["Channel"] == f"Local/{NUMBER}@balagh-test-callee"
    assert sent["Context"] == "balagh-survey"
    assert sent["ChannelId"] == f"balagh-survey-{row.id}-1"
    variables = originate_variables(sent)
    assert variables == {"BALAGH_REFERENCE": row.reference, "BALAGH_SURVEY_LANGUAGE": "ar"}
    done = await store.survey_calls.get(row.id)
    assert done is not None and done.status == "answered"
    await worker.dial_due()
    assert len(ami.sent) == 1  # answered: never again
    # its own rows: no callback was scheduled or touched
    assert await store.callbacks.listing(("pending", "answered")) == []
    async with store.queries.db.execute(
            "SELECT kind, detail FROM report_events WHERE kind IN ('survey', 'callback')"
            " ORDER BY id") as cursor:
        steps = [(kind, json.loads(detail)["outcome"]) async for kind, detail in cursor]
    assert steps == [("survey", "scheduled"), ("survey", "claimed"), ("survey", "answered")]


async def test_a_second_resolved_schedules_no_second_call(store: ReportStore) -> None:
    row = await scheduled(store)
    survey_on_resolved(store.survey_calls, lambda: CONFIG, lambda: None)(
        Resolved(row.reference, row.call_id, QUEUE, "CHILD", T0 + timedelta(hours=1)))
    await store.writer.flush()
    assert [r.id for r in await store.survey_calls.listing(("pending",))] == [row.id]


async def test_survey_off_schedules_nothing(store: ReportStore) -> None:
    resolved = await resolved_report(store)
    survey_on_resolved(store.survey_calls, lambda: SurveyConfig(), lambda: None)(resolved)
    await store.writer.flush()
    assert await store.survey_calls.listing(("pending",)) == []


@pytest.mark.parametrize("seeded", [{"consent": None}, {"consent": "no"}, {"caller": None},
                                    {"status": "in_progress"}])
async def test_without_consent_or_no_longer_resolved_nothing_is_dialled(
        store: ReportStore, seeded: dict[str, object]) -> None:
    row = await scheduled(store, **seeded)
    ami = Asterisk()
    after = await undialled(dialler(store, ami), ami, row.id)
    assert (after.status, after.last_outcome) == ("cancelled", "no-consent")


@pytest.mark.parametrize("queues", [
    {},  # no fresh queue state: a caller may be waiting unserved
    {**FREE, "women-protection": QueueState(logged_in=1, available=0, callers=1,
                                            longest_wait=3.0)},
])
async def test_a_caller_waiting_with_no_free_agent_holds_the_survey(
        store: ReportStore, queues: dict[str, QueueState]) -> None:
    row = await scheduled(store)
    ami = Asterisk()
    after = await undialled(dialler(store, ami, queues), ami, row.id)
    assert (after.status, after.attempt) == ("pending", 0)


async def test_at_most_at_once_calls_ring(store: ReportStore) -> None:
    first = await scheduled(store, call_id="c1")
    await scheduled(store, call_id="c2")
    ami = Asterisk()
    worker = dialler(store, ami)
    await worker.dial_due()
    claimed = await store.survey_calls.listing(("claimed", "dialling"))
    assert [r.id for r in claimed] == [first.id]  # the cap of one, before the first ends
    await settle(worker)
    await worker.dial_due()
    await settle(worker)
    assert len(ami.sent) == 2


async def test_a_kill_between_claim_and_originate_never_dials_that_attempt(
        store: ReportStore) -> None:
    row = await scheduled(store)
    assert await store.survey_calls.claim(row, T0) is not None
    # the app stops here; at its restart the attempt is spent
    assert await store.survey_calls.recover(T0, attempts=2, gap_seconds=60) == 1
    after = await store.survey_calls.get(row.id)
    assert after is not None and (after.status, after.last_outcome) == ("pending",
                                                                        "interrupted")
    ami = Asterisk()
    worker = Dialler(store.survey_calls, store.queries, ami,
                     SurveyPolicy(lambda: FREE, lambda: CONFIG), DUBAI,
                     clock=lambda: T0 + timedelta(seconds=60))
    await worker.dial_due()
    await settle(worker)
    assert [sent["ChannelId"] for sent in ami.sent] == [f"balagh-survey-{row.id}-2"]


async def test_redact_cancels_a_pending_survey_and_purge_deletes_it(tmp_path) -> None:
    path = tmp_path / "balagh.db"
    store = await ReportStore.open(path)
    row = await scheduled(store)
    await store.close()
    maintenance.redact(path, T0, pause=0)
    store = await ReportStore.open(path)
    after = await store.survey_calls.get(row.id)
    await store.close()
    assert after is not None and after.status == "cancelled"
    run = maintenance.purge(path, T0, pause=0)
    assert run.detail["survey_calls"] == 1


# ------------------------------------------------------------------ the answered callee

TWO = SurveyConfig(enabled=True, questions=(
    Question("survey-satisfied", {str(n): str(n) for n in range(1, 6)}),
    Question("survey-again", {"1": "yes", "2": "no"})))


async def answered_call(store: ReportStore, script: list[object],
                        args: tuple[str, ...] | None = None) -> tuple[Callee, str]:
    row = await scheduled(store)
    assert await store.survey_calls.claim(row, T0) is not None
    await store.survey_calls.dialling(row.id, T0)
    info = CallInfo(call_id="1700000000.9", channel="Local/x", caller=None, hotline=None,
                    args=("survey", row.reference) if args is None else args)
    call = Callee(script, info=info)  # type: ignore[arg-type]
    line = SurveyLine(store.survey_calls, store.survey, store.queries, store.followups,
                      lambda: TWO, clock=lambda: T0 + timedelta(minutes=5))
    router = StasisRouter(default=_not_a_caller, entries=[survey_entry(line)])
    await router.handler_for(info.args)(call)  # type: ignore[arg-type]
    return call, row.reference


async def _not_a_caller(call: object) -> None:
    raise AssertionError("the survey entry did not claim its channel")


async def test_the_callee_answers_both_questions_in_the_reports_language(
        store: ReportStore) -> None:
    call, reference = await answered_call(store, ["7", "4", None, "2"])
    assert call.languages == ["ar"]
    hello = ["survey-hello", "reference", *say_digits(reference)]
    assert call.played == [tuple(hello), ("survey-satisfied",), ("survey-satisfied",),
                           ("survey-again",), ("survey-again",), ("survey-thanks",)]
    assert call.gone  # hung up after the thank-you
    stored = await store.survey.of_report(reference)
    assert [(a.prompt, a.answer, a.unit, a.queue) for a in stored] == [
        ("survey-satisfied", "4", "CHILD", QUEUE), ("survey-again", "no", "CHILD", QUEUE)]


async def test_no_key_is_stored_unanswered_and_a_hang_up_keeps_what_was_heard(
        store: ReportStore) -> None:
    call, reference = await answered_call(store, ["5", HANGUP])
    assert call.gone
    stored = await store.survey.of_report(reference)
    assert [(a.question, a.answer) for a in stored] == [(0, "5"), (1, None)]


async def test_a_channel_that_is_not_a_survey_call_being_dialled_is_hung_up_on(
        store: ReportStore) -> None:
    call, reference = await answered_call(store, [], args=("survey", "999"))
    assert call.played == [] and call.gone
    assert await store.survey.of_report(reference) == []


# ------------------------------------------------------------------ the composition


def settings_with(tmp_path: Path, survey: str) -> Settings:
    return replace(Settings(), data_dir=tmp_path,
                   reachback_file=write_reachback(tmp_path, "survey:\n" + survey))


async def test_surveying_off_makes_nothing(store: ReportStore, tmp_path: Path) -> None:
    parts = surveying(settings_with(tmp_path, "  enabled: false\n"), store, Asterisk(),
                      dict)
    assert (parts.dialler, parts.on_resolved, parts.entries) == (None, None, ())


async def test_surveying_on_gives_the_dialler_the_listener_and_the_entry(
        store: ReportStore, tmp_path: Path) -> None:
    parts = surveying(settings_with(tmp_path, "  enabled: true\n  dial: 'PJSIP/{number}@t'\n"),
                      store, Asterisk(), dict)
    assert parts.dialler is not None and parts.on_resolved is not None
    assert [entry.name for entry in parts.entries] == ["survey"]
    assert parts.entries[0].matches(("survey", "3356001"))
    assert not parts.entries[0].matches(("800111",))


async def test_a_question_without_its_prompt_stops_the_start(store: ReportStore,
                                                             tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'survey-typo' is not in"):
        surveying(settings_with(tmp_path, "  enabled: true\n  dial: 'PJSIP/{number}@t'\n"
                                "  questions:\n    - {prompt: survey-typo, keys: {1: 1}}\n"),
                  store, Asterisk(), dict)
