"""An agent's console page in a real browser (chromium, headless) against the sandbox PBX,
the real app and a real `balagh console` process.

A caller in danger rings the child-protection queue's sandbox agent (member
Local/1001@balagh-agents/n): the agent's page shows the report before the agent is
connected to the caller (AgentConnect comes only after the whisper), stays while they
talk, then shows the after-call form; the disposition chosen there is saved and counted by
`balagh stats --dispositions`. The agent pauses with a reason: Asterisk has the member
paused with that reason (QueueStatus) and the page says so; then comes back.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings

from .conftest import AppProcess, balagh
from .console_browser import ConsoleProcess, browser_login, new_browser, poll
from .legs import CHILD_IN_DANGER, hang_up, originate

PASSWORD = "agent screen password"
MEMBER = "Local/1001@balagh-agents/n"  # the child-protection queue's sandbox agent
QUEUE = "balagh-child-protection"


@pytest.fixture(scope="module")
def console(settings: Settings, app: AppProcess) -> Iterator[ConsoleProcess]:
    added = balagh(settings, "users", "add", "noura", "--role", "agent", "--member", MEMBER,
                   "--password-stdin", input=PASSWORD + "\n")
    assert added.returncode == 0, added.stdout + added.stderr
    process = ConsoleProcess(settings, settings.data_dir / "console-agent.log")
    process.start()
    yield process
    process.stop()
    settings.console_database.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def browser(console: ConsoleProcess) -> Iterator[Any]:
    driver = new_browser()
    yield driver
    driver.quit()


async def on_page(driver: Any, script: str, what: str, timeout: float = 10.0) -> float:
    started = time.monotonic()
    await asyncio.to_thread(poll, lambda: driver.execute_script(f"return {script};"),
                            timeout, what)
    return time.monotonic() - started


def fact(name: str) -> str:
    return (f"(() => {{ const f = document.querySelector('[data-fact=\"{name}\"] dd'); "
            f"return f ? f.textContent : null; }})()")


async def test_the_agent_sees_the_report_before_answer_and_the_disposition_is_counted(
        settings: Settings, running_app: AppProcess, console: ConsoleProcess, browser: Any,
        ami: AmiSession) -> None:
    browser_login(browser, console.url, "noura", PASSWORD)
    browser.get(f"{console.url}/agent?lang=en")
    assert browser.find_elements("id", "desk-free")
    assert not browser.find_elements("link text", "Wallboard")  # an agent's page only
    called = ami.listen(lambda e: e.get("Event") == "AgentCalled"
                        and e.get("Interface") == MEMBER)
    connected = ami.listen(lambda e: e.get("Event") in ("AgentConnect", "AgentComplete")
                           and e.get("Interface") == MEMBER)
    caller = None
    try:
        caller = await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                 "balagh-test-caller", CHILD_IN_DANGER)
        call_id = f"{caller.uniqueid}-far"  # the hotline's half: the report's call id
        await wait_for_event(called, lambda e: e.get("Uniqueid") == call_id, 60)
        rang = time.monotonic()
        await on_page(browser, "document.getElementById('desk-state')?.dataset.state "
                      "=== 'ringing' && !!document.getElementById('report')",
                      "the report while the agent's phone rings")
        shown_after = time.monotonic() - rang
        # Before AgentConnect: the agent is not yet speaking with the caller.
        assert connected.empty(), "connected before the report was on the screen"
        assert browser.execute_script(f"return {fact('danger')};") == "yes"
        first = browser.execute_script(
            "return document.querySelector('#report .fact').dataset.fact;")
        assert first == "danger"
        reference = browser.execute_script(f"return {fact('reference')};")
        assert reference and reference.isdigit()
        assert browser.execute_script(f"return {fact('queue')};") == "Child protection"
        assert browser.execute_script(f"return {fact('age')};") == "child"
        connect = await wait_for_event(connected, lambda e: e.get("Uniqueid") == call_id
                                       and e.get("Event") == "AgentConnect", 60)
        await on_page(browser, "document.getElementById('desk-state')?.dataset.state "
                      "=== 'talking'", "the report while they talk")
        assert browser.execute_script(f"return {fact('reference')};") == reference
        print(f"\nthe report was on the agent's page {shown_after:.2f} s after AgentCalled; "
              f"the agent was connected (AgentConnect) after HoldTime {connect.get('HoldTime')}"
              f" s, RingTime {connect.get('RingTime')} s")
        await hang_up(ami, caller)
        caller = None
        await wait_for_event(connected, lambda e: e.get("Event") == "AgentComplete", 30)
        await on_page(browser, "!!document.getElementById('disposition-form')",
                      "the after-call form")
        browser.find_element("css selector", "input[name=disposition][value=genuine]").click()
        browser.find_element("id", "note").send_keys("the mother will call back")
        browser.find_element("id", "save-disposition").click()
        await on_page(browser, "!!document.getElementById('saved')", "saved")
    finally:
        ami.unlisten(called)
        ami.unlisten(connected)
        if caller is not None:
            await hang_up(ami, caller)
    counted = balagh(settings, "stats", "--dispositions", "--since",
                     time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400)),
                     "--format", "json")
    assert counted.returncode == 0, counted.stderr
    figures = json.loads(counted.stdout)
    assert figures["child-protection"]["genuine"] == 1
    assert figures["total"]["genuine"] == 1


async def test_a_paused_agent_shows_paused_with_the_reason_and_comes_back(
        settings: Settings, running_app: AppProcess, console: ConsoleProcess, browser: Any,
        ami: AmiSession) -> None:
    browser.get(f"{console.url}/agent?lang=en")
    if not browser.find_elements("id", "logout"):
        browser_login(browser, console.url, "noura", PASSWORD)
        browser.get(f"{console.url}/agent?lang=en")

    async def member_status() -> dict[str, str]:
        found = await ami.action_list({"Action": "QueueStatus", "Queue": QUEUE,
                                       "Member": MEMBER}, timeout=5)
        rows = [dict(e) for e in found if e.get("Event") == "QueueMember"]
        assert len(rows) == 1, rows
        return {str(k): str(v) for k, v in rows[0].items()}

    try:
        browser.find_element("css selector", "#pause-reason option[value=training]").click()
        browser.find_element("id", "pause").click()
        await on_page(browser, "!!(document.getElementById('paused') || "
                      "document.getElementById('error'))", "the page after pausing")
        assert browser.find_elements("id", "paused"), (
            browser.find_element("id", "error").text,
            console.log_path.read_text(errors="replace")[-3000:])
        status = await member_status()
        assert status["Paused"] == "1" and status["PausedReason"] == "training"
        assert browser.find_element("id", "paused-reason").text == "training"
        browser.find_element("id", "unpause").click()
        await on_page(browser, "!!document.getElementById('pause-form')", "back on the page")
        assert (await member_status())["Paused"] == "0"
    finally:
        await ami.action({"Action": "QueuePause", "Interface": MEMBER, "Paused": "false"})
