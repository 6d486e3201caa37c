"""Is the Balagh app alive and connected? A heartbeat in Asterisk, for the watchdog to read.

While its ARI connection is up, the app writes a new value into an Asterisk global
variable every second (over ARI's HTTP side, so a dead HTTP link shows too). The
watchdog (watchdog.py), a separate process, reads it: a value that has not changed for
a few seconds means nobody is serving the callers held in the app.

The moves never overlap: the watchdog reads the heartbeat again immediately before
each move (nothing else in between), bounds that read by WATCHDOG_READ_TIMEOUT_SECONDS
and the move by MOVE_TIMEOUT_SECONDS; a (re)connected app beats first and takes back
callers only WATCHDOG_FENCE_SECONDS later, and only those still in its Stasis
(`in_stasis_of`); a caller the watchdog has continued is in the dialplan.

Why the fence is long enough: if the watchdog's last read saw the old value, Asterisk
read the variable before the app's first beat, so at most WATCHDOG_READ_TIMEOUT_SECONDS
before that read ended and the move began; the move ends MOVE_TIMEOUT_SECONDS later at
the latest. The fence starts after the app's first beat and lasts that sum plus a margin
for a request of a move cut at its bound that still reaches Asterisk.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import structlog

from balagh.ari.rest import AriRequestError, AriRest
from balagh.timeouts import within

log = structlog.get_logger(__name__)

HEARTBEAT_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 4.0  # for one heartbeat write (a busy Asterisk answers late)
MISSES_ALLOWED = 2  # writes in a row that may fail before the connection counts as dead
# Each beat also sends the app a user event, which must come back on its websocket: a
# websocket silent this long while HTTP still works is half-open (a NAT or firewall
# dropped it without a close), and only a new connection will bring events again.
ECHO_EVENT = "BalaghHeartbeat"
ECHO_EVENT_TYPE = "ChannelUserevent"  # the type of ARI event the echo comes back as
ECHO_TIMEOUT_SECONDS = 10.0
WATCHDOG_READ_TIMEOUT_SECONDS = 2.0  # the watchdog's bound on one ARI read
MOVE_TIMEOUT_SECONDS = 2.0  # the watchdog's bound on moving one caller
FENCE_MARGIN_SECONDS = 1.0
WATCHDOG_FENCE_SECONDS = WATCHDOG_READ_TIMEOUT_SECONDS + MOVE_TIMEOUT_SECONDS + \
    FENCE_MARGIN_SECONDS


class HeartbeatLost(ConnectionError):
    """The heartbeat could not be written: the ARI connection is not really up."""


def heartbeat_variable(app: str) -> str:
    """The global variable holding `app`'s heartbeat (one per Stasis app name)."""
    return f"BALAGH_HEARTBEAT_{app}"


class Heartbeat:
    def __init__(self, client: AriRest, app: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.app = app
        self.variable = heartbeat_variable(app)
        # Unique per process start, so a restarted app never repeats an old value.
        self.token = f"{os.getpid()}-{secrets.token_hex(3)}"
        self.count = 0
        self.clock = clock
        self.echoed_at = clock()

    async def beat(self) -> None:
        self.count += 1
        await within(
            self.client.asterisk.setGlobalVar(variable=self.variable,
                                              value=f"{self.token}-{self.count}"),
            REQUEST_TIMEOUT_SECONDS)
        await within(
            self.client.events.userEvent(eventName=ECHO_EVENT, application=self.app),
            REQUEST_TIMEOUT_SECONDS)

    async def answered(self) -> None:
        """A read that writes nothing (the heartbeat's own value): ARI answers again."""
        try:
            await within(self.client.asterisk.getGlobalVar(variable=self.variable),
                                   REQUEST_TIMEOUT_SECONDS)
        except AriRequestError:
            pass  # an answer all the same

    def on_event(self, event: Mapping[str, Any]) -> bool:
        """Whether `event` is this heartbeat's echo (noted); the reader calls it first."""
        if event.get("type") == ECHO_EVENT_TYPE and event.get("eventname") == ECHO_EVENT:
            self.echoed_at = self.clock()
            return True
        return False

    async def run(self) -> None:
        """Beat every second until cancelled; raise HeartbeatLost after too many misses,
        or when the websocket has stopped bringing the echoes back.

        After a miss, a read must be answered before the next write: a request whose
        answer never comes may still reach Asterisk (a new connection gets through, its
        answer is held), and a heartbeat advanced that way would keep the watchdog away
        from callers nobody is serving."""
        misses = 0
        self.echoed_at = self.clock()
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                if misses:
                    await self.answered()
                await self.beat()
                misses = 0
            except Exception as exc:
                misses += 1
                log.warning("ari.heartbeat_missed", misses=misses, error=repr(exc))
                if misses > MISSES_ALLOWED:
                    raise HeartbeatLost(f"{misses} heartbeats in a row failed") from exc
            silent = self.clock() - self.echoed_at
            if silent > ECHO_TIMEOUT_SECONDS:
                raise HeartbeatLost(f"no event on the websocket for {silent:.1f} s")


def in_stasis_of(channel: Mapping[str, Any], app: str) -> bool:
    """Whether the channel (ARI's JSON) is in the Stasis application `app` right now."""
    dialplan = channel.get("dialplan") or {}
    return str(dialplan.get("app_name", "")).lower() == "stasis" and \
        str(dialplan.get("app_data", "")).split(",")[0] == app


def stasis_args(channel: Mapping[str, Any]) -> list[str]:
    """The Stasis() arguments after the app name, as its StasisStart would have carried."""
    data = str((channel.get("dialplan") or {}).get("app_data", ""))
    return data.split(",")[1:]
