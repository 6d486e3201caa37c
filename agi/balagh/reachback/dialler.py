"""The one dialler of calls the app places to a caller (callbacks, satisfaction calls),
with a policy per purpose. For each due row (store/callbacks.py), at the moment it would
dial:

- `consent.may_contact` on the report as it is now, and the policy's own condition (no
  consent, a withheld, redacted or undialable number: never dialled, the row cancelled
  "no-consent");
- inside the policy's hours, in the hotline's zone;
- while the policy has room (callbacks: fewer ringing into the queue than it has free
  agents; surveys: a small cap, and none while a caller waits with no free agent);
- the attempt claimed and committed, then AMI Originate (Async, ChannelId from the row and
  attempt: Asterisk refuses a duplicate) into the policy's context.

A stopped app's claimed or dialling attempts are spent at the restart (rows.recover), never
dialled again.
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
from balagh.store.callbacks import Callback, CallbackRows
from balagh.store.queries import Queries, Report
from balagh.timeouts import within

__all__ = ["EVENTS", "Clock", "DialConfig", "DialPolicy", "Dialler", "EventLog", "Originator"]

log = structlog.get_logger(__name__)

# What may go into the dial string: a caller ID is the caller's to set, and '&' or '/'
# would dial more than one number (or another technology) from one Originate.
_DIALABLE = re.compile(r"\+?[0-9]{3,20}")
Clock = Callable[[], datetime]


class Originator(Protocol):
    """AmiSession's originate (the shared AMI login)."""

    async def originate(self, fields: dict[str, str], timeout: float) -> dict[str, str]: ...


class DialConfig(Protocol):
    """What the dialler reads of a purpose's config (CallbacksConfig, SurveyConfig)."""

    @property
    def enabled(self) -> bool: ...
    @property
    def attempts(self) -> int: ...
    @property
    def gap_seconds(self) -> int: ...
    @property
    def ring_seconds(self) -> int: ...
    @property
    def caller_id(self) -> str: ...
    def channel(self, number: str) -> str: ...
    def within_hours(self, local: datetime) -> bool: ...


# The events a dialler logs; each policy writes out its names (callback.dialling, ...):
# docs/operators.md lists them, and a test finds each written in a log call.
EVENTS = ("interrupted", "worker_failed", "withheld", "not_dialable", "dialling",
          "originate_failed", "attempt")
EventLog = Mapping[str, Callable[..., object]]


class DialPolicy(Protocol):
    """What differs between purposes."""

    name: str            # the log field that carries the row's id: callback, survey
    events: EventLog     # EVENTS -> the log call with the purpose's event name
    context: str         # the dialplan context the answered callee enters

    def config(self) -> DialConfig: ...

    def eligible(self, report: Report) -> bool:
        """Beyond consent: may this report be called for this purpose?"""

    def room(self, row: Callback, ringing: Mapping[str, int]) -> bool:
        """May one more call start now (`ringing`: calls of this purpose per queue)?"""

    def variables(self, row: Callback, language: str) -> dict[str, str]:
        """The context's channel variables (no comma in a value: originate_fields)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Dialler:
    POLL = 2.0  # a due row waiting for room looks again this often
    BATCH = 32

    def __init__(self, rows: CallbackRows, reports: Queries, ami: Originator,
                 policy: DialPolicy, zone: ZoneInfo, *, clock: Clock = _utcnow) -> None:
        self.rows = rows
        self.reports = reports
        self.ami = ami
        self.policy = policy
        self.zone = zone
        self.clock = clock
        self._wake = asyncio.Event()
        self._ringing: dict[str, int] = {}  # queue -> calls of this purpose being dialled
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        config = self.policy.config()
        events = self.policy.events
        with contextlib.suppress(Exception):  # the database down: the loop below says so
            spent = await self.rows.recover(self.clock(), config.attempts, config.gap_seconds)
            if spent:
                events["interrupted"](attempts=spent)
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
                        events["worker_failed"](error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await within(self._wake.wait(), self.POLL)
        finally:
            for task in self._tasks:
                task.cancel()

    async def dial_due(self) -> None:
        """Start every due call the rules allow now (each attempt in a task of its own)."""
        config = self.policy.config()
        if not config.enabled:
            return
        now = self.clock()
        for row in await self.rows.due(now, self.BATCH):
            number = await self._number(row)
            if number is None:
                await self.rows.withheld(row.id, now)
                self.policy.events["withheld"](**{self.policy.name: row.id})
                continue
            if not config.within_hours(now.astimezone(self.zone)) \
                    or not self.policy.room(row, self._ringing):
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
        if report is None or not self.policy.eligible(report):
            return None
        if not may_contact(report.answers, report.caller) or report.caller is None:
            return None
        if not _DIALABLE.fullmatch(report.caller):
            self.policy.events["not_dialable"](**{self.policy.name: row.id})  # no number
            return None
        return report.caller

    async def _attempt(self, row: Callback, number: str, config: DialConfig) -> None:
        events, key = self.policy.events, {self.policy.name: row.id}
        report = await self.reports.get_report(row.call_id)
        language = (report.language if report else None) or "ar"
        try:
            fields = originate_fields(
                channel=config.channel(number), channel_id=row.channel_id or "",
                context=self.policy.context, ring_seconds=config.ring_seconds,
                caller_id=config.caller_id, variables=self.policy.variables(row, language))
            await self.rows.dialling(row.id, self.clock())
            events["dialling"](**key, attempt=row.attempt, queue=row.queue)
            try:
                response = await self.ami.originate(fields, config.ring_seconds + 15)
                result = outcome(response)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                events["originate_failed"](**key, error=repr(exc))
                result = FAILED
            again = None if result == ANSWERED or row.attempt >= config.attempts \
                else self.clock() + timedelta(seconds=config.gap_seconds)
            await self.rows.finished(row.id, result, self.clock(), again_at=again)
            events["attempt"](**key, attempt=row.attempt, outcome=result)
        finally:
            self._ringing[row.queue] = max(0, self._ringing.get(row.queue, 1) - 1)
            self._wake.set()
