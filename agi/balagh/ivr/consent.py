"""The consent question on the call: "is it safe for us to text or call you back?"

Asked last, once routing has chosen the queue (config/ivr.yaml's `consent` may leave some
queues' callers out) and before the caller is put into it. Never asked of a caller who
must not wait or cannot be reached back: a withheld number, a caller in danger (danger
key or danger=yes), a menu that ended early (no answer, silent, taken back after a
restart). A caller in danger is the exception that callbacks need (reachback/callbacks.py
calls back one who hangs up while waiting, only with consent): they are asked only when no
agent of their queue is free by the live queue state, so they would wait anyway; with a
free agent, or the state unknown, nothing stands between them and a person. Not asked
means nothing stored, which `may_contact` reads as no; asked and not answered stores 'no'.
The danger key still works here: the call is routed again as in danger, consent not given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import structlog

from balagh.consent import CONSENT_QUESTION, consent_word, number_known
from balagh.ivr.ask import Asked, Outcome, ask
from balagh.ivr.menu import Consent, Menu
from balagh.ivr.port import CallPort
from balagh.ivr.record import CallRecord
from balagh.ivr.routed import Routed, RoutingContext, route
from balagh.routing import DANGER_ANSWER, DANGER_QUESTION, Table

log = structlog.get_logger(__name__)

# As between questions (ivr/flow.py's TYPING_PAUSE_SECONDS): a caller still typing ahead
# sends their next key within this, so it is dropped with the others, not taken as yes.
TYPING_PAUSE_SECONDS = 0.4

__all__ = ["ask_consent", "skip_reason", "with_consent"]


def skip_reason(consent: Consent | None, *, menu_completed: bool,
                answers: Mapping[str, str], caller: str | None, queue: str,
                free_agents: int | None = None) -> str | None:
    """Why the question is not asked of this caller (None: ask it). `free_agents`: the
    routed queue's available agents now (None: not known)."""
    if consent is None:
        return "off"
    if answers.get(DANGER_QUESTION) == DANGER_ANSWER:
        # Nothing may stand between them and a person: asked only while they would wait
        # anyway (the danger key ends the menu early on purpose: that is no reason here).
        if free_agents != 0 or not number_known(caller) or queue in consent.not_for_queues:
            return "danger"
        return None
    if not number_known(caller):
        return "withheld"    # nothing to text or call: and asking would only delay
    if not menu_completed:
        return "menu-ended"  # no answer, silent or resumed: straight to a person
    if queue in consent.not_for_queues:
        return "queue"
    return None


async def ask_consent(call: CallPort, menu: Menu, record: CallRecord, routed: Routed,
                      table: Table, context: RoutingContext, *,
                      menu_completed: bool) -> Routed:
    """Ask the consent question if this caller is to be asked; the route to put them
    through, its summary saying 'yes' or 'no' (rerouted if they press the danger key)."""
    state = context.queues().get(routed.decision.queue)
    reason = skip_reason(menu.consent, menu_completed=menu_completed,
                         answers=record.answers, caller=call.info.caller,
                         queue=routed.decision.queue,
                         free_agents=None if state is None else state.available)
    if reason is not None or menu.consent is None:
        log.info("ivr.consent_skipped", reason=reason)
        return with_consent(routed, record.answers, call.info.caller)
    question = menu.consent.question
    # A key typed ahead past the last question must not say yes for the caller: the
    # answer counts only once the question was heard. A danger key among them still counts.
    danger = False
    await call.wait_for_digit(TYPING_PAUSE_SECONDS)
    while call.has_digits():
        danger = danger or await call.get_digit(0) == menu.danger_key
    if not danger:
        record.asking = CONSENT_QUESTION
        asked = await ask(call, question, menu, menu.timeout_for(question, record.answers))
        record.asking = None
        if asked.outcome is not Outcome.DANGER:
            record.answer(CONSENT_QUESTION, asked)  # answered, or 'no' after the attempts
            log.info("ivr.consent", answer=asked.value, outcome=asked.outcome.value)
            return with_consent(routed, record.answers, call.info.caller)
        record.answer(DANGER_QUESTION, asked)
    else:
        record.answer(DANGER_QUESTION, Asked(Outcome.DANGER, DANGER_ANSWER, menu.danger_key,
                                             typed_ahead=True))
    log.info("ivr.danger_key", during=CONSENT_QUESTION)
    rerouted = await route(call, record, table, context)
    return with_consent(rerouted, record.answers, call.info.caller)


def with_consent(routed: Routed, answers: Mapping[str, str], caller: str | None) -> Routed:
    """The route with its summary saying 'yes' or 'no' (balagh.consent's rule)."""
    summary = dataclasses.replace(routed.summary, consent=consent_word(answers, caller))
    return dataclasses.replace(routed, summary=summary)
