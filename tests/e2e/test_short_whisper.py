"""A caller in danger put through after the short whisper, where agents have the screen:
from the agent answering to caller and agent hearing each other, measured by audio.

handover.yaml gives child protection's agents the screen (`screen: true`). The caller (a
600 Hz tone) is answered by the sandbox agent (a 1000 Hz tone); both legs record what they
hear. The agent's recording starts as it answers, so the caller's tone in it is the time
the agent waited; the caller's recording is aligned to the agent's by their ends (both end
when the caller hangs up), which gives when the caller first heard the agent.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox
from balagh.sounds.wav import inspect_wav

from .conftest import AppProcess
from .legs import (
    CHILD_IN_DANGER,
    agent_recording,
    answered_call,
    heard_path_ready,
    remove_recordings,
)
from .tones import AGENT_HZ, CALLER_HZ, first_tone

GOAL_SECONDS = 5.0  # issue 28: answer to both voices, with the placeholder voices
TALK_SECONDS = 2  # of the two tones after the bridge, so both recordings hold them


@pytest.fixture
def screen_app(settings: Settings, running_app: AppProcess) -> Iterator[AppProcess]:
    """The app with child protection's agents on the screen; the shipped file after."""
    original = settings.handover_file.read_text()
    settings.handover_file.write_text(
        original + "agents:\n  child-protection:\n    screen: true\n")
    running_app.stop()
    try:
        running_app.start()
        yield running_app
    finally:
        settings.handover_file.write_text(original)
        running_app.stop()  # the next test's running_app starts it with the shipped file


def seconds_of(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


async def test_a_caller_in_danger_and_the_agent_hear_each_other_within_5_s(
        settings: Settings, pbx: Sandbox, screen_app: AppProcess, ami) -> None:
    async with answered_call(ami, settings, CHILD_IN_DANGER) as (caller, connect):
        whisper = await ami.getvar(connect["Channel"], "BALAGH_WHISPER")
        agent_heard = await agent_recording(ami, pbx, connect)
        await asyncio.sleep(TALK_SECONDS)  # a stretch of both voices after the bridge
    assert whisper == ("ar/balagh/w-in-danger&ar/balagh/w-age-child"
                       "&ar/balagh/w-emirate-sharjah")
    played = sum(inspect_wav(settings.sounds_dir / f"{name}.wav").duration
                 for name in whisper.split("&"))
    agent_path = await heard_path_ready(agent_heard)
    caller_path = await heard_path_ready(caller.recording(pbx, "caller"))
    try:
        agent_hears_caller = first_tone(agent_path, CALLER_HZ)
        caller_hears_agent_in_own = first_tone(caller_path, AGENT_HZ)
        agent_length, caller_length = seconds_of(agent_path), seconds_of(caller_path)
    finally:
        remove_recordings(agent_path)
        remove_recordings(caller_path)
    assert agent_hears_caller is not None, "the agent never heard the caller"
    assert caller_hears_agent_in_own is not None, "the caller never heard the agent"
    caller_hears_agent = agent_length - (caller_length - caller_hears_agent_in_own)
    both = max(agent_hears_caller, caller_hears_agent)
    print(f"\nshort whisper: {played:.1f} s of prompts; after the agent answered, the agent "
          f"heard the caller at {agent_hears_caller:.1f} s, the caller the agent at "
          f"{caller_hears_agent:.1f} s")
    assert agent_hears_caller >= played - 1.5  # the short whisper was really played first
    assert both < GOAL_SECONDS
