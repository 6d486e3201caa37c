"""Supervisors listen, whisper and barge in on the sandbox PBX, proven by what each leg hears.

Every party speaks its own tone (caller 600 Hz, agent 1000 Hz, supervisor 1800 Hz) and
records what it hears (sandbox contexts balagh-test-caller, balagh-agents,
balagh-test-supervisor). A caller is answered by the sandbox agent; a supervisor phone
dials a feature code, types its PIN and is put through by Balagh; the recordings then
say who heard whom.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox

from .conftest import balagh
from .legs import (
    CALLER_NUMBER,
    CHILD_IN_DANGER,
    Leg,
    agent_recording,
    answered_call,
    hang_up,
    heard,
    originate,
    until,
)
from .tones import AGENT_HZ, CALLER_HZ, SUPERVISOR_HZ

PIN = "4321"  # also typed by the sandbox's test desk phone (balagh-test-desk)
LISTEN_SECONDS = 4.0
# A leg that hears the supervisor does so for about LISTEN_SECONDS; one that does not may
# still catch a stray frame of speech or hold music near a test frequency.
HEARD = 2.0
NOT_HEARD = 0.5


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


async def supervise(ami: AmiSession, phone: str, code: str, pin: str = PIN) -> Leg:
    return await originate(ami, f"Local/{code}@balagh-supervisor-phone/n",
                           "balagh-test-supervisor", pin, {"__SUP_PHONE": phone})


def snoop_bridged(event: dict[str, str]) -> bool:
    """A monitoring session's snoop joined its bridge: the supervisor is listening."""
    return event.get("Event") == "BridgeEnter" and event.get("Channel", "").startswith(
        "Snoop/") and event.get("BridgeName", "").startswith("balagh-monitor-")


async def spying(ami: AmiSession, supervisor: Leg, timeout: float = 30) -> None:
    """Wait until this supervisor's session is listening: its far half and a snoop are in
    the same monitoring bridge. Asterisk joins both asynchronously, so their BridgeEnter
    events may come in either order."""
    far = supervisor.channel.rsplit(";", 1)[0] + ";2"
    events = ami.listen(lambda e: e.get("Event") == "BridgeEnter")
    far_bridges: set[str] = set()
    snoop_bridges: set[str] = set()

    def both_in_one_bridge(event: dict[str, str]) -> bool:
        if event.get("Channel") == far:
            far_bridges.add(event.get("BridgeUniqueid", ""))
        elif snoop_bridged(event):
            snoop_bridges.add(event.get("BridgeUniqueid", ""))
        return bool(far_bridges & snoop_bridges)

    try:
        await wait_for_event(events, both_in_one_bridge, timeout)
    finally:
        ami.unlisten(events)


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


REFUSALS = (  # phone, PIN typed, feature code, the audited reason
    ("299", PIN, "*224{ref}", "unknown-phone"),         # not a supervisor's phone
    ("201", "9999", "*224{ref}", "wrong-pin"),
    ("202", PIN, "*224{ref}", "queue-not-allowed"),     # Omar: elderly care only
    ("201", PIN, "*2249999999", "no-live-call"),
)


def refusals_audited(settings: Settings, reasons: set[str]) -> list[dict[str, str]]:
    """The audit's refusal rows, once there is one for each of `reasons`."""
    rows = [row for row in audit_rows(settings) if row["detail"] in reasons]
    return rows if {row["detail"] for row in rows} == reasons else []


async def test_refusals_are_told_and_audited(settings, pbx, running_app, supervisors, ami):
    """Four phones that may not listen dial in at once on one live call: each is refused
    with its own reason, and nobody is let in."""
    reasons = {reason for *_, reason in REFUSALS}
    async with answered_call(ami, settings, CHILD_IN_DANGER) as (caller, connect):
        reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
        refused = await asyncio.gather(*(
            supervise(ami, phone, code.format(ref=reference), pin)
            for phone, pin, code, _ in REFUSALS))
        try:
            rows = await until(lambda: refusals_audited(settings, reasons), timeout=30,
                               what=f"refusals for {sorted(reasons)}")
        finally:
            await hang_up(ami, *refused, caller)
    assert all(row["action"] == "refused" for row in rows), rows
    assert not [row for row in audit_rows(settings, "--reference", reference)
                if row["action"] == "start"]


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
