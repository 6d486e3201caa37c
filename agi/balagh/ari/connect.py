"""One ARI connection: asyncari's event websocket, and REST requests sent with aiohttp.

asyncari connects, reads ARI's description from Asterisk and keeps the event websocket.
Two of its costs are taken off the call path, each measured by `make bench`
(bench/RESULTS.md):
- requests go through `rest.AriRest` (aiohttp) instead of asyncswagger11 and httpx;
- events are handed on as ARI's JSON dicts the moment they are read. asyncari would
  first make model objects of every field of every event (a regular expression per
  field, object caches), and pass each event to the reader through a stream.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from asyncari.client import Client
from asyncswagger11.http_client import ApiKeyAuthenticator, AsynchronousHttpClient

from balagh.ari.rest import AriRest, operations_of, session

EventSink = Callable[[dict[str, Any]], None]


class _EventsAsDicts(Client):  # type: ignore[misc]  # asyncari has no types
    """asyncari's client, every event given to `sink` as it is read (sync, never blocks)."""

    def __init__(self, group: Any, url: str, app: str, http_client: Any,
                 sink: EventSink) -> None:
        super().__init__(group, url, app, http_client)
        self._sink = sink
        self.closed = asyncio.Event()

    async def _run(self, evt: Any = None) -> None:
        try:
            await super()._run(evt)
        finally:
            self.closed.set()

    async def process_ws(self, msg: dict[str, Any]) -> None:
        self._sink(msg)


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
