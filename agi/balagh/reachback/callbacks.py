"""Calling back a caller in danger who hung up while waiting in a queue, if they said it
is safe.

`CallbackPublisher` sits in the call path beside the units' outbox: an "abandoned" event
of a report in danger schedules one callback (store/callbacks.py), due after the delay.
`CallbackDialler` is the worker. For each due callback, at the moment it would dial:

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

import asyncio
import contextlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog

from balagh.ami.originate import ANSWERED, FAILED, originate_fields, outcome
from balagh.consent import may_contact
from balagh.handover.agents import QueueAgents, queue_variables
from balagh.handover.summary import CALLBACK_WHISPER, Publisher
from balagh.routing import DANGER_ANSWER, DANGER_QUESTION, QueueState
from balagh.say import say_digits
from balagh.store.callbacks import Callback, CallbackRows
from balagh.store.queries import Queries
from balagh.timeouts import within

from .callbacks_config import CallbacksConfig

__all__ = ["CALLBACK_CONTEXT", "CALLBACK_PRIORITY", "CallbackDialler", "CallbackPublisher"]

log = structlog.get_logger(__name__)

# What may go into the dial string: a caller ID is the caller's to set, and '&' or '/'
# would dial more than one number (or another technology) from one Originate.
_DIALABLE = re.compile(r"\+?[0-9]{3,20}")
CALLBACK_CONTEXT = "balagh-callback"  # dialplan/extensions_balagh.conf
CALLBACK_PRIORITY = 10  # QUEUE_PRIO of a caller in danger (routing.yaml's danger rule)
Clock = Callable[[], datetime]


class Originator(Protocol):
    """AmiSession's originate (the shared AMI login)."""

    async def originate(self, fields: dict[str, str], timeout: float) -> dict[str, str]: ...


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


class CallbackDialler:
    POLL = 2.0  # a due callback waiting for a free agent looks again this often
    BATCH = 32

    def __init__(self, rows: CallbackRows, reports: Queries, ami: Originator,
                 queues: Callable[[], Mapping[str, QueueState]],
                 config: Callable[[], CallbacksConfig], zone: ZoneInfo, *,
                 agents: Callable[[], Mapping[str, QueueAgents]] = dict,
                 agent_language: str = "ar", clock: Clock = _utcnow) -> None:
        self.rows = rows
        self.reports = reports
        self.ami = ami
        self.queues = queues
        self.config = config
        self.zone = zone
        self.agents = agents
        self.agent_language = agent_language
        self.clock = clock
        self._wake = asyncio.Event()
        self._ringing: dict[str, int] = {}  # queue -> callbacks being dialled
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        config = self.config()
        with contextlib.suppress(Exception):  # the database down: the loop below says so
            spent = await self.rows.recover(self.clock(), config.attempts, config.gap_seconds)
            if spent:
                log.warning("callback.interrupted", attempts=spent)
        try:
            while True:
                self._wake.clear()
                try:
                    await self.rows.flush()
                    await self.dial_due()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    with contextlib.suppress(Exception):
                        log.exception("callback.worker_failed", error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await within(self._wake.wait(), self.POLL)
        finally:
            for task in self._tasks:
                task.cancel()

    async def dial_due(self) -> None:
        """Start every due callback the rules allow now (each attempt in a task of its own)."""
        config = self.config()
        if not config.enabled:
            return
        now = self.clock()
        for row in await self.rows.due(now, self.BATCH):
            number = await self._number(row)
            if number is None:
                await self.rows.withheld(row.id, now)
                log.info("callback.withheld", callback=row.id)
                continue
            if not config.within_hours(now.astimezone(self.zone)) or not self._room(row.queue):
                continue
            claimed = await self.rows.claim(row, self.clock())
            if claimed is None:
                continue  # cancelled meanwhile
            self._ringing[row.queue] = self._ringing.get(row.queue, 0) + 1
            task = asyncio.create_task(self._attempt(claimed, number, config))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _number(self, row: Callback) -> str | None:
        """The number to dial, if the report (as it is now) says it is safe."""
        report = await self.reports.get_report(row.call_id)
        if report is None or report.answers.get(DANGER_QUESTION) != DANGER_ANSWER:
            return None
        if not may_contact(report.answers, report.caller) or report.caller is None:
            return None
        if not _DIALABLE.fullmatch(report.caller):
            log.warning("callback.not_dialable", callback=row.id)  # never the number itself
            return None
        return report.caller

    def _room(self, queue: str) -> bool:
        state = self.queues().get(queue)
        if state is None:
            return False  # no fresh snapshot: unknown is not free
        return self._ringing.get(queue, 0) < state.available

    async def _attempt(self, row: Callback, number: str, config: CallbacksConfig) -> None:
        report = await self.reports.get_report(row.call_id)
        language = (report.language if report else None) or "ar"
        try:
            fields = originate_fields(
                channel=config.channel(number), channel_id=row.channel_id or "",
                context=CALLBACK_CONTEXT, ring_seconds=config.ring_seconds,
                caller_id=config.caller_id,
                variables=self._variables(row, language))
            await self.rows.dialling(row.id, self.clock())
            log.info("callback.dialling", callback=row.id, attempt=row.attempt,
                     queue=row.queue)
            try:
                response = await self.ami.originate(fields, config.ring_seconds + 15)
                result = outcome(response)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("callback.originate_failed", callback=row.id, error=repr(exc))
                result = FAILED
            again = None if result == ANSWERED or row.attempt >= config.attempts \
                else self.clock() + timedelta(seconds=config.gap_seconds)
            await self.rows.finished(row.id, result, self.clock(), again_at=again)
            log.info("callback.attempt", callback=row.id, attempt=row.attempt, outcome=result)
        finally:
            self._ringing[row.queue] = max(0, self._ringing.get(row.queue, 1) - 1)
            self._wake.set()

    def _variables(self, row: Callback, language: str) -> dict[str, str]:
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
