"""The consent question on the sandbox PBX: a real call says yes, says nothing, or calls
from a withheld number; the report, the unit's document and `balagh reports` agree.

The shipped menu leaves the question off, so this module runs the app on a copy of it with
the `consent` block on (BALAGH_IVR_FILE), and gives the session's app back afterwards."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from balagh.config import Settings
from balagh.testcall.caller import place_call

from .conftest import AppProcess, Receiver, app_environment, wait_for

CONSENT_BLOCK = """
consent:
  prompt: ask-contact-safe
  options:
    1: 'yes'
    2: 'no'
  timeout: 3
  attempts: 2
"""
# Arabic, not in danger, adult, female, Dubai, no condition: women's protection.
ADULT_WOMAN = ["1", "2", "2", "2", "2", "0"]
PROMPT = "ask-contact-safe"


@pytest.fixture(scope="module")
def consent_app(app: AppProcess, settings: Settings, data_dir: Path) -> Iterator[AppProcess]:
    menu = data_dir / "config" / "ivr-consent.yaml"
    menu.write_text(settings.ivr_file.read_text(encoding="utf-8") + CONSENT_BLOCK,
                    encoding="utf-8")
    app.stop()  # one app per Stasis name: the session's gives way for this module
    process = AppProcess(settings, data_dir / "app-consent.log",
                         extra_env={"BALAGH_IVR_FILE": str(menu)})
    process.start()
    try:
        yield process
    finally:
        process.stop()
        app.start()


def routed_document(receiver: Receiver, reference: str) -> dict:
    def found() -> dict | None:
        return next((r.document for r in receiver.accepted
                     if r.document["id"] == f"{reference}:routed"), None)
    return wait_for(found, timeout=20, what=f"the routed document of {reference}")


def stored_consent(settings: Settings, call_id: str) -> list[str]:
    def answered() -> list[str] | None:
        with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
            routed = db.execute("SELECT status FROM reports WHERE call_id = ?",
                                (call_id,)).fetchone()
            if not routed or routed[0] == "in_ivr":
                return None
            return [row[0] for row in db.execute(
                "SELECT value FROM answers WHERE call_id = ? AND question = 'contact_safe'",
                (call_id,))] or ["(none)"]
    return wait_for(answered, timeout=20, what="the report closed")


def reports_command(settings: Settings, reference: str) -> str:
    shown = subprocess.run([sys.executable, "-m", "balagh", "reports", reference],
                           env=app_environment(settings), capture_output=True, text=True,
                           check=True, timeout=60)
    return shown.stdout


async def test_yes_reaches_the_report_the_unit_and_the_cli(
        settings, consent_app, receiver) -> None:
    result = await place_call(settings, "800700", [*ADULT_WOMAN, "1"])
    assert result.queue == "women-protection" and result.reference
    assert result.played.count(PROMPT) == 1
    print(f"consent yes: answer to queue {result.seconds_to_queue:.2f} s")
    assert await asyncio.to_thread(stored_consent, settings, result.hotline_id) == ["yes"]
    document = await asyncio.to_thread(routed_document, receiver, result.reference)
    assert document["report"]["consent"] == "yes"
    shown = await asyncio.to_thread(reports_command, settings, result.reference)
    assert "consent        yes\n" in shown


async def test_no_key_is_no(settings, consent_app, receiver) -> None:
    result = await place_call(settings, "800700", [*ADULT_WOMAN, "-", "-"])
    assert result.queue == "women-protection" and result.reference
    assert result.played.count(PROMPT) == 2  # asked twice, then no
    print(f"consent no key: answer to queue {result.seconds_to_queue:.2f} s")
    assert await asyncio.to_thread(stored_consent, settings, result.hotline_id) == ["no"]
    document = await asyncio.to_thread(routed_document, receiver, result.reference)
    assert document["report"]["consent"] == "no"


async def test_the_dialplan_menu_asks_it_and_typed_ahead_keys_do_not_answer_it(
        settings, consent_app, receiver) -> None:
    # balagh-menu (FastAGI sites) with BALAGH_ASK_CONSENT=1, as a site's context would set it.
    # Every key typed at once: the last "1" comes before the question and must not count;
    # 'no' (the dialplan's answer after its attempts) shows that the question was asked.
    result = await place_call(settings, "800701", [*ADULT_WOMAN, "1"], ahead=True,
                              context="balagh-softphone", variables={"BALAGH_ASK_CONSENT": "1"})
    assert result.queue == "women-protection" and result.reference
    print(f"dialplan menu, consent asked, no key: answer to queue {result.seconds_to_queue:.2f} s")
    assert await asyncio.to_thread(stored_consent, settings, result.hotline_id) == ["no"]
    document = await asyncio.to_thread(routed_document, receiver, result.reference)
    assert document["report"]["consent"] == "no"


async def test_a_withheld_caller_is_not_asked(settings, consent_app, receiver) -> None:
    result = await place_call(settings, "800700", ADULT_WOMAN, caller_id=None)
    assert result.queue == "women-protection" and result.reference
    assert PROMPT not in result.played  # by the ARI playback events of the hotline leg
    print(f"withheld, not asked: answer to queue {result.seconds_to_queue:.2f} s")
    assert await asyncio.to_thread(stored_consent, settings, result.hotline_id) == ["(none)"]
    document = await asyncio.to_thread(routed_document, receiver, result.reference)
    assert document["report"]["consent"] == "no"
