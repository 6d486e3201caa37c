"""Is the Balagh app alive and connected? A heartbeat in Asterisk, for the watchdog to read.

While its ARI connection is up, the app writes a new value into an Asterisk global
variable every second (over ARI's HTTP side, so a dead HTTP link shows too). The
watchdog (watchdog.py), a separate process, reads it: a value that has not changed for
a few seconds means nobody is serving the callers held in the app.

The moves never overlap: the watchdog checks the heartbeat again just before each
move and bounds each move by MOVE_TIMEOUT_SECONDS; a (re)connected app beats first
and takes back callers only WATCHDOG_FENCE_SECONDS later, and only those still in
its Stasis (`in_stasis_of`); a caller the watchdog has continued is in the dialplan.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Mapping
from typing import Any

import structlog

log = structlog.get_logger(__name__)

HEARTBEAT_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 2.0  # for one heartbeat write
MISSES_ALLOWED = 2  # writes in a row that may fail before the connection counts as dead
MOVE_TIMEOUT_SECONDS = 2.0  # the watchdog's bound on moving one caller
WATCHDOG_FENCE_SECONDS = MOVE_TIMEOUT_SECONDS + 1.0


class HeartbeatLost(ConnectionError):
    """The heartbeat could not be written: the ARI connection is not really up."""


def heartbeat_variable(app: str) -> str:
    """The global variable holding `app`'s heartbeat (one per Stasis app name)."""
    return f"BALAGH_HEARTBEAT_{app}"


class Heartbeat:
    def __init__(self, client: Any, app: str) -> None:
        self.client = client
        self.variable = heartbeat_variable(app)
        # Unique per process start, so a restarted app never repeats an old value.
        self.token = f"{os.getpid()}-{secrets.token_hex(3)}"
        self.count = 0

    async def beat(self) -> None:
        self.count += 1
        await asyncio.wait_for(
            self.client.asterisk.setGlobalVar(variable=self.variable,
                                              value=f"{self.token}-{self.count}"),
            REQUEST_TIMEOUT_SECONDS)

    async def run(self) -> None:
        """Beat every second until cancelled; raise HeartbeatLost after too many misses."""
        misses = 0
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self.beat()
                misses = 0
            except Exception as exc:
                misses += 1
                log.warning("ari.heartbeat_missed", misses=misses, error=repr(exc))
                if misses > MISSES_ALLOWED:
                    raise HeartbeatLost(f"{misses} heartbeats in a row failed") from exc


def in_stasis_of(channel: Mapping[str, Any], app: str) -> bool:
    """Whether the channel (ARI's JSON) is in the Stasis application `app` right now."""
    dialplan = channel.get("dialplan") or {}
    return str(dialplan.get("app_name", "")).lower() == "stasis" and \
        str(dialplan.get("app_data", "")).split(",")[0] == app


def stasis_args(channel: Mapping[str, Any]) -> list[str]:
    """The Stasis() arguments after the app name, as its StasisStart would have carried."""
    data = str((channel.get("dialplan") or {}).get("app_data", ""))
    return data.split(",")[1:]
