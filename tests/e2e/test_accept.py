"""An agent takes a call with a key: the accept key on the sandbox PBX, by events and audio.

handover.yaml gives mental health's agents an accept key (English whisper, key 1, 4 s).
The queue's member is switched to Local/1005@balagh-accept/n for the test. The sandbox
agent first answers and presses nothing: app_queue must count the member as not
answering, keep the caller waiting and offer the call again; then the agent presses 1
after hearing the whole whisper and gets the caller.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator

import pytest

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox, in_chroot
from balagh.sounds.wav import inspect_wav

from .conftest import AppProcess
from .legs import CALLER_NUMBER, heard_path_ready, originate, remove_recordings
from .tones import CALLER_HZ, first_tone, sound_seconds

QUEUE = "balagh-mental-health"
STATIC_MEMBER = "Local/1005@balagh-agents/n"
ACCEPTING_MEMBER = "Local/1005@balagh-accept/n"
PSYCHIATRIC = "122142"  # Arabic, no danger, adult, male, Dubai, psychiatric: mental-health
ACCEPT_SECONDS = 4
TOLERANCE = 1.5  # seconds: playback start, the gaps between files, the 100 ms frames


@pytest.fixture
def accepting_app(settings: Settings, running_app: AppProcess) -> Iterator[AppProcess]:
    """The app with mental health's agents on an accept key; the shipped file after."""
    original = settings.handover_file.read_text()
    settings.handover_file.write_text(
        original + "agents:\n  mental-health:\n    language: en\n"
        f"    accept: {{key: '1', seconds: {ACCEPT_SECONDS}}}\n")
    running_app.stop()
    try:
        running_app.start()
        yield running_app
    finally:
        settings.handover_file.write_text(original)
        running_app.stop()  # the next test's running_app starts it with the shipped file


@pytest.fixture
async def accepting_member(ami: AmiSession) -> AsyncIterator[None]:
    """The queue's agent answers through balagh-accept (its static member paused)."""
    await ami.action({"Action": "DBDel", "Family": "balagh-test-accept", "Key": "1005"})
    pause = {"Action": "QueuePause", "Queue": QUEUE, "Interface": STATIC_MEMBER}
    assert (await ami.action({**pause, "Paused": "true"})).get("Response") == "Success"
    added = await ami.action({"Action": "QueueAdd", "Queue": QUEUE,
                              "Interface": ACCEPTING_MEMBER, "MemberName": "Accepting 1005"},
                             as_list=False)
    assert added.get("Response") == "Success", added
    try:
        yield
    finally:
        await ami.action({"Action": "QueueRemove", "Queue": QUEUE,
                          "Interface": ACCEPTING_MEMBER})
        await ami.action({**pause, "Paused": "false"})
        await ami.action({"Action": "DBDel", "Family": "balagh-test-accept", "Key": "1005"})


async def test_only_an_agent_who_presses_the_key_gets_the_caller(
        settings: Settings, pbx: Sandbox, accepting_app: AppProcess, accepting_member: None,
        ami: AmiSession) -> None:
    queue_events = ami.listen(lambda e: e.get("Event") in (
        "AgentCalled", "AgentRingNoAnswer", "AgentConnect", "QueueCallerAbandon"))
    recordings = ami.listen(lambda e: e.get("Event") == "VarSet"
                            and e.get("Variable") == "MIXMONITOR_FILENAME"
                            and e.get("Channel", "").startswith("Local/1005@balagh-agents-"))
    caller = None
    try:
        caller = await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                 "balagh-test-caller", PSYCHIATRIC,
                                 {"CONNECTEDLINE(num)": CALLER_NUMBER})
        ours = f"{caller.uniqueid}-far"  # the hotline half: the channel in the queue

        def of_ours(kind: str):
            return lambda e: e.get("Event") == kind and e.get("Uniqueid") == ours

        # First offer: the agent answers, hears the whisper, presses nothing.
        first = await wait_for_event(queue_events, of_ours("AgentCalled"), 60)
        assert first["Interface"] == ACCEPTING_MEMBER
        whisper = await ami.getvar(first["Channel"], "BALAGH_WHISPER")
        declined = await wait_for_event(queue_events, lambda e: e.get("Uniqueid") == ours, 60)
        assert declined["Event"] == "AgentRingNoAnswer", declined  # not connected, not gone
        first_heard = (await wait_for_event(recordings, lambda e: bool(e.get("Value")), 5))
        # Second offer: this time the agent presses 1 once the whole whisper is said.
        files = whisper.split("&")
        expected = sum(inspect_wav(settings.sounds_dir / f"{name}.wav").duration
                       for name in files)
        await ami.action({"Action": "DBPut", "Family": "balagh-test-accept", "Key": "1005",
                          "Val": str(math.ceil(expected + 0.5))})
        again = await wait_for_event(queue_events, lambda e: e.get("Uniqueid") == ours, 30)
        assert again["Event"] == "AgentCalled", again
        connect = await wait_for_event(queue_events, lambda e: e.get("Uniqueid") == ours,
                                       expected + ACCEPT_SECONDS + 30)
        assert connect["Event"] == "AgentConnect", connect
        assert connect["Interface"] == ACCEPTING_MEMBER
        second_heard = (await wait_for_event(recordings, lambda e: bool(e.get("Value")), 5))
        await asyncio.sleep(2)  # a stretch of the caller's voice after the whisper
    finally:
        ami.unlisten(queue_events)
        ami.unlisten(recordings)
        if caller is not None:
            await ami.action({"Action": "Hangup", "Channel": caller.channel})
    # The whisper in the queue's language (en), ending with the key to press.
    assert files[:2] == ["en/balagh/w-report", "en/balagh/w-queue-mental-health"], files
    assert files[-2:] == ["en/balagh/w-accept", "en/balagh/digit-1"]

    declined_path = await heard_path_ready(in_chroot(
        pbx.root, first_heard["Value"].replace("-both.", "-heard.")))
    accepted_path = await heard_path_ready(in_chroot(
        pbx.root, second_heard["Value"].replace("-both.", "-heard.")))
    try:
        # The agent who pressed nothing heard the report but never the caller.
        assert first_tone(declined_path, CALLER_HZ) is None
        assert sound_seconds(declined_path, math.inf) >= expected - TOLERANCE
        # The one who pressed heard all of it, then the caller.
        caller_from = first_tone(accepted_path, CALLER_HZ)
        spoken = sound_seconds(accepted_path, caller_from or 0.0)
    finally:
        remove_recordings(declined_path)
        remove_recordings(accepted_path)
    print(f"\naccept: whisper {len(files)} files {expected:.1f} s; caller heard from "
          f"{caller_from} s after {spoken:.1f} s of whisper")
    assert caller_from is not None, "the agent who pressed never heard the caller"
    assert caller_from >= expected - TOLERANCE
    assert spoken >= expected - TOLERANCE
