"""Calling back a caller in danger who hung up while waiting in a queue, if they said it
is safe.

`CallbackPublisher` sits in the call path beside the units' outbox: an "abandoned" event
of a report in danger schedules one callback (store/callbacks.py), due after the delay.
`CallbackDialler` is the worker: the shared dialler (dialler.py, which also places the
satisfaction calls) with `CallbackPolicy`. For each due callback, at the moment it would dial:

- `consent.may_contact` on the report as it is now (no consent, a withheld or redacted
  number: never dialled, the row cancelled "no-consent");
- inside the hours, in the hotline's zone;
- only while fewer callbacks are being dialled into the queue than it has free agents
  (QueueMonitor's snapshot; none fresh: no dial). The priority rule does the rest: the
  callee rejoins at QUEUE_PRIO 10, behind every caller in danger already waiting (app_queue
  is first come first served within a priority), so a callback never takes an agent a live
  caller in danger is waiting for, and goes ahead of callers not in danger, as they would
  have had it had they stayed;
- the attempt claimed and committed, then AMI Originate (Async, ChannelId from the
  callback and attempt) into `balagh-callback`, which greets the callee and puts them back
  in the same queue at QUEUE_PRIO 10, ahead of non-danger callers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import structlog

from balagh.handover.agents import QueueAgents, queue_variables
from balagh.handover.summary import CALLBACK_WHISPER, Publisher
from balagh.routing import DANGER_ANSWER, DANGER_QUESTION, QueueState
from balagh.say import say_digits
from balagh.store.callbacks import Callback, CallbackRows
from balagh.store.queries import Queries, Report

from .callbacks_config import CallbacksConfig
from .dialler import Clock, Dialler, EventLog, Originator

__all__ = ["CALLBACK_CONTEXT", "CALLBACK_PRIORITY", "CallbackDialler", "CallbackPolicy",
           "CallbackPublisher", "Originator"]

log = structlog.get_logger(__name__)

CALLBACK_CONTEXT = "balagh-callback"  # dialplan/extensions_balagh.conf
CALLBACK_PRIORITY = 10  # QUEUE_PRIO of a caller in danger (routing.yaml's danger rule)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CallbackPublisher:
    """The outbox as the call path sees it, plus: an abandoned report in danger schedules
    a callback. Consent is not read here (publish never waits): the dialler asks it."""

    def __init__(self, inner: Publisher, rows: CallbackRows,
                 config: Callable[[], CallbacksConfig], wake: Callable[[], None],
                 clock: Clock = _utcnow) -> None:
        self.inner = inner
        self.rows = rows
        self.config = config
        self.wake = wake
        self.clock = clock

    def publish(self, event: str, report: Mapping[str, object], *, queue: str | None,
                details: Mapping[str, object] | None = None) -> None:
        self.inner.publish(event, report, queue=queue, details=details)
        try:
            config = self.config()
            if event != "abandoned" or not config.enabled or report.get("danger") is not True:
                return
            now = self.clock()
            self.rows.schedule(reference=str(report["reference"]),
                               queue=str(queue or report.get("queue")), at=now,
                               due=now + timedelta(seconds=config.delay_seconds))
            self.wake()
        except Exception as exc:
            with contextlib.suppress(Exception):
                log.error("callback.schedule_failed", error=repr(exc))


class CallbackPolicy:
    """The callbacks' rules for the shared dialler (dialler.py): a report still in danger,
    room while fewer callbacks ring into the queue than it has free agents."""

    name = "callback"
    events: EventLog = MappingProxyType({
        "interrupted": lambda **f: log.warning("callback.interrupted", **f),
        "worker_failed": lambda **f: log.exception("callback.worker_failed", **f),
        "withheld": lambda **f: log.info("callback.withheld", **f),
        "not_dialable": lambda **f: log.warning("callback.not_dialable", **f),
        "dialling": lambda **f: log.info("callback.dialling", **f),
        "originate_failed": lambda **f: log.warning("callback.originate_failed", **f),
        "attempt": lambda **f: log.info("callback.attempt", **f),
    })
    context = CALLBACK_CONTEXT

    def __init__(self, queues: Callable[[], Mapping[str, QueueState]],
                 config: Callable[[], CallbacksConfig], *,
                 agents: Callable[[], Mapping[str, QueueAgents]] = dict,
                 agent_language: str = "ar") -> None:
        self.queues = queues
        self._config = config
        self.agents = agents
        self.agent_language = agent_language

    def config(self) -> CallbacksConfig:
        return self._config()

    def eligible(self, report: Report) -> bool:
        return report.answers.get(DANGER_QUESTION) == DANGER_ANSWER

    def room(self, row: Callback, ringing: Mapping[str, int]) -> bool:
        state = self.queues().get(row.queue)
        if state is None:
            return False  # no fresh snapshot: unknown is not free
        return ringing.get(row.queue, 0) < state.available

    def variables(self, row: Callback, language: str) -> dict[str, str]:
        """The callback context's inputs: the queue, the priority of a caller in danger,
        the callee's language, and the agents' whisper saying it is a callback."""
        agents = self.agents()
        languages = {rule.language for rule in agents.values() if rule.language}
        prompts = [CALLBACK_WHISPER, "w-in-danger", f"w-queue-{row.queue}", "w-reference",
                   *say_digits(row.reference)]
        whisper = {lang: "&".join(f"{lang}/balagh/{p}" for p in prompts)
                   for lang in {self.agent_language, *languages}}
        return {"BALAGH_CALLBACK_QUEUE": row.queue, "BALAGH_PRIO": str(CALLBACK_PRIORITY),
                "BALAGH_REFERENCE": row.reference, "BALAGH_CALLBACK_LANGUAGE": language,
                **queue_variables([row.queue], agents, whisper, self.agent_language)}


class CallbackDialler(Dialler):
    """The shared dialler with the callbacks' policy."""

    def __init__(self, rows: CallbackRows, reports: Queries, ami: Originator,
                 queues: Callable[[], Mapping[str, QueueState]],
                 config: Callable[[], CallbacksConfig], zone: ZoneInfo, *,
                 agents: Callable[[], Mapping[str, QueueAgents]] = dict,
                 agent_language: str = "ar", clock: Clock = _utcnow) -> None:
        super().__init__(rows, reports, ami,
                         CallbackPolicy(queues, config, agents=agents,
                                        agent_language=agent_language), zone, clock=clock)
