"""The IVR menu: the shipped digits, the model, and the validation fixtures."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from balagh.config.yamlsrc import ConfigError
from balagh.ivr.menu import Question, load_menu

from .shipped import FIXTURES as SHARED_FIXTURES
from .shipped import IVR_FILE

FIXTURES = SHARED_FIXTURES / "ivr"
GOOD = sorted((FIXTURES / "good").glob("*.yaml"))
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))


@pytest.fixture(scope="module")
def menu():
    return load_menu(IVR_FILE)


def expected_error(path: Path) -> dict[str, str]:
    """The `# expect-line/key/message:` header every bad fixture carries."""
    return dict(re.findall(r"^# expect-(line|key|message):[ ]?(.*)$", path.read_text(), re.M))


# The public menu: callers learn these digits, so a change here must be deliberate.
SHIPPED = {
    "language": ("ask-language", {"1": "ar", "2": "en"}),
    "danger": ("ask-danger", {"1": "yes", "2": "no"}),
    "age": ("ask-age", {"1": "child", "2": "adult", "3": "elderly"}),
    "gender": ("ask-gender", {"1": "male", "2": "female"}),
    "emirate": ("ask-emirate", {"1": "abu-dhabi", "2": "dubai", "3": "sharjah", "4": "ajman",
                                "5": "umm-al-quwain", "6": "ras-al-khaimah", "7": "fujairah"}),
    "condition": ("ask-condition", {"1": "disability", "2": "psychiatric",
                                    "3": "unable-to-self-care", "0": "none"}),
}


def test_shipped_menu_digits_are_fixed(menu):
    assert [question.id for question in menu.questions] == list(SHIPPED)
    for question in menu.questions:
        prompt, options = SHIPPED[question.id]
        assert question.prompt == prompt
        assert dict(question.options) == options
        assert all(isinstance(digit, str) for digit in question.options)


def test_shipped_menu_settings(menu):
    assert menu.languages == ("ar", "en")
    assert menu.default_language == "ar"
    assert menu.invalid_prompt == "invalid"
    assert menu.source == IVR_FILE
    assert menu.language_question is menu.question("language")
    assert (menu.reference_readings, menu.silent_caller_seconds) == (2, 20.0)
    assert [q.id for q in menu.questions if q.sets_language] == ["language"]
    for question in menu.questions:
        assert (question.timeout, question.attempts) == (5.0, 3)
        # Only the language has a default: an unanswered question still reaches a person.
        assert question.default == ("ar" if question.id == "language" else None)


def test_answer_values(menu):
    values = menu.answer_values()
    assert values["age"] == frozenset({"child", "adult", "elderly"})
    assert values["danger"] == frozenset({"yes", "no"})
    assert set(values) == set(SHIPPED)


def test_question_lookup(menu):
    assert menu.question("danger").answer("1") == "yes"
    assert menu.question("danger").answer("9") is None
    with pytest.raises(KeyError, match="no question 'mood'"):
        menu.question("mood")


def test_menu_is_immutable(menu):
    question = menu.question("age")
    with pytest.raises(TypeError):
        question.options["4"] = "teen"  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        question.timeout = 1.0  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        menu.default_language = "en"  # type: ignore[misc]
    assert isinstance(menu.questions, tuple)


def test_question_defaults():
    question = Question("q", "ask-q", {"1": "a"})
    assert (question.timeout, question.attempts, question.default, question.sets_language) == (
        5.0, 3, None, False)
    assert question.values == frozenset({"a"})


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.stem)
def test_good_fixture_loads(path):
    menu = load_menu(path)
    assert set(menu.language_question.values) == set(menu.languages)


def test_good_fixture_details():
    menu = load_menu(FIXTURES / "good" / "quoted-keys.yaml")
    danger = menu.question("danger")
    assert dict(danger.options) == {"1": "yes", "2": "no"}
    assert (danger.timeout, danger.attempts, danger.default) == (7.5, 1, "no")
    assert dict(menu.question("condition").options) == {"0": "none", "9": "other"}
    assert menu.default_language == "en"


@pytest.mark.parametrize("path", BAD, ids=lambda path: path.stem)
def test_bad_fixture_fails_at_its_line(path):
    expected = expected_error(path)
    assert set(expected) == {"line", "key", "message"}, f"{path.name}: header incomplete"
    with pytest.raises(ConfigError) as caught:
        load_menu(path)
    error = caught.value
    assert (error.line, error.key) == (int(expected["line"]), expected["key"])
    assert expected["message"] in error.message
    assert str(error).startswith(f"{path}:{expected['line']}: {expected['key']}: ")


def test_fixture_sets_are_not_empty():
    assert len(GOOD) >= 2 and len(BAD) >= 10


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_menu(tmp_path / "nope.yaml")
