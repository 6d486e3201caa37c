"""What a caller actually hears: record the caller's end of a real call on the sandbox PBX
while the hotline plays its first prompt, and compare it with the prompt file.

Catches what file checks cannot: prompts not installed where Asterisk looks, a language
folder Asterisk does not find, a format it refuses (it then plays nothing, silently).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import asyncari

from balagh.ami.client import wait_for_event
from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox, in_chroot
from balagh.sounds import audio_path
from balagh.sounds.wav import SILENT, inspect_wav, problems

FIRST_PROMPT = "ask-language"
TOLERANCE_SECONDS = 1.0  # call set-up before the prompt, and the stop arriving after it


async def test_caller_hears_the_first_prompt(settings: Settings, pbx: Sandbox,
                                             running_app: Any) -> None:
    prompt = inspect_wav(audio_path(settings.sounds_dir, "ar", FIRST_PROMPT))
    tag = uuid.uuid4().hex[:12]
    app = f"{settings.ari.app}-audio-{tag}"  # one websocket per app name: our own
    caller, hotline = f"balagh-audio-{tag}", f"balagh-audio-{tag}-hotline"
    snoop = f"balagh-audio-{tag}-snoop"
    recording = f"balagh-e2e-{tag}"
    spool = in_chroot(pbx.root, "/var/spool/asterisk/recording")
    # Debian's package does not ship this folder, and ARI's record fails (ENOENT) without it.
    spool.mkdir(parents=True, exist_ok=True)
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async with asyncari.connect(settings.ari.url, app, settings.ari.username,
                                settings.ari.password) as ari:

        async def read() -> None:
            async for message in ari:
                events.put_nowait(getattr(message, "_orig_msg", message))

        reader = asyncio.create_task(read())
        try:
            await ari.channels.create(endpoint=f"Local/{settings.hotline}@balagh-inbound/n",
                                      app=app, channelId=caller, otherChannelId=hotline)
            # The hotline end belongs to the balagh app; follow its playbacks from here.
            await ari.applications.subscribe(applicationName=app,
                                              eventSource=f"channel:{hotline}")
            await wait_for_event(events, lambda e: e.get("type") == "StasisStart"
                        and e["channel"]["id"] == caller, 10)
            await ari.channels.dial(channelId=caller, timeout=30)
            await wait_for_event(events, lambda e: e.get("type") == "ChannelStateChange"
                        and e["channel"]["id"] == caller and e["channel"]["state"] == "Up", 10)
            # A dialled ARI channel sits in Asterisk's invisible dial bridge, where it cannot
            # be recorded; a snoop on what the caller's end receives ("in") can. Started at
            # answer: the app answers, then plays, so little if any of the prompt is lost.
            await ari.channels.snoopChannelWithId(channelId=caller, snoopId=snoop, spy="in",
                                                  app=app)
            await wait_for_event(events, lambda e: e.get("type") == "StasisStart"
                        and e["channel"]["id"] == snoop, 5)
            await ari.channels.record(channelId=snoop, name=recording, format="wav",
                                      maxDurationSeconds=60, ifExists="overwrite")
            started = await wait_for_event(events, lambda e: e.get("type") in (
                "RecordingStarted", "RecordingFailed") and e["recording"]["name"] == recording, 5)
            assert started["type"] == "RecordingStarted", str(started["recording"].get("cause"))
            await wait_for_event(events, lambda e: e.get("type") == "PlaybackFinished"
                        and e["playback"].get("target_uri") == f"channel:{hotline}"
                        and e["playback"].get("media_uri", "").endswith(f"/{FIRST_PROMPT}"),
                        prompt.duration + 15)
            await ari.recordings.stop(recordingName=recording)
            await wait_for_event(events, lambda e: e.get("type") == "RecordingFinished"
                        and e["recording"]["name"] == recording, 10)
        finally:
            for channel in (snoop, caller):
                with contextlib.suppress(Exception):
                    await ari.channels.hangup(channelId=channel)
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader

        path = spool / f"{recording}.wav"
        try:
            heard = inspect_wav(path)
        finally:
            with contextlib.suppress(Exception):
                await ari.recordings.deleteStored(recordingName=recording)

    print(f"\n{FIRST_PROMPT}: file {prompt.duration:.2f} s {prompt.rms_dbfs:.1f} dBFS, "
          f"heard {heard.duration:.2f} s {heard.rms_dbfs:.1f} dBFS peak {heard.peak_dbfs:.1f}")
    assert heard.rate == 8000 and heard.channels == 1
    assert SILENT not in problems(heard), f"the caller heard silence ({heard.rms_dbfs} dBFS)"
    assert abs(heard.duration - prompt.duration) <= TOLERANCE_SECONDS
    assert not path.exists(), "the recording was not cleaned up"
