"""`balagh monitor` from a desk: ring a supervisor's phone into a call, list calls to monitor.

Ringing the phone only puts it where a feature code would: the supervisor still gives
their PIN on the phone, and Balagh checks and audits it exactly as for a dialled code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from balagh.ami.client import AmiError, AmiSession
from balagh.localtime import shown
from balagh.privacy import mask_number
from balagh.readmodel.reader import ReportReader
from balagh.store.queries import Report
from balagh.supervise.modes import Mode

# The feature code for each mode, by report reference (dialplan/extensions_balagh.conf).
BY_REFERENCE = {Mode.LISTEN: "*224", Mode.WHISPER: "*225", Mode.BARGE: "*226"}
SUPERVISE_CONTEXT = "balagh-supervise"
RECENT_REPORTS = 500  # how far back `--live` looks for calls still being answered


async def ring_supervisor(ami: AmiSession, phone: str, reference: str, mode: Mode,
                          *, ring_seconds: int = 30) -> None:
    """Ring `phone` (an Asterisk dial string, e.g. PJSIP/sup1) into the call `reference`."""
    response = await ami.originate({
        "Channel": phone, "Context": SUPERVISE_CONTEXT,
        "Exten": f"{BY_REFERENCE[mode]}{reference}", "Priority": "1",
        "Timeout": str(ring_seconds * 1000), "CallerID": f'"Balagh {reference}" <>',
    }, timeout=ring_seconds + 10)
    if response.get("Response") != "Success":
        why = response.get("Message") or f"reason {response.get('Reason', '?')}"
        raise AmiError(f"{phone} did not answer ({why})")


@dataclass(frozen=True)
class LiveRow:
    reference: str
    queue: str
    agent: str
    talking_since: str
    caller: str   # masked (privacy.mask_number, as every listing)


async def live_calls(ami: AmiSession, reader: ReportReader, zone: tzinfo) -> list[LiveRow]:
    """Answered reports whose caller is still bridged to an agent, newest first; times in
    the hotline's `zone`."""
    rows: list[LiveRow] = []
    for report in await reader.list_reports(RECENT_REPORTS):
        if not _being_answered(report):
            continue
        agent = await ami.getvar(report.channel, "BRIDGEPEER")
        if agent:
            rows.append(LiveRow(reference=report.reference,
                                queue=report.joined_queue or report.queue or "-",
                                agent=report.answered_by or agent,
                                talking_since=shown(report.answered_at, zone) or "-",
                                caller=mask_number(report.caller)))
    return rows


def _being_answered(report: Report) -> bool:
    return report.queue_outcome == "answered" and report.talk_seconds is None
