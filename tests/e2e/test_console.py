"""The web console in a real browser (chromium, headless) against the sandbox PBX, the real
app and a real `balagh console` process.

Calls appear on the wallboard and the live list within 2 s of Asterisk's event and leave
when they end; a caller in danger is highlighted; the listen button rings the supervisor's
own phone, which then hears the caller (its recording holds the caller's tone); a
supervisor of one queue sees no other queue's calls and cannot monitor them, even by a
forged request; nothing is served without a session, nothing changed without a CSRF token.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox, in_chroot
from balagh.pbx.test_user import ami_for_tests

from .conftest import AppProcess, balagh, wait_for
from .console_browser import (
    ConsoleProcess,
    add_user,
    browser_login,
    form_token,
    http_login,
    new_browser,
    poll,
)
from .legs import (
    CALLER_NUMBER,
    CHILD_IN_DANGER,
    DANGER_TO_GENERAL,
    answered_call,
    general_agent_away,
    hang_up,
    heard,
    originate,
)
from .tones import CALLER_HZ

PIN = "4321"  # typed by the sandbox's desk phone balagh-test-desk
PASSWORD = "console test password"
SHOWN_WITHIN = 2.0  # seconds from Asterisk's event to the screen
BACK_WITHIN = 15.0  # seconds for an open page to have a restarted console's state
LISTEN_SECONDS = 4.0
HEARD = 2.0


@pytest.fixture(scope="module")
def console(settings: Settings, app: AppProcess) -> Iterator[ConsoleProcess]:
    """Supervisors Amina (child protection, desk phone 201) and Omar (elderly care); console
    users amina and omar tied to them, and an admin; `balagh console` running."""
    for name, phones, queues in (
            ("Amina", ("201", "Local/201@balagh-test-desk"), "child-protection"),
            ("Omar", ("202",), "elderly-care")):
        phone_args = [arg for phone in phones for arg in ("--phone", phone)]
        added = balagh(settings, "supervisors", "add", name, *phone_args, "--queues", queues,
                       "--pin-stdin", input=f"{PIN}\n")
        assert added.returncode == 0, added.stdout + added.stderr
    add_user(settings, "amina", PASSWORD, "supervisor", "Amina")
    add_user(settings, "omar", PASSWORD, "supervisor", "Omar")
    add_user(settings, "admin", PASSWORD, "admin")
    process = ConsoleProcess(settings, settings.data_dir / "console.log")
    process.start()
    yield process
    process.stop()
    settings.supervisors_file.unlink(missing_ok=True)
    settings.console_database.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def browser(console: ConsoleProcess) -> Iterator[Any]:
    driver = new_browser()
    yield driver
    driver.quit()


def shot(driver: Any, name: str) -> None:
    """A screenshot for the docs, only when BALAGH_SCREENSHOTS names a folder."""
    folder = os.environ.get("BALAGH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))


async def on_screen(driver: Any, script: str, what: str, timeout: float = 10.0) -> float:
    """Seconds until the page's `script` (a JS expression) is true; polled off the loop."""
    started = time.monotonic()
    await asyncio.to_thread(poll, lambda: driver.execute_script(f"return {script};"),
                            timeout, what)
    return time.monotonic() - started


def row(reference: str, condition: str = "true") -> str:
    return (f"(() => {{ const r = document.getElementById('call-{reference}'); "
            f"return !!r && ({condition}); }})()")


def tile(queue: str, condition: str) -> str:
    return (f"(() => {{ const q = document.getElementById('queue-{queue}'); "
            f"return !!q && ({condition}); }})()")


def test_nothing_without_a_session_and_no_change_without_a_csrf_token(console):
    with httpx.Client(base_url=console.url, follow_redirects=False, timeout=10) as anonymous:
        assert anonymous.get("/").status_code == 303  # to the login page
        assert anonymous.get("/").headers["location"] == "/login"
        for path in ("/api/state", "/events", "/reports.csv"):
            assert anonymous.get(path).status_code in (401, 303), path
        assert anonymous.post("/monitor", data={"reference": "1"}).status_code == 401
        # The login form itself needs its token.
        assert anonymous.post("/login", data={"name": "admin", "password": PASSWORD}
                              ).status_code == 403
        page = anonymous.get("/login")
        assert anonymous.post("/login", data={"csrf": form_token(page.text), "name": "admin",
                                              "password": "wrong password!"}).status_code == 401
        assert "/static/console.css" in page.text and anonymous.get(
            "/static/console.css").status_code == 200
    client, csrf = http_login(console.url, "admin", PASSWORD)
    try:
        assert client.get("/api/state").status_code == 200
        assert client.post("/monitor", data={"reference": "1", "mode": "listen"}
                           ).status_code == 403
        assert client.post("/monitor", data={"reference": "1", "mode": "listen",
                                             "csrf": "forged"}).status_code == 403
        with_token = client.post("/monitor", data={"reference": "1", "mode": "listen"},
                                 headers={"X-CSRF-Token": csrf})
        assert with_token.status_code == 404  # past the checks: there is no such call
        assert client.post("/logout", data={"csrf": csrf}).status_code == 303
        assert client.get("/api/state").status_code == 401  # the session is gone
    finally:
        client.close()


async def danger_caller_waits(ami: AmiSession, settings: Settings,
                              joins: asyncio.Queue[dict[str, str]]) -> tuple[Any, str, float]:
    """A caller in danger put into the general queue (whose agent is away): the caller,
    their reference and when they joined (monotonic). Hung up again if that fails."""
    caller = await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                             "balagh-test-caller", DANGER_TO_GENERAL)
    try:
        joined = await wait_for_event(
            joins, lambda e: e.get("Uniqueid") == f"{caller.uniqueid}-far", 60)
        at_join = time.monotonic()
        reference = await ami.getvar(joined["Channel"], "BALAGH_REFERENCE")
        assert reference
    except BaseException:
        await hang_up(ami, caller)
        raise
    return caller, reference, at_join


async def test_a_waiting_caller_in_danger_shows_within_2_s_highlighted_and_leaves(
        settings, console, browser, ami):
    browser_login(browser, console.url, "admin", PASSWORD)
    browser.get(f"{console.url}/?lang=en")
    board = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(f"{console.url}/live?lang=en")
    live = browser.current_window_handle
    omar, _omar_csrf = http_login(console.url, "omar", PASSWORD)
    joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
    try:
        async with general_agent_away(ami):
            caller, reference, at_join = await danger_caller_waits(ami, settings, joins)
            try:
                browser.switch_to.window(board)
                await on_screen(browser, tile("general", "q.dataset.danger === '1' && "
                                              "q.classList.contains('danger')"),
                                "the general queue's tile, in danger")
                board_delay = time.monotonic() - at_join
                browser.switch_to.window(live)
                await on_screen(browser, row(reference, "r.dataset.state === 'waiting' && "
                                             "r.classList.contains('danger')"),
                                "the caller's row, highlighted")
                live_delay = time.monotonic() - at_join
                print(f"\nshown after QueueCallerJoin: wallboard {board_delay:.2f} s, "
                      f"live list {live_delay:.2f} s")
                assert board_delay <= SHOWN_WITHIN and live_delay <= SHOWN_WITHIN
                text = browser.find_element("id", "calls").text
                assert CALLER_NUMBER not in text and "adult" in text and "General line" in text
                # Omar (elderly care) sees neither the queue nor the call.
                state = omar.get("/api/state").json()
                assert reference not in str(state["calls"])
                assert [q["name"] for q in state["queues"]] == ["elderly-care"]
                if os.environ.get("BALAGH_SCREENSHOTS"):
                    browser.switch_to.window(board)
                    shot(browser, "wallboard-en.png")
                    browser.get(f"{console.url}/?lang=ar")
                    await on_screen(browser, tile("general", "q.dataset.danger === '1'"),
                                    "the Arabic wallboard")
                    assert browser.find_element("tag name", "html").get_attribute("dir") == \
                        "rtl"
                    shot(browser, "wallboard-ar.png")
                    browser.get(f"{console.url}/?lang=en")
                    browser.switch_to.window(live)
            finally:
                await hang_up(ami, caller)
            hung_up = time.monotonic()
            await on_screen(browser, f"!{row(reference)}", "the row to leave")
            browser.switch_to.window(board)
            await on_screen(browser, tile("general", "q.dataset.waiting === '0'"),
                            "the tile to empty")
            assert time.monotonic() - hung_up <= SHOWN_WITHIN + 0.5
    finally:
        ami.unlisten(joins)
        omar.close()
        browser.switch_to.window(live)
        browser.close()
        browser.switch_to.window(board)


def click(driver: Any, element_id: str) -> None:
    """A real click; the element is looked up again if the page replaced it meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(5):
        try:
            driver.find_element("id", element_id).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.05)
    raise AssertionError(f"could not click {element_id}")


async def test_the_board_comes_back_by_itself_after_a_restart_of_the_console(
        console, browser):
    browser.get(f"{console.url}/?lang=en")
    await on_screen(browser, "!!document.body.dataset.at", "the first state")
    await asyncio.to_thread(console.stop)
    restarted = time.time()
    await asyncio.to_thread(console.start)
    # The same page, not reloaded: its event stream reconnects and gets the whole state.
    waited = await on_screen(browser, f"Number(document.body.dataset.at) > {restarted} && "
                             "document.querySelectorAll('.queue').length > 0",
                             "a fresh state after the restart")
    print(f"\nthe page had the new console's state {waited:.2f} s after it was up")
    # Coming back is what is tested here (the browser retries every second, and the new
    # console may still be starting): how fast it is, is the print above, not a bound.
    assert waited <= BACK_WITHIN


def desk_recording(pbx: Sandbox, uniqueid: str) -> Path:
    return in_chroot(pbx.root, "/var/spool/asterisk/monitor") / \
        f"supervisor-{uniqueid}-heard.wav"


async def test_listen_rings_the_supervisors_phone_which_hears_the_caller(
        settings, pbx, console, browser, ami):
    browser.get(f"{console.url}/?lang=en")
    if browser.find_elements("id", "logout"):
        browser.find_element("id", "logout").click()  # the admin's session: a CSRF'd form
        poll(lambda: "/login" in browser.current_url, 10, "the login page")
    browser_login(browser, console.url, "amina", PASSWORD)
    browser.get(f"{console.url}/live?lang=en")
    omar, omar_csrf = http_login(console.url, "omar", PASSWORD)
    desk = ami.listen(lambda e: e.get("Event") == "Newchannel" and e.get(
        "Channel", "").startswith("Local/201@balagh-test-desk") and e.get(
        "Channel", "").endswith(";2"))
    bridged = ami.listen(lambda e: e.get("Event") == "BridgeEnter" and e.get(
        "Channel", "").startswith("Snoop/") and e.get("BridgeName", "").startswith(
        "balagh-monitor-"))
    try:
        async with answered_call(ami, settings, CHILD_IN_DANGER) as (caller, connect):
            at_connect = time.monotonic()
            reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
            assert reference
            await on_screen(browser, row(reference, "r.dataset.state === 'talking' && "
                                         f"!!document.getElementById('listen-{reference}')"),
                            "the answered call with its listen button")
            assert time.monotonic() - at_connect <= SHOWN_WITHIN
            # Omar may not hear child protection: not shown, and a forged request is refused.
            assert reference not in str(omar.get("/api/state").json()["calls"])
            forged = omar.post("/monitor", data={"reference": reference, "mode": "listen"},
                               headers={"X-CSRF-Token": omar_csrf})
            assert forged.status_code == 403, forged.text
            await asyncio.to_thread(click, browser, f"listen-{reference}")
            await on_screen(browser, "document.getElementById('notice').dataset.status === "
                            "'202'", "the console's answer to the click")
            far = await wait_for_event(desk, lambda e: True, 30)
            await wait_for_event(bridged, lambda e: True, 30)
            await asyncio.sleep(LISTEN_SECONDS)  # the stretch of audio that is judged
            await ami.action({"Action": "Hangup", "Channel": far["Channel"]})
            await hang_up(ami, caller)
        supervisor_heard = await heard(desk_recording(pbx, far["Uniqueid"]))
    finally:
        ami.unlisten(desk)
        ami.unlisten(bridged)
        omar.close()
    print(f"\nthe supervisor's phone heard (Hz: seconds) {supervisor_heard}")
    assert supervisor_heard[CALLER_HZ] >= HEARD, supervisor_heard
    audit = await asyncio.to_thread(wait_for, lambda: _audit_with(settings, reference, " start "),
                                    timeout=15, what="the monitoring audit")
    assert "Amina" in audit and " listen " in audit


def _audit_with(settings: Settings, reference: str, word: str) -> str | None:
    result = balagh(settings, "monitor", "--audit", "--reference", reference)
    return result.stdout if word in result.stdout else None


async def test_the_board_follows_asterisk_through_a_restart(
        settings: Settings, pbx: Sandbox, console: ConsoleProcess, browser: Any,
        running_app: AppProcess) -> None:
    """Asterisk stopped and started under the console and the app: both reconnect by
    themselves, and the next waiting caller is on the same, never reloaded, page in 2 s."""
    browser.delete_all_cookies()  # whoever the tests before logged in as: the admin sees all
    browser_login(browser, console.url, "admin", PASSWORD)
    browser.get(f"{console.url}/?lang=en")
    await on_screen(browser, "!!document.body.dataset.at", "the first state")
    connected_before = len(running_app.events("ari.connected"))
    await asyncio.to_thread(pbx.stop)
    await asyncio.to_thread(pbx.start)
    await asyncio.to_thread(
        wait_for, lambda: len(running_app.events("ari.connected")) > connected_before,
        timeout=60, what="the app back on ARI")
    async with AmiSession(ami_for_tests(settings)) as ami:
        joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
        try:
            async with general_agent_away(ami):
                caller, reference, at_join = await danger_caller_waits(ami, settings, joins)
                try:
                    await on_screen(browser, tile("general", "q.dataset.danger === '1'"),
                                    "the caller after the restart", timeout=30)
                    delay = time.monotonic() - at_join
                finally:
                    await hang_up(ami, caller)
        finally:
            ami.unlisten(joins)
    print(f"\nafter Asterisk's restart: caller {reference} shown {delay:.2f} s after joining")
    assert delay <= SHOWN_WITHIN
