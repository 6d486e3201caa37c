"""A caller who presses nothing at all reaches a person after silent_caller_seconds;
one key of any kind and the usual attempts apply (scripted caller, a clock that moves
only when a question times out)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from balagh.ivr import flow
from balagh.ivr.ask import Outcome, ask
from balagh.ivr.flow import MenuEnd, handle_call
from balagh.ivr.menu import Menu, load_menu
from balagh.ivr.silence import SilentCaller
from balagh.routing import Table
from balagh.routing.load import load_table
from balagh.status import ReportStatus
from balagh.store.reports import ReportStore

from .fakes import FixedClock, ScriptedCall, call_store
from .shipped import IVR_FILE, ROUTING_FILE

T0 = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)
PROMPT_SECONDS = 4.0  # each prompt takes this long on the fake clock


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TimedCall(ScriptedCall):
    """Prompts and timeouts move the clock: a silent caller's minute in no time."""

    def __init__(self, script, clock: Clock) -> None:
        super().__init__(script)
        self.clock = clock

    async def play(self, sounds, *, interruptible: bool = True) -> None:
        await super().play(sounds, interruptible=interruptible)
        self.clock.now += PROMPT_SECONDS

    async def get_digit(self, timeout: float) -> str | None:
        key = await super().get_digit(timeout)
        if key is None:
            self.clock.now += timeout
        return key


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu(IVR_FILE)


@pytest.fixture(scope="module")
def table(menu: Menu) -> Table:
    return load_table(ROUTING_FILE, menu.answer_values())


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(flow, "SilentCaller", lambda seconds: SilentCaller(seconds, fake))
    return fake


def test_the_limit_counts_until_the_first_key() -> None:
    clock = Clock()
    silence = SilentCaller(20, clock)
    clock.now = 15
    assert silence.remaining() == 5 and not silence.expired
    clock.now = 21
    assert silence.expired
    silence.heard_a_key()
    assert silence.remaining() is None and not silence.expired
    assert SilentCaller(0, clock).remaining() is None  # switched off


async def test_an_expired_limit_ends_the_question_before_its_prompt(menu: Menu) -> None:
    clock = Clock()
    silence = SilentCaller(1, clock)
    clock.now = 2
    call = ScriptedCall([])
    asked = await ask(call, menu.question("danger"), menu, 5.0, silence)
    assert asked.outcome is Outcome.SILENT
    assert call.played == []


async def test_a_caller_who_presses_nothing_reaches_a_person_within_the_limit(
        menu: Menu, table: Table, store: ReportStore, clock: Clock) -> None:
    call = TimedCall([None] * 20, clock)
    outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(T0))
    assert outcome.status == ReportStatus.ROUTED
    assert outcome.menu is not None and outcome.menu.ended is MenuEnd.SILENT
    assert outcome.decision is not None and outcome.decision.queue == "general"
    # The last wait is cut at the limit; at most the prompt then playing runs past it.
    assert clock.now <= menu.silent_caller_seconds + PROMPT_SECONDS
    assert all(timeout <= 5.0 for timeout in call.timeouts)
    await store.writer.flush()
    report = await store.queries.get_report(outcome.reference)
    assert report is not None and report.status_detail == f"silent:{outcome.menu.question}"


async def test_one_key_and_a_slow_caller_keeps_every_attempt(
        menu: Menu, table: Table, store: ReportStore, clock: Clock) -> None:
    # A wrong key first (so not silent), then silence: the danger question is asked all
    # its attempts, long past the silent caller's limit, as before.
    call = TimedCall(["7", "1", None, None, None], clock)
    outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(T0))
    assert outcome.menu is not None and outcome.menu.ended is MenuEnd.NO_ANSWER
    assert clock.now > menu.silent_caller_seconds
    assert call.timeouts[-3:] == [5.0, 5.0, 5.0]


async def test_the_limit_is_off_at_zero(menu: Menu, table: Table, store: ReportStore,
                                        clock: Clock) -> None:
    quiet = replace(menu, silent_caller_seconds=0.0)
    call = TimedCall([None] * 6, clock)
    outcome = await handle_call(call, quiet, table, call_store(store), clock=FixedClock(T0))
    assert outcome.menu is not None and outcome.menu.ended is MenuEnd.NO_ANSWER
    assert outcome.menu.question == "danger"
