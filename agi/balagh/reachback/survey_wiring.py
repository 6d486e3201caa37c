"""The satisfaction call's part of `balagh run`'s composition: config/reachback.yaml's
`survey:` loaded and checked, the shared dialler with the survey's policy on the shared
AMI session, the `on_resolved` listener that schedules a call, and the Stasis entry that
serves the answered callee; the console's list and cancel routes (call_routes.py,
shared with the callbacks) on the inbound listener. Off (the default): nothing made,
nothing registered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import structlog

from balagh.ari.router import Entry
from balagh.config import Settings
from balagh.config.yamlsrc import ConfigError
from balagh.inbound import InboundServer
from balagh.routing import QueueState
from balagh.sounds.catalogue import load_catalogue
from balagh.store import ReportStore

from .call_routes import serve_calls
from .dialler import Dialler, Originator
from .followup_api import ResolvedListener
from .survey import SurveyPolicy, survey_on_resolved
from .survey_config import SurveyConfig, load_survey_config
from .survey_entry import HELLO, THANKS, SurveyLine, survey_entry

__all__ = ["Surveying", "surveying"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Surveying:
    dialler: Dialler | None = None
    on_resolved: ResolvedListener | None = None
    entries: tuple[Entry, ...] = ()


def _check_prompts(config: SurveyConfig, sounds_dir: Path, source: Path) -> None:
    """Every question's prompt is in the catalogue: a typo would be a silent question."""
    catalogue = sounds_dir / "prompts.yaml"
    if not catalogue.exists():
        return  # a site whose sounds came without the script: `balagh sounds check` says
    known = set(load_catalogue(catalogue).ids)
    for prompt in (HELLO, THANKS, *(question.prompt for question in config.questions)):
        if prompt not in known:
            raise ConfigError(source, None, ("survey", "questions"),
                              f"prompt {prompt!r} is not in {catalogue}")


def surveying(settings: Settings, store: ReportStore, ami: Originator,
              queues: Callable[[], Mapping[str, QueueState]],
              inbound: InboundServer | None = None) -> Surveying:
    """The survey's parts (all None or empty: off). A bad reachback.yaml raises its
    ConfigError (file:line): `balagh run` does not start. `inbound`: where the console's
    routes go (None: none, as in tests of the dialler alone)."""
    config = load_survey_config(settings.reachback_file)
    if not config.enabled:
        return Surveying()
    _check_prompts(config, settings.sounds_dir, settings.reachback_file)
    dialler = Dialler(store.survey_calls, store.queries, ami,
                      SurveyPolicy(queues, lambda: config), settings.zone)
    line = SurveyLine(store.survey_calls, store.survey, store.queries, store.followups,
                      lambda: config)
    if inbound is not None:
        serve_calls(inbound, store.survey_calls, settings.data_dir)
        if not settings.inbound.enabled:
            log.warning("survey.no_inbound", hint="supervisors cannot see or cancel a "
                        "satisfaction call from the console: enable `inbound:` in balagh.yaml")
    log.info("survey.enabled", delay=config.delay_seconds, attempts=config.attempts,
             questions=len(config.questions))
    return Surveying(dialler, survey_on_resolved(store.survey_calls, lambda: config,
                                                 dialler.wake), (survey_entry(line),))
