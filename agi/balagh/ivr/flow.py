"""One hotline call, top to bottom, reading like the IVR script.

answer -> language -> questions -> decide -> reference read back -> queue.
Every answer is stored the moment it is given. Whatever goes wrong, the caller
is continued into the dialplan, whose fallback is the general queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from balagh.ivr.menu import Menu, Question
from balagh.ivr.port import CallGone, CallPort
from balagh.routing import Decision, Table, decide
from balagh.store.reports import FALLBACK, HUNG_UP_IN_IVR, ROUTED, ReportStore

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class CallOutcome:
    reference: str
    answers: dict[str, str] = field(default_factory=dict)
    decision: Decision | None = None
    status: str = HUNG_UP_IN_IVR


async def ask(call: CallPort, question: Question,
              invalid_prompt: str) -> tuple[str | None, str | None, int]:
    """Ask one question until a valid key or the attempts run out.

    Returns (answer, key pressed, attempt). The answer is the question's default
    (key None) when every attempt timed out or was invalid."""
    for attempt in range(1, question.attempts + 1):
        if attempt > 1:
            await call.play([invalid_prompt])
        await call.play([question.prompt])
        key = await call.get_digit(question.timeout)
        if key is None:
            log.info("ivr.timeout", question=question.id, attempt=attempt)
            continue
        value = question.answer(key)
        if value is not None:
            return value, key, attempt
        log.info("ivr.invalid_key", question=question.id, key=key, attempt=attempt)
    return question.default, None, question.attempts


def reference_sounds(reference: str) -> list[str]:
    return ["reference", *(f"digit-{digit}" for digit in reference)]


async def handle_call(call: CallPort, menu: Menu, table: Table, store: ReportStore,
                      *, clock: Clock = utcnow) -> CallOutcome:
    """Serve one caller. Never raises CallGone; the report is closed in `finally`."""
    info = call.info
    outcome = CallOutcome(reference=store.new_reference())
    structlog.contextvars.bind_contextvars(call_id=info.call_id, report=outcome.reference)
    store.start_report(call_id=info.call_id, reference=outcome.reference, channel=info.channel,
                       caller=info.caller, hotline=info.hotline, started_at=clock())
    log.info("call.start", caller=info.caller or "withheld", hotline=info.hotline)
    detail: str | None = None
    try:
        await call.answer()
        for question in menu.questions:
            value, key, attempt = await ask(call, question, menu.invalid_prompt)
            if value is None:
                continue
            outcome.answers[question.id] = value
            store.record_answer(call_id=info.call_id, question=question.id, value=value,
                                key=key, attempt=attempt, at=clock())
            if question.sets_language:
                await call.set_language(value)
                store.set_language(call_id=info.call_id, language=value)
        outcome.decision = decide(outcome.answers, table)
        await _route(call, store, outcome, clock)
        outcome.status = ROUTED
    except CallGone:
        outcome.status = HUNG_UP_IN_IVR
    except asyncio.CancelledError:
        # The app is stopping: the caller goes on to the dialplan rather than wait in silence.
        detail = "app stopping"
        outcome.status = await _fallback(call)
        raise
    except Exception as exc:  # a bug must not cost the caller their call
        log.exception("call.error")
        detail = f"{type(exc).__name__}: {exc}"
        outcome.status = await _fallback(call)
    finally:
        store.set_status(call_id=info.call_id, status=outcome.status, at=clock(), detail=detail)
        log.info("call.end", status=outcome.status,
                 queue=outcome.decision.queue if outcome.decision else None)
        structlog.contextvars.unbind_contextvars("call_id", "report")
    return outcome


async def _route(call: CallPort, store: ReportStore, outcome: CallOutcome, clock: Clock) -> None:
    decision = outcome.decision
    assert decision is not None
    store.record_decision(call_id=call.info.call_id, rule=decision.rule, queue=decision.queue,
                          priority=decision.priority, at=clock())
    # Variables first: if anything fails after this, the dialplan still knows the queue.
    await call.set_variables({
        "BALAGH_QUEUE": decision.queue,
        "BALAGH_PRIO": str(decision.priority),
        "BALAGH_REFERENCE": outcome.reference,
        "BALAGH_RULE": decision.rule,
    })
    log.info("call.routed", rule=decision.rule, queue=decision.queue, priority=decision.priority)
    await call.play(reference_sounds(outcome.reference))
    await call.play(["connecting"])
    await call.continue_in_dialplan()


async def _fallback(call: CallPort) -> str:
    """Send the caller on to the dialplan's general queue after an internal error."""
    try:
        await call.continue_in_dialplan()
    except CallGone:
        return HUNG_UP_IN_IVR
    except Exception:
        log.exception("call.fallback_failed")
    return FALLBACK
