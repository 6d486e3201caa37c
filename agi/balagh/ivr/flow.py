"""One hotline call, top to bottom, reading like the IVR script.

    answer -> ask_questions (keys may be typed ahead; the danger key cuts them short)
    -> locate_caller -> decide -> summarise (what the agent will hear)
    -> ask_consent (may we text or call back? not of every caller: ivr/consent.py)
    -> put_through (the queue at once; the reference is read to the caller while they wait)

Each step returns what it found; the report is written as it is given (CallRecord).
One lifecycle (`_serve`) wraps the steps for a new call and for one taken back after a
restart: whatever goes wrong, or if the app stops, the caller is continued into the
dialplan, whose fallback is the general queue, and the report is closed in `finally`.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import structlog

from balagh.handover.summary import HandoverSettings, HandoverSummary
from balagh.ivr.ask import Outcome, ask
from balagh.ivr.consent import ask_consent
from balagh.ivr.menu import Menu, Question
from balagh.ivr.port import CallGone, CallPort
from balagh.ivr.record import CallRecord, CallStore, Clock, utcnow
from balagh.ivr.routed import (
    NO_HANDOVER,
    RoutingContext,
    locate_caller,
    publish_routed,
    queue_variables,
    route,
)
from balagh.ivr.silence import SilentCaller
from balagh.privacy import error_kind
from balagh.routing import DANGER_QUESTION, Decision, Location, Table
from balagh.say import say_digits
from balagh.status import ReportStatus

log = structlog.get_logger(__name__)

# Shared with the FastAGI route (balagh.ivr.routed); still importable from here.
__all__ = ["NO_HANDOVER", "RoutingContext", "locate_caller"]

# After an answer, a caller still typing ahead sends the next key within this time;
# waiting for it keeps the next prompt from starting (and being cut) between keys.
TYPING_PAUSE_SECONDS = 0.4


RESUMED_BY_APP = "resumed after the app restarted"


class MenuEnd(enum.Enum):
    """How the questions ended."""

    COMPLETED = "completed"    # every question on the caller's path answered
    DANGER_KEY = "danger-key"  # the danger key: route at once
    NO_ANSWER = "no-answer"    # a question without a default got no valid key
    SILENT = "silent"          # no key at all since the answer (silent_caller_seconds)
    RESUMED = "resumed"        # the app restarted: the answers stored so far are all there is


@dataclass(frozen=True)
class MenuResult:
    ended: MenuEnd
    typed_ahead: bool = False      # the last answer was waiting before its prompt
    question: str | None = None    # with NO_ANSWER: the question left unanswered
    # reports.typed_ahead: was the key that ended the menu (the last answer's, or the
    # danger key) already waiting when its question came up, so its prompt never started?
    # None when no key ended it (a default after silence, no answer, resumed).
    last_key_typed_ahead: bool | None = None
    reason: str | None = None      # with RESUMED: who took the caller back, and why

    @property
    def detail(self) -> str | None:
        """The report's status_detail for this ending (None for a menu completed)."""
        return {
            MenuEnd.COMPLETED: None,
            MenuEnd.DANGER_KEY: "danger-key",
            MenuEnd.NO_ANSWER: f"no-answer:{self.question}",
            MenuEnd.SILENT: f"silent:{self.question}",
            MenuEnd.RESUMED: self.reason or RESUMED_BY_APP,
        }[self.ended]


@dataclass(frozen=True)
class CallOutcome:
    reference: str
    answers: Mapping[str, str]
    status: ReportStatus
    menu: MenuResult | None = None     # None when the caller hung up during the questions
    location: Location | None = None
    decision: Decision | None = None


MenuSteps = Callable[[CallRecord], Awaitable[MenuResult]]


async def handle_call(call: CallPort, menu: Menu, table: Table, store: CallStore,
                      *, clock: Clock = utcnow, context: RoutingContext | None = None,
                      handover: HandoverSettings = NO_HANDOVER) -> CallOutcome:
    """Serve a new caller. Never raises CallGone; the report is closed in `finally`."""
    record = CallRecord.start(store, call.info, clock, handover.caller_key)

    async def questions(record: CallRecord) -> MenuResult:
        await call.answer()
        return await ask_questions(call, menu, record)

    return await _serve(call, menu, table, record, questions, context or RoutingContext(),
                        handover)


async def resume_call(call: CallPort, menu: Menu, table: Table, store: CallStore,
                      *, clock: Clock = utcnow, context: RoutingContext | None = None,
                      handover: HandoverSettings = NO_HANDOVER,
                      reason: str = RESUMED_BY_APP) -> CallOutcome:
    """A caller who was in the menu when the app went away (crash, restart, network).

    Asterisk kept the channel in the app; the new connection (or the watchdog, `reason`
    says which) finds it. It is routed at once by the answers stored so far, so a child
    who had said "child" still reaches child protection, not just the general line. It
    needs no ARI events: variables are set and the call continues, nothing is played."""
    record = await CallRecord.resume(store, call.info, clock, handover.caller_key)
    log.warning("call.resume", call_id=call.info.call_id, answers=sorted(record.answers),
                reason=reason)

    async def already_asked(_record: CallRecord) -> MenuResult:
        return MenuResult(MenuEnd.RESUMED, reason=reason)

    return await _serve(call, menu, table, record, already_asked,
                        context or RoutingContext(), handover)


async def _serve(call: CallPort, menu: Menu, table: Table, record: CallRecord,
                 questions: MenuSteps, context: RoutingContext,
                 handover: HandoverSettings) -> CallOutcome:
    """The one lifecycle of a call: steps, fallback on error or stop, report closed."""
    info = call.info
    structlog.contextvars.bind_contextvars(call_id=info.call_id, report=record.reference)
    log.info("call.start", caller=info.caller or "withheld", hotline=info.hotline)
    status, error = ReportStatus.HUNG_UP_IN_IVR, None
    asked: MenuResult | None = None
    location: Location | None = None
    decision: Decision | None = None
    try:
        asked = await questions(record)
        record.asking = None  # past the questions: a hang-up now is not "gave up in" one
        routed = await route(call, record, table, context)
        routed = await ask_consent(call, menu, record, routed, table, context,
                                   menu_completed=asked.ended is MenuEnd.COMPLETED)
        location, decision = routed.location, routed.decision
        await put_through(call, menu, decision, record, asked, routed.summary, handover)
        status = ReportStatus.ROUTED
        publish_routed(handover, routed)
    except CallGone:
        status = ReportStatus.HUNG_UP_IN_IVR
    except asyncio.CancelledError:
        # The app is stopping: the caller goes on to the dialplan rather than wait in silence.
        status, error = await _fallback(call), "app stopping"
        raise
    except Exception as exc:  # a bug must not cost the caller their call
        log.exception("call.error")
        # The kind only (type, HTTP status): the message can quote a URL with ARI's api_key.
        status, error = await _fallback(call), error_kind(exc)
    finally:
        detail = "; ".join(part for part in (asked.detail if asked else None, error) if part)
        record.close(status, detail or None,
                     typed_ahead=asked.last_key_typed_ahead if asked else None)
        log.info("call.end", status=status, ended=asked.ended.value if asked else None,
                 queue=decision.queue if decision else None)
        structlog.contextvars.unbind_contextvars("call_id", "report")
    return CallOutcome(reference=record.reference, answers=dict(record.answers), status=status,
                       menu=asked, location=location, decision=decision)


async def ask_questions(call: CallPort, menu: Menu, record: CallRecord) -> MenuResult:
    """The questions in order, each answer recorded as it is given."""
    question: Question | None = menu.questions[0]
    typed_ahead = False
    last_key_typed_ahead: bool | None = None
    silence = SilentCaller(menu.silent_caller_seconds)
    while question is not None:
        record.asking = question.id
        if question is not menu.questions[0]:
            await call.wait_for_digit(TYPING_PAUSE_SECONDS)
        asked = await ask(call, question, menu, menu.timeout_for(question, record.answers),
                          silence)
        if asked.outcome is Outcome.SILENT:
            log.info("ivr.silent_caller", question=question.id)
            return MenuResult(MenuEnd.SILENT, question=question.id)
        if asked.outcome is Outcome.DANGER:
            record.answer(DANGER_QUESTION, asked)
            log.info("ivr.danger_key", during=question.id)
            return MenuResult(MenuEnd.DANGER_KEY, last_key_typed_ahead=asked.typed_ahead)
        if asked.outcome is Outcome.NO_ANSWER:
            log.info("ivr.no_answer", question=question.id)
            return MenuResult(MenuEnd.NO_ANSWER, question=question.id)
        record.answer(question.id, asked)
        typed_ahead = asked.typed_ahead
        last_key_typed_ahead = asked.typed_ahead if asked.key is not None else None
        if question.sets_language and asked.value is not None:
            await call.set_language(asked.value)
            record.language(asked.value)
        question = menu.next_question(question, asked.key)
    return MenuResult(MenuEnd.COMPLETED, typed_ahead=typed_ahead,
                      last_key_typed_ahead=last_key_typed_ahead)


async def put_through(call: CallPort, menu: Menu, decision: Decision, record: CallRecord,
                      asked: MenuResult, summary: HandoverSummary | None = None,
                      handover: HandoverSettings = NO_HANDOVER) -> None:
    """Hand the call to the dialplan's queue with everything the queue needs to know,
    and what the answering agent hears before the caller (BALAGH_WHISPER_<queue>)."""
    record.decision(decision)
    # Variables first: if anything fails after this, the dialplan still knows the queue.
    variables = queue_variables(decision, record.reference, summary, handover)
    await call.set_variables(variables)
    log.info("call.routed", rule=decision.rule, queue=decision.queue, priority=decision.priority,
             overflow=variables["BALAGH_OVERFLOW"], ended=asked.ended.value,
             typed_ahead=asked.typed_ahead)
    # Into the queue at once: the caller's place in it does not wait for any prompt.
    await call.continue_in_dialplan()
    await call.tell_while_waiting(waiting_words(menu, decision, record.reference, asked),
                                  caller_language(menu, record.answers))


def reference_sounds(reference: str) -> list[str]:
    return ["reference", *say_digits(reference)]


def waiting_words(menu: Menu, decision: Decision, reference: str,
                  asked: MenuResult) -> list[str]:
    """What a caller hears over the queue's music: the rule's announcement (not for a
    caller in danger, or one taken back after a wait in silence) or else "connecting",
    then the reference, read `reference_readings` times (the second time digits only)."""
    announce = decision.announce and asked.ended not in (MenuEnd.DANGER_KEY, MenuEnd.RESUMED)
    words = [decision.announce if announce and decision.announce else "connecting"]
    for reading in range(menu.reference_readings):
        words.extend(reference_sounds(reference) if reading == 0 else say_digits(reference))
    return words


def caller_language(menu: Menu, answers: Mapping[str, str]) -> str:
    return answers.get(menu.language_question.id) or menu.default_language


async def _fallback(call: CallPort) -> ReportStatus:
    """Send the caller on to the dialplan's general queue after an internal error."""
    try:
        await call.continue_in_dialplan()
    except CallGone:
        return ReportStatus.HUNG_UP_IN_IVR
    except Exception:
        log.exception("call.fallback_failed")
    return ReportStatus.FALLBACK
