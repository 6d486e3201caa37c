"""Satisfaction calls on the console, on the sandbox PBX with the real app and a real
`balagh console`: a resolved report whose caller said it is safe schedules a survey call
(due in 300 s); the wallboard's state lists it to the supervisor of its queue, who cancels
it through the console's HTTP route; the row is cancelled in the store, the report's
timeline says by whom, the app's log and the console's audit have it, and Asterisk never
sees a survey channel.

Like test_survey.py, this module runs its own app (consent asked, survey on, the inbound
listener) and gives the session's app back afterwards; the console gets the same
reachback.yaml and listener, as a site's would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from balagh.ami.client import AmiSession
from balagh.config import Settings
from balagh.console.accounts import Accounts

from .conftest import AppProcess, balagh
from .console_browser import ConsoleProcess, add_user, http_login
from .dialback import hours_now, placed_channels, reachback_app, row_in, rows
from .followup_client import free_port
from .legs import until
from .test_survey import CALLEE, ROWS, SURVEY, SURVEY_IDS, resolved_report

DELAY_SECONDS = 300  # long enough for the supervisor to cancel before it is due
PASSWORD = "console test password"


@pytest.fixture(scope="module")
def survey_app(app: AppProcess, settings: Settings,
               data_dir: Path) -> Iterator[tuple[AppProcess, int, dict[str, str]]]:
    port = free_port()
    listener = {"BALAGH_INBOUND_ENABLED": "true", "BALAGH_INBOUND_PORT": str(port)}
    with reachback_app(app, settings, data_dir, "survey-console",
                       SURVEY.format(hours=hours_now(settings)).replace(
                           "delay_seconds: 0", f"delay_seconds: {DELAY_SECONDS}"),
                       listener) as process:
        shared = {**listener,
                  "BALAGH_REACHBACK_FILE": process.extra_env["BALAGH_REACHBACK_FILE"]}
        yield process, port, shared


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` while a child process is started (it copies them)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def console(settings: Settings, survey_app: tuple[AppProcess, int, dict[str, str]],
            ) -> Iterator[ConsoleProcess]:
    """Supervisor Sara (the general line) with console user sara; `balagh console`
    reading the same reachback.yaml and asking the same listener as the app."""
    added = balagh(settings, "supervisors", "add", "Sara", "--phone", "203", "--queues",
                   "general", "--pin-stdin", input="4321\n")
    assert added.returncode == 0, added.stdout + added.stderr
    add_user(settings, "sara", PASSWORD, "supervisor", "Sara")
    process = ConsoleProcess(settings, settings.data_dir / "console-survey.log")
    with environment(survey_app[2]):
        process.start()
    try:
        yield process
    finally:
        process.stop()
        settings.supervisors_file.unlink(missing_ok=True)
        settings.console_database.unlink(missing_ok=True)


def listed(client: httpx.Client, reference: str):
    def found() -> dict[str, object] | None:
        state = client.get("/api/state").json()
        return next((r for r in state.get("survey_calls") or []
                     if r["reference"] == reference), None)

    return found


async def test_a_supervisor_cancels_a_pending_survey_call_from_the_console(
        settings: Settings, survey_app: tuple[AppProcess, int, dict[str, str]],
        console: ConsoleProcess, ami: AmiSession) -> None:
    process, port, _ = survey_app
    client, csrf = await asyncio.to_thread(http_login, console.url, "sara", PASSWORD)
    try:
        async with placed_channels(ami, SURVEY_IDS, CALLEE) as channels:
            reference, resolved_at = await resolved_report(settings, ami, (process, port),
                                                           "+971501110041", "1")
            row = await until(listed(client, reference), timeout=30,
                              what="the survey call on the console")
            shown = time.monotonic() - resolved_at
            assert row["status"] == "pending" and row["queue"] == "general", row
            state = client.get("/api/state").json()
            assert state["survey_on"] is True
            assert 'id="survey_calls-section"' in client.get("/").text
            answer = await asyncio.to_thread(
                client.post, "/survey_calls/cancel", data={"id": str(row["id"])},
                headers={"X-CSRF-Token": csrf})
            assert answer.status_code == 200, answer.text
            stored = await until(row_in(settings, ROWS, reference, "cancelled"), timeout=10,
                                 what="the survey call cancelled in the store")
            await until(lambda: listed(client, reference)() is None, timeout=10,
                        what="the survey call gone from the console")
            # Cancelled for good: nothing left pending for the dialler.
            assert rows(settings, "SELECT COUNT(*) AS n FROM survey_calls WHERE reference = ?"
                                  " AND status = 'pending'", reference)[0]["n"] == 0
    finally:
        client.close()
    assert stored["attempt"] == 0 and stored["cancelled_by"] == "sara"
    timeline = [json.loads(r["detail"]) for r in rows(
        settings, "SELECT detail FROM report_events WHERE call_id = ? AND kind = 'survey'"
                  " ORDER BY id", stored["call_id"])]
    assert [(t["outcome"], t["by"]) for t in timeline] == [("scheduled", None),
                                                           ("cancelled", "sara")]
    audit = Accounts(settings.console_database).audit_rows(user="sara", limit=20)
    assert [(a.action, a.detail.get("reference")) for a in audit
            if a.action.startswith("survey-")] == [("survey-cancelled", reference)]
    assert process.last_event("survey.cancel", id=stored["id"], by="sara", cancelled=True)
    assert channels == []  # no survey call ever reached Asterisk
    print(f"\nsurvey console: resolved -> listed on the console {shown:.1f} s")
