"""Texts to callers, end to end: real calls on the sandbox PBX into `balagh run`, real
Kannel (bearerbox + smsbox, `balagh pbx sms`'s KannelSandbox) with fakesmsc as the phone
network. Consent yes: the Arabic text arrives at fakesmsc and its delivery report lands on
the report's timeline. Consent no or unanswered: nothing reaches Kannel at all.

The menu's consent question is another change's; here the shipped menu gets one more
question (`contact_safe`, 1 yes / 2 no, one attempt, no default) in a copy of ivr.yaml."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import statistics
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

import pytest

from balagh.config import CONFIG_DIR, Settings
from balagh.pbx.kannel import KannelSandbox
from balagh.reachback.sms_config import load_sms_config
from balagh.store.events import decode
from balagh.testcall.caller import place_call

from .conftest import AppProcess, wait_for

# Arabic, no danger, adult, male, Abu Dhabi, no condition: the general line; then consent.
MENU = ["1", "2", "2", "1", "1", "0"]
INBOUND_PORT = 18096
CONSENT_QUESTION = """
  - id: contact_safe        # e2e only: the consent question another change adds
    prompt: ask-danger
    options:
      1: 'yes'
      2: 'no'
    timeout: 2
    attempts: 1
"""


@pytest.fixture(scope="module")
def kannel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KannelSandbox]:
    sandbox = KannelSandbox(tmp_path_factory.mktemp("kannel"))
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def texting_app(pbx, settings: Settings, kannel: KannelSandbox,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    folder = tmp_path_factory.mktemp("sms-config")
    ivr = folder / "ivr.yaml"
    ivr.write_text((CONFIG_DIR / "ivr.yaml").read_text(encoding="utf-8") + CONSENT_QUESTION,
                   encoding="utf-8")
    reachback = folder / "reachback.yaml"
    reachback.write_text(
        (CONFIG_DIR / "reachback.yaml").read_text(encoding="utf-8")
        .replace("enabled: false", "enabled: true")
        .replace("kannel_url: http://127.0.0.1:13013/cgi-bin/sendsms",
                 f"kannel_url: {kannel.sendsms_url}\n  smsc: fake\n"
                 f"  dlr_url: http://127.0.0.1:{INBOUND_PORT}"), encoding="utf-8")
    secrets = dict(line.split("=", 1) for line in
                   kannel.secrets_file.read_text(encoding="utf-8").split())
    app = AppProcess(replace(settings, ivr_file=ivr, reachback_file=reachback),
                     settings.data_dir / "app-sms.log", extra_env={
                         "BALAGH_IVR_FILE": str(ivr), "BALAGH_REACHBACK_FILE": str(reachback),
                         "BALAGH_INBOUND_ENABLED": "true",
                         "BALAGH_INBOUND_PORT": str(INBOUND_PORT), **secrets})
    app.start()
    yield app
    app.stop()


def text_row(settings: Settings, reference: str) -> dict | None:
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT sms_outbox.*, reports.routed_at FROM sms_outbox JOIN reports"
                         " ON reports.reference = sms_outbox.reference"
                         " WHERE sms_outbox.reference = ?", (reference,)).fetchone()
    return dict(row) if row else None


def sms_timeline(settings: Settings, reference: str) -> list[str]:
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT detail FROM report_events JOIN reports USING (call_id)"
                          " WHERE reference = ? AND kind = 'sms' ORDER BY report_events.id",
                          (reference,)).fetchall()
    return [decode(row[0])["outcome"] for row in rows]


def kannel_sent(kannel: KannelSandbox) -> int:
    """Texts bearerbox handed to an SMSC, from its own status page."""
    found = re.search(r"SMS: received \d+ \([^)]*\), sent (\d+)", kannel.status_page())
    assert found, kannel.status_page()[:500]
    return int(found.group(1))


async def call(settings: Settings, caller: str, consent: str) -> str:
    result = await place_call(settings, "800700", [*MENU, consent], caller_id=caller,
                              ahead=True)
    assert result.queue == "general" and result.reference, result.summary()
    return result.reference


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def one_text(settings: Settings, kannel: KannelSandbox, caller: str,
                   wording: str) -> float:
    """One call with consent: its text checked at fakesmsc and on the timeline; the
    seconds from the routing decision to the delivery report."""
    reference = await call(settings, caller, "1")
    expected = wording.format(reference=reference, line="800700")
    await asyncio.to_thread(wait_for, lambda: (caller, expected) in kannel.received(),
                            timeout=30, what="the Arabic text at fakesmsc")
    row = await asyncio.to_thread(
        wait_for, lambda: (r := text_row(settings, reference)) and
        r["status"] == "delivered" and r, timeout=30, what="its delivery report")
    # Kannel may send a report before its answer to the request reaches the app: any order.
    assert sorted(sms_timeline(settings, reference)) == ["delivered", "sent", "smsc_accepted"]
    assert row["destination"] == caller and row["text"] == expected
    return (_moment(row["reported_at"]) - _moment(row["routed_at"])).total_seconds()


async def test_consent_yes_the_arabic_text_arrives_and_its_report_is_on_the_timeline(
        settings: Settings, texting_app: AppProcess, kannel: KannelSandbox) -> None:
    wording = load_sms_config(CONFIG_DIR / "reachback.yaml", {}).templates["registered"]["ar"]
    calls = int(os.environ.get("BALAGH_SMS_CALLS", "1"))
    seconds = [await one_text(settings, kannel, f"+9715012300{n:02d}", wording)
               for n in range(calls)]
    print(f"\nSMS from decision to delivery report, {calls} calls: median "
          f"{statistics.median(seconds):.3f} s, max {max(seconds):.3f} s")


@pytest.mark.parametrize("consent", ["2", "-"], ids=["no", "unanswered"])
async def test_consent_no_or_unanswered_sends_nothing(
        settings: Settings, texting_app: AppProcess, kannel: KannelSandbox,
        consent: str) -> None:
    caller = "+971509990001" if consent == "2" else "+971509990002"
    before = kannel_sent(kannel)
    reference = await call(settings, caller, consent)
    await asyncio.to_thread(
        wait_for, lambda: (r := text_row(settings, reference)) and r["status"] == "withheld",
        timeout=30, what="the text withheld")
    assert sms_timeline(settings, reference) == ["withheld"]
    assert all(number != caller for number, _ in kannel.received())
    assert kannel_sent(kannel) == before
    assert text_row(settings, reference)["destination"] is None
