"""The satisfaction call's part of `balagh run`'s composition: config/reachback.yaml's
`survey:` loaded and checked, the shared dialler with the survey's policy on the shared
AMI session, the `on_resolved` listener that schedules a call, and the Stasis entry that
serves the answered callee; the console's list and cancel routes (call_routes.py,
shared with the callbacks) on the inbound listener. Off (the default): nothing made,
nothing registered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog

from balagh.ari.router import Entry
from balagh.config import Settings
from balagh.inbound import InboundServer
from balagh.routing import QueueState
from balagh.store import ReportStore

from .call_routes import serve_calls
from .dialler import Dialler, Originator
from .followup_api import ResolvedListener
from .reachback_config import check_survey_prompts
from .survey import SurveyPolicy, survey_on_resolved
from .survey_config import SurveyConfig, load_survey_config
from .survey_entry import SurveyLine, survey_entry

__all__ = ["Surveying", "surveying"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Surveying:
    dialler: Dialler | None = None
    on_resolved: ResolvedListener | None = None
    entries: tuple[Entry, ...] = ()


def surveying(settings: Settings, store: ReportStore, ami: Originator,
              queues: Callable[[], Mapping[str, QueueState]],
              config: Callable[[], SurveyConfig] | None = None,
              inbound: InboundServer | None = None) -> Surveying:
    """The survey's parts (all None or empty: off). `config`: the section of the moment
    (reachback/live.py, reloaded on SIGHUP); None: the file read once, here. A bad
    reachback.yaml raises its ConfigError (file:line): `balagh run` does not start.
    `inbound`: where the console's routes go (None: none, as in tests of the dialler alone)."""
    if config is None:
        loaded = load_survey_config(settings.reachback_file)
        if loaded.enabled:
            check_survey_prompts(loaded, settings.sounds_dir, settings.reachback_file)
        config = lambda: loaded  # noqa: E731
    first = config()
    if not first.enabled:
        return Surveying()
    dialler = Dialler(store.survey_calls, store.queries, ami, SurveyPolicy(queues, config),
                      settings.zone)
    line = SurveyLine(store.survey_calls, store.survey, store.queries, store.followups, config)
    if inbound is not None:
        serve_calls(inbound, store.survey_calls, settings.data_dir)
        if not settings.inbound.enabled:
            log.warning("survey.no_inbound", hint="supervisors cannot see or cancel a "
                        "satisfaction call from the console: enable `inbound:` in balagh.yaml")
    log.info("survey.enabled", delay=first.delay_seconds, attempts=first.attempts,
             questions=len(first.questions))
    return Surveying(dialler, survey_on_resolved(store.survey_calls, config, dialler.wake),
                     (survey_entry(line),))
