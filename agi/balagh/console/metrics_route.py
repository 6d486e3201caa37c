"""The console's /metrics: its build and its process's figures, for a Prometheus on the
same box. No session (a scraper has none), so it answers loopback peers only, and never a
request a proxy forwarded: a reverse proxy on the box would otherwise make every outside
client look local. The hotline's own figures are `balagh run`'s (metrics_listen)."""

from __future__ import annotations

import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.process_collector import ProcessCollector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from balagh.metrics.collector import BuildInfo

FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def console_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(BuildInfo())
    ProcessCollector(registry=registry)
    return registry


def local_scraper(request: Request) -> bool:
    """A loopback peer whose request no proxy forwarded."""
    if any(header in request.headers for header in FORWARDING_HEADERS):
        return False
    peer = request.client.host if request.client else None
    try:
        return peer is not None and ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


def metrics_endpoint(registry: CollectorRegistry) -> Route:
    async def metrics(request: Request) -> Response:
        if not local_scraper(request):
            return PlainTextResponse("/metrics answers Prometheus on this host only\n", 403)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])
