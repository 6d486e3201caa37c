"""`balagh run`'s inbound HTTP listener (settings `inbound:`; off unless a feature needs it).

Bounded like every input: a body over `max_body_bytes` is refused (413) before it is read,
a request that takes longer than `request_seconds` is cut (the handler's task cancelled, 503),
at most `max_connections` are open at once (more wait in the kernel's backlog). A port it
cannot have is logged, not fatal: the hotline goes on without it, as with FastAGI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from balagh.config import InboundSettings
from balagh.timeouts import within

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

__all__ = ["Handler", "InboundServer", "serve_inbound"]


class InboundServer:
    """Routes first (`add_route`), then `run` until cancelled."""

    def __init__(self, settings: InboundSettings) -> None:
        self.settings = settings
        self._routes: list[web.RouteDef] = []
        self.started = asyncio.Event()
        self.port: int | None = None  # the bound port, once started (0 in settings: any)

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        seconds = self.settings.request_seconds

        async def bounded(request: web.Request) -> web.StreamResponse:
            try:
                return await within(handler(request), seconds)
            except TimeoutError:
                log.warning("inbound.request_timeout", path=path, seconds=seconds)
                return web.json_response({"error": "timeout"}, status=503)

        self._routes.append(web.route(method, path, bounded))

    @property
    def has_routes(self) -> bool:
        return bool(self._routes)

    def application(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.max_body_bytes)
        app.add_routes(self._routes)
        return app

    async def run(self) -> None:
        runner = web.AppRunner(self.application(), access_log=None,
                               handler_cancellation=True)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.settings.host, self.settings.port,
                               backlog=self.settings.max_connections)
            await site.start()
            sockets = [s for s in (runner.addresses or [])]
            self.port = int(sockets[0][1]) if sockets else self.settings.port
            log.info("inbound.listening", host=self.settings.host, port=self.port)
            self.started.set()
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


async def serve_inbound(server: InboundServer) -> None:
    """`server.run`, a failure logged and kept from the call path."""
    try:
        await server.run()
    except OSError as exc:
        log.error("inbound.listen_failed", host=server.settings.host,
                  port=server.settings.port, error=str(exc))
    except Exception:
        log.exception("inbound.failed")
