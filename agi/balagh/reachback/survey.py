"""The satisfaction call (issue 27, seed 003): after a unit says a report is resolved, with
the caller's consent, a call asks one or two keypad questions in the report's language.

`survey_on_resolved` is a FollowupApi `on_resolved` listener: it schedules one survey call
per report (store/callbacks.py's rows, Purpose SURVEY), due after the delay. The shared
dialler (dialler.py) places it with `SurveyPolicy`:

- only a report still resolved (or closed) by its unit, and with consent (the dialler asks
  `may_contact` at the moment it dials);
- at most `at_once` survey calls ringing at once, and none while any queue has a caller
  waiting and no free agent, or while the queues' state is unknown: a survey never takes a
  line or an agent's attention from a caller who needs one;
- into `balagh-survey`, which hands the answered callee to the app's survey entry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import timedelta
from types import MappingProxyType

import structlog

from balagh.routing import QueueState
from balagh.store.callbacks import Callback, CallbackRows
from balagh.store.queries import Report

from .dialler import EventLog
from .followup import CLOSED, RESOLVED
from .followup_api import Resolved, ResolvedListener
from .survey_config import SurveyConfig

__all__ = ["SURVEY_CONTEXT", "SurveyPolicy", "survey_on_resolved"]

log = structlog.get_logger(__name__)

SURVEY_CONTEXT = "balagh-survey"  # dialplan/extensions_balagh.conf
_STILL_RESOLVED = (RESOLVED, CLOSED)


def survey_on_resolved(rows: CallbackRows, config: Callable[[], SurveyConfig],
                       wake: Callable[[], None]) -> ResolvedListener:
    """A unit's "resolved" schedules the report's survey call, once: a second "resolved"
    finds the report's row taken (UNIQUE reference) and adds nothing. Never raises."""
    def listener(resolved: Resolved) -> None:
        try:
            survey = config()
            if not survey.enabled:
                return
            rows.schedule(reference=resolved.reference,
                          queue=resolved.queue or "", at=resolved.at,
                          due=resolved.at + timedelta(seconds=survey.delay_seconds))
            wake()
        except Exception as exc:
            with contextlib.suppress(Exception):
                log.error("survey.schedule_failed", error=repr(exc))

    return listener


class SurveyPolicy:
    """The satisfaction calls' rules for the shared dialler (dialler.py)."""

    name = "survey"
    events: EventLog = MappingProxyType({
        "interrupted": lambda **f: log.warning("survey.interrupted", **f),
        "worker_failed": lambda **f: log.exception("survey.worker_failed", **f),
        "withheld": lambda **f: log.info("survey.withheld", **f),
        "not_dialable": lambda **f: log.warning("survey.not_dialable", **f),
        "dialling": lambda **f: log.info("survey.dialling", **f),
        "originate_failed": lambda **f: log.warning("survey.originate_failed", **f),
        "attempt": lambda **f: log.info("survey.attempt", **f),
    })
    context = SURVEY_CONTEXT

    def __init__(self, queues: Callable[[], Mapping[str, QueueState]],
                 config: Callable[[], SurveyConfig]) -> None:
        self.queues = queues
        self._config = config

    def config(self) -> SurveyConfig:
        return self._config()

    def eligible(self, report: Report) -> bool:
        return report.followup_status in _STILL_RESOLVED

    def room(self, row: Callback, ringing: Mapping[str, int]) -> bool:
        if sum(ringing.values()) >= self._config().at_once:
            return False
        states = self.queues()
        if not states:
            return False  # no fresh snapshot: a caller may be waiting unserved
        return not any(state.callers > 0 and state.available == 0
                       for state in states.values())

    def variables(self, row: Callback, language: str) -> dict[str, str]:
        return {"BALAGH_REFERENCE": row.reference, "BALAGH_SURVEY_LANGUAGE": language}
