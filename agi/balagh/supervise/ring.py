"""`balagh monitor` from a desk: ring a supervisor's phone into a call, list calls to monitor.

Ringing the phone only puts it where a feature code would: the supervisor still gives
their PIN on the phone, and Balagh checks and audits it exactly as for a dialled code.

With several Asterisk nodes the phone is rung through the node whose channels hold the
call: the snoop is made by that node's Asterisk and the app beside it writes the audit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import tzinfo

from balagh.ami.client import AmiError, AmiSession
from balagh.config import Node
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


NODE_LOGIN_SECONDS = 5.0


@dataclass
class NodeSessions:
    """A logged-in AMI session per node that answered, and the nodes that did not."""

    sessions: dict[str, AmiSession]
    unreachable: dict[str, str]   # node -> why


@contextlib.asynccontextmanager
async def node_sessions(nodes: list[Node]) -> AsyncIterator[NodeSessions]:
    """Log in to every node's AMI side by side, closed again however the block ends."""
    async def login(node: Node) -> tuple[Node, AmiSession, str | None]:
        session = AmiSession(node.ami)
        try:
            await session.connect(timeout=NODE_LOGIN_SECONDS)
        except Exception as exc:
            session.close()
            return node, session, str(exc) or type(exc).__name__
        return node, session, None

    found = NodeSessions({}, {})
    try:
        for node, session, why in await asyncio.gather(*(login(node) for node in nodes)):
            if why is None:
                found.sessions[node.name] = session
            else:
                found.unreachable[node.name] = why
        yield found
    finally:
        for session in found.sessions.values():
            session.close()


async def node_holding(sessions: Mapping[str, AmiSession], call_id: str) -> str | None:
    """The node whose channels include the call (a report's call id is its channel's
    uniqueid); None when no node answering holds it."""
    async def holds(ami: AmiSession) -> bool:
        try:
            channels = await ami.action_list({"Action": "CoreShowChannels"}, timeout=5)
        except Exception:
            return False
        return any(str(e.get("Uniqueid")) == call_id for e in channels
                   if e.get("Event") == "CoreShowChannel")

    answers = await asyncio.gather(*(holds(ami) for ami in sessions.values()))
    return next((name for name, held in zip(sessions, answers, strict=True) if held), None)


@dataclass(frozen=True)
class LiveRow:
    reference: str
    queue: str
    agent: str
    talking_since: str
    caller: str   # masked (privacy.mask_number, as every listing)
    node: str = ""  # the node holding the call ('' on a one-box site)


async def live_calls(ami: AmiSession, reader: ReportReader, zone: tzinfo,
                     node: str = "") -> list[LiveRow]:
    """Answered reports whose caller is still bridged to an agent on `ami`'s node (a
    channel another node holds is not found on this one), newest first; times in the
    hotline's `zone`."""
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
                                caller=mask_number(report.caller), node=node))
    return rows


def _being_answered(report: Report) -> bool:
    return report.queue_outcome == "answered" and report.talk_seconds is None
