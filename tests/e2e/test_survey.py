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
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from balagh.ami.client import AmiSession
from balagh.config import Settings
from balagh.localtime import local

from .conftest import AppProcess, balagh
from .dialback import (
    agents_seen,
    danger_caller_hangs_up,
    dialled,
    hours_now,
    placed_channels,
    reachback_app,
    row_in,
    rows,
)
from .followup_client import free_port, post
from .legs import general_agent_away, until

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


SURVEY_IDS = "balagh-survey-"  # the ChannelIds the dialler gives survey calls
CALLEE = "balagh-test-survey-callee"
ROWS = "survey_calls"


@pytest.fixture(scope="module")
def survey_app(app: AppProcess, settings: Settings,
               data_dir: Path) -> Iterator[tuple[AppProcess, int]]:
    port = free_port()
    with reachback_app(app, settings, data_dir, "survey",
                       SURVEY.format(hours=hours_now(settings)),
                       {"BALAGH_INBOUND_ENABLED": "true",
                        "BALAGH_INBOUND_PORT": str(port)}) as process:
        yield process, port


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
    async with placed_channels(ami, SURVEY_IDS, CALLEE) as channels:
        reference, resolved_at = await resolved_report(settings, ami, survey_app,
                                                       "+971501110031", "1")
        row = await until(row_in(settings, ROWS, reference, "dialling", "answered"),
                          timeout=30, what="the survey call dialled")
        rang = time.monotonic() - resolved_at
        assert row["channel_id"] == f"balagh-survey-{row['id']}-1"
        answers = await until(
            lambda: (got := rows(settings, "SELECT question, prompt, answer, unit FROM"
                                           " survey_answers WHERE reference = ?"
                                           " ORDER BY question", reference))
            and len(got) == 2 and got, timeout=60, what="the survey's answers stored")
        stored = time.monotonic() - resolved_at
    assert [tuple(a.values()) for a in answers] == [
        (0, "survey-satisfied", "4", "E2E_UNIT"), (1, "survey-again", "no", "E2E_UNIT")]
    assert len(dialled(channels, SURVEY_IDS)) == 1
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
    async with placed_channels(ami, SURVEY_IDS, CALLEE) as channels:
        reference, _ = await resolved_report(settings, ami, survey_app, "+971501110032", "2")
        row = await until(row_in(settings, ROWS, reference, "cancelled"), timeout=30,
                          what="the survey call withheld")
        # Withheld for good: the dialler never claims a cancelled row, so no Originate.
        assert row["last_outcome"] == "no-consent" and row["attempt"] == 0
    assert channels == []
