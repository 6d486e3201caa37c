"""One ARI connection: asyncari's event websocket, and REST requests sent with aiohttp.

asyncari connects, reads ARI's description from Asterisk and keeps the event websocket.
Two of its costs are taken off the call path, each measured by `make bench`
(bench/RESULTS.md):
- requests go through `rest.AriRest` (aiohttp) instead of asyncswagger11 and httpx;
- events are handed on as ARI's JSON dicts the moment they are read (`_EventsAsDicts`).
  asyncari's own reader first makes model objects of every field of every event (a
  regular expression per field, object caches) and hands each event twice to a task
  that watches for slow processing: the reader here does neither (the app's event loop
  has its own stall probe, looplag.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.parse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from asyncari.client import Client
from asyncswagger11.http_client import ApiKeyAuthenticator, AsynchronousHttpClient
from wsproto.events import CloseConnection, TextMessage

from balagh.ari.rest import AriRest, operations_of, session

log = structlog.get_logger(__name__)

EventSink = Callable[[dict[str, Any]], None]


class _EventsAsDicts(Client):  # type: ignore[misc]  # asyncari has no types
    """asyncari's client, every event given to `sink` as it is read (sync, never blocks)."""

    def __init__(self, group: Any, url: str, app: str, http_client: Any,
                 sink: EventSink) -> None:
        super().__init__(group, url, app, http_client)
        self._sink = sink
        self.closed = asyncio.Event()

    async def _run(self, evt: Any = None) -> None:
        """Read the event websocket until it closes (asyncari starts this on connect)."""
        ws = None
        try:
            ws = await self.swagger.events.eventWebsocket(app=",".join(self._apps))
            self.websockets.add(ws)
            if evt is not None:
                evt.set()
            with contextlib.suppress(anyio.ClosedResourceError):  # closed under the read
                async for message in ws:
                    if isinstance(message, CloseConnection):
                        break
                    if isinstance(message, TextMessage):
                        self._hand_on(message.data)
        finally:
            self.closed.set()
            if ws is not None:
                self.websockets.discard(ws)
                with anyio.CancelScope(shield=True):
                    await ws.close()

    def _hand_on(self, text: str) -> None:
        try:
            event = json.loads(text)
        except ValueError:
            log.warning("ari.event_unreadable", size=len(text))
            return
        if isinstance(event, dict) and "type" in event:
            self._sink(event)


@dataclass(frozen=True)
class AriConnection:
    rest: AriRest
    closed: asyncio.Event  # set when the event websocket has closed


@asynccontextmanager
async def connect(url: str, app: str, username: str, password: str,
                  on_event: EventSink) -> AsyncIterator[AriConnection]:
    host = urllib.parse.urlparse(url).netloc.split(":")[0]
    http_client = AsynchronousHttpClient(
        auth=ApiKeyAuthenticator(host, f"{username}:{password}"))
    requests = session(username, password)
    try:
        async with anyio.create_task_group() as group:
            client = _EventsAsDicts(group, url, app, http_client, on_event)
            async with client:
                try:
                    yield AriConnection(AriRest(requests, operations_of(client.swagger.resources)),
                                        client.closed)
                finally:
                    group.cancel_scope.cancel()
    finally:
        await requests.close()
        await http_client.close()
