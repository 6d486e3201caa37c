"""The FastAGI server: panoramisk's Application (its routes), with a session reader that
survives any peer.

panoramisk's own `handler` reads headers until a blank line with no limit of time or size
(a peer that says nothing holds it for ever; one that closes early makes it spin on EOF),
and wraps sync handlers with asyncio.coroutine, which Python 3.11 removed. So routes
here must be `async def` (checked in add_route), and `handler` is our own: headers within
a time and size limit, one log line for whatever went wrong, the socket always closed.
Only loopback peers are served: the route writes reports and sets channel variables.
At most `max_sessions` at once (fdlimit.py derives it from the descriptor limit): a
connection over it is closed as it is accepted (`accept`, before any task is made for
it), so a flood of connections can never take the descriptors the app needs for its own
links (Asterisk's AGI() then fails, and the dialplan sends that caller to the general
queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog
from panoramisk.fast_agi import Application, Request

from balagh.fastagi.protocol import MAX_HEADER_BYTES, BadSession, parse_headers, script_name
from balagh.timeouts import within

log = structlog.get_logger(__name__)

HEADER_SECONDS = 5.0    # Asterisk sends its headers at once on connecting
SESSION_SECONDS = 30.0  # a route takes well under a second; never hold a caller longer
DEFAULT_MAX_SESSIONS = 256
REFUSAL_LOG_SECONDS = 10.0  # a flood logs one line per this, with the count since the last

Route = Callable[[Request], Awaitable[object]]


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


class FastAgiServer(Application):  # type: ignore[misc]  # panoramisk is untyped
    """panoramisk's FastAGI Application with a hardened session handler."""

    def __init__(self, *, header_seconds: float = HEADER_SECONDS,
                 session_seconds: float = SESSION_SECONDS,
                 max_sessions: int = DEFAULT_MAX_SESSIONS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        self.header_seconds = header_seconds
        self.session_seconds = session_seconds
        self.max_sessions = max_sessions
        self.sessions: set[asyncio.Task[Any]] = set()
        self.admitted = 0  # connections served, since start
        self.over_capacity = 0  # connections closed at once: max_sessions were in progress
        self._clock = clock
        self._starting = 0  # admitted, their task not yet running (then in `sessions`)
        self._unlogged = 0
        self._logged_at: float | None = None

    def add_route(self, path: str, endpoint: Route) -> None:
        # panoramisk would wrap a plain function with asyncio.coroutine (gone in 3.11).
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"FastAGI route {path!r} must be an async def function")
        super().add_route(path, endpoint)

    def accept(self, reader: asyncio.StreamReader,
               writer: asyncio.StreamWriter) -> Coroutine[Any, Any, None] | None:
        """start_server's callback, called as each connection is made: over the cap it
        is closed here and then, or a whole accept burst would be open at once."""
        if len(self.sessions) + self._starting >= self.max_sessions:
            self._refuse_over_capacity(writer)
            return None
        self.admitted += 1
        self._starting += 1
        return self._started(reader, writer)

    async def _started(self, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        self._starting -= 1  # `handler` puts its task in `sessions` before any await
        await self.handler(reader, writer)

    async def handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One session, start to end; never raises (asyncio would only log it)."""
        peer = writer.get_extra_info("peername")
        host = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        task = asyncio.current_task()
        if task is not None:
            self.sessions.add(task)
        try:
            if not is_loopback(host):
                log.warning("fastagi.refused", peer=host, reason="not a loopback address")
                return
            await self._session(reader, writer)
        except asyncio.CancelledError:
            log.info("fastagi.session_cancelled")
            raise
        except BadSession as exc:
            log.warning("fastagi.bad_session", reason=str(exc))
        except Exception:
            log.exception("fastagi.session_error")
        finally:
            if task is not None:
                self.sessions.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _refuse_over_capacity(self, writer: asyncio.StreamWriter) -> None:
        """Close at once (no await: its descriptor is given back now), count, and log
        at most once per REFUSAL_LOG_SECONDS."""
        writer.transport.abort()
        self.over_capacity += 1
        self._unlogged += 1
        now = self._clock()
        if self._logged_at is None or now - self._logged_at >= REFUSAL_LOG_SECONDS:
            log.error("fastagi.over_capacity", refused=self._unlogged,
                      refused_total=self.over_capacity, sessions=len(self.sessions),
                      max_sessions=self.max_sessions)
            self._logged_at, self._unlogged = now, 0

    async def _session(self, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        headers = parse_headers(await self._header_block(reader))
        name = script_name(headers)
        route = self._route.get(name)
        if route is None:
            log.warning("fastagi.no_route", script=name[:60])
            return
        request = Request(app=self, headers=headers, reader=reader, writer=writer,
                          encoding=self.default_encoding)
        try:
            async with asyncio.timeout(self.session_seconds):
                await route(request)
        except TimeoutError:
            log.warning("fastagi.session_timeout", script=name, seconds=self.session_seconds)

    async def _header_block(self, reader: asyncio.StreamReader) -> bytes:
        """The bytes up to the blank line that ends the headers."""
        try:
            async with asyncio.timeout(self.header_seconds):
                block = await reader.readuntil(b"\n\n")
        except TimeoutError:
            raise BadSession(f"no headers within {self.header_seconds:g} s") from None
        except asyncio.IncompleteReadError as exc:
            raise BadSession(f"closed after {len(exc.partial)} bytes, before the headers "
                             "ended") from None
        except asyncio.LimitOverrunError:
            raise BadSession(f"headers longer than {MAX_HEADER_BYTES} bytes") from None
        return block


async def serve(app: FastAgiServer, host: str, port: int) -> asyncio.Server:
    """Listen on host:port (loopback only); the caller closes the server."""
    if not is_loopback(host):
        raise ValueError(f"FastAGI listens on loopback only, not {host!r}")
    return await asyncio.start_server(app.accept, host, port, limit=MAX_HEADER_BYTES)


async def run_server(app: FastAgiServer, host: str, port: int) -> None:
    """Serve until cancelled; then sessions in progress are cancelled too."""
    server = await serve(app, host, port)
    log.info("fastagi.listening", host=host, port=port, routes=sorted(app._route))
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
        for task in list(app.sessions):
            task.cancel()
        with contextlib.suppress(Exception):
            await within(server.wait_closed(), 5)
