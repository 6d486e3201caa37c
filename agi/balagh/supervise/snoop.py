"""The audio side of a monitoring session: an ARI snoop on the agent's channel, bridged
with the supervisor's phone.

The snoop hears both directions of the agent's channel (the caller and the agent). What
the supervisor says goes nowhere (listen), to the agent only (whisper: "out", towards
the agent's phone), or to both (barge: "both"). A mode change replaces the snoop.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable

import structlog

from balagh.ari.rest import AriRest
from balagh.supervise.modes import Mode
from balagh.timeouts import within

log = structlog.get_logger(__name__)

SNOOP_ARG = "snoop"  # Stasis argument that marks a snoop channel: never a hotline call
WHISPER = {Mode.LISTEN: "none", Mode.WHISPER: "out", Mode.BARGE: "both"}
# Asterisk answers the snoop request before the snoop has entered the app (it enters from
# a thread of its own), and a bridge refuses a channel not yet in Stasis (422). So the
# snoop is bridged once its StasisStart has come, or given up after this long.
ARRIVAL_SECONDS = 5.0


class SnoopNotArrived(RuntimeError):
    """The snoop channel never entered the app."""


class Snoop:
    def __init__(self, rest: AriRest, app: str, session_id: str, phone_channel_id: str,
                 agent_channel_id: str) -> None:
        self.rest = rest
        self.app = app
        self.session_id = session_id
        self.phone = phone_channel_id
        self.agent = agent_channel_id
        self.bridge_id = f"balagh-monitor-{session_id}"
        self.snoop_id: str | None = None
        self._arrivals: dict[str, asyncio.Event] = {}  # snoops asked for, not yet in the app

    def arrived(self, snoop_id: str) -> None:
        """The snoop `snoop_id` entered the app (its StasisStart)."""
        if (arrival := self._arrivals.get(snoop_id)) is not None:
            arrival.set()

    async def start(self, mode: Mode) -> None:
        await self.rest.bridges.createWithId(bridgeId=self.bridge_id, type="mixing",
                                             name=self.bridge_id)
        await self.rest.bridges.addChannel(bridgeId=self.bridge_id, channel=self.phone)
        await self.switch(mode)

    async def switch(self, mode: Mode) -> None:
        """Put a snoop with `mode`'s whisper direction in the bridge, replacing the old one."""
        new = f"balagh-snoop-{uuid.uuid4().hex[:12]}"
        arrival = self._arrivals[new] = asyncio.Event()  # before asking: it may come first
        try:
            await self.rest.channels.snoopChannelWithId(
                channelId=self.agent, snoopId=new, spy="both", whisper=WHISPER[mode],
                app=self.app, appArgs=f"{SNOOP_ARG},{self.session_id}")
            try:
                await within(arrival.wait(), ARRIVAL_SECONDS)
            except TimeoutError:
                await _quietly(self.rest.channels.hangup(channelId=new))
                raise SnoopNotArrived(new) from None
        finally:
            del self._arrivals[new]
        old, self.snoop_id = self.snoop_id, new
        await self.rest.bridges.addChannel(bridgeId=self.bridge_id, channel=new)
        if old is not None:
            await _quietly(self.rest.channels.hangup(channelId=old))

    async def stop(self) -> None:
        if self.snoop_id is not None:
            await _quietly(self.rest.channels.hangup(channelId=self.snoop_id))
        await _quietly(self.rest.bridges.destroy(bridgeId=self.bridge_id))


async def _quietly(request: Awaitable[None]) -> None:
    """Tidying up: the channel or bridge may be gone already."""
    with contextlib.suppress(Exception):
        await request
