"""The satisfaction call's Stasis entry (ari/router.py): the callee who answered a survey
call (dialplan `balagh-survey`: Stasis(balagh,survey,REFERENCE)) hears, in the report's
language, "this is the hotline, about your request REF", each question (two tries for a key
the question takes), and a thank-you; the call ends and the answers are stored
(store/survey.py): a question without such a key, or not reached because the callee hung
up, is stored unanswered.

Only a survey call the dialler is placing is served: the reference must name a row of
survey_calls being dialled; any other channel entering this way is hung up on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

import structlog

from balagh.ari.router import Entry, first_arg_is
from balagh.ari.stray import turn_away
from balagh.ivr.port import CallGone, CallPort
from balagh.say import say_digits
from balagh.store.callbacks import CLAIMED, DIALLING, CallbackRows
from balagh.store.followups import FollowupRows
from balagh.store.queries import Queries
from balagh.store.survey import Answer, SurveyRows

from .survey_config import SurveyConfig

__all__ = ["HELLO", "SURVEY_ARG", "THANKS", "SurveyCall", "SurveyLine", "survey_entry"]

log = structlog.get_logger(__name__)

SURVEY_ARG = "survey"   # the first Stasis argument of `balagh-survey`
HELLO = "survey-hello"  # "this is the hotline, about your request"
THANKS = "survey-thanks"
TRIES = 2               # a question is asked at most twice
KEY_SECONDS = 6.0       # the wait for a key after each question
_UNKNOWN_UNIT = "unknown"


class SurveyCall(CallPort, Protocol):
    """The IVR's call port, and hanging up (AriCall has both)."""

    async def hangup(self) -> None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SurveyLine:
    def __init__(self, rows: CallbackRows, answers: SurveyRows, reports: Queries,
                 followups: FollowupRows, config: Callable[[], SurveyConfig], *,
                 clock: Callable[[], datetime] = _utcnow,
                 key_seconds: float = KEY_SECONDS) -> None:
        self.rows = rows
        self.answers = answers
        self.reports = reports
        self.followups = followups
        self.config = config
        self.clock = clock
        self.key_seconds = key_seconds

    async def serve(self, call: SurveyCall) -> None:
        reference = call.info.args[1] if len(call.info.args) >= 2 else ""
        row = await self.rows.of_reference(reference) if reference.isdigit() else None
        if row is None or row.status not in (CLAIMED, DIALLING):
            log.warning("survey.unexpected_channel", channel=call.info.call_id)
            await turn_away(call)
            return
        report = await self.reports.get_report(row.call_id)
        questions = self.config().questions
        heard: list[str | None] = []
        try:
            await call.set_language((report.language if report else None) or "ar")
            await call.play([HELLO, "reference", *say_digits(reference)], interruptible=False)
            for question in questions:
                heard.append(await self._ask(call, question.prompt, question.keys))
            await call.play([THANKS], interruptible=False)
            await call.hangup()
        except CallGone:
            log.info("survey.hung_up", reference=reference, answered=len(heard))
        finally:
            await self._record(reference, row.call_id, row.queue,
                               [Answer(n, q.prompt, heard[n] if n < len(heard) else None)
                                for n, q in enumerate(questions)])

    async def _ask(self, call: SurveyCall, prompt: str, keys: dict[str, str]) -> str | None:
        for _ in range(TRIES):
            await call.play([prompt])
            key = await call.get_digit(self.key_seconds)
            if key is not None and key in keys:
                return keys[key]
        return None

    async def _record(self, reference: str, call_id: str, queue: str,
                      answers: Sequence[Answer]) -> None:
        latest = await self.followups.latest(reference)
        stored = await self.answers.record(
            reference=reference, call_id=call_id, queue=queue or None,
            unit=latest.unit if latest is not None else _UNKNOWN_UNIT,
            answers=list(answers), at=self.clock())
        log.info("survey.answers", reference=reference, stored=stored,
                 answered=sum(item.answer is not None for item in answers))


def survey_entry(line: SurveyLine) -> Entry:
    async def serve(call: SurveyCall) -> None:
        await line.serve(call)

    return Entry("survey", first_arg_is(SURVEY_ARG), serve)
