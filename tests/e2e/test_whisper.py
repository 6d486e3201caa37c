"""The agent hears the report before the caller: the whisper on the sandbox PBX, by audio.

The caller (a test leg speaking a 600 Hz tone) is answered by the sandbox agent, which
records what it hears. Before the caller's tone, the recording must hold the report's
summary, as long as the prompt files the app chose, in the agents' language.
"""

from __future__ import annotations

import asyncio

from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox
from balagh.sounds.wav import inspect_wav

from .legs import (
    CHILD_IN_DANGER,
    agent_recording,
    answered_call,
    heard_path_ready,
    remove_recordings,
)
from .tones import CALLER_HZ, first_tone, sound_seconds

TOLERANCE = 1.5  # seconds: playback start, the gaps between files, the 100 ms frames


async def test_the_agent_hears_the_summary_before_the_caller(
        settings: Settings, pbx: Sandbox, running_app, ami) -> None:
    async with answered_call(ami, settings, CHILD_IN_DANGER) as (_caller, connect):
        whisper = await ami.getvar(connect["Channel"], "BALAGH_WHISPER")
        summary = await ami.getvar(connect["Channel"], "BALAGH_SUMMARY")
        # The agent's channel has the same line, for phones that display it.
        assert summary and await ami.getvar(connect["DestChannel"], "BALAGH_SUMMARY") == summary
        reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
        agent_heard = await agent_recording(ami, pbx, connect)
        await asyncio.sleep(2)  # a stretch of the caller's voice after the whisper
    assert whisper and reference
    files = whisper.split("&")
    assert files[:3] == ["ar/balagh/w-report", "ar/balagh/w-in-danger",
                         "ar/balagh/w-queue-child-protection"]  # the agents' language: ar
    assert files[-len(reference):] == [f"ar/balagh/digit-{d}" for d in reference]
    expected = sum(inspect_wav(settings.sounds_dir / f"{name}.wav").duration for name in files)
    path = await heard_path_ready(agent_heard)
    try:
        caller_from = first_tone(path, CALLER_HZ)
        spoken = sound_seconds(path, caller_from or 0.0)
    finally:
        remove_recordings(path)
    print(f"\nwhisper: {len(files)} files, {expected:.1f} s; the agent heard "
          f"{spoken:.1f} s of it before the caller, who came in at {caller_from} s")
    assert caller_from is not None, "the agent never heard the caller"
    assert caller_from >= expected - TOLERANCE    # the caller only after the whole summary
    assert spoken >= expected - TOLERANCE         # and the summary was really played
