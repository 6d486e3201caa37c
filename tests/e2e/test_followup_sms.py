"""A unit's "resolved" reaches the timeline and texts the caller, end to end: a real call on
the sandbox PBX into `balagh run` with texts on (kannel.py: real Kannel, fakesmsc as the
phone network), the report routed, then the unit's signed POST (followup_client.py).
Consent yes: the Arabic "resolved" text (the reference, nothing of the unit) at fakesmsc,
its delivery report on the timeline, and never a second one for the same report, even
resolved again after a reopening. Consent no: the status is taken, nothing reaches Kannel.

BALAGH_SMS_CALLS=N repeats the consent-yes case with N callers and prints the median and
max seconds from the unit's POST answered to the text at fakesmsc and to its delivery
report on the timeline."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from balagh.config import CONFIG_DIR, Settings
from balagh.pbx.kannel import KannelSandbox
from balagh.reachback.sms_config import load_sms_config
from balagh.texts import NAMES

from . import kannel as sms
from .conftest import HOOK_SECRET_NAME, AppProcess, balagh, wait_for
from .followup_client import post
from .kannel import kannel, texting_app  # noqa: F401 (fixtures)

WORDING = load_sms_config(CONFIG_DIR / "reachback.yaml", {}).templates["resolved"]["ar"]
LINE = "800700"  # reachback.yaml's `line`


async def status(reference: str, payload: dict[str, object]) -> tuple[int, dict[str, object]]:
    return await post(sms.INBOUND_PORT, reference, payload, str(uuid.uuid4()))


def resolved_on_timeline(settings: Settings, reference: str) -> bool:
    """`balagh reports <reference>`: the report's follow-up status is resolved and its
    timeline holds the unit's "resolved" step."""
    shown = balagh(settings, "reports", reference)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    steps = [line for line in lines if " followup " in line and "status=resolved" in line]
    return any(line.split() == ["followup_status", "resolved"] for line in lines) \
        and len(steps) == 1


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def seconds_until(condition: Callable[[], bool], since: float, what: str) -> float:
    """Seconds from `since` (monotonic) until `condition` holds: wait_for's poll, finer
    (10 ms), as this is a figure of the report; fails naming `what` after 30 s."""
    while not condition():
        if time.monotonic() - since > 30:
            raise AssertionError(f"timed out after 30 s waiting for {what}")
        await asyncio.sleep(0.01)
    return time.monotonic() - since


async def settled(settings: Settings, reference: str) -> list[dict]:
    """The report's texts once none will change any more. A write of the app's single
    writer first (one more status), so whatever a listener queued before it is committed."""
    assert (await status(reference, {"status": "in_progress", "reason": "a later visit"}))[0] \
        == 200
    return await asyncio.to_thread(
        wait_for, lambda: (rows := sms.text_rows(settings, reference)) and all(
            row["status"] in sms.SETTLED for row in rows) and rows,
        timeout=30, what="every text of the report settled")


async def resolved_text(settings: Settings, kannel: KannelSandbox,  # noqa: F811
                        caller: str) -> tuple[float, float]:
    """One call with consent, resolved by its unit: checked at fakesmsc and on the
    timeline; the seconds from the POST answered to the text at fakesmsc, and to its
    delivery report on the timeline."""
    reference = await sms.call(settings, caller, "1")
    # The "registered" text first, so that the one counted below is the resolved one.
    await asyncio.to_thread(
        wait_for, lambda: (r := sms.text_row(settings, reference)) and r["status"] == "delivered",
        timeout=30, what="the registered text delivered")
    expected = WORDING.format(reference=reference, line=LINE)

    answer = await status(reference, {"status": "resolved", "reason": "the family was visited"})
    answered, answered_at = time.monotonic(), datetime.now(UTC)
    assert answer[0] == 200 and answer[1]["result"] == "taken", answer
    at_fakesmsc = await seconds_until(lambda: (caller, expected) in kannel.received(),
                                      answered, "the Arabic resolved text at fakesmsc")
    row = await asyncio.to_thread(
        wait_for, lambda: (r := sms.text_row(settings, reference, "resolved")) and
        r["status"] == "delivered" and r, timeout=30, what="its delivery report")
    to_report = (_moment(row["reported_at"]) - answered_at).total_seconds()

    # (1) the status on the timeline; (2) the text: Arabic, the reference, no unit named.
    assert await asyncio.to_thread(resolved_on_timeline, settings, reference)
    assert row["destination"] == caller and row["text"] == expected
    assert reference in expected and any("\u0600" <= ch <= "\u06ff" for ch in expected)
    for name in (HOOK_SECRET_NAME, "general", *NAMES["general"].values()):
        assert name not in expected, name
    # (3) its delivery report on the timeline (Kannel may report before it answers).
    assert sorted(sms.sms_timeline(settings, reference, "resolved")) == [
        "delivered", "sent", "smsc_accepted"]

    # (4) resolved again: refused as it stands; taken after a reopening, still no text.
    sent = sms.kannel_sent(kannel)
    assert (await status(reference, {"status": "resolved"}))[0] == 409
    assert (await status(reference, {"status": "in_progress", "reason": "reopened"}))[0] == 200
    again = await status(reference, {"status": "resolved", "reason": "visited again"})
    assert again[0] == 200 and again[1]["result"] == "taken", again
    rows = await settled(settings, reference)
    assert [(r["event"], r["status"]) for r in rows] == [
        ("registered", "delivered"), ("resolved", "delivered")]
    assert kannel.received().count((caller, expected)) == 1
    assert sms.kannel_sent(kannel) == sent
    return at_fakesmsc, to_report


async def test_consent_yes_a_units_resolved_texts_the_caller_once(
        settings: Settings, texting_app: AppProcess,  # noqa: F811
        kannel: KannelSandbox) -> None:  # noqa: F811
    calls = int(os.environ.get("BALAGH_SMS_CALLS", "1"))
    seconds = [await resolved_text(settings, kannel, f"+9715045600{n:02d}")
               for n in range(calls)]
    fakesmsc, reports = [s[0] for s in seconds], [s[1] for s in seconds]
    print(f"\nresolved SMS over {calls} calls, from the unit's POST answered: at fakesmsc "
          f"median {statistics.median(fakesmsc):.3f} s max {max(fakesmsc):.3f} s; delivery "
          f"report on the timeline median {statistics.median(reports):.3f} s "
          f"max {max(reports):.3f} s")


async def test_consent_no_a_units_resolved_is_on_the_timeline_and_sends_nothing(
        settings: Settings, texting_app: AppProcess,  # noqa: F811
        kannel: KannelSandbox) -> None:  # noqa: F811
    caller = "+971504569901"
    reference = await sms.call(settings, caller, "2")
    await asyncio.to_thread(
        wait_for, lambda: (r := sms.text_row(settings, reference)) and r["status"] == "withheld",
        timeout=30, what="the registered text withheld")
    sent = sms.kannel_sent(kannel)

    answer = await status(reference, {"status": "resolved"})
    assert answer[0] == 200 and answer[1]["result"] == "taken", answer
    row = await asyncio.to_thread(
        wait_for, lambda: (r := sms.text_row(settings, reference, "resolved")) and
        r["status"] == "withheld" and r, timeout=30, what="the resolved text withheld")

    assert await asyncio.to_thread(resolved_on_timeline, settings, reference)
    assert sms.sms_timeline(settings, reference, "resolved") == ["withheld"]
    assert row["destination"] is None and row["text"] is None
    assert sms.kannel_sent(kannel) == sent
    assert all(number != caller for number, _ in kannel.received())
