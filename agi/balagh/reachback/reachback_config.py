"""config/reachback.yaml as one loaded whole: its `sms:`, `callbacks:` and `survey:`
sections, each parsed by its own module, plus the survey's prompts checked against the
catalogue. Loading it needs no database; a bad file raises the section's ConfigError
(`file:line: key: problem`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from balagh.config.yamlsrc import ConfigError
from balagh.sounds.catalogue import load_catalogue

from .callbacks_config import CallbacksConfig, load_callbacks_config
from .sms_config import SmsConfig, load_sms_config
from .survey_config import SurveyConfig, load_survey_config
from .survey_entry import HELLO, THANKS

__all__ = ["ReachbackConfig", "check_survey_prompts", "load_reachback_config"]


@dataclass(frozen=True)
class ReachbackConfig:
    sms: SmsConfig
    callbacks: CallbacksConfig
    survey: SurveyConfig


def check_survey_prompts(config: SurveyConfig, sounds_dir: Path, source: Path) -> None:
    """Every question's prompt is in the catalogue: a typo would be a silent question."""
    catalogue = sounds_dir / "prompts.yaml"
    if not catalogue.exists():
        return  # a site whose sounds came without the script: `balagh sounds check` says
    known = set(load_catalogue(catalogue).ids)
    for prompt in (HELLO, THANKS, *(question.prompt for question in config.questions)):
        if prompt not in known:
            raise ConfigError(source, None, ("survey", "questions"),
                              f"prompt {prompt!r} is not in {catalogue}")


def load_reachback_config(path: Path, secrets: Mapping[str, str],
                          sounds_dir: Path) -> ReachbackConfig:
    """Every section, checked (a missing file or section: that part off)."""
    survey = load_survey_config(path)
    if survey.enabled:
        check_survey_prompts(survey, sounds_dir, path)
    return ReachbackConfig(sms=load_sms_config(path, secrets),
                           callbacks=load_callbacks_config(path), survey=survey)
