"""Texts to callers, end to end: real calls on the sandbox PBX into `balagh run`, real
Kannel (bearerbox + smsbox, `balagh pbx sms`'s KannelSandbox) with fakesmsc as the phone
network (the fixtures: kannel.py). Consent yes: the Arabic text arrives at fakesmsc and its
delivery report lands on the report's timeline. Consent no or unanswered: nothing reaches
Kannel at all."""

from __future__ import annotations

import asyncio
import os
import statistics
from datetime import datetime

import pytest

from balagh.config import CONFIG_DIR, Settings
from balagh.pbx.kannel import KannelSandbox
from balagh.reachback.sms_config import load_sms_config

from .conftest import AppProcess, wait_for
from .kannel import call, kannel, kannel_sent, sms_timeline, text_row, texting_app  # noqa: F401 (fixtures)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def one_text(settings: Settings, kannel: KannelSandbox, caller: str,  # noqa: F811
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
        settings: Settings, texting_app: AppProcess, kannel: KannelSandbox) -> None:  # noqa: F811
    wording = load_sms_config(CONFIG_DIR / "reachback.yaml", {}).templates["registered"]["ar"]
    calls = int(os.environ.get("BALAGH_SMS_CALLS", "1"))
    seconds = [await one_text(settings, kannel, f"+9715012300{n:02d}", wording)
               for n in range(calls)]
    print(f"\nSMS from decision to delivery report, {calls} calls: median "
          f"{statistics.median(seconds):.3f} s, max {max(seconds):.3f} s")


@pytest.mark.parametrize("consent", ["2", "-"], ids=["no", "unanswered"])
async def test_consent_no_or_unanswered_sends_nothing(
        settings: Settings, texting_app: AppProcess, kannel: KannelSandbox,  # noqa: F811
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
