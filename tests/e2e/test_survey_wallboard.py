"""The wallboard's satisfaction calls in a real browser (chromium), no PBX needed: with the
survey on, the table beside the callbacks lists the pending and failed survey calls with
their last outcome, and its Cancel button posts to the survey's route (here the app is not
running: refused 503, audited); with the survey off the table is not shown."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from balagh.config import ConsoleSettings, Settings
from balagh.console import board
from balagh.console.accounts import Accounts

from .console_browser import browser_login, new_browser, poll
from .test_console_layout import ConsoleThread, SeededFeed

PASSWORD = "a long enough password"
ROWS = [
    {"id": 5, "reference": "3356005", "queue": "child-protection", "status": "pending",
     "attempt": 0, "created_at": "2026-12-07T08:00:00.000Z",
     "next_attempt_at": "2026-12-07T08:05:00.000Z", "last_outcome": None},
    {"id": 6, "reference": "3356006", "queue": "child-protection", "status": "failed",
     "attempt": 2, "created_at": "2026-12-07T07:00:00.000Z",
     "next_attempt_at": "2026-12-07T07:10:00.000Z", "last_outcome": "no-answer"},
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = new_browser()
    yield driver
    driver.quit()


def _console(tmp_path: Path, *, survey_on: bool) -> tuple[ConsoleThread, Accounts]:
    # Plain HTTP on loopback in the tests: cookies without the Secure flag.
    settings = Settings(data_dir=tmp_path, console=ConsoleSettings(secure_cookies=False))
    accounts = Accounts(settings.console_database)
    accounts.add("admin", PASSWORD, "admin", None)
    snapshot = board.build(queue_events=[], live_ids=set(), reports=[], questions=[],
                           today=board.Today(), now=time.time(), callbacks=[],
                           survey_calls=ROWS if survey_on else None, survey_on=survey_on)
    return ConsoleThread(settings, SeededFeed(settings, snapshot), accounts), accounts


def test_the_satisfaction_calls_table_and_its_cancel_button(browser: Any,
                                                             tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    console, accounts = _console(tmp_path, survey_on=True)
    with console:
        browser_login(browser, console.url, "admin", PASSWORD)
        browser.get(f"{console.url}/?lang=en")
        pending = poll(lambda: browser.find_element(By.ID, "survey_calls-5"), 10,
                       "the pending survey call's row")
        assert browser.find_element(By.ID, "survey_calls-section").is_displayed()
        assert browser.find_element(By.ID, "callbacks-section").is_displayed()
        failed = browser.find_element(By.ID, "survey_calls-6")
        assert [cell.text for cell in failed.find_elements(By.TAG_NAME, "td")][:6] == [
            "3356006", "Child protection", "failed", "2", "-", "no answer"]
        assert failed.find_elements(By.TAG_NAME, "button") == []
        pending.find_element(By.CSS_SELECTOR, "button.cancel-placed").click()
        notice = poll(lambda: browser.find_element(By.ID, "notice").get_attribute(
            "data-status"), 10, "the cancel's answer")
    assert notice == "503"  # asked of the app, which is not running here
    refused = [row for row in accounts.audit_rows(user="admin")
               if row.action == "survey-cancel-refused"]
    assert [row.detail["survey"] for row in refused] == ["5"]


def test_with_the_survey_off_the_table_is_not_shown(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    console, _accounts = _console(tmp_path, survey_on=False)
    with console:
        browser_login(browser, console.url, "admin", PASSWORD)
        browser.get(f"{console.url}/?lang=ar")
        poll(lambda: browser.find_element(By.CSS_SELECTOR, "#callbacks tr.empty"), 10,
             "the board filled in")
        assert not browser.find_element(By.ID, "survey_calls-section").is_displayed()
