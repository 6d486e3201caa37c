"""config/reachback.yaml's `survey:` section (reachback/survey_config.py): the satisfaction
call's dialling rules, checked as the callbacks' are, and its one or two keypad questions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from balagh.config.yamlsrc import ConfigError
from balagh.reachback.callbacks_config import load_callbacks_config
from balagh.reachback.sms_config import load_sms_config
from balagh.reachback.survey_config import Question, load_survey_config

from .reachback_helpers import write_reachback
from .shipped import CONFIG_DIR

GOOD = """\
survey:
  enabled: true
  delay_seconds: 600
  attempts: 2
  gap_seconds: 900
  hours: '10:00-19:00'
  dial: 'Local/{number}@balagh-test-callee'
  at_once: 2
  questions:
    - prompt: survey-satisfied
      keys: {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
    - prompt: survey-again
      keys: {'1': 'yes', '2': 'no'}
"""


def test_the_shipped_file_loads_all_three_sections() -> None:
    path = CONFIG_DIR / "reachback.yaml"
    config = load_survey_config(path)
    assert not config.enabled
    assert [q.prompt for q in config.questions] == ["survey-satisfied"]
    assert not load_callbacks_config(path).enabled
    load_sms_config(path, {})


def test_a_good_section_beside_the_others(tmp_path: Path) -> None:
    path = write_reachback(tmp_path, GOOD)
    config = load_survey_config(path)
    assert (config.enabled, config.delay_seconds, config.attempts, config.gap_seconds,
            config.at_once) == (True, 600, 2, 900, 2)
    assert config.channel("0501234567") == "Local/0501234567@balagh-test-callee"
    assert config.within_hours(datetime(2026, 3, 1, 10, 0))
    assert not config.within_hours(datetime(2026, 3, 1, 19, 0))
    assert config.questions == (
        Question("survey-satisfied", {str(n): str(n) for n in range(1, 6)}),
        Question("survey-again", {"1": "yes", "2": "no"}))
    # the other two sections' loaders accept the survey beside them
    assert not load_callbacks_config(path).enabled
    assert not load_sms_config(path, {}).enabled


def test_no_section_means_no_survey_calls(tmp_path: Path) -> None:
    assert not load_survey_config(tmp_path / "missing.yaml").enabled
    only_callbacks = write_reachback(tmp_path, "callbacks:\n  enabled: false\n")
    assert not load_survey_config(only_callbacks).enabled


@pytest.mark.parametrize(("body", "message"), [
    ("  enabled: true\n", "needed when enabled"),
    ("  dial: 'PJSIP/{number}@{trunk}'\n", "must hold {number} once"),
    ("  attempts: 9\n", "from 1 to 5"),
    ("  at_once: 0\n", "from 1 to 10"),
    ("  hours: '10-19'\n", "HH:MM-HH:MM"),
    ("  ring_seconds: 40\n  gap_seconds: 40\n", "longer than ring_seconds"),
    ("  questions: []\n", "1 to 2 questions"),
    ("  questions:\n" + "    - {prompt: a, keys: {1: 1}}\n" * 3, "1 to 2 questions"),
    ("  questions:\n    - {prompt: a, keys: {1: 1}}\n    - {prompt: a, keys: {1: 1}}\n",
     "asked twice"),
    ("  questions:\n    - {prompt: 'Survey Q', keys: {1: 1}}\n", "a prompt id"),
    ("  questions:\n    - {prompt: q, keys: {}}\n", "at least one key"),
    ("  questions:\n    - {prompt: q, keys: {12: 1}}\n", "one keypad key"),
    ("  questions:\n    - {prompt: q, keys: {1: 'very good'}}\n", "letters, digits"),
    ("  questions:\n    - {prompt: q, keys: {1: true}}\n", "text or a number"),
    ("  questions:\n    - {prompt: q, keys: {1: 1}, colour: red}\n", "unknown key"),
    ("  colour: red\n", "unknown key"),
])
def test_a_bad_section_says_where(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_survey_config(write_reachback(tmp_path, "# a comment\nsurvey:\n" + body))
    assert error.value.line is not None and error.value.line >= 2
