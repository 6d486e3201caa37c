"""Texts on the sandbox, shared by the e2e files that need them: real Kannel (bearerbox +
smsbox, `balagh pbx sms`'s KannelSandbox) with fakesmsc as the phone network, `balagh run`
with texts on and its inbound listener up (delivery reports, the units' follow-up API),
and readers of the texts' rows, their timeline and Kannel's own count.

The menu's consent question is another change's; here the shipped menu gets one more
question (`contact_safe`, 1 yes / 2 no, one attempt, no default) in a copy of ivr.yaml.
Use the fixtures by importing them into the test module (`kannel`, `texting_app`)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import replace

import pytest

from balagh.config import CONFIG_DIR, Settings
from balagh.pbx.kannel import KannelSandbox
from balagh.store.events import decode
from balagh.testcall.caller import place_call

from .conftest import AppProcess

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
# Outcomes after which a text's row changes no more.
SETTLED = ("delivered", "failed", "withheld")


@pytest.fixture(scope="module")
def kannel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KannelSandbox]:
    sandbox = KannelSandbox(tmp_path_factory.mktemp("kannel"))
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def texting_app(pbx, app: AppProcess, settings: Settings, kannel: KannelSandbox,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """`balagh run` with texts on (only texts: callbacks and survey stay as shipped). The
    session's app gives way (one app per Stasis name); a later `running_app` restarts it."""
    app.stop()
    folder = tmp_path_factory.mktemp("sms-config")
    ivr = folder / "ivr.yaml"
    ivr.write_text((CONFIG_DIR / "ivr.yaml").read_text(encoding="utf-8") + CONSENT_QUESTION,
                   encoding="utf-8")
    reachback = folder / "reachback.yaml"
    shipped = (CONFIG_DIR / "reachback.yaml").read_text(encoding="utf-8")
    assert shipped.index("enabled: false") < shipped.index("callbacks:"), "sms: comes first"
    reachback.write_text(
        shipped.replace("enabled: false", "enabled: true", 1)
        .replace("kannel_url: http://127.0.0.1:13013/cgi-bin/sendsms",
                 f"kannel_url: {kannel.sendsms_url}\n  smsc: fake\n"
                 f"  dlr_url: http://127.0.0.1:{INBOUND_PORT}"), encoding="utf-8")
    secrets = dict(line.split("=", 1) for line in
                   kannel.secrets_file.read_text(encoding="utf-8").split())
    texting = AppProcess(replace(settings, ivr_file=ivr, reachback_file=reachback),
                         settings.data_dir / "app-sms.log", extra_env={
                             "BALAGH_IVR_FILE": str(ivr),
                             "BALAGH_REACHBACK_FILE": str(reachback),
                             "BALAGH_INBOUND_ENABLED": "true",
                             "BALAGH_INBOUND_PORT": str(INBOUND_PORT), **secrets})
    texting.start()
    yield texting
    texting.stop()


def text_row(settings: Settings, reference: str, event: str = "registered") -> dict | None:
    """The report's text for `event` (sms_outbox), with the report's routing moment."""
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT sms_outbox.*, reports.routed_at FROM sms_outbox JOIN reports"
                         " ON reports.reference = sms_outbox.reference"
                         " WHERE sms_outbox.reference = ? AND sms_outbox.event = ?",
                         (reference, event)).fetchone()
    return dict(row) if row else None


def text_rows(settings: Settings, reference: str) -> list[dict]:
    """Every text of the report, oldest first."""
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM sms_outbox WHERE reference = ? ORDER BY id",
                          (reference,)).fetchall()
    return [dict(row) for row in rows]


def sms_timeline(settings: Settings, reference: str, event: str | None = None) -> list[str]:
    """The outcomes of the report's texts on its timeline (of one event's text if given)."""
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT detail FROM report_events JOIN reports USING (call_id)"
                          " WHERE reference = ? AND kind = 'sms' ORDER BY report_events.id",
                          (reference,)).fetchall()
    details = [decode(row[0]) for row in rows]
    return [d["outcome"] for d in details if event is None or d["event"] == event]


def kannel_sent(kannel: KannelSandbox) -> int:
    """Texts bearerbox handed to an SMSC, from its own status page."""
    found = re.search(r"SMS: received \d+ \([^)]*\), sent (\d+)", kannel.status_page())
    assert found, kannel.status_page()[:500]
    return int(found.group(1))


async def call(settings: Settings, caller: str, consent: str) -> str:
    """A call through the menu to the general line, answering consent with `consent`
    ("1" yes, "2" no, "-" none); its reference."""
    result = await place_call(settings, "800700", [*MENU, consent], caller_id=caller,
                              ahead=True)
    assert result.queue == "general" and result.reference, result.summary()
    return result.reference
