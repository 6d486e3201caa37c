"""One ARI connection: the event websocket and the REST requests, on one aiohttp session.

Events are handed on as ARI's JSON dicts the moment they are read: no model objects
made of every field of every event, no task watching for slow processing (the app's
event loop has its own stall probe, looplag.py). Asterisk registers the Stasis app
while the websocket is open; `closed` is set when it has closed, for whatever reason.
A websocket frozen without a close is found by the heartbeat's echo (liveness.py).

Why not asyncari's connection: its reader can be made to hand on dicts only by
overriding its private `_run`, and its requests go through asyncswagger11 and httpx
(transport.py). Owning the thin transport here costs less than leaning on its insides.
asyncari's family serves where it can through its public interface: asyncswagger11's
loader reads ARI's description at every connect (description.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import structlog

from balagh.ari.description import check_offered
from balagh.ari.rest import AriRest
from balagh.ari.transport import ANSWER_AT_MOST, AriTransport, ari_base, session
from balagh.timeouts import within

log = structlog.get_logger(__name__)

EventSink = Callable[[dict[str, Any]], None]
# Asterisk answers the websocket's opening at once; one that does not is retried by the
# caller (keep_up's backoff) rather than waited on for ever.
OPEN_TIMEOUT_SECONDS = 10.0
# Before the websocket, ARI's description and module list are read (description.py): they
# prove ARI's HTTP side answers (a link whose requests hang is not handed to the calls: they
# wait for a working one, or the watchdog takes them) and that Asterisk offers every
# operation the client sends. Asterisk serves them in tens of milliseconds.
HTTP_CHECK_TIMEOUT_SECONDS = 5.0
# A websocket being left (a drop, a freeze) is closed politely for this long at most: a
# frozen peer never answers the close, and the reconnect must not wait on it.
CLOSE_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class AriConnection:
    rest: AriRest
    closed: asyncio.Event  # set when the event websocket has closed
    # The heartbeat's requests, on one keep-alive connection of their own: a beat never
    # waits behind the calls' requests for a pooled connection, and never opens a new
    # one that would carry a write to an Asterisk whose answers have stopped (liveness.py).
    beats: AriRest


def events_url(url: str, app: str) -> str:
    return f"{ari_base(url)}/events?{urlencode({'app': app})}"


@asynccontextmanager
async def connect(url: str, app: str, username: str, password: str,
                  on_event: EventSink) -> AsyncIterator[AriConnection]:
    """Open the websocket of Stasis app `app`; every event goes to `on_event` (sync, quick)."""
    transport = AriTransport(session(username, password), url)
    beats = AriTransport(session(username, password, connections=1), url)
    rest = AriRest(transport.send)
    try:
        await within(check_offered(transport, rest), HTTP_CHECK_TIMEOUT_SECONDS)
        websocket = await within(
            transport.websocket(events_url(url, app), ANSWER_AT_MOST), OPEN_TIMEOUT_SECONDS)
        closed = asyncio.Event()
        reader = asyncio.create_task(read_events(websocket, on_event, closed))
        try:
            yield AriConnection(rest, closed, AriRest(beats.send))
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            with contextlib.suppress(TimeoutError):
                await within(websocket.close(), CLOSE_TIMEOUT_SECONDS)
    finally:
        await transport.close()
        await beats.close()


async def read_events(websocket: aiohttp.ClientWebSocketResponse, sink: EventSink,
                      closed: asyncio.Event) -> None:
    """Hand every event on until the websocket closes (or fails, or an event is too long)."""
    try:
        async for message in websocket:
            if message.type is aiohttp.WSMsgType.TEXT:
                hand_on(message.data, sink)
            elif message.type is aiohttp.WSMsgType.ERROR:
                log.warning("ari.websocket_failed", error=repr(websocket.exception()))
                break
    finally:
        closed.set()


def hand_on(text: str, sink: EventSink) -> None:
    """One frame to `sink` if it is an ARI event (a JSON object with a type)."""
    try:
        event = json.loads(text)
    except ValueError:
        log.warning("ari.event_unreadable", size=len(text))
        return
    if isinstance(event, dict) and "type" in event:
        sink(event)
