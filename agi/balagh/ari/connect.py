"""asyncari.connect with an HTTP connection pool that fits a hotline's calls.

asyncari's HTTP client (asyncswagger11) allows 3 connections to ARI and keeps 1 open:
every call's requests (answer, play, stop, set variables) queue behind the others',
and most open a new TCP connection. `make bench` measured it (bench/RESULTS.md):
with 20 callers a key waited up to a quarter of a second for the request it caused,
and connecting took a tenth of the app's CPU. Same client otherwise.

asyncari also pretty-prints every event for a debug line before logging drops it (about
half a millisecond an event): the formatting is done only when that line is wanted.
"""

from __future__ import annotations

import logging
import pprint
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import asyncari.client
import httpx
from asyncari.client import Client
from asyncswagger11.http_client import ApiKeyAuthenticator, AsynchronousHttpClient

# Asterisk's HTTP server takes 100 sessions by default (http.conf sessionlimit); the
# websocket is one. Enough for the requests of a few hundred calls in flight at once.
CONNECTIONS = 32
REQUEST_TIMEOUT_SECONDS = 600  # asyncswagger11's own; each request has a shorter guard
_ASYNCARI_LOG = logging.getLogger(asyncari.client.__name__)


def _pformat_if_logged(value: object) -> str:
    return pprint.pformat(value) if _ASYNCARI_LOG.isEnabledFor(logging.DEBUG) else ""


asyncari.client.pformat = _pformat_if_logged  # its only use is that debug line


@asynccontextmanager
async def connect(url: str, app: str, username: str, password: str) -> AsyncIterator[Any]:
    host = urllib.parse.urlparse(url).netloc.split(":")[0]
    http_client = AsynchronousHttpClient(
        auth=ApiKeyAuthenticator(host, f"{username}:{password}"))
    await http_client.session.aclose()  # unused yet: replaced by one with a bigger pool
    http_client.session = httpx.AsyncClient(
        timeout=REQUEST_TIMEOUT_SECONDS,
        limits=httpx.Limits(max_connections=CONNECTIONS,
                            max_keepalive_connections=CONNECTIONS))
    try:
        async with anyio.create_task_group() as group:
            client = Client(group, url, app, http_client)
            async with client:
                try:
                    yield client
                finally:
                    group.cancel_scope.cancel()
    finally:
        await http_client.close()
