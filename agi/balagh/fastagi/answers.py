"""The answers a dialplan collected, read from channel variables through the IVR menu.

Each question of config/ivr.yaml has a variable BALAGH_<ID> (BALAGH_LANGUAGE, BALAGH_AGE
...). It may hold the answer value ("child") or the key pressed ("1"), mapped through the
same menu as the ARI path; the danger key in BALAGH_DANGER means "yes". Empty means not
answered. Anything else is a problem named in BALAGH_ERROR, and the call is routed by the
answers that were valid. With the menu's consent block, BALAGH_CONTACT_SAFE is read the same
way, kept apart: whether it counts depends on the route (ivr/consent.py's skip_reason).
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from balagh.ivr.menu import Menu, Question
from balagh.routing import DANGER_ANSWER, DANGER_QUESTION

ENDED_VARIABLE = "BALAGH_ENDED"  # how the dialplan's questions ended: danger-key, no-answer:ID
DANGER_KEY_ENDING = "danger-key"
NO_ANSWER_PREFIX = "no-answer:"
MAX_VALUE_SHOWN = 40  # a value quoted in BALAGH_ERROR is cut here


def variable_for(question: Question) -> str:
    """The channel variable of a question: BALAGH_ plus its id in capitals ('-' as '_')."""
    return "BALAGH_" + question.id.upper().replace("-", "_")


def answer_variables(menu: Menu) -> tuple[str, ...]:
    """Every variable the route reads, in the menu's order."""
    consent = () if menu.consent is None else (variable_for(menu.consent.question),)
    return (*(variable_for(question) for question in menu.questions), *consent,
            ENDED_VARIABLE)


@dataclass(frozen=True)
class Given:
    """One valid answer: its value, and the key when a key was given."""

    value: str
    key: str | None


@dataclass(frozen=True)
class DialplanAnswers:
    answers: dict[str, Given] = field(default_factory=dict)  # question id -> answer
    ended: str | None = None   # the report's status_detail: danger-key / no-answer:ID
    errors: tuple[str, ...] = ()  # 'BALAGH_AGE=7: ...' for BALAGH_ERROR
    consent: Given | None = None  # BALAGH_CONTACT_SAFE, when the menu has the question

    @property
    def error_text(self) -> str:
        return "; ".join(self.errors)


def read_answers(values: Mapping[str, str | None], menu: Menu) -> DialplanAnswers:
    """The valid answers among `values` (variable -> value, None or '' when unset).

    A question on the caller's path through the menu whose variable is unset is named as
    missing, unless the dialplan said the questions ended early (BALAGH_ENDED)."""
    answers: dict[str, Given] = {}
    errors: list[str] = []
    for question in menu.questions:
        name = variable_for(question)
        raw = (values.get(name) or "").strip()
        if not raw:
            continue
        given = _answer(question, raw, menu)
        if given is None:
            errors.append(f"{name}={_shown(raw)}: not a key or answer of '{question.id}' "
                          f"({_choices(question)})")
        else:
            answers[question.id] = given
    ended = (values.get(ENDED_VARIABLE) or "").strip() or None
    if ended is not None and not _known_ending(ended, menu):
        errors.append(f"{ENDED_VARIABLE}={_shown(ended)}: not '{DANGER_KEY_ENDING}' or "
                      f"'{NO_ANSWER_PREFIX}<question>'")
        ended = None
    if ended is None:
        errors += [f"{variable_for(question)}: missing" for question in _path(menu, answers)
                   if question.id not in answers and not (values.get(variable_for(question))
                                                          or "").strip()]
    if ended == DANGER_KEY_ENDING:
        # The danger key at any prompt: the caller is in danger, whatever they said before.
        answers[DANGER_QUESTION] = Given(DANGER_ANSWER, menu.danger_key)
    consent = None
    if menu.consent is not None:
        question = menu.consent.question
        raw = (values.get(variable_for(question)) or "").strip()
        consent = _answer(question, raw, menu) if raw else None
        if raw and consent is None:
            errors.append(f"{variable_for(question)}={_shown(raw)}: not a key or answer of "
                          f"'{question.id}' ({_choices(question)})")
    return DialplanAnswers(answers, ended, tuple(errors), consent)


def _path(menu: Menu, answers: Mapping[str, Given]) -> list[Question]:
    """The questions a caller with these answers was asked, following the menu's jumps."""
    path: list[Question] = []
    question: Question | None = menu.questions[0]
    while question is not None and question not in path:
        path.append(question)
        given = answers.get(question.id)
        question = menu.next_question(question, given.key if given else None)
    return path


def _answer(question: Question, raw: str, menu: Menu) -> Given | None:
    if raw in question.values:
        key = next((k for k, v in question.options.items() if v == raw), None)
        return Given(raw, key)
    if (value := question.answer(raw)) is not None:
        return Given(value, raw)
    if question.id == DANGER_QUESTION and raw == menu.danger_key:
        return Given(DANGER_ANSWER, raw)
    return None


def _known_ending(ended: str, menu: Menu) -> bool:
    if ended == DANGER_KEY_ENDING:
        return True
    question = ended.removeprefix(NO_ANSWER_PREFIX)
    return ended.startswith(NO_ANSWER_PREFIX) and any(q.id == question for q in menu.questions)


def _choices(question: Question) -> str:
    return ", ".join(f"{key}={value}" for key, value in question.options.items())


def _shown(raw: str) -> str:
    """The value as given, quoted, cut short, without characters that would break a log
    line or the dialplan's variable."""
    cleaned = "".join(ch if ch.isprintable() and ch not in "\"\\;" else "?" for ch in raw)
    if len(cleaned) > MAX_VALUE_SHOWN:
        cleaned = cleaned[:MAX_VALUE_SHOWN] + "..."
    return f"'{cleaned}'"
