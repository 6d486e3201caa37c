"""Test legs on the sandbox PBX: callers, agents and supervisors that speak a tone and record
what they hear (the sandbox contexts balagh-test-caller, balagh-agents,
balagh-test-supervisor), driven through AMI.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox, in_chroot

from .conftest import wait_for
from .tones import tone_seconds

CALLER_NUMBER = "+97165551234"
CHILD_IN_DANGER = "111230"  # Arabic, in danger, child, female, Sharjah, none: child-protection
DANGER_TO_GENERAL = "212170"  # English, in danger, adult, male, Fujairah: general, waits
GENERAL_AGENT = "Local/1007@balagh-agents/n"


@dataclass
class Leg:
    """One originated Local channel: this half runs a test context, the other the PBX's."""

    uniqueid: str
    channel: str = ""

    def recording(self, pbx: Sandbox, prefix: str) -> Path:
        return in_chroot(pbx.root, "/var/spool/asterisk/monitor") / \
            f"{prefix}-{self.uniqueid}-heard.wav"


async def originate(ami: AmiSession, endpoint: str, context: str, exten: str,
                    variables: dict[str, str] | None = None) -> Leg:
    leg = Leg(uniqueid=f"balagh-sup-{uuid.uuid4().hex[:12]}")
    events = ami.listen(lambda e: e.get("Uniqueid") == leg.uniqueid)
    try:
        action = {"Channel": endpoint, "Context": context, "Exten": exten, "Priority": "1",
                  "Timeout": "30000", "ChannelId": leg.uniqueid,
                  "OtherChannelId": f"{leg.uniqueid}-far"}
        if variables:
            action["Variable"] = ",".join(f"{k}={v}" for k, v in variables.items())
        response = await ami.originate(action, timeout=40)
        assert response.get("Response") == "Success", response
        created = await wait_for_event(events, lambda e: e.get("Event") == "Newchannel", 10)
        leg.channel = created["Channel"]
    finally:
        ami.unlisten(events)
    return leg


@contextlib.asynccontextmanager
async def answered_call(ami: AmiSession, settings: Settings,
                        keys: str) -> AsyncIterator[tuple[Leg, dict[str, str]]]:
    """A caller typing `keys` ahead, answered by the sandbox agent: (caller, AgentConnect)."""
    hotline_leg = None
    connects = ami.listen(lambda e: e.get("Event") == "AgentConnect")
    try:
        caller = await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                 "balagh-test-caller", keys,
                                 {"CONNECTEDLINE(num)": CALLER_NUMBER})
        hotline_leg = f"{caller.uniqueid}-far"
        connect = await wait_for_event(
            connects, lambda e: e.get("Uniqueid") == hotline_leg, 60)
    finally:
        ami.unlisten(connects)
    try:
        yield caller, connect
    finally:
        with contextlib.suppress(Exception):
            await ami.action({"Action": "Hangup", "Channel": caller.channel})


async def hang_up(ami: AmiSession, *legs: Leg) -> None:
    for leg in legs:
        with contextlib.suppress(Exception):
            await ami.action({"Action": "Hangup", "Channel": leg.channel})


async def until(condition, *, timeout: float, what: str):
    """wait_for off the event loop, so AMI keeps reading meanwhile."""
    return await asyncio.to_thread(wait_for, condition, timeout=timeout, what=what)


def finished(path: Path) -> bool:
    """MixMonitor writes the WAV header's length when it closes the file, after hang-up."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


async def heard_path_ready(path: Path) -> Path:
    """The recording, once its leg has hung up and MixMonitor has closed it."""
    await until(lambda: finished(path), timeout=15, what=f"the recording {path.name}")
    return path


async def heard(path: Path) -> dict[int, float]:
    """Seconds of each test tone in a leg's recording (which is then removed)."""
    await heard_path_ready(path)
    try:
        return await asyncio.to_thread(tone_seconds, path)
    finally:
        await asyncio.to_thread(remove_recordings, path)


def remove_recordings(heard_path: Path) -> None:
    heard_path.unlink(missing_ok=True)
    heard_path.with_name(heard_path.name.replace("-heard.", "-both.")).unlink(missing_ok=True)


async def agent_recording(ami: AmiSession, pbx: Sandbox, connect: dict[str, str]) -> Path:
    """What the answering agent hears: its far half's MixMonitor r() file."""
    agent_far = connect["DestChannel"].replace(";1", ";2")
    # The agent's dialplan starts recording just after it answers (AgentConnect).
    events = ami.listen(lambda e: e.get("Event") == "VarSet" and e.get("Channel") == agent_far
                        and e.get("Variable") == "MIXMONITOR_FILENAME")
    try:
        both = await ami.getvar(agent_far, "MIXMONITOR_FILENAME")
        if not both:
            both = (await wait_for_event(events, lambda e: bool(e.get("Value")), 10))["Value"]
    finally:
        ami.unlisten(events)
    return in_chroot(pbx.root, both.replace("-both.", "-heard."))


@contextlib.asynccontextmanager
async def general_agent_away(ami: AmiSession) -> AsyncIterator[None]:
    """The general line's agent paused: its callers wait (the general line never turns
    one away)."""
    pause = {"Action": "QueuePause", "Queue": "balagh-general", "Interface": GENERAL_AGENT}
    await ami.action({**pause, "Paused": "true", "Reason": "e2e"})
    try:
        yield
    finally:
        await ami.action({**pause, "Paused": "false"})


async def danger_caller_hangs_up_waiting(settings: Settings,
                                         ami: AmiSession) -> tuple[str, dict[str, str]]:
    """A caller in danger joins the general line, nobody answers, and they hang up: their
    reference and the QueueCallerJoin event."""
    joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
    try:
        async with general_agent_away(ami):
            caller = await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                     "balagh-test-caller", DANGER_TO_GENERAL)
            joined = await wait_for_event(
                joins, lambda e: e.get("Uniqueid") == f"{caller.uniqueid}-far", 60)
            reference = await ami.getvar(joined["Channel"], "BALAGH_REFERENCE")
            await ami.action({"Action": "Hangup", "Channel": caller.channel})
    finally:
        ami.unlisten(joins)
    assert reference
    return reference, joined


async def finish_menus(ami: AmiSession, legs: list[Leg], digits: str,
                       joins: asyncio.Queue[dict[str, str]]) -> dict[str, str]:
    """Callers stopped mid-menu type the rest (`digits`), each joins a queue (from the
    `joins` listener of QueueCallerJoin), then hangs up: their queues, by hotline leg."""
    for leg in legs:
        for digit in digits:
            # as_list=False: panoramisk misreads "DTMF successfully queued".
            await ami.action({"Action": "PlayDTMF", "Channel": leg.channel,
                              "Digit": digit}, as_list=False)
    hotline_legs = {f"{leg.uniqueid}-far" for leg in legs}
    queued: dict[str, str] = {}
    while len(queued) < len(legs):
        event = await wait_for_event(joins, lambda e: True, 90)
        if event.get("Uniqueid") in hotline_legs:
            queued[event["Uniqueid"]] = event.get("Queue", "")
    for leg in legs:
        await ami.action({"Action": "Hangup", "Channel": leg.channel})
    return queued
