"""`AGI(agi://127.0.0.1:4573/route)`: route a call by the answers the dialplan collected.

Reads BALAGH_<QUESTION> (values or keys, through config/ivr.yaml), the caller ID and any
SIP geolocation; decides with the same table and steps as the ARI path (ivr/routed.py);
writes the same report; sets BALAGH_QUEUE, BALAGH_PRIO, BALAGH_REFERENCE, BALAGH_OVERFLOW,
the whisper variables and BALAGH_READBACK (what the caller hears before the queue).
A missing or invalid variable is named in BALAGH_ERROR and the call still gets a queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from panoramisk.fast_agi import Request

from balagh.consent import CONSENT_QUESTION
from balagh.fastagi.answers import (
    DANGER_KEY_ENDING,
    DialplanAnswers,
    answer_variables,
    read_answers,
)
from balagh.fastagi.channel import AgiCall, AgiError, call_info
from balagh.handover.summary import GENERAL_QUEUE
from balagh.ivr.ask import Asked, Outcome
from balagh.ivr.consent import skip_reason, with_consent
from balagh.ivr.entry import CallerSetup
from balagh.ivr.menu import Menu
from balagh.ivr.port import CallGone
from balagh.ivr.record import CallRecord, CallStore, Clock, utcnow
from balagh.ivr.routed import (
    Routed,
    publish_routed,
    queue_variables,
    route,
)
from balagh.privacy import error_kind
from balagh.routing import Decision
from balagh.say import say_digits
from balagh.status import ReportStatus

log = structlog.get_logger(__name__)

ROUTE_SCRIPT = "route"
HOTLINE_VARIABLE = "BALAGH_HOTLINE"
ERROR_VARIABLE = "BALAGH_ERROR"
READBACK_VARIABLE = "BALAGH_READBACK"


def readback(decision: Decision, reference: str, ended: str | None) -> str:
    """What the dialplan plays before the queue, as Read()'s '&'-joined files: the rule's
    announcement, the reference and "connecting"; a caller in danger hears nothing, one
    cut short (no answer) the announcement only, as on the ARI path."""
    sounds: list[str] = []
    if ended == DANGER_KEY_ENDING:
        return ""
    if decision.announce:
        sounds.append(decision.announce)
    if ended is None:
        sounds += ["reference", *say_digits(reference), "connecting"]
    return "&".join(f"balagh/{sound}" for sound in sounds)


class RouteService:
    """The `route` script: one report per session, closed in `finally`."""

    def __init__(self, setup: Callable[[], CallerSetup], store: CallStore, *,
                 clock: Clock = utcnow) -> None:
        self.setup = setup  # read once per call: a reload changes the next call, not this one
        self.store = store
        self.clock = clock

    async def handle(self, request: Request) -> None:
        headers = dict(request.headers)
        call = AgiCall(request.reader, request.writer, call_info(headers))
        try:
            hotline = await call.get_variable(HOTLINE_VARIABLE)
        except (CallGone, AgiError) as exc:
            log.info("fastagi.caller_gone", reason=str(exc))
            return  # nothing stored yet: a session that ends here left no report
        call.info = call_info(headers, hotline)
        await self.serve(call)

    async def serve(self, call: AgiCall) -> None:
        setup = self.setup()
        menu, handover = setup.menu, setup.handover
        record = CallRecord.start(self.store, call.info, self.clock, handover.caller_key)
        structlog.contextvars.bind_contextvars(call_id=call.info.call_id,
                                               report=record.reference)
        log.info("fastagi.route_start", caller=call.info.caller or "withheld",
                 hotline=call.info.hotline)
        status, detail = ReportStatus.HUNG_UP_IN_IVR, None
        given: DialplanAnswers | None = None
        routed: Routed | None = None
        try:
            given = read_answers(await call.get_variables(answer_variables(menu)), menu)
            _record(record, given, menu)
            if given.errors:
                log.warning("fastagi.invalid_variables", errors=given.error_text)
            routed = await route(call, record, setup.table, setup.context)
            routed = _consent(record, given, menu, routed, call.info.caller)
            record.decision(routed.decision)
            variables = queue_variables(routed.decision, record.reference, routed.summary,
                                        handover)
            variables[READBACK_VARIABLE] = readback(routed.decision, record.reference,
                                                    given.ended)
            variables[ERROR_VARIABLE] = given.error_text
            language = given.answers.get(menu.language_question.id)
            if language is not None:
                # The read-back and the queue's prompts in the caller's language, as on ARI.
                variables["CHANNEL(language)"] = language.value
            await call.set_variables(variables)
            status = ReportStatus.ROUTED
            publish_routed(handover, routed)
        except CallGone as exc:
            log.info("fastagi.caller_gone", reason=str(exc))
            status = ReportStatus.HUNG_UP_IN_IVR
        except asyncio.CancelledError:
            # The app is stopping: the dialplan's fallback sends the caller to the general line.
            status, detail = ReportStatus.FALLBACK, "app stopping"
            raise
        except Exception as exc:  # a bug must not cost the caller their call
            log.exception("fastagi.route_error")
            status, detail = await _fallback(call, record.reference, exc)
        finally:
            parts = [given.ended if given else None,
                     f"dialplan: {given.error_text}" if given and given.errors else None,
                     detail]
            record.close(status, "; ".join(p for p in parts if p) or None)
            log.info("fastagi.route_end", status=status,
                     queue=routed.decision.queue if routed else None)
            structlog.contextvars.unbind_contextvars("call_id", "report")

def _record(record: CallRecord, given: DialplanAnswers, menu: Menu) -> None:
    """Store the answers as the ARI path does, one row each (the attempt is unknown)."""
    for question, answer in given.answers.items():
        record.answer(question, Asked(Outcome.ANSWERED, answer.value, answer.key))
        if question == menu.language_question.id:
            record.language(answer.value)


def _consent(record: CallRecord, given: DialplanAnswers, menu: Menu, routed: Routed,
             caller: str | None) -> Routed:
    """The dialplan's consent answer, stored only where the ARI path would have asked: it
    asks before the route is known, so a queue in not_for_queues ignores it here."""
    reason = skip_reason(menu.consent, menu_completed=given.ended is None,
                         answers=record.answers, caller=caller, queue=routed.decision.queue)
    if reason is None and given.consent is not None:
        record.answer(CONSENT_QUESTION, Asked(Outcome.ANSWERED, given.consent.value,
                                              given.consent.key))
    elif given.consent is not None:
        log.info("fastagi.consent_ignored", reason=reason)
    return with_consent(routed, record.answers, caller)


async def _fallback(call: AgiCall, reference: str,
                    exc: Exception) -> tuple[ReportStatus, str]:
    """The general line, and why, for the dialplan; it falls back there anyway."""
    kind = error_kind(exc)
    try:
        await call.set_variables({"BALAGH_QUEUE": GENERAL_QUEUE, "BALAGH_PRIO": "0",
                                  "BALAGH_REFERENCE": reference,
                                  ERROR_VARIABLE: f"internal error: {kind}"})
    except (CallGone, AgiError):
        pass
    except Exception:
        log.exception("fastagi.fallback_failed")
    return ReportStatus.FALLBACK, kind
