"""The IVR menu: which questions are asked, with which keys (config/ivr.yaml).

Pure data plus its loader. The call flow asks the questions in this order; routing
only ever sees the answer values, so `Menu.answer_values()` is what ties the two
files together when the routing table is validated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from balagh.yamlsrc import KeyPath, YamlDoc, load_yaml

__all__ = ["DTMF_DIGITS", "RESERVED_KEYS", "Menu", "Question", "load_menu"]

DTMF_DIGITS = frozenset("0123456789")
# Kept free for "repeat the question" / "go back" later, so admins cannot take them now.
RESERVED_KEYS = frozenset("*#")
MAX_TIMEOUT = 60.0  # seconds; catches milliseconds written by habit (5000)

# Ids, answers and prompts end up in sound paths and SQLite: no spaces, no '/'.
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TOP_KEYS = ("languages", "default_language", "invalid_prompt", "questions")
_QUESTION_KEYS = ("id", "prompt", "options", "timeout", "attempts", "default", "sets_language")


@dataclass(frozen=True)
class Question:
    id: str                      # 'language', 'danger', 'age', 'gender', 'emirate', 'condition'
    prompt: str                  # sound id: sound:balagh/<prompt> in the caller's language
    options: Mapping[str, str] = field(hash=False)  # DTMF key -> answer value, in spoken order
    timeout: float = 5.0         # seconds to wait for a key after the prompt ends
    attempts: int = 3            # how many times the question is asked
    default: str | None = None   # answer after the last attempt; None = go on without an answer
    sets_language: bool = False  # its answer becomes the channel language

    def __post_init__(self) -> None:
        # A read-only copy, so nobody can change the menu under a running call.
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self.options.values())

    def answer(self, digit: str) -> str | None:
        """The answer value for a pressed key, or None if the key means nothing here."""
        return self.options.get(digit)


@dataclass(frozen=True)
class Menu:
    questions: tuple[Question, ...]
    invalid_prompt: str          # sound id for "sorry, I did not get that"
    languages: tuple[str, ...]
    default_language: str
    source: Path

    def question(self, id: str) -> Question:
        for question in self.questions:
            if question.id == id:
                return question
        raise KeyError(f"{self.source}: no question {id!r}")

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
    _known_keys(doc, (), top, _TOP_KEYS)

    languages = _languages(doc, top.get("languages"))
    default_language = _token(doc, ("default_language",), top.get("default_language"))
    if default_language not in languages:
        raise doc.error(("default_language",),
                        f"'{default_language}' is not one of the languages {list(languages)}")
    invalid_prompt = _token(doc, ("invalid_prompt",), top.get("invalid_prompt"))

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

    return Menu(questions=tuple(questions), invalid_prompt=invalid_prompt,
                languages=languages, default_language=default_language, source=doc.path)


def _question(doc: YamlDoc, key: KeyPath, raw: Any) -> Question:
    if not isinstance(raw, dict):
        raise doc.error(key, "a question must be a mapping with id, prompt and options")
    _known_keys(doc, key, raw, _QUESTION_KEYS)
    options = _options(doc, (*key, "options"), raw.get("options"))
    default = None
    if raw.get("default") is not None:
        default = _token(doc, (*key, "default"), raw["default"])
        if default not in options.values():
            raise doc.error((*key, "default"),
                            f"'{default}' is not one of the answers {list(options.values())}")
    return Question(
        id=_token(doc, (*key, "id"), raw.get("id")),
        prompt=_token(doc, (*key, "prompt"), raw.get("prompt")),
        options=options,
        timeout=_timeout(doc, (*key, "timeout"), raw.get("timeout", 5.0)),
        attempts=_attempts(doc, (*key, "attempts"), raw.get("attempts", 3)),
        default=default,
        sets_language=_flag(doc, (*key, "sets_language"), raw.get("sets_language", False)),
    )


def _options(doc: YamlDoc, key: KeyPath, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise doc.error(key, "must be a mapping of keypad digit to answer, e.g. {1: ar, 2: en}")
    options: dict[str, str] = {}
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
        value = _token(doc, here, raw_value)
        if value in digit_of:
            raise doc.error(here, f"answer '{value}' is already on key {digit_of[value]}")
        options[digit] = value
        digit_of[value] = digit
    return options


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
        language = _token(doc, ("languages", index), item)
        if language in languages:
            raise doc.error(("languages", index), f"language '{language}' is listed twice")
        languages.append(language)
    return tuple(languages)


def _known_keys(doc: YamlDoc, key: KeyPath, raw: dict[Any, Any], known: tuple[str, ...]) -> None:
    for name in raw:
        if str(name) not in known:
            raise doc.error((*key, str(name)), f"unknown key (known: {', '.join(known)})")


def _token(doc: YamlDoc, key: KeyPath, value: Any) -> str:
    if value is None:
        raise doc.error(key, "missing")
    if isinstance(value, bool):
        raise doc.error(key, f"got {str(value).lower()}: YAML reads bare yes/no/on/off as "
                        "true/false; put the word in quotes, e.g. 'yes'")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise doc.error(key, f"must be a name of letters, digits, '-', '_' or '.', got {value!r}")
    return value


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
    if value < 1:
        raise doc.error(key, f"must be at least 1, got {value}")
    return value


def _flag(doc: YamlDoc, key: KeyPath, value: Any) -> bool:
    if not isinstance(value, bool):
        raise doc.error(key, f"must be true or false, got {value!r}")
    return value
