"""The satisfaction call on the sandbox PBX: a caller in danger says it is safe to call
back (asked: no agent free), hangs up; the unit's signed "resolved" schedules the survey
call, which rings the sandbox's balagh-test-survey-callee; it presses 4 and 2; the answers
are stored and `balagh stats --survey` counts them. A caller who said no is never dialled
(no channel of a survey call is ever created at Asterisk).

The shipped files leave the consent question and the survey off: this module runs its own
app with both on and the inbound listener (BALAGH_IVR_FILE, BALAGH_REACHBACK_FILE), and
gives the session's app back afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from balagh.ami.client import AmiSession
from balagh.config import Settings
from balagh.localtime import local

from .conftest import AppProcess, balagh
from .legs import general_agent_away, until
from .test_callbacks import CONSENT_BLOCK, agents_seen, danger_caller_hangs_up, hours_now
from .test_followup import free_port, post

SURVEY = """\
survey:
  enabled: true
  delay_seconds: 0
  attempts: 1
  gap_seconds: 60
  ring_seconds: 20
  hours: '{hours}'
  dial: 'Local/{{number}}@balagh-test-survey-callee'
  questions:
    - prompt: survey-satisfied
      keys: {{1: 1, 2: 2, 3: 3, 4: 4, 5: 5}}
    - prompt: survey-again
      keys: {{1: 'yes', 2: 'no'}}
"""


@pytest.fixture(scope="module")
def survey_app(app: AppProcess, settings: Settings,
               data_dir: Path) -> Iterator[tuple[AppProcess, int]]:
    config = data_dir / "config"
    menu = config / "ivr-survey.yaml"
    menu.write_text(settings.ivr_file.read_text(encoding="utf-8") + CONSENT_BLOCK,
                    encoding="utf-8")
    reachback = config / "reachback-survey.yaml"
    reachback.write_text(SURVEY.format(hours=hours_now(settings)), encoding="utf-8")
    port = free_port()
    app.stop()  # one app per Stasis name: the session's gives way for this module
    process = AppProcess(settings, data_dir / "app-survey.log", extra_env={
        "BALAGH_IVR_FILE": str(menu), "BALAGH_REACHBACK_FILE": str(reachback),
        "BALAGH_INBOUND_ENABLED": "true", "BALAGH_INBOUND_PORT": str(port)})
    process.start()
    try:
        yield process, port
    finally:
        process.stop()
        app.start()


def rows(settings: Settings, sql: str, *args: object) -> list[sqlite3.Row]:
    with contextlib.closing(sqlite3.connect(f"file:{settings.database}?mode=ro",
                                            uri=True)) as db:
        db.row_factory = sqlite3.Row
        return list(db.execute(sql, args))


def survey_row(settings: Settings, reference: str, *statuses: str):
    def found() -> sqlite3.Row | None:
        got = rows(settings, "SELECT * FROM survey_calls WHERE reference = ?", reference)
        return got[0] if got and got[0]["status"] in statuses else None

    return found


@contextlib.asynccontextmanager
async def survey_channels(ami: AmiSession) -> AsyncIterator[list[dict[str, str]]]:
    """Every channel Asterisk creates for a survey call while the block runs."""
    seen: list[dict[str, str]] = []
    events = ami.listen(lambda e: e.get("Event") == "Newchannel"
                        and (e.get("Uniqueid", "").startswith("balagh-survey-")
                             or "balagh-test-survey-callee" in e.get("Channel", "")))

    async def collect() -> None:
        while True:
            seen.append(await events.get())

    task = asyncio.create_task(collect())
    try:
        yield seen
    finally:
        task.cancel()
        ami.unlisten(events)


async def resolved_report(settings: Settings, ami: AmiSession,
                          survey_app: tuple[AppProcess, int], number: str,
                          consent: str) -> tuple[str, float]:
    """A routed report whose caller answered the consent question (asked: no agent free),
    then a unit's signed 'resolved' for it: its reference and when the unit was answered."""
    process, port = survey_app
    async with general_agent_away(ami):
        await agents_seen(process, 0)
        reference, _ = await danger_caller_hangs_up(settings, ami, number, consent)
    status, _ = await post(port, reference, {"status": "resolved"}, str(uuid.uuid4()))
    assert status == 200
    return reference, time.monotonic()


async def test_with_consent_the_callee_is_asked_and_the_answers_counted(
        settings: Settings, survey_app: tuple[AppProcess, int], ami: AmiSession) -> None:
    async with survey_channels(ami) as channels:
        reference, resolved_at = await resolved_report(settings, ami, survey_app,
                                                       "+971501110031", "1")
        row = await until(survey_row(settings, reference, "dialling", "answered"),
                          timeout=30, what="the survey call dialled")
        rang = time.monotonic() - resolved_at
        assert row["channel_id"] == f"balagh-survey-{row['id']}-1"
        answers = await until(
            lambda: (got := rows(settings, "SELECT question, prompt, answer, unit FROM"
                                           " survey_answers WHERE reference = ?"
                                           " ORDER BY question", reference))
            and len(got) == 2 and got, timeout=60, what="the survey's answers stored")
        stored = time.monotonic() - resolved_at
    assert [tuple(a) for a in answers] == [(0, "survey-satisfied", "4", "E2E_UNIT"),
                                           (1, "survey-again", "no", "E2E_UNIT")]
    assert len([c for c in channels if c["Uniqueid"].startswith("balagh-survey-")
                and ";" not in c["Uniqueid"]]) == 1
    today = local(datetime.now(UTC), settings.zone).date().isoformat()
    stats = await asyncio.to_thread(balagh, settings, "stats", "--since", today, "--until",
                                    today, "--survey", "--format", "json")
    assert stats.returncode == 0, stats.stderr
    counted = json.loads(stats.stdout)["survey"]
    assert any(c["unit"] == "E2E_UNIT" and c["question"] == "survey-satisfied"
               and c["answer"] == "4" and c["calls"] >= 1 for c in counted), counted
    print(f"\nsurvey: resolved -> dialling {rang:.1f} s, -> answers stored {stored:.1f} s")


async def test_without_consent_nothing_is_dialled(
        settings: Settings, survey_app: tuple[AppProcess, int], ami: AmiSession) -> None:
    async with survey_channels(ami) as channels:
        reference, _ = await resolved_report(settings, ami, survey_app, "+971501110032", "2")
        row = await until(survey_row(settings, reference, "cancelled"), timeout=30,
                          what="the survey call withheld")
        # Withheld for good: the dialler never claims a cancelled row, so no Originate.
        assert row["last_outcome"] == "no-consent" and row["attempt"] == 0
    assert channels == []
