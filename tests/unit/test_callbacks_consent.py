"""The consent question for a caller in danger: asked only when no agent of their queue is
free (they would wait anyway), so that a caller who must hang up can be called back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from balagh.consent import CONSENT_QUESTION
from balagh.handover.summary import HandoverSettings
from balagh.ivr.consent import skip_reason
from balagh.ivr.flow import RoutingContext, handle_call
from balagh.ivr.menu import Menu, load_menu
from balagh.routing import QueueState, Table
from balagh.routing.load import load_table

from .fakes import DEFAULT_INFO, FixedClock, ScriptedCall, call_store
from .shipped import ROUTING_FILE
from .test_ivr_consent import T0, menu_file


@pytest.fixture
def menu(tmp_path: Path) -> Menu:
    return load_menu(menu_file(tmp_path))


@pytest.fixture
def table(menu: Menu) -> Table:
    return load_table(ROUTING_FILE, menu.answer_values())


# Arabic, in danger, adult, female, Dubai, no condition: women's protection, priority 10.
IN_DANGER = ["1", "1", "2", "2", "2", "0"]
QUEUE = "women-protection"


def busy(available: int) -> RoutingContext:
    state = QueueState(logged_in=2, available=available, callers=1, longest_wait=30.0)
    return RoutingContext(queues=lambda: {QUEUE: state, "general": state})


async def run(script, menu, table, store, context=None, info=DEFAULT_INFO):
    call = ScriptedCall(script, info=info)
    outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(T0),
                                context=context, handover=HandoverSettings(agent_language="en"))
    await store.writer.flush()
    report = await store.queries.get_report(outcome.reference)
    assert report is not None
    return call, outcome, report


async def test_in_danger_with_no_free_agent_is_asked_and_keeps_priority(menu, table, store):
    call, outcome, report = await run([*IN_DANGER, "1"], menu, table, store, busy(0))
    assert [group[-1] for group in call.played][-1] == "ask-contact-safe"
    assert report.answers[CONSENT_QUESTION] == "yes"
    assert outcome.decision is not None and outcome.decision.queue == QUEUE
    assert call.variables["BALAGH_PRIO"] == "10"


async def test_the_danger_key_then_no_free_agent_is_asked(menu, table, store):
    call, _, report = await run(["1", "9", "1"], menu, table, store, busy(0))
    assert "ask-contact-safe" in call.sounds
    assert report.answers["danger"] == "yes" and report.answers[CONSENT_QUESTION] == "yes"


@pytest.mark.parametrize("free", [1, None])
async def test_in_danger_with_a_free_agent_or_no_state_is_not_asked(menu, table, store, free):
    call, _, report = await run(IN_DANGER, menu, table, store,
                                None if free is None else busy(free))
    assert "ask-contact-safe" not in call.sounds
    assert CONSENT_QUESTION not in report.answers


async def test_in_danger_with_a_withheld_number_is_never_asked(menu, table, store):
    withheld = replace(DEFAULT_INFO, caller=None)
    call, _, _ = await run(IN_DANGER, menu, table, store, busy(0), info=withheld)
    assert "ask-contact-safe" not in call.sounds


def test_skip_reason_in_danger(menu: Menu) -> None:
    asked = dict(menu_completed=False, answers={"danger": "yes"}, caller="+971500000001",
                 queue=QUEUE)
    assert skip_reason(menu.consent, **asked, free_agents=0) is None
    assert skip_reason(menu.consent, **asked, free_agents=2) == "danger"
    assert skip_reason(menu.consent, **asked) == "danger"
    not_here = replace(menu.consent, not_for_queues=frozenset({QUEUE}))
    assert skip_reason(not_here, **asked, free_agents=0) == "danger"
