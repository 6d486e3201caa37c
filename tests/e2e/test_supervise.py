"""Supervisors listen, whisper and barge in on the sandbox PBX, proven by what each leg hears.

Every party speaks its own tone (caller 600 Hz, agent 1000 Hz, supervisor 1800 Hz) and
records what it hears (sandbox contexts balagh-test-caller, balagh-agents,
balagh-test-supervisor). A caller is answered by the sandbox agent; a supervisor phone
dials a feature code, types its PIN and is put through by Balagh; the recordings then
say who heard whom.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox, in_chroot

from .conftest import balagh, wait_for
from .tones import AGENT_HZ, CALLER_HZ, SUPERVISOR_HZ, tone_seconds

CHILD_IN_DANGER = "111230"  # Arabic, in danger, child, female, Sharjah, none: child-protection
ELDERLY = "223220"          # English, no danger, elderly, female, Dubai, none: elderly-care
PIN = "4321"  # also typed by the sandbox's test desk phone (balagh-test-desk)
CALLER_NUMBER = "+97165551234"
LISTEN_SECONDS = 4.0
# A leg that hears the supervisor does so for about LISTEN_SECONDS; one that does not may
# still catch a stray frame of speech or hold music near a test frequency.
HEARD = 2.0
NOT_HEARD = 0.5


@dataclass
class Leg:
    """One originated Local channel: this half runs a test context, the other the PBX's."""

    uniqueid: str
    channel: str = ""

    def recording(self, pbx: Sandbox, prefix: str) -> Path:
        return in_chroot(pbx.root, "/var/spool/asterisk/monitor") / \
            f"{prefix}-{self.uniqueid}-heard.wav"


@pytest.fixture(scope="module")
def supervisors(settings: Settings) -> Iterator[None]:
    """Amina may monitor child protection from phone 201; Omar elderly care from 202."""
    for name, phones, queues in (
            ("Amina", ("201", "Local/201@balagh-test-desk"), "child-protection"),
            ("Omar", ("202",), "elderly-care")):
        phone_args = [arg for phone in phones for arg in ("--phone", phone)]
        added = balagh(settings, "supervisors", "add", name, *phone_args, "--queues",
                       queues, "--pin-stdin", input=f"{PIN}\n")
        assert added.returncode == 0, added.stdout + added.stderr
    yield
    settings.supervisors_file.unlink(missing_ok=True)


@pytest.fixture
async def ami(settings: Settings, pbx: Sandbox) -> AsyncIterator[AmiSession]:
    async with AmiSession(settings.ami) as session:
        # The sandbox agents record what they hear only while this key is set.
        await session.action({"Action": "DBPut", "Family": "balagh-test", "Key": "record",
                              "Val": "1"})
        try:
            yield session
        finally:
            await session.action({"Action": "DBDel", "Family": "balagh-test", "Key": "record"})
            # Whatever a failed test left behind (a passing one removes its own).
            monitor = in_chroot(pbx.root, "/var/spool/asterisk/monitor")
            for path in monitor.glob("*-balagh-sup-*.wav"):
                path.unlink(missing_ok=True)


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


async def supervise(ami: AmiSession, phone: str, code: str, pin: str = PIN) -> Leg:
    return await originate(ami, f"Local/{code}@balagh-supervisor-phone/n",
                           "balagh-test-supervisor", pin, {"__SUP_PHONE": phone})


def snoop_bridged(event: dict[str, str]) -> bool:
    """A monitoring session's snoop joined its bridge: the supervisor is listening."""
    return event.get("Event") == "BridgeEnter" and event.get("Channel", "").startswith(
        "Snoop/") and event.get("BridgeName", "").startswith("balagh-monitor-")


async def spying(ami: AmiSession, supervisor: Leg, timeout: float = 30) -> None:
    """Wait until this supervisor's session is listening (its far half is in the bridge)."""
    far = supervisor.channel.rsplit(";", 1)[0] + ";2"
    events = ami.listen(lambda e: e.get("Event") == "BridgeEnter")
    try:
        joined = await wait_for_event(events, lambda e: e.get("Channel") == far, timeout)
        await wait_for_event(events, lambda e: snoop_bridged(e) and e.get(
            "BridgeUniqueid") == joined.get("BridgeUniqueid"), timeout)
    finally:
        ami.unlisten(events)


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


async def heard(path: Path) -> dict[int, float]:
    await until(lambda: finished(path), timeout=15, what=f"the recording {path.name}")
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


def audit_with(settings: Settings, word: str, *args: str) -> str | None:
    """The audit listing, once it holds `word`."""
    text = audit(settings, *args)
    return text if word in text else None


def audit(settings: Settings, *args: str) -> str:
    result = balagh(settings, "monitor", "--audit", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@dataclass
class Heard:
    reference: str
    caller: dict[int, float]
    agent: dict[int, float]
    supervisor: dict[int, float]


async def monitored(ami: AmiSession, pbx: Sandbox, settings: Settings, code_for,
                    phone: str = "201") -> Heard:
    """Place a child-protection call, let the supervisor in by `code_for(reference, agent)`,
    and return what caller, agent and supervisor heard."""
    async with answered_call(ami, settings, CHILD_IN_DANGER) as (caller, connect):
        reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
        assert reference
        agent = connect["Interface"].removeprefix("Local/").split("@", 1)[0]
        agent_heard = await agent_recording(ami, pbx, connect)
        supervisor = await supervise(ami, phone, code_for(reference, agent))
        try:
            await spying(ami, supervisor)
            await asyncio.sleep(LISTEN_SECONDS)  # the stretch of audio that is judged
        finally:
            await hang_up(ami, supervisor, caller)
        result = Heard(reference, caller=await heard(caller.recording(pbx, "caller")),
                       agent=await heard(agent_heard),
                       supervisor=await heard(supervisor.recording(pbx, "supervisor")))
    print(f"\n{code_for(reference, agent)}: seconds of caller/agent/supervisor tone heard by "
          f"caller {result.caller}, agent {result.agent}, supervisor {result.supervisor}")
    return result


async def session_audit(settings: Settings, reference: str) -> str:
    """The audit of `reference` once its session has ended."""
    return str(await until(lambda: audit_with(settings, " end ", "--reference", reference),
                           timeout=15, what="the session's end"))


async def test_listen_by_reference_hears_both_sides_and_nobody_hears_the_supervisor(
        settings, pbx, running_app, supervisors, ami):
    heard_ = await monitored(ami, pbx, settings, lambda ref, agent: f"*224{ref}")
    assert heard_.supervisor[CALLER_HZ] >= HEARD, heard_
    assert heard_.supervisor[AGENT_HZ] >= HEARD, heard_
    assert heard_.agent[SUPERVISOR_HZ] <= NOT_HEARD, heard_
    assert heard_.caller[SUPERVISOR_HZ] <= NOT_HEARD, heard_
    lines = await session_audit(settings, heard_.reference)
    assert " start " in lines and " listen " in lines and "Amina" in lines


async def test_whisper_by_agent_reaches_the_agent_only(settings, pbx, running_app,
                                                       supervisors, ami):
    heard_ = await monitored(ami, pbx, settings, lambda ref, agent: f"*222{agent}")
    assert heard_.agent[SUPERVISOR_HZ] >= HEARD, heard_      # the agent is coached
    assert heard_.caller[SUPERVISOR_HZ] <= NOT_HEARD, heard_  # the caller hears none of it
    assert heard_.supervisor[CALLER_HZ] >= HEARD, heard_
    assert " whisper " in await session_audit(settings, heard_.reference)


async def test_barge_by_reference_is_heard_by_both(settings, pbx, running_app,
                                                   supervisors, ami):
    heard_ = await monitored(ami, pbx, settings, lambda ref, agent: f"*226{ref}")
    assert heard_.agent[SUPERVISOR_HZ] >= HEARD, heard_
    assert heard_.caller[SUPERVISOR_HZ] >= HEARD, heard_
    assert " barge " in await session_audit(settings, heard_.reference)


async def test_keys_switch_modes_and_each_change_is_audited(settings, pbx, running_app,
                                                           supervisors, ami):
    async with answered_call(ami, settings, CHILD_IN_DANGER) as (caller, connect):
        reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
        assert reference
        supervisor = await supervise(ami, "201", f"*224{reference}")
        try:
            await spying(ami, supervisor)
            for count, key in enumerate("564", start=1):
                await ami.action({"Action": "PlayDTMF", "Channel": supervisor.channel,
                                  "Digit": key, "Duration": "150",
                                  "Async": "false"})  # panoramisk reads it for any "queued"
                await until(lambda count=count: len(mode_changes(settings, reference)) == count,
                            timeout=10, what=f"mode change {count} in the audit")
        finally:
            await hang_up(ami, supervisor, caller)
    await session_audit(settings, reference)
    rows = audit_rows(settings, "--reference", reference)
    assert [(r["action"], r["mode"]) for r in rows] == [
        ("pin-ok", "-"), ("start", "listen"), ("mode", "whisper"), ("mode", "barge"),
        ("mode", "listen"), ("end", "listen")]


def audit_rows(settings: Settings, *args: str) -> list[dict[str, str]]:
    """`balagh monitor --audit` as rows (header names to values), oldest first."""
    lines = audit(settings, *args).splitlines()
    header = lines[0].split()
    return [dict(zip(header, line.split(), strict=True)) for line in reversed(lines[1:])]


def mode_changes(settings: Settings, reference: str) -> list[str]:
    return [row["mode"] for row in audit_rows(settings, "--reference", reference)
            if row["action"] == "mode"]


@pytest.mark.parametrize(("phone", "pin", "code", "reason"), [
    ("299", PIN, "*224{ref}", "unknown-phone"),         # not a supervisor's phone
    ("201", "9999", "*224{ref}", "wrong-pin"),
    ("202", PIN, "*224{ref}", "queue-not-allowed"),     # Omar: elderly care only
    ("201", PIN, "*2249999999", "no-live-call"),
])
async def test_refusals_are_told_and_audited(settings, pbx, running_app, supervisors, ami,
                                            phone, pin, code, reason):
    async with answered_call(ami, settings, CHILD_IN_DANGER) as (caller, connect):
        reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
        supervisor = await supervise(ami, phone, code.format(ref=reference), pin)
        try:
            text = await until(lambda: audit_with(settings, reason), timeout=30,
                               what=f"a refusal for {reason}")
        finally:
            await hang_up(ami, supervisor, caller)
    assert " refused " in text


async def test_monitor_command_rings_the_supervisor_into_the_call(settings, pbx, running_app,
                                                                  supervisors, ami):
    desk = "Local/201@balagh-test-desk/n"
    async with answered_call(ami, settings, CHILD_IN_DANGER) as (caller, connect):
        reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
        assert reference
        live = await asyncio.to_thread(balagh, settings, "monitor", "--live")
        assert reference in live.stdout and CALLER_NUMBER not in live.stdout, live.stdout
        bridged = ami.listen(snoop_bridged)
        try:
            rung = await asyncio.to_thread(balagh, settings, "monitor", reference, "--phone",
                                           desk, "--mode", "listen")
            assert rung.returncode == 0, rung.stdout + rung.stderr
            await wait_for_event(bridged, snoop_bridged, 30)
        finally:
            ami.unlisten(bridged)
            await hang_up(ami, caller)
    assert " start " in await session_audit(settings, reference)
