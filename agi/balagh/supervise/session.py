"""A supervisor's call, top to bottom: who is it, the PIN, which call, may they, then spy.

The phone reaches here by a feature code (*221 + agent, *224 + reference, ...) or by
`balagh monitor` ringing it. Every attempt is audited, refused ones too. An authorised
session is handed to the dialplan's balagh-spy (ChanSpy on the agent's channel); its
mode changes and its end are audited from AMI (sessions.py).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog

from balagh.ami.client import AmiSession
from balagh.ivr.port import CallGone, CallInfo
from balagh.store.reports import ReportStore
from balagh.supervise.live import LiveCall, find_by_agent, find_by_caller
from balagh.supervise.lockout import locked_until
from balagh.supervise.model import Supervisor, SupervisorTable, phone_keys
from balagh.supervise.pins import verify_pin

log = structlog.get_logger(__name__)

PIN_MAX_DIGITS = 8
PIN_FIRST_KEY_SECONDS = 10.0
PIN_NEXT_KEY_SECONDS = 4.0
LOCKOUT_LOOKBACK = 50  # PIN attempts read back to decide a lockout


class Mode(enum.StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"

    @property
    def chanspy_option(self) -> str:
        return {Mode.LISTEN: "", Mode.WHISPER: "w", Mode.BARGE: "B"}[self]


# ChanSpy's d option: these keys switch the mode while spying.
MODE_KEYS = {"4": Mode.LISTEN, "5": Mode.WHISPER, "6": Mode.BARGE}


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
    channel: str          # the supervisor's channel
    reference: str | None
    agent: str
    mode: Mode


class SupervisorPort(Protocol):
    info: CallInfo

    async def answer(self) -> None: ...
    async def play(self, sounds: Sequence[str], *, interruptible: bool = True) -> None: ...
    async def get_digit(self, timeout: float) -> str | None: ...
    async def set_variables(self, variables: dict[str, str]) -> None: ...
    async def continue_in_dialplan(self) -> None: ...
    async def hangup(self) -> None: ...


class Refused(Exception):
    """Monitoring refused: `reason` goes to the audit, `prompt` to the supervisor's ear."""

    def __init__(self, reason: str, prompt: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.prompt = prompt


@dataclass
class Supervision:
    """What a supervisor's call needs: who may monitor, the store, AMI, open sessions."""

    table: Callable[[], SupervisorTable]
    store: ReportStore
    ami: AmiSession
    sessions: dict[str, Session]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def audit(self, action: str, **fields: str | None) -> None:
        self.store.record_monitor(at=self.clock(), action=action, **fields)

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
            reference = await self._authorise(supervisor, live, request)
            session = Session(session_id, supervisor.name, phone, info.channel, reference,
                              live.agent_channel, request.mode)
            self.sessions[info.channel] = session
            self.audit("start", session=session_id, supervisor=supervisor.name, phone=phone,
                       reference=reference, agent=live.agent_channel, mode=request.mode.value)
            log.info("monitor.start", supervisor=supervisor.name, reference=reference,
                     agent=live.agent_channel, mode=request.mode.value)
            await call.set_variables({
                "BALAGH_SPY_CHANNEL": live.agent_channel,
                "BALAGH_SPY_OPTIONS": request.mode.chanspy_option,
                "BALAGH_SPY_MODE": request.mode.value,
                "BALAGH_SUPERVISOR": supervisor.name,
            })
            await call.play(["sup-connecting"])
            await call.continue_in_dialplan()
        except Refused as refused:
            self.audit("refused", session=session_id,
                       supervisor=supervisor.name if supervisor else None, phone=phone,
                       detail=refused.reason, **target)
            log.warning("monitor.refused", reason=refused.reason, phone=phone, **target)
            self.sessions.pop(info.channel, None)
            await _tell_and_hang_up(call, refused.prompt)
        except CallGone:
            self.sessions.pop(info.channel, None)
        finally:
            structlog.contextvars.unbind_contextvars("monitor_session")

    async def _check_pin(self, call: SupervisorPort, supervisor: Supervisor, phone: str,
                         session_id: str, target: dict[str, str]) -> None:
        await self.store.flush()  # a wrong PIN typed a moment ago counts too
        attempts = await self.store.pin_attempts(supervisor.name, LOCKOUT_LOOKBACK)
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
            report = await self.store.get_report(request.target)
            if report is not None and report.queue_outcome == "answered":
                live = await find_by_caller(self.ami, report.channel, report.call_id)
        if live is None:
            raise Refused("no-live-call", "sup-no-live-call")
        return live

    async def _authorise(self, supervisor: Supervisor, live: LiveCall, request: Request) -> str:
        """The queue of the call must be one the supervisor may monitor; its reference."""
        report = await self.store.get_report(live.caller_id)
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


async def _tell_and_hang_up(call: SupervisorPort, prompt: str) -> None:
    try:
        await call.play([prompt], interruptible=False)
        await call.hangup()
    except CallGone:
        pass
