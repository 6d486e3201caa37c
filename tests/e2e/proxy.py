"""A loopback TCP proxy between the app and Asterisk, to break the link on demand.

The app under test is pointed at the proxy (BALAGH_ARI_URL or BALAGH_AMI_PORT); the
proxy forwards to the sandbox and, when a test asks, freezes connections (bytes held,
nothing closed: a half-open link), cuts them (closed at once), holds back the replies
of new HTTP requests (requests that never get an answer), or injects bytes into the
app's side (malformed events). ARI's event websocket is told apart from its plain HTTP
requests by its first request line (GET /ari/events).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

WEBSOCKET = "websocket"
HTTP = "http"
ANY = "any"


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    kind: str = HTTP
    flowing: asyncio.Event = field(default_factory=asyncio.Event)


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self.links: set[_Link] = set()
        self.hold_new_http = False  # replies to new HTTP requests are held back
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- control, from the test's thread ---------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._server = self._run(asyncio.start_server(self._accept, "127.0.0.1", self.port))
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for link in list(self.links):
                _close(link)

        self._run(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def freeze(self, kind: str = WEBSOCKET) -> int:
        """Hold every byte of the matching links, both ways, without closing them."""
        return self._apply(kind, lambda link: link.flowing.clear())

    def thaw(self, kind: str = ANY) -> int:
        self.hold_new_http = False
        return self._apply(kind, lambda link: link.flowing.set())

    def cut(self, kind: str = WEBSOCKET) -> int:
        """Close the matching links at once, as a crashed peer or a reset would."""
        return self._apply(kind, _close)

    def hold_requests(self) -> None:
        """From now on, new HTTP requests reach Asterisk but their replies are held."""
        self.hold_new_http = True

    def inject(self, kind: str, data: bytes) -> int:
        """Write `data` to the app's side of the matching links, as if Asterisk sent it."""
        return self._apply(kind, lambda link: link.client.write(data))

    def count(self, kind: str = ANY) -> int:
        return self._apply(kind, lambda link: None)

    # -- inside the proxy's loop -------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def _apply(self, kind: str, action: Callable[[_Link], object]) -> int:
        async def apply() -> int:
            matching = [link for link in self.links if kind in (ANY, link.kind)]
            for link in matching:
                action(link)
            return len(matching)

        count: int = self._run(apply())
        return count

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        link = _Link(client=writer, upstream=up_writer)
        link.flowing.set()
        self.links.add(link)
        first = await reader.read(65536)
        if b"/ari/events" in first.split(b"\r\n", 1)[0]:
            link.kind = WEBSOCKET
        elif self.hold_new_http:
            link.flowing.clear()
        up_writer.write(first)
        try:
            await asyncio.gather(self._pump(reader, up_writer, link),
                                 self._pump(up_reader, writer, link, replies=True))
        finally:
            self.links.discard(link)
            _close(link)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    link: _Link, replies: bool = False) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                await link.flowing.wait()
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()


def _close(link: _Link) -> None:
    for writer in (link.client, link.upstream):
        transport = writer.transport
        with contextlib.suppress(OSError, RuntimeError):
            transport.abort()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def websocket_text(payload: str | dict[str, Any]) -> bytes:
    """One unmasked server-to-client text frame, as Asterisk would send an event."""
    data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
    if len(data) < 126:
        header = bytes([0x81, len(data)])
    else:
        header = bytes([0x81, 126]) + len(data).to_bytes(2, "big")
    return header + data
