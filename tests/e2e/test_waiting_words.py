"""A caller hears their reference number while waiting in the queue, by audio.

Nothing is played between the caller's last key and the queue any more: the app puts
the caller in the queue and then whispers "connecting" and the reference (twice) to them
over the queue's music. The test caller records what it hears; each prompt file must be
found in that recording, in order, and a prompt that was never played must not be.
"""

from __future__ import annotations

import asyncio
import shutil

from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox
from balagh.sounds import audio_path

from .legs import CHILD_IN_DANGER, answered_call, heard_path_ready, remove_recordings
from .prompt_match import Match, best_match, samples

HEARD = 0.5      # correlation of a prompt the caller heard over the music (about 0.7-0.9)
NOT_HEARD = 0.3  # and of one never played (about 0.1)


async def test_the_waiting_caller_hears_the_reference_over_the_music(
        settings: Settings, pbx: Sandbox, running_app, ami) -> None:
    async with answered_call(ami, settings, CHILD_IN_DANGER) as (caller, connect):
        reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
    assert reference
    path = await heard_path_ready(caller.recording(pbx, "caller"))
    try:
        recording, rate = await asyncio.to_thread(samples, path)
        await asyncio.to_thread(shutil.copy, path, path.with_name("last-waiting-words.wav"))

        def heard(prompt: str) -> Match:
            template, prompt_rate = samples(audio_path(settings.sounds_dir, "ar", prompt))
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
