"""One hotline call, top to bottom, reading like the IVR script.

answer -> questions (keys may be typed ahead; the danger key cuts them short)
-> decide -> reference read back -> queue. Every answer is stored the moment it is
given. Whatever goes wrong, the caller is continued into the dialplan, whose
fallback is the general queue: no path ends anywhere but a queue.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from balagh.ivr.geolocation import geolocated_emirate
from balagh.ivr.menu import Menu, Question
from balagh.ivr.port import CallGone, CallPort
from balagh.ivr.say import say_digits
from balagh.routing import (
    DANGER_ANSWER,
    DANGER_QUESTION,
    Decision,
    Location,
    QueueState,
    Table,
    decide,
    locate,
)
from balagh.status import ReportStatus
from balagh.store.reports import Report, ReportStore

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]

# After an answer, a caller still typing ahead sends the next key within this time;
# waiting for it keeps the next prompt from starting (and being cut) between keys.
TYPING_PAUSE_SECONDS = 0.4


def utcnow() -> datetime:
    return datetime.now(UTC)


class Outcome(enum.Enum):
    ANSWERED = "answered"    # a valid key
    DEFAULTED = "defaulted"  # no valid key after the last attempt; the question's default
    NO_ANSWER = "no_answer"  # no valid key and no default: straight to a person
    DANGER = "danger"        # the danger key


@dataclass(frozen=True)
class Asked:
    outcome: Outcome
    value: str | None = None
    key: str | None = None
    attempt: int = 1
    typed_ahead: bool = False  # the key was waiting before the prompt could start


@dataclass(frozen=True)
class RoutingContext:
    """What routing may know besides the answers: live queues and the number-prefix table."""

    queues: Callable[[], Mapping[str, QueueState]] = dict
    prefixes: Mapping[str, str] = field(default_factory=dict)


@dataclass
class CallOutcome:
    reference: str
    answers: dict[str, str] = field(default_factory=dict)
    decision: Decision | None = None
    location: Location | None = None
    status: ReportStatus = ReportStatus.HUNG_UP_IN_IVR
    ended_by: str = "menu"       # menu | danger-key | no-answer:<question>
    typed_ahead: bool = False


async def ask(call: CallPort, question: Question, menu: Menu, timeout: float) -> Asked:
    """Ask one question until a valid key, the danger key, or the attempts run out."""
    attempt = 1
    reprompt = False
    while attempt <= question.attempts:
        typed_ahead = call.has_digits()
        # Escalation: after a wrong key or silence, "sorry, I did not get that" and the
        # full question again (one playback, so a key cuts both).
        await call.play([menu.invalid_prompt, question.prompt] if reprompt
                        else [question.prompt])
        key = await call.get_digit(timeout)
        if key is None:
            log.info("ivr.timeout", question=question.id, attempt=attempt)
        elif key == menu.danger_key:
            return Asked(Outcome.DANGER, DANGER_ANSWER, key, attempt, typed_ahead)
        elif key == menu.repeat_key:
            reprompt = False  # the caller asked to hear it again: not a failed attempt
            continue
        elif (value := question.answer(key)) is not None:
            return Asked(Outcome.ANSWERED, value, key, attempt, typed_ahead)
        else:
            log.info("ivr.invalid_key", question=question.id, key=key, attempt=attempt)
        reprompt = True
        attempt += 1
    if question.default is not None:
        return Asked(Outcome.DEFAULTED, question.default, None, question.attempts)
    return Asked(Outcome.NO_ANSWER, None, None, question.attempts)


def reference_sounds(reference: str) -> list[str]:
    return ["reference", *say_digits(reference)]


async def handle_call(call: CallPort, menu: Menu, table: Table, store: ReportStore,
                      *, clock: Clock = utcnow,
                      context: RoutingContext | None = None) -> CallOutcome:
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
        await _questions(call, menu, store, outcome, clock)
        await _decide(call, table, store, outcome, clock, context or RoutingContext())
        await _route(call, menu, store, outcome, clock)
        outcome.status = ReportStatus.ROUTED
        detail = None if outcome.ended_by == "menu" else outcome.ended_by
    except CallGone:
        outcome.status = ReportStatus.HUNG_UP_IN_IVR
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
        log.info("call.end", status=outcome.status, ended_by=outcome.ended_by,
                 queue=outcome.decision.queue if outcome.decision else None)
        structlog.contextvars.unbind_contextvars("call_id", "report")
    return outcome


async def resume_call(call: CallPort, menu: Menu, table: Table, store: ReportStore,
                      *, clock: Clock = utcnow,
                      context: RoutingContext | None = None) -> CallOutcome:
    """A caller who was in the menu when the app went away (crash, restart, network).

    Asterisk kept the channel in the app; the new connection finds it. It is routed at
    once by the answers stored so far, so a child who had said "child" still reaches
    child protection, not just the general line."""
    info = call.info
    report = await _stored_report(store, info.call_id)
    if report is None:
        outcome = CallOutcome(reference=store.new_reference())
        store.start_report(call_id=info.call_id, reference=outcome.reference,
                           channel=info.channel, caller=info.caller, hotline=info.hotline,
                           started_at=clock())
    else:
        outcome = CallOutcome(reference=report.reference, answers={
            question: value for question, value in report.answers.items() if value is not None})
    outcome.ended_by = "resumed after the app restarted"
    structlog.contextvars.bind_contextvars(call_id=info.call_id, report=outcome.reference)
    log.warning("call.resume", answers=sorted(outcome.answers))
    try:
        await _decide(call, table, store, outcome, clock, context or RoutingContext())
        await _route(call, menu, store, outcome, clock)
        outcome.status = ReportStatus.ROUTED
    except CallGone:
        outcome.status = ReportStatus.HUNG_UP_IN_IVR
    except Exception:
        log.exception("call.error")
        outcome.status = await _fallback(call)
    finally:
        store.set_status(call_id=info.call_id, status=outcome.status, at=clock(),
                         detail=outcome.ended_by)
        structlog.contextvars.unbind_contextvars("call_id", "report")
    return outcome


async def _stored_report(store: ReportStore, call_id: str) -> Report | None:
    try:
        return await store.get_report(call_id)
    except Exception as exc:  # a database problem must not keep the caller waiting
        log.warning("call.resume_without_report", error=str(exc))
        return None


async def _questions(call: CallPort, menu: Menu, store: ReportStore, outcome: CallOutcome,
                     clock: Clock) -> None:
    call_id = call.info.call_id
    question: Question | None = menu.questions[0]
    while question is not None:
        if question is not menu.questions[0]:
            await call.wait_for_digit(TYPING_PAUSE_SECONDS)
        asked = await ask(call, question, menu, menu.timeout_for(question, outcome.answers))
        if asked.outcome is Outcome.DANGER:
            outcome.answers[DANGER_QUESTION] = DANGER_ANSWER
            store.record_answer(call_id=call_id, question=DANGER_QUESTION, value=DANGER_ANSWER,
                                key=asked.key, attempt=asked.attempt, at=clock())
            outcome.ended_by = "danger-key"
            log.info("ivr.danger_key", during=question.id)
            return
        if asked.outcome is Outcome.NO_ANSWER:
            outcome.ended_by = f"no-answer:{question.id}"
            log.info("ivr.no_answer", question=question.id)
            return
        assert asked.value is not None
        outcome.answers[question.id] = asked.value
        outcome.typed_ahead = asked.typed_ahead
        store.record_answer(call_id=call_id, question=question.id, value=asked.value,
                            key=asked.key, attempt=asked.attempt, at=clock())
        if question.sets_language:
            await call.set_language(asked.value)
            store.set_language(call_id=call_id, language=asked.value)
        question = menu.next_question(question, asked.key)


async def _decide(call: CallPort, table: Table, store: ReportStore, outcome: CallOutcome,
                  clock: Clock, context: RoutingContext) -> None:
    caller = call.info.caller
    geo_emirate = await geolocated_emirate(call)
    outcome.location = locate(outcome.answers, caller, geo_emirate, context.prefixes)
    store.set_location(call_id=call.info.call_id, emirate=outcome.location.emirate,
                       source=outcome.location.source, at=clock())
    outcome.decision = decide(outcome.answers, table, caller=caller, location=outcome.location,
                              now=clock(), queues=context.queues())


async def _route(call: CallPort, menu: Menu, store: ReportStore, outcome: CallOutcome,
                 clock: Clock) -> None:
    decision = outcome.decision
    assert decision is not None
    store.record_decision(call_id=call.info.call_id, rule=decision.rule, queue=decision.queue,
                          priority=decision.priority, at=clock())
    # Variables first: if anything fails after this, the dialplan still knows the queue.
    variables = {
        "BALAGH_QUEUE": decision.queue,
        "BALAGH_PRIO": str(decision.priority),
        "BALAGH_REFERENCE": outcome.reference,
        "BALAGH_RULE": decision.rule,
        "BALAGH_OVERFLOW": decision.overflow_spec(),
    }
    if decision.wait:
        variables["BALAGH_QUEUE_WAIT"] = str(decision.wait)
    await call.set_variables(variables)
    log.info("call.routed", rule=decision.rule, queue=decision.queue, priority=decision.priority,
             overflow=variables["BALAGH_OVERFLOW"], ended_by=outcome.ended_by,
             typed_ahead=outcome.typed_ahead,
             location=outcome.location.emirate if outcome.location else None)
    # A caller in danger, or one who typed every answer ahead, wants a person now: the
    # reference is on the channel (BALAGH_REFERENCE) for the agent to give them.
    straight_through = outcome.ended_by != "menu" or outcome.typed_ahead
    if decision.announce and outcome.ended_by != "danger-key":
        await call.play([decision.announce])
    if not straight_through:
        await read_back(call, menu, outcome.reference)
    await call.continue_in_dialplan()


async def read_back(call: CallPort, menu: Menu, reference: str) -> None:
    """The reference digit by digit; the repeat key within a moment plays it again."""
    while True:
        await call.play(reference_sounds(reference))
        if menu.reference_repeat_seconds <= 0:
            break
        key = await call.get_digit(menu.reference_repeat_seconds)
        if key != menu.repeat_key:
            break
    await call.play(["connecting"])


async def _fallback(call: CallPort) -> ReportStatus:
    """Send the caller on to the dialplan's general queue after an internal error."""
    try:
        await call.continue_in_dialplan()
    except CallGone:
        return ReportStatus.HUNG_UP_IN_IVR
    except Exception:
        log.exception("call.fallback_failed")
    return ReportStatus.FALLBACK
