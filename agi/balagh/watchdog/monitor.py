"""The watchdog's loop: read the app's heartbeat, and move the callers of a silent app.

A caller is moved only when all of these hold, each checked just before the move:
the channel is still in the app's Stasis, it has been there (it was created) at least
`grace` seconds ago, so a call that reached an app which has just come back is never
taken from it, and, read last, immediately before the move, the heartbeat has not
changed for `grace` seconds. That last read and the move are bounded so that both end
within the fence of a returning app (ari/liveness.py: WATCHDOG_FENCE_SECONDS).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from balagh.ari.app import call_info
from balagh.ari.call import AriCall, http_status
from balagh.ari.liveness import (
    MOVE_TIMEOUT_SECONDS,
    WATCHDOG_READ_TIMEOUT_SECONDS,
    heartbeat_variable,
    in_stasis_of,
    stasis_args,
)
from balagh.ari.rest import AriRest
from balagh.timeouts import within

log = structlog.get_logger(__name__)

DEFAULT_GRACE_SECONDS = 5.0
DEFAULT_INTERVAL_SECONDS = 0.5
REQUEST_TIMEOUT_SECONDS = WATCHDOG_READ_TIMEOUT_SECONDS  # part of the fence: one place

Mover = Callable[[AriCall], Awaitable[str]]


class Watchdog:
    def __init__(self, rest: AriRest, app: str, move: Mover, *,
                 grace: float = DEFAULT_GRACE_SECONDS,
                 interval: float = DEFAULT_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.rest = rest
        self.app = app
        self.move = move
        self.grace = grace
        self.interval = interval
        self.clock = clock
        self.wall_clock = wall_clock
        self.variable = heartbeat_variable(app)
        self.last_beat: str | None = None
        self.beat_seen_at = clock()  # at start, give the app `grace` to show it beats
        self.moved = 0
        self.silent = False

    async def run(self) -> None:
        """Check every `interval` seconds until cancelled; a failed check is logged only."""
        log.info("watchdog.started", app=self.app, grace=self.grace)
        while True:
            try:
                await self.check()
            except Exception as exc:  # Asterisk away, or a bad answer: try again shortly
                log.warning("watchdog.check_failed", error=repr(exc))
            await asyncio.sleep(self.interval)

    async def check(self) -> list[str]:
        """One look at the app; returns the ids of the callers moved."""
        if not await self._app_silent():
            return []
        moved: list[str] = []
        for channel_id in await self._held_channels():
            channel = await self._channel(channel_id)
            if channel is None or not self._abandoned(channel):
                continue
            # Last, nothing between it and the move: the fence counts from this read.
            if not await self._app_silent():
                break  # the app is back: it takes over from here
            call = AriCall(call_info(channel, stasis_args(channel)), self.rest)
            try:
                done = await within(self.move(call), MOVE_TIMEOUT_SECONDS)
            except Exception as exc:
                log.error("watchdog.move_failed", call_id=channel_id, error=repr(exc))
                continue
            self.moved += 1
            moved.append(channel_id)
            log.warning("watchdog.moved", call_id=channel_id, outcome=done,
                        app_silent_for=round(self.clock() - self.beat_seen_at, 1))
        return moved

    async def _app_silent(self) -> bool:
        beat = await self._heartbeat()
        now = self.clock()
        if beat != self.last_beat:
            if self.silent:
                log.info("watchdog.app_back", app=self.app)
            self.last_beat, self.beat_seen_at, self.silent = beat, now, False
            return False
        silent = now - self.beat_seen_at >= self.grace
        if silent and not self.silent:
            log.error("watchdog.app_silent", app=self.app,
                      seconds=round(now - self.beat_seen_at, 1))
        self.silent = silent
        return silent

    async def _heartbeat(self) -> str | None:
        try:
            answer = await within(
                self.rest.asterisk.getGlobalVar(variable=self.variable), REQUEST_TIMEOUT_SECONDS)
        except Exception as exc:
            if http_status(exc) == 404:
                return None
            raise
        value = _json(answer).get("value")
        return str(value) if value else None

    async def _held_channels(self) -> list[str]:
        try:
            answer = await within(
                self.rest.applications.get(applicationName=self.app), REQUEST_TIMEOUT_SECONDS)
        except Exception as exc:
            if http_status(exc) == 404:
                return []  # Asterisk has forgotten the app: nothing is held in it
            raise
        return [str(channel_id) for channel_id in _json(answer).get("channel_ids", [])]

    async def _channel(self, channel_id: str) -> dict[str, Any] | None:
        try:
            answer = await within(self.rest.channels.get(channelId=channel_id),
                                            REQUEST_TIMEOUT_SECONDS)
        except Exception as exc:
            if http_status(exc) == 404:
                return None  # hung up meanwhile
            raise
        return _json(answer)

    def _abandoned(self, channel: dict[str, Any]) -> bool:
        if not in_stasis_of(channel, self.app):
            return False
        created = _parse_time(str(channel.get("creationtime", "")))
        return created is None or \
            (self.wall_clock() - created).total_seconds() >= self.grace


def _json(answer: Any) -> dict[str, Any]:
    value = getattr(answer, "json", answer)
    return dict(value) if isinstance(value, dict) else {}


def _parse_time(text: str) -> datetime | None:
    """ARI's times: 2026-11-25T16:21:03.123+0000."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None
