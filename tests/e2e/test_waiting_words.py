"""A caller hears their reference number while waiting in the queue, by audio.

Nothing is played between the caller's last key and the queue: the app puts the caller in
the queue and then whispers "connecting" and the reference (twice) to them over the
queue's music. A test caller that only listens (balagh-test-listener) waits on the general
line, whose agent is away, and records what it hears; each prompt file must be found in
that recording, in order, and a prompt that was never played must not be.
"""

from __future__ import annotations

import asyncio

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox
from balagh.sounds import audio_path

from .conftest import AppProcess, wait_for
from .legs import (
    DANGER_TO_GENERAL,
    general_agent_away,
    hang_up,
    heard_path_ready,
    originate,
    remove_recordings,
)
from .prompt_match import Match, best_match, samples

HEARD = 0.5      # correlation of a prompt the caller heard over the music
NOT_HEARD = 0.3  # and of one never played


async def test_the_waiting_caller_hears_the_reference_over_the_music(
        settings: Settings, pbx: Sandbox, running_app: AppProcess, ami: AmiSession) -> None:
    joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
    try:
        async with general_agent_away(ami):
            caller = await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                     "balagh-test-listener", DANGER_TO_GENERAL)
            try:
                hotline = f"{caller.uniqueid}-far"
                joined = await wait_for_event(joins, lambda e: e.get("Uniqueid") == hotline, 60)
                reference = await ami.getvar(joined["Channel"], "BALAGH_REFERENCE")
                told = await asyncio.to_thread(
                    wait_for, lambda: running_app.last_event("tell.done", call_id=hotline),
                    timeout=60, what="the reference told to the waiting caller")
            finally:
                await hang_up(ami, caller)
    finally:
        ami.unlisten(joins)
    assert reference and told["stopped_by_answer"] is False
    path = await heard_path_ready(caller.recording(pbx, "caller"))
    try:
        recording, rate = await asyncio.to_thread(samples, path)

        def heard(prompt: str) -> Match:  # the caller chose English
            template, prompt_rate = samples(audio_path(settings.sounds_dir, "en", prompt))
            assert prompt_rate == rate
            return best_match(recording, template, rate)

        found = {prompt: await asyncio.to_thread(heard, prompt)
                 for prompt in ["connecting", "reference", "invalid",
                                *sorted({f"digit-{digit}" for digit in reference})]}
    finally:
        remove_recordings(path)
    print("\n" + ", ".join(f"{name} {m.score:.2f} at {m.seconds:.1f} s"
                           for name, m in found.items()))
    assert found["connecting"].score >= HEARD
    assert found["reference"].score >= HEARD
    assert found["connecting"].seconds < found["reference"].seconds
    for digit in set(reference):
        assert found[f"digit-{digit}"].score >= HEARD, digit
        assert found[f"digit-{digit}"].seconds > found["reference"].seconds
    assert found["invalid"].score < NOT_HEARD  # a typed-ahead caller is never re-asked
