"""ARI events (Asterisk's own timestamps) into one timeline per hotline leg (pure).

The bench's monitor app subscribes to every channel; each event is fed here. A prompt
starts at PlaybackStarted (Balagh, ARI playback) or at the dialplan entering Read()
(native dialplan); the queue join is the dialplan entering Queue(); the app's actions
are what Asterisk reports for its requests (a playback stopped or started, a variable set).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def ari_time(stamp: str) -> float:
    """'2026-11-25T19:40:00.123+0000' -> seconds since the epoch."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def sound_name(uri: str) -> str:
    """'sound:balagh/ask-age' or 'balagh/invalid&balagh/ask-age' -> 'ask-age' (the last)."""
    last = uri.split("&")[-1].split(",")[-1]
    return last.removeprefix("sound:").rsplit("/", 1)[-1]


@dataclass
class Timeline:
    channel: str
    created: float | None = None
    answered: float | None = None
    digits: list[tuple[float, str]] = field(default_factory=list)
    prompts: list[tuple[float, str]] = field(default_factory=list)  # ask-* starts
    playbacks: dict[str, list[float]] = field(default_factory=dict)  # id -> [start, end?]
    queue_vars: list[float] = field(default_factory=list)  # BALAGH_QUEUE set by the app
    queue_at: float | None = None
    queue: str | None = None
    hangup: float | None = None

    def feed(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        at = ari_time(event["timestamp"]) if "timestamp" in event else 0.0
        if kind == "ChannelCreated":
            self.created = at
        elif kind == "ChannelStateChange":
            if (event.get("channel") or {}).get("state") == "Up" and self.answered is None:
                self.answered = at
        elif kind == "ChannelDtmfReceived":
            self.digits.append((at, str(event.get("digit", ""))))
        elif kind in ("PlaybackStarted", "PlaybackFinished"):
            playback = event.get("playback") or {}
            span = self.playbacks.setdefault(str(playback.get("id", "")), [])
            if kind == "PlaybackStarted":
                name = sound_name(str(playback.get("media_uri", "")))
                if not span:
                    span.append(at)
                if name.startswith("ask-"):
                    self.prompts.append((at, name))
            elif len(span) == 1:
                span.append(at)
        elif kind == "ChannelDialplan":
            app = event.get("dialplan_app", "")
            data = str(event.get("dialplan_app_data", ""))
            if app == "Read" and "ask-" in data:
                self.prompts.append((at, sound_name(data.split(",")[1])))
            elif app == "Queue" and self.queue_at is None:
                self.queue_at = at
                self.queue = data.split(",")[0].removeprefix("balagh-")
        elif kind == "ChannelVarset":
            if event.get("variable") == "BALAGH_QUEUE" and event.get("value"):
                self.queue_vars.append(at)
        elif kind in ("ChannelHangupRequest", "ChannelDestroyed") and self.hangup is None:
            self.hangup = at

    # -- figures -----------------------------------------------------------------

    def answer_to_queue(self) -> float | None:
        if self.answered is None or self.queue_at is None:
            return None
        return self.queue_at - self.answered

    def last_key_to_queue(self) -> float | None:
        keys = [at for at, _ in self.digits if self.queue_at is None or at <= self.queue_at]
        if not keys or self.queue_at is None:
            return None
        return self.queue_at - keys[-1]

    def longest_key_gap(self) -> float | None:
        """The longest wait between two keys as the hotline received them."""
        keys = [at for at, _ in self.digits]
        return max((b - a for a, b in itertools.pairwise(keys)), default=None)

    def digit_to_action(self) -> list[float]:
        """Per key: the time to the app's next action it caused. A key during a prompt
        stops the prompt (PlaybackFinished); the last key leads to BALAGH_QUEUE being
        set. Keys while nothing played (a pause the menu waits on purpose) are left out."""
        latencies = []
        keys = [at for at, _ in self.digits]
        for index, at in enumerate(keys):
            playing = [span for span in self.playbacks.values()
                       if len(span) == 2 and span[0] < at <= span[1]]
            if playing:
                latencies.append(min(span[1] for span in playing) - at)
            elif index == len(keys) - 1:
                after = [set_at for set_at in self.queue_vars if set_at >= at]
                if after:
                    latencies.append(after[0] - at)
        return latencies


def timelines(events: Iterable[dict[str, Any]], channels: Iterable[str]) -> dict[str, Timeline]:
    """The timelines of `channels` from a recorded event stream."""
    wanted = {channel: Timeline(channel) for channel in channels}
    for event in events:
        channel = (event.get("channel") or {}).get("id") or _playback_channel(event)
        if channel in wanted:
            wanted[channel].feed(event)
    return wanted


def _playback_channel(event: dict[str, Any]) -> str | None:
    target = str((event.get("playback") or {}).get("target_uri", ""))
    return target.removeprefix("channel:") if target.startswith("channel:") else None
