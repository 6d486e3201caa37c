"""A supervisor's call, top to bottom: who is it, the PIN, which call, may they, then listen.

The phone reaches here by a feature code (*221 + agent, *224 + reference, ...) or by
`balagh monitor` ringing it. Every attempt is audited, refused ones too. An authorised
session stays in the app until it ends: an ARI snoop on the agent's channel is bridged
with the phone (snoop.py), keys 4/5/6 switch the mode, and the start, each mode change
and the end are audited as they happen. It ends when the supervisor hangs up or when
the monitored call ends (the snoop goes with the agent's channel).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import structlog

from balagh.ami.client import AmiSession
from balagh.ari.rest import AriRest
from balagh.ivr.port import CallGone, CallInfo
from balagh.store.audit import MonitorAudit
from balagh.store.queries import Report
from balagh.supervise.live import LiveCall, find_by_agent, find_by_caller
from balagh.supervise.lockout import locked_until
from balagh.supervise.model import Supervisor, SupervisorTable, phone_keys
from balagh.supervise.modes import MODE_KEYS, Mode
from balagh.supervise.pins import verify_pin
from balagh.supervise.snoop import Snoop, SnoopNotArrived

log = structlog.get_logger(__name__)

PIN_MAX_DIGITS = 8
PIN_FIRST_KEY_SECONDS = 10.0
PIN_NEXT_KEY_SECONDS = 4.0
LOCKOUT_LOOKBACK = 50  # PIN attempts read back to decide a lockout
SESSION_KEY_SECONDS = 3600.0  # a key wait while monitoring (the call's end cuts it short)


@dataclass(frozen=True)
class Request:
    mode: Mode
    by: str        # "agent" or "reference"
    target: str

    @classmethod
    def from_args(cls, args: Sequence[str]) -> Request | None:
        """Stasis(balagh,supervise,MODE,agent|reference,TARGET) -> a request; else None."""
        if len(args) != 4 or args[0] != "supervise" or args[2] not in ("agent", "reference"):
            return None
        try:
            mode = Mode(args[1])
        except ValueError:
            return None
        return cls(mode, args[2], args[3]) if args[3].isdigit() else None


@dataclass
class Session:
    id: str
    supervisor: str
    phone: str
    reference: str
    agent: str            # the agent's channel
    mode: Mode
    snoop: Snoop
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # the monitored call ended


class SupervisorPort(Protocol):
    info: CallInfo

    async def answer(self) -> None: ...
    async def play(self, sounds: Sequence[str], *, interruptible: bool = True) -> None: ...
    async def get_digit(self, timeout: float) -> str | None: ...
    async def hangup(self) -> None: ...


class SnoopPort(Protocol):
    info: CallInfo

    async def wait_gone(self) -> None: ...


class Refused(Exception):
    """Monitoring refused: `reason` goes to the audit, `prompt` to the supervisor's ear."""

    def __init__(self, reason: str, prompt: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.prompt = prompt


class ReportLookup(Protocol):
    """One report by reference or call id (store/queries.py's Queries)."""

    async def get_report(self, reference_or_call_id: str) -> Report | None: ...


@dataclass
class Supervision:
    """What a supervisor's call needs: who may monitor, the audit, the reports, AMI, open
    sessions."""

    table: Callable[[], SupervisorTable]
    trail: MonitorAudit     # the monitoring audit: its rows, and the lockout's read of them
    reports: ReportLookup
    ami: AmiSession
    rest: AriRest           # the ARI client (the application's current one)
    app: str = "balagh"     # the ARI application snoops are created in
    node: str | None = None  # the node whose Asterisk carries the sessions (None: one box)
    sessions: dict[str, Session] = field(default_factory=dict)  # by session id
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def audit(self, action: str, **fields: str | None) -> None:
        self.trail.record_monitor(at=self.clock(), action=action, node=self.node, **fields)

    async def follow_snoop(self, snoop_channel: SnoopPort, session_id: str) -> None:
        """A snoop channel entered the app: when it goes while it is the session's current
        one, the monitored call has ended (a snoop replaced by a mode change does not count)."""
        if (session := self.sessions.get(session_id)) is not None:
            session.snoop.arrived(snoop_channel.info.call_id)
        await snoop_channel.wait_gone()
        session = self.sessions.get(session_id)
        if session is not None and session.snoop.snoop_id == snoop_channel.info.call_id:
            session.ended.set()

    async def serve(self, call: SupervisorPort, request: Request) -> None:
        info = call.info
        phone = info.caller or info.channel
        session_id = uuid.uuid4().hex[:12]
        target = {"reference": request.target} if request.by == "reference" \
            else {"agent": request.target}
        supervisor: Supervisor | None = None
        structlog.contextvars.bind_contextvars(monitor_session=session_id)
        try:
            await call.answer()
            supervisor = self.table().find(*phone_keys(info.caller, info.channel))
            if supervisor is None:
                raise Refused("unknown-phone", "sup-refused")
            await self._check_pin(call, supervisor, phone, session_id, target)
            live = await self._live_call(request)
            reference = await self._authorise(supervisor, live)
            await self._monitor(call, Session(
                session_id, supervisor.name, phone, reference, live.agent_channel,
                request.mode, Snoop(self.rest, self.app, session_id, info.call_id,
                                    live.agent_id)))
        except Refused as refused:
            self.audit("refused", session=session_id,
                       supervisor=supervisor.name if supervisor else None, phone=phone,
                       detail=refused.reason, **target)
            log.warning("monitor.refused", reason=refused.reason, phone=phone, **target)
            await _tell_and_hang_up(call, refused.prompt)
        except CallGone:
            pass
        finally:
            structlog.contextvars.unbind_contextvars("monitor_session")

    async def _monitor(self, call: SupervisorPort, session: Session) -> None:
        """The session itself: connect, follow the keys, end; each step audited."""
        fields = {"session": session.id, "supervisor": session.supervisor,
                  "phone": session.phone, "reference": session.reference,
                  "agent": session.agent}
        await call.play(["sup-connecting"])
        self.sessions[session.id] = session
        started = False
        try:
            try:
                await session.snoop.start(session.mode)
                started = True
            except CallGone:
                raise
            except Exception as exc:  # the call ended between the check and the snoop
                raise Refused("no-live-call", "sup-no-live-call") from exc
            self.audit("start", mode=session.mode.value, **fields)
            log.info("monitor.start", supervisor=session.supervisor,
                     reference=session.reference, agent=session.agent, mode=session.mode.value)
            while (key := await _key_or_end(call, session)) is not None:
                mode = MODE_KEYS.get(key)
                if mode is not None and mode != session.mode:
                    try:
                        await session.snoop.switch(mode)
                    except SnoopNotArrived:  # the old snoop still listens: keep its mode
                        log.warning("monitor.mode_failed", mode=mode.value)
                        continue
                    session.mode = mode
                    self.audit("mode", mode=mode.value, **fields)
                    log.info("monitor.mode", supervisor=session.supervisor, mode=mode.value)
            await call.hangup()  # the monitored call ended: so does the monitoring
        except CallGone:
            pass
        finally:
            self.sessions.pop(session.id, None)
            await session.snoop.stop()
            if started:
                self.audit("end", mode=session.mode.value, **fields)
                log.info("monitor.end", supervisor=session.supervisor,
                         reference=session.reference)

    async def _check_pin(self, call: SupervisorPort, supervisor: Supervisor, phone: str,
                         session_id: str, target: dict[str, str]) -> None:
        attempts = await self.trail.pin_attempts(supervisor.name, LOCKOUT_LOOKBACK)
        if locked_until(attempts, self.table(), self.clock()) is not None:
            raise Refused("locked", "sup-locked")
        pin = await read_pin(call)
        if not verify_pin(pin, supervisor.pin_hash):
            raise Refused("wrong-pin", "sup-refused")
        self.audit("pin-ok", session=session_id, supervisor=supervisor.name, phone=phone,
                   **target)

    async def _live_call(self, request: Request) -> LiveCall:
        live: LiveCall | None = None
        if request.by == "agent":
            live = await find_by_agent(self.ami, request.target)
        else:
            report = await self.reports.get_report(request.target)
            if report is not None and report.queue_outcome == "answered":
                live = await find_by_caller(self.ami, report.channel, report.call_id)
        if live is None:
            raise Refused("no-live-call", "sup-no-live-call")
        return live

    async def _authorise(self, supervisor: Supervisor, live: LiveCall) -> str:
        """The queue of the call must be one the supervisor may monitor; its reference."""
        report = await self.reports.get_report(live.caller_id)
        if report is None:
            raise Refused("no-live-call", "sup-no-live-call")  # not a Balagh call
        if not supervisor.may_monitor(report.joined_queue or report.queue):
            raise Refused("queue-not-allowed", "sup-not-allowed")
        return report.reference


async def read_pin(call: SupervisorPort) -> str:
    """Play the PIN prompt; keys until '#', PIN_MAX_DIGITS keys, or a pause."""
    await call.play(["sup-enter-pin"])
    digits = ""
    timeout = PIN_FIRST_KEY_SECONDS
    while len(digits) < PIN_MAX_DIGITS:
        key = await call.get_digit(timeout)
        if key is None or key == "#":
            break
        digits += key
        timeout = PIN_NEXT_KEY_SECONDS
    return digits


async def _key_or_end(call: SupervisorPort, session: Session) -> str | None:
    """The next key the supervisor presses, or None once the monitored call has ended."""
    key = asyncio.ensure_future(call.get_digit(SESSION_KEY_SECONDS))
    ended = asyncio.ensure_future(session.ended.wait())
    try:
        await asyncio.wait({key, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in (key, ended):
            waiter.cancel()  # no-op when done; a key not read yet stays buffered on the call
        await asyncio.gather(key, ended, return_exceptions=True)
    if session.ended.is_set() or key.cancelled():
        return None
    return key.result() or ""


async def _tell_and_hang_up(call: SupervisorPort, prompt: str) -> None:
    try:
        await call.play([prompt], interruptible=False)
        await call.hangup()
    except CallGone:
        pass
