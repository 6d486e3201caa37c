"""The report of one call as it is given: what the caller said, kept and stored at once.

Bound to one call (its id, reference and clock), so the call script writes
`record.answer(...)` rather than passing the same four arguments every time. Every
write goes straight to the store's call recorder (store/calls.py), which only enqueues:
a database problem never blocks or breaks a call. A new write is a method there and
its one call here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog

from balagh.handover.callers import caller_hash
from balagh.ivr.ask import Asked
from balagh.ivr.port import CallInfo
from balagh.routing import DANGER_ANSWER, DANGER_QUESTION, Decision, Location
from balagh.status import ReportStatus
from balagh.store.calls import CallRecorder
from balagh.store.queries import Report
from balagh.timeouts import within
from balagh.vocabulary import REPEAT_WINDOW

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
REPEAT_LOOKUP_SECONDS = 0.5  # longest a caller waits for the repeat-caller count


def utcnow() -> datetime:
    return datetime.now(UTC)


class CallReads(Protocol):
    """The two reads a call makes (store/queries.py's Queries)."""

    async def get_report(self, reference_or_call_id: str) -> Report | None: ...

    async def calls_from(self, caller_hash: str, since: datetime, *, besides: str) -> int: ...


@dataclass(frozen=True, slots=True)
class CallStore:
    """What a call's report needs of the store: the call recorder, and its reads."""

    recorder: CallRecorder
    reads: CallReads


class CallRecord:
    def __init__(self, store: CallStore, call_id: str, reference: str, clock: Clock,
                 answers: dict[str, str] | None = None, caller_hash: str | None = None) -> None:
        self.recorder = store.recorder
        self.call_id = call_id
        self.reference = reference
        self.clock = clock
        self.answers: dict[str, str] = dict(answers or {})
        self.caller_hash = caller_hash
        # The question being asked (None between questions and after the menu): where a
        # caller who hangs up gave up (reports.gave_up_in).
        self.asking: str | None = None
        # The count does not depend on the answers: it is looked up while the caller answers.
        self._repeat: asyncio.Future[int] | None = None
        if caller_hash is not None:
            self._repeat = asyncio.ensure_future(store.reads.calls_from(
                caller_hash, clock() - REPEAT_WINDOW, besides=call_id))
            # A caller who hangs up first never asks: its outcome must not go unretrieved.
            self._repeat.add_done_callback(lambda done: done.cancelled() or done.exception())

    @classmethod
    def start(cls, store: CallStore, info: CallInfo, clock: Clock,
              caller_key: bytes | None = None) -> CallRecord:
        """A new report for a new call."""
        hashed = caller_hash(caller_key, info.caller) if caller_key else None
        reference = store.recorder.new_reference()
        record = cls(store, info.call_id, reference, clock, caller_hash=hashed)
        store.recorder.start_report(call_id=info.call_id, reference=reference,
                                    channel=info.channel, caller=info.caller,
                                    hotline=info.hotline, started_at=clock(),
                                    caller_hash=hashed)
        return record

    @classmethod
    async def resume(cls, store: CallStore, info: CallInfo, clock: Clock,
                     caller_key: bytes | None = None) -> CallRecord:
        """The report a caller had before the app went away, or a new one if none is found."""
        report = await _stored_report(store.reads, info.call_id)
        if report is None:
            return cls.start(store, info, clock, caller_key)
        answers = {question: value for question, value in report.answers.items()
                   if value is not None}
        return cls(store, info.call_id, report.reference, clock, answers, report.caller_hash)

    async def repeat_calls(self) -> int | None:
        """This number's calls in the last 30 days, this one included; None when withheld
        or when the database does not answer at once (the call does not wait for it)."""
        if self._repeat is None:
            return None
        try:
            earlier = await within(asyncio.shield(self._repeat), REPEAT_LOOKUP_SECONDS)
        except Exception as exc:
            log.warning("call.repeat_count_failed", error=f"{type(exc).__name__}: {exc}")
            return None
        return earlier + 1

    def answer(self, question: str, asked: Asked) -> None:
        assert asked.value is not None
        self.answers[question] = asked.value
        self.recorder.record_answer(call_id=self.call_id, question=question,
                                    value=asked.value, key=asked.key, attempt=asked.attempt,
                                    at=self.clock(), typed_ahead=asked.typed_ahead)

    def language(self, language: str) -> None:
        self.recorder.set_language(call_id=self.call_id, language=language, at=self.clock())

    def location(self, location: Location) -> None:
        self.recorder.set_location(call_id=self.call_id, emirate=location.emirate,
                                   source=location.source, at=self.clock())

    def decision(self, decision: Decision) -> None:
        self.recorder.record_decision(call_id=self.call_id, rule=decision.rule,
                                      queue=decision.queue, priority=decision.priority,
                                      at=self.clock(),
                                      danger=self.answers.get(DANGER_QUESTION) == DANGER_ANSWER)

    def close(self, status: ReportStatus, detail: str | None,
              typed_ahead: bool | None = None) -> None:
        """The final status; a caller who hung up in the IVR is counted against the question
        being asked, if one was."""
        gave_up_in = self.asking if status is ReportStatus.HUNG_UP_IN_IVR else None
        self.recorder.set_status(call_id=self.call_id, status=status, at=self.clock(),
                                 detail=detail, typed_ahead=typed_ahead, gave_up_in=gave_up_in)


async def _stored_report(reads: CallReads, call_id: str) -> Report | None:
    try:
        return await reads.get_report(call_id)
    except Exception as exc:  # a database problem must not keep the caller waiting
        log.warning("call.resume_without_report", error=str(exc))
        return None
