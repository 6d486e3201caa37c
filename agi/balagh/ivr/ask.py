"""Asking one question: until a valid key, the danger key, or the attempts run out."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import structlog

from balagh.ivr.menu import Menu, Question
from balagh.ivr.port import CallPort
from balagh.ivr.silence import NEVER_SILENT, SilentCaller
from balagh.routing import DANGER_ANSWER

log = structlog.get_logger(__name__)


class Outcome(enum.Enum):
    ANSWERED = "answered"    # a valid key
    DEFAULTED = "defaulted"  # no valid key after the last attempt; the question's default
    NO_ANSWER = "no_answer"  # no valid key and no default: straight to a person
    DANGER = "danger"        # the danger key
    SILENT = "silent"        # no key at all since the answer, for too long: to a person now


@dataclass(frozen=True)
class Asked:
    outcome: Outcome
    value: str | None = None
    key: str | None = None
    attempt: int = 1
    typed_ahead: bool = False  # the key was waiting before the prompt could start


async def ask(call: CallPort, question: Question, menu: Menu, timeout: float,
              silence: SilentCaller = NEVER_SILENT) -> Asked:
    """Ask one question until a valid key, the danger key, or the attempts run out."""
    attempt = 1
    reprompt = False
    while attempt <= question.attempts:
        typed_ahead = call.has_digits()
        if silence.expired and not typed_ahead:
            return Asked(Outcome.SILENT, None, None, attempt)
        # Escalation: after a wrong key or silence, "sorry, I did not get that" and the
        # full question again (one playback, so a key cuts both).
        await call.play([menu.invalid_prompt, question.prompt] if reprompt
                        else [question.prompt])
        left = silence.remaining()
        key = await call.get_digit(timeout if left is None else min(timeout, left))
        if key is not None:
            silence.heard_a_key()
        if key is None:
            log.info("ivr.timeout", question=question.id, attempt=attempt)
            if silence.expired:
                return Asked(Outcome.SILENT, None, None, attempt)
        elif key == menu.danger_key:
            return Asked(Outcome.DANGER, DANGER_ANSWER, key, attempt, typed_ahead)
        elif key == menu.repeat_key:
            reprompt = False  # the caller asked to hear it again: not a failed attempt
            continue
        elif (value := question.answer(key)) is not None:
            return Asked(Outcome.ANSWERED, value, key, attempt, typed_ahead)
        else:
            log.info("ivr.invalid_key", question=question.id, key=key, attempt=attempt)
        reprompt = True
        attempt += 1
    if question.default is not None:
        return Asked(Outcome.DEFAULTED, question.default, None, question.attempts)
    return Asked(Outcome.NO_ANSWER, None, None, question.attempts)
