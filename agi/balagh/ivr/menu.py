"""The IVR menu: which questions are asked, with which keys (config/ivr.yaml).

Pure data plus its loader. The call flow asks the questions in this order; routing
only ever sees the answer values, so `Menu.answer_values()` is what ties the two
files together when the routing table is validated.

(A little over 300 lines on purpose: the menu's model and the checks of its one YAML file
read best side by side, and every caller imports both.)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from balagh.config.yamlsrc import ConfigError, KeyPath, YamlDoc, known_keys, load_yaml
from balagh.consent import CONSENT_NO, CONSENT_QUESTION, CONSENT_YES
from balagh.routing.load.fields import token

__all__ = ["DTMF_DIGITS", "RESERVED_KEYS", "ROUTE", "Consent", "LongerTimeouts", "Menu",
           "Question", "load_menu"]

DTMF_DIGITS = frozenset("0123456789")
# '*' repeats the question; '#' is kept free for later, so admins cannot take them for answers.
RESERVED_KEYS = frozenset("*#")
# A question asked more often keeps a silent caller from ever reaching a person.
MAX_ATTEMPTS = 10
MAX_TIMEOUT = 60.0  # seconds; catches milliseconds written by habit (5000)
ROUTE = "route"     # `next: route`: stop asking and put the call through now

_TOP_KEYS = ("languages", "default_language", "invalid_prompt", "questions", "danger_key",
             "repeat_key", "longer_timeouts", "reference_readings", "silent_caller_seconds",
             "consent")
MAX_READINGS = 3
# A silent caller is put through within this; longer and it is no shortcut at all.
MAX_SILENT_SECONDS = 120.0
_QUESTION_KEYS = ("id", "prompt", "options", "timeout", "attempts", "default", "sets_language")
_OPTION_KEYS = ("answer", "next")
_CONSENT_KEYS = ("prompt", "options", "timeout", "attempts", "not_for_queues")


@dataclass(frozen=True)
class Question:
    id: str                      # 'language', 'danger', 'age', 'gender', 'emirate', 'condition'
    prompt: str                  # sound id: sound:balagh/<prompt> in the caller's language
    options: Mapping[str, str] = field(hash=False)  # DTMF key -> answer value, in spoken order
    timeout: float = 5.0         # seconds to wait for a key after the prompt ends
    attempts: int = 3            # how many times the question is asked
    default: str | None = None   # answer after the last attempt; None = straight to a human
    sets_language: bool = False  # its answer becomes the channel language
    jumps: Mapping[str, str] = field(default_factory=dict, hash=False)  # key -> next id / ROUTE

    def __post_init__(self) -> None:
        # Read-only copies, so nobody can change the menu under a running call.
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        object.__setattr__(self, "jumps", MappingProxyType(dict(self.jumps)))

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self.options.values())

    def answer(self, digit: str) -> str | None:
        """The answer value for a pressed key, or None if the key means nothing here."""
        return self.options.get(digit)


@dataclass(frozen=True)
class LongerTimeouts:
    """Callers who gave one of these answers get more time on every later question."""

    when: Mapping[str, frozenset[str]] = field(hash=False)
    timeout: float

    def applies(self, answers: Mapping[str, str]) -> bool:
        return any(answers.get(question) in values for question, values in self.when.items())


@dataclass(frozen=True)
class Consent:
    """The optional last question: may we text or call back on this number? Asked once the
    route is known (ivr/consent.py says of whom); unanswered means 'no'."""

    question: Question           # id CONSENT_QUESTION, answers 'yes'/'no', default 'no'
    not_for_queues: frozenset[str] = frozenset()  # routing queues whose callers are not asked
    line: int | None = field(default=None, compare=False)  # of not_for_queues, for errors

    def check_queues(self, source: Path, queues: Collection[str]) -> None:
        """A queue named in not_for_queues must be one the routing table has."""
        unknown = sorted(self.not_for_queues - set(queues))
        if unknown:
            raise ConfigError(source, self.line, "consent.not_for_queues",
                              f"'{unknown[0]}' is not a queue of the routing table "
                              f"({', '.join(sorted(queues))})")


@dataclass(frozen=True)
class Menu:
    questions: tuple[Question, ...]
    invalid_prompt: str          # sound id for "sorry, I did not get that"
    languages: tuple[str, ...]
    default_language: str
    source: Path
    danger_key: str | None = "9"     # at any prompt: in danger now, route at once
    repeat_key: str = "*"            # plays the question (or the reference) again
    longer_timeouts: LongerTimeouts | None = None
    reference_readings: int = 2      # times the reference is read to a caller in the queue
    silent_caller_seconds: float = 0.0  # no key at all by then: put through now (0: off)
    consent: Consent | None = None   # None: the consent question is never asked

    def question(self, id: str) -> Question:
        for question in self.questions:
            if question.id == id:
                return question
        raise KeyError(f"{self.source}: no question {id!r}")

    def next_question(self, question: Question, key: str | None) -> Question | None:
        """The question after `question` answered with `key`; None = route the call now."""
        target = question.jumps.get(key or "")
        if target == ROUTE:
            return None
        if target is not None:
            return self.question(target)
        index = self.questions.index(question)
        return self.questions[index + 1] if index + 1 < len(self.questions) else None

    def timeout_for(self, question: Question, answers: Mapping[str, str]) -> float:
        longer = self.longer_timeouts
        if longer is not None and longer.applies(answers):
            return max(question.timeout, longer.timeout)
        return question.timeout

    def answer_values(self) -> dict[str, frozenset[str]]:
        """Question id -> the values it can produce (what routing rules may test)."""
        return {question.id: question.values for question in self.questions}

    @property
    def language_question(self) -> Question:
        return next(question for question in self.questions if question.sets_language)


def load_menu(path: str | Path) -> Menu:
    """Load and validate config/ivr.yaml; every problem is a ConfigError with file:line: key."""
    doc = load_yaml(path)
    top = doc.data
    if not isinstance(top, dict):
        raise doc.error((), "the menu must be a mapping with " + ", ".join(_TOP_KEYS))
    known_keys(doc, (), top, _TOP_KEYS)

    languages = _languages(doc, top.get("languages"))
    default_language = token(doc, ("default_language",), top.get("default_language"))
    if default_language not in languages:
        raise doc.error(("default_language",),
                        f"'{default_language}' is not one of the languages {list(languages)}")
    invalid_prompt = token(doc, ("invalid_prompt",), top.get("invalid_prompt"))

    raw_questions = top.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise doc.error(("questions",), "must be a non-empty list of questions")
    questions: list[Question] = []
    first_line: dict[str, int | None] = {}
    for index, raw in enumerate(raw_questions):
        question = _question(doc, ("questions", index), raw)
        if question.id in first_line:
            raise doc.error(("questions", index, "id"), f"duplicate question id '{question.id}' "
                            f"(first defined at line {first_line[question.id]})")
        first_line[question.id] = doc.line(("questions", index, "id"))
        questions.append(question)
    _check_language_question(doc, questions, languages)
    _check_jumps(doc, questions)
    danger_key = _danger_key(doc, top.get("danger_key", "9"), questions)
    repeat_key = str(top.get("repeat_key", "*"))
    if repeat_key not in RESERVED_KEYS | DTMF_DIGITS or any(
            repeat_key in q.options for q in questions) or repeat_key == danger_key:
        raise doc.error(("repeat_key",), f"'{repeat_key}' must be a key no question uses, "
                        "normally '*'")
    longer = _longer_timeouts(doc, top.get("longer_timeouts"), questions)
    readings = top.get("reference_readings", 2)
    if isinstance(readings, bool) or not isinstance(readings, int) \
            or not 0 <= readings <= MAX_READINGS:
        raise doc.error(("reference_readings",),
                        f"must be a whole number 0 to {MAX_READINGS}, got {readings!r}")
    silent = top.get("silent_caller_seconds", 0)
    if isinstance(silent, bool) or not isinstance(silent, int | float) \
            or not 0 <= silent <= MAX_SILENT_SECONDS:
        raise doc.error(("silent_caller_seconds",),
                        f"must be 0 (off) to {MAX_SILENT_SECONDS:g} seconds, got {silent!r}")

    consent = _consent(doc, top.get("consent"), questions, danger_key, repeat_key)

    return Menu(questions=tuple(questions), invalid_prompt=invalid_prompt,
                languages=languages, default_language=default_language, source=doc.path,
                danger_key=danger_key, repeat_key=repeat_key, longer_timeouts=longer,
                reference_readings=readings, silent_caller_seconds=float(silent),
                consent=consent)


def _consent(doc: YamlDoc, raw: Any, questions: list[Question], danger_key: str | None,
             repeat_key: str) -> Consent | None:
    """The `consent` block: a question of fixed id and answers, whose default is 'no'."""
    if raw is None:
        return None
    key: KeyPath = ("consent",)
    if not isinstance(raw, dict):
        raise doc.error(key, "must be a mapping with prompt and options (or left out)")
    known_keys(doc, key, raw, _CONSENT_KEYS)
    if any(question.id == CONSENT_QUESTION for question in questions):
        raise doc.error(key, f"'{CONSENT_QUESTION}' is asked by this block only; remove the "
                        "question of that id from questions")
    options, jumps = _options(doc, (*key, "options"), raw.get("options"))
    if jumps:
        raise doc.error((*key, "options", next(iter(jumps))), "the consent question is the "
                        "last one: its options take no next")
    if set(options.values()) != {CONSENT_YES, CONSENT_NO}:
        raise doc.error((*key, "options"), f"must be one key for '{CONSENT_YES}' and one for "
                        f"'{CONSENT_NO}', got {sorted(options.values())}")
    for digit in options:
        if digit in (danger_key, repeat_key):
            raise doc.error((*key, "options", digit), f"key {digit} is the "
                            f"{'danger' if digit == danger_key else 'repeat'} key")
    not_for = raw.get("not_for_queues", [])
    if not isinstance(not_for, list):
        raise doc.error((*key, "not_for_queues"), "must be a list of routing queue names")
    queues = frozenset(token(doc, (*key, "not_for_queues", index), name)
                       for index, name in enumerate(not_for))
    question = Question(
        id=CONSENT_QUESTION, prompt=token(doc, (*key, "prompt"), raw.get("prompt")),
        options=options, timeout=_timeout(doc, (*key, "timeout"), raw.get("timeout", 5.0)),
        attempts=_attempts(doc, (*key, "attempts"), raw.get("attempts", 2)),
        default=CONSENT_NO)
    return Consent(question=question, not_for_queues=queues,
                   line=doc.line((*key, "not_for_queues")))


def _danger_key(doc: YamlDoc, raw: Any, questions: list[Question]) -> str | None:
    if raw is None:
        return None  # switched off on purpose
    key = str(raw)
    if key not in DTMF_DIGITS:
        raise doc.error(("danger_key",), f"must be one digit 0-9 (or null for none), got {key!r}")
    for index, question in enumerate(questions):
        if key in question.options:
            raise doc.error(("questions", index, "options", key),
                            f"key {key} is the danger key (danger_key); it cannot also be an "
                            f"answer to '{question.id}'")
    return key


def _longer_timeouts(doc: YamlDoc, raw: Any, questions: list[Question]) -> LongerTimeouts | None:
    if raw is None:
        return None
    key: KeyPath = ("longer_timeouts",)
    if not isinstance(raw, dict):
        raise doc.error(key, "must be a mapping with when and timeout")
    known_keys(doc, key, raw, ("when", "timeout"))
    when_raw = raw.get("when")
    if not isinstance(when_raw, dict) or not when_raw:
        raise doc.error((*key, "when"), "must map a question id to its answer(s), "
                        "e.g. {age: elderly}")
    by_id = {question.id: question for question in questions}
    when: dict[str, frozenset[str]] = {}
    for question_id, values in when_raw.items():
        here = (*key, "when", str(question_id))
        if str(question_id) not in by_id:
            raise doc.error(here, f"no question '{question_id}' in this menu")
        listed = values if isinstance(values, list) else [values]
        names = frozenset(token(doc, here, value) for value in listed)
        unknown = names - by_id[str(question_id)].values
        if unknown:
            raise doc.error(here, f"'{sorted(unknown)[0]}' is not an answer of "
                            f"'{question_id}' ({sorted(by_id[str(question_id)].values)})")
        when[str(question_id)] = names
    timeout = _timeout(doc, (*key, "timeout"), raw.get("timeout"))
    return LongerTimeouts(when=MappingProxyType(when), timeout=timeout)


def _check_jumps(doc: YamlDoc, questions: list[Question]) -> None:
    ids = {question.id for question in questions}
    for index, question in enumerate(questions):
        for key, target in question.jumps.items():
            if target != ROUTE and target not in ids:
                raise doc.error(("questions", index, "options", key, "next"),
                                f"no question '{target}' (use a question id or '{ROUTE}')")


def _question(doc: YamlDoc, key: KeyPath, raw: Any) -> Question:
    if not isinstance(raw, dict):
        raise doc.error(key, "a question must be a mapping with id, prompt and options")
    known_keys(doc, key, raw, _QUESTION_KEYS)
    options, jumps = _options(doc, (*key, "options"), raw.get("options"))
    default = None
    if raw.get("default") is not None:
        default = token(doc, (*key, "default"), raw["default"])
        if default not in options.values():
            raise doc.error((*key, "default"),
                            f"'{default}' is not one of the answers {list(options.values())}")
    return Question(
        id=token(doc, (*key, "id"), raw.get("id")),
        prompt=token(doc, (*key, "prompt"), raw.get("prompt")),
        options=options,
        timeout=_timeout(doc, (*key, "timeout"), raw.get("timeout", 5.0)),
        attempts=_attempts(doc, (*key, "attempts"), raw.get("attempts", 3)),
        default=default,
        sets_language=_flag(doc, (*key, "sets_language"), raw.get("sets_language", False)),
        jumps=jumps,
    )


def _options(doc: YamlDoc, key: KeyPath, raw: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Options are `digit: answer`, or `digit: {answer: ..., next: question-id | route}`."""
    if not isinstance(raw, dict) or not raw:
        raise doc.error(key, "must be a mapping of keypad digit to answer, e.g. {1: ar, 2: en}")
    options: dict[str, str] = {}
    jumps: dict[str, str] = {}
    digit_of: dict[str, str] = {}
    for raw_digit, raw_value in raw.items():
        digit = str(raw_digit)  # YAML reads an unquoted 1 as an int
        here = (*key, digit)
        if digit in RESERVED_KEYS:
            raise doc.error(here, f"key '{digit}' is reserved for later; use a digit 0-9")
        if digit not in DTMF_DIGITS:
            raise doc.error(here, f"keypad key must be one digit 0-9, got '{digit}'")
        if digit in options:
            raise doc.error(here, f"key {digit} is given twice")
        if isinstance(raw_value, dict):
            known_keys(doc, here, raw_value, _OPTION_KEYS)
            if raw_value.get("next") is not None:
                jumps[digit] = token(doc, (*here, "next"), raw_value["next"])
            value = token(doc, (*here, "answer"), raw_value.get("answer"))
        else:
            value = token(doc, here, raw_value)
        if value in digit_of:
            raise doc.error(here, f"answer '{value}' is already on key {digit_of[value]}")
        options[digit] = value
        digit_of[value] = digit
    return options, jumps


def _check_language_question(doc: YamlDoc, questions: list[Question],
                             languages: tuple[str, ...]) -> None:
    chosen = [index for index, question in enumerate(questions) if question.sets_language]
    if not chosen:
        raise doc.error(("questions",), "one question must have sets_language: true")
    if len(chosen) > 1:
        raise doc.error(("questions", chosen[1], "sets_language"),
                        f"only one question may set the language; "
                        f"'{questions[chosen[0]].id}' already does")
    question = questions[chosen[0]]
    if question.values != set(languages):
        raise doc.error(("questions", chosen[0], "options"),
                        f"the answers of the language question must be the languages "
                        f"{sorted(languages)}, got {sorted(question.values)}")


def _languages(doc: YamlDoc, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise doc.error(("languages",), "must be a non-empty list of language codes, e.g. [ar, en]")
    languages: list[str] = []
    for index, item in enumerate(raw):
        language = token(doc, ("languages", index), item)
        if language in languages:
            raise doc.error(("languages", index), f"language '{language}' is listed twice")
        languages.append(language)
    return tuple(languages)


def _timeout(doc: YamlDoc, key: KeyPath, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.error(key, f"must be a number of seconds, got {value!r}")
    if not 0 < value <= MAX_TIMEOUT:
        raise doc.error(key, f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds, "
                        f"got {value:g}")
    return float(value)


def _attempts(doc: YamlDoc, key: KeyPath, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(key, f"must be a whole number, got {value!r}")
    if not 1 <= value <= MAX_ATTEMPTS:
        raise doc.error(key, f"must be from 1 to {MAX_ATTEMPTS}, got {value}")
    return value


def _flag(doc: YamlDoc, key: KeyPath, value: Any) -> bool:
    if not isinstance(value, bool):
        raise doc.error(key, f"must be true or false, got {value!r}")
    return value
