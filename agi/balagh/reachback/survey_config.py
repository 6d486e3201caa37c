"""config/reachback.yaml's `survey:` section: the satisfaction call placed after a unit
says a report is resolved, with the caller's consent (issue 27, seed 003). Checked once
when loaded, with file:line errors. The dialling rules are the callbacks' (delay, attempts,
gap, ring time, hours, dial string: the same checks, callbacks_config.py); its own are a
small cap on calls at once and the one or two keypad questions, each a prompt id and the
keys it takes, each key mapped to the answer stored (e.g. "1".."5" -> 1..5)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

from balagh.config.yamlsrc import YamlDoc, known_keys, load_optional_mapping

from .callbacks_config import caller_id, dial, hours, ring_and_gap, whole, within
from .sms_config import SECTIONS

__all__ = ["MAX_ANSWER", "MAX_QUESTIONS", "Question", "SurveyConfig", "load_survey_config"]

_SECTION = "survey"
_KEYS = ("enabled", "delay_seconds", "attempts", "gap_seconds", "hours", "dial",
         "ring_seconds", "caller_id", "at_once", "questions")
_QUESTION_KEYS = ("prompt", "keys")
_PROMPT = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")  # a file name in sounds/<lang>/balagh/
_KEY = re.compile(r"^[0-9*#]$")  # one keypad key
_ANSWER = re.compile(r"^[A-Za-z0-9_-]+$")  # a value for the statistics, never the caller's words
MAX_QUESTIONS = 2  # a short call: the seed asks one or two
MAX_ANSWER = 32


@dataclass(frozen=True)
class Question:
    prompt: str                   # sounds/prompts.yaml's id, played in the report's language
    keys: dict[str, str] = field(default_factory=dict)  # key pressed -> answer stored


def _default_questions() -> tuple[Question, ...]:
    return (Question("survey-satisfied", {str(n): str(n) for n in range(1, 6)}),)


@dataclass(frozen=True)
class SurveyConfig:
    enabled: bool = False
    delay_seconds: int = 3600    # after "resolved": not while the matter is still raw
    attempts: int = 2            # dials at most per resolved report
    gap_seconds: int = 3600      # between two attempts (longer than ring_seconds)
    hours: tuple[time, time] = (time(10, 0), time(19, 0))  # in the hotline's zone
    dial: str = ""               # e.g. PJSIP/{number}@trunk, as the callbacks'
    ring_seconds: int = 30
    caller_id: str = ""
    at_once: int = 1             # survey calls ringing at once, at most
    questions: tuple[Question, ...] = field(default_factory=_default_questions)

    def channel(self, number: str) -> str:
        return self.dial.format(number=number)

    def within_hours(self, local: datetime) -> bool:
        return within(self.hours, local)


def _question(doc: YamlDoc, raw: Any, n: int) -> Question:
    where: tuple[str | int, ...] = (_SECTION, "questions", n)
    if not isinstance(raw, dict):
        raise doc.error(where, "must be a mapping with prompt and keys")
    known_keys(doc, where, raw, _QUESTION_KEYS)
    prompt = raw.get("prompt")
    if not isinstance(prompt, str) or not _PROMPT.match(prompt):
        raise doc.error((*where, "prompt"), "must be a prompt id (lower-case letters, digits"
                                            " and '-', e.g. survey-satisfied)")
    keys = raw.get("keys")
    if not isinstance(keys, dict) or not keys:
        raise doc.error((*where, "keys"), "must map at least one key to its answer")
    taken: dict[str, str] = {}
    for key, value in keys.items():
        key_text = str(key)
        if isinstance(key, bool) or not _KEY.match(key_text):
            raise doc.error((*where, "keys", key_text), "must be one keypad key: 0-9, * or #")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise doc.error((*where, "keys", key_text), "the answer must be text or a number")
        answer = str(value)
        if not _ANSWER.match(answer) or len(answer) > MAX_ANSWER:
            raise doc.error((*where, "keys", key_text),
                            f"the answer must be letters, digits, '_' or '-', at most "
                            f"{MAX_ANSWER}")
        taken[key_text] = answer
    return Question(prompt, taken)


def _questions(doc: YamlDoc, raw: Any) -> tuple[Question, ...]:
    if raw is None:
        return _default_questions()
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUESTIONS:
        raise doc.error((_SECTION, "questions"),
                        f"must be a list of 1 to {MAX_QUESTIONS} questions")
    questions = tuple(_question(doc, item, n) for n, item in enumerate(raw))
    prompts = [question.prompt for question in questions]
    if len(set(prompts)) != len(prompts):
        raise doc.error((_SECTION, "questions"), "the same prompt is asked twice")
    return questions


def load_survey_config(path: Path) -> SurveyConfig:
    """The file's `survey:` section (a missing file or section: no survey calls)."""
    loaded = load_optional_mapping(path, SECTIONS, "an `sms:`, `callbacks:` or `survey:`"
                                                   " section")
    if loaded is None or loaded[1].get(_SECTION) is None:
        return SurveyConfig()
    doc, data = loaded
    raw = data[_SECTION]
    if not isinstance(raw, dict):
        raise doc.error((_SECTION,), "must be a mapping")
    known_keys(doc, (_SECTION,), raw, _KEYS)
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        raise doc.error((_SECTION, "enabled"), "must be true or false")
    ring, gap = ring_and_gap(doc, raw, _SECTION, SurveyConfig.ring_seconds,
                             SurveyConfig.gap_seconds)
    return SurveyConfig(
        enabled=enabled,
        delay_seconds=whole(doc, raw, "delay_seconds", SurveyConfig.delay_seconds, 0,
                            30 * 86_400, _SECTION),
        attempts=whole(doc, raw, "attempts", SurveyConfig.attempts, 1, 5, _SECTION),
        gap_seconds=gap,
        hours=hours(doc, raw["hours"], _SECTION) if "hours" in raw else SurveyConfig.hours,
        dial=dial(doc, raw.get("dial"), enabled, _SECTION), ring_seconds=ring,
        caller_id=caller_id(doc, raw, _SECTION),
        at_once=whole(doc, raw, "at_once", SurveyConfig.at_once, 1, 10, _SECTION),
        questions=_questions(doc, raw.get("questions")))
