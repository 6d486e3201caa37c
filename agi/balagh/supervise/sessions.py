"""Audit of monitoring sessions once they are in ChanSpy: each mode change and the end.

The supervisor's channel has left the ARI app by then (the dialplan runs ChanSpy), so
AMI tells: DTMF 4/5/6 on that channel switches ChanSpy's mode (its d option), and
ChanSpyStop or the channel's hangup ends the session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from balagh.ami.client import AmiSession
from balagh.store.reports import ReportStore
from balagh.supervise.session import MODE_KEYS, Session

log = structlog.get_logger(__name__)

EVENTS = frozenset({"DTMFEnd", "ChanSpyStop", "Hangup"})


def apply_session_event(sessions: dict[str, Session], event: dict[str, str],
                        store: ReportStore, at: datetime) -> None:
    kind = event.get("Event")
    channel = event.get("SpyerChannel") if kind == "ChanSpyStop" else event.get("Channel")
    session = sessions.get(channel or "")
    if session is None:
        return
    if kind == "DTMFEnd":
        mode = MODE_KEYS.get(event.get("Digit", ""))
        if event.get("Direction") != "Received" or mode is None or mode == session.mode:
            return
        session.mode = mode
        store.record_monitor(at=at, action="mode", session=session.id,
                             supervisor=session.supervisor, phone=session.phone,
                             reference=session.reference, agent=session.agent, mode=mode.value)
        log.info("monitor.mode", supervisor=session.supervisor, reference=session.reference,
                 mode=mode.value)
        return
    sessions.pop(session.channel, None)
    store.record_monitor(at=at, action="end", session=session.id,
                         supervisor=session.supervisor, phone=session.phone,
                         reference=session.reference, agent=session.agent,
                         mode=session.mode.value)
    log.info("monitor.end", supervisor=session.supervisor, reference=session.reference)


async def follow_sessions(ami: AmiSession, sessions: dict[str, Session], store: ReportStore,
                          clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    """Audit mode changes and ends from the shared AMI session until cancelled."""
    events = ami.listen(lambda e: e.get("Event") in EVENTS)
    try:
        while True:
            event = await events.get()
            apply_session_event(sessions, event, store, clock())
    finally:
        ami.unlisten(events)
