"""Overflow and live queue state on the sandbox PBX: no caller ends at a queue nobody serves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from balagh.ami.client import AmiSession
from balagh.pbx.test_user import ami_for_tests
from balagh.testcall import place_call

from .conftest import reload_and_wait, report_by_call, wait_for

ADULT_WOMAN = ["2", "2", "2", "2", "1", "0"]  # English, no danger, adult, female, Abu Dhabi
WOMEN_AGENT = "Local/1002@balagh-agents/n"


@asynccontextmanager
async def women_agent_paused(settings) -> AsyncIterator[None]:
    async with AmiSession(ami_for_tests(settings)) as ami:  # QueuePause: agent class
        await ami.action({"Action": "QueuePause", "Queue": "balagh-women-protection",
                          "Interface": WOMEN_AGENT, "Paused": "true", "Reason": "e2e"})
        try:
            yield
        finally:
            await ami.action({"Action": "QueuePause", "Queue": "balagh-women-protection",
                              "Interface": WOMEN_AGENT, "Paused": "false"})


async def app_sees_women_agents(app, *, available: int) -> None:
    def seen() -> bool:
        latest = app.last_event("queue.agents", queue="women-protection")
        return latest is not None and latest["available"] == available

    await asyncio.to_thread(wait_for, seen, timeout=20,
                            what=f"the app to see {available} women-protection agent(s) free")


async def test_queue_with_no_agent_overflows_to_the_general_line(settings, running_app):
    async with women_agent_paused(settings):
        result = await place_call(settings, "800700", ADULT_WOMAN, ahead=True)
    # Routed to women-protection, which nobody could answer: the chain's end, general.
    assert result.asterisk_queue == "balagh-general"
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report["queue"] == "women-protection"


async def test_rule_on_live_queue_state(settings, running_app, table_file):
    text = table_file.read_text()
    rule = """rules:
  - name: women-unit-unavailable
    when:
      age: adult
      gender: female
      queue: {name: women-protection, none_available: true}
    queue: social-welfare
"""
    table_file.write_text(text.replace("rules:\n", rule, 1))
    await asyncio.to_thread(reload_and_wait, settings, "applied")
    # With an agent free, the live-state rule does not match. The app polls QueueSummary
    # and logs each change of a queue's agents: wait until its view has the agent free.
    await app_sees_women_agents(running_app, available=1)
    free = await place_call(settings, "800700", ADULT_WOMAN, ahead=True)
    assert free.queue == "women-protection"
    async with women_agent_paused(settings):
        await app_sees_women_agents(running_app, available=0)
        busy = await place_call(settings, "800700", ADULT_WOMAN, ahead=True)
    assert busy.queue == "social-welfare"
    report = report_by_call(settings, busy.hotline_id, status="routed")
    assert report["rule"] == "women-unit-unavailable"


async def test_overflow_chain_to_an_outside_number(settings, running_app, table_file):
    text = table_file.read_text()
    rule = "    when: {age: adult, gender: female}\n    queue: women-protection\n"
    assert rule in text
    table_file.write_text(text.replace(rule, rule + "    overflow:\n"
                                       "      - {number: \"+97165550000\", wait: 20}\n"))
    await asyncio.to_thread(reload_and_wait, settings, "applied")
    async with women_agent_paused(settings):
        result = await place_call(settings, "800700", ADULT_WOMAN, ahead=True)
    assert result.queue is None
    assert result.dialled == "+97165550000"
