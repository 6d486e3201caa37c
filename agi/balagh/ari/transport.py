"""ARI's HTTP side, sent with aiohttp: one keep-alive pool, bounded answers.

asyncari sends every request through asyncswagger11 and httpx: about 3 ms of the app's
CPU per request on this 2-core machine, against about 0.3 ms with aiohttp (`make bench`:
bench/RESULTS.md). A call makes 30 to 40 requests, so at 200 callers the app's one core
went mostly on them. The event websocket (connect.py) shares this session.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from balagh.ari.rest import (
    AriAnswerTooLarge,
    AriRequestError,
    AriSessionClosed,
    Operation,
    Params,
)

# Asterisk's HTTP server takes 100 sessions by default (http.conf sessionlimit); the
# websocket is one. Enough for the requests of a few hundred calls in flight at once.
CONNECTIONS = 32
QUERY_IN_URL_AT_MOST = 900  # longer query parameters go in a JSON body
# ARI's answers the app reads are a channel, a variable, an application's channel ids:
# kilobytes. An answer (or an event) past this is refused, not held in the call
# process's memory.
ANSWER_AT_MOST = 8 * 1024 * 1024


def ari_base(url: str) -> str:
    """ARI's root below Asterisk's HTTP server: http://host:8088/ -> http://host:8088/ari."""
    return url.rstrip("/") + "/ari"


def session(username: str, password: str, timeout: float | None = None,
            connections: int = CONNECTIONS) -> aiohttp.ClientSession:
    """The HTTP session for one ARI connection (keep-alive, `connections` at most). No
    timeout by default: the app bounds each request where it makes it."""
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return aiohttp.ClientSession(
        headers={"Authorization": f"Basic {credentials}"},
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=timeout))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)  # ARI's lists are comma separated
    return str(value)


class AriTransport:
    """Sends ARI operations over one aiohttp session (`send` is rest.Send)."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self._session = session
        self._websockets: aiohttp.ClientSession | None = None
        self.base = ari_base(url)

    async def send(self, operation: Operation, params: Params) -> Any:
        """One operation: each parameter where ARI takes it (None is left out)."""
        url = operation.url
        query: dict[str, str] = {}
        body: dict[str, Any] = {}
        for key, value in params.items():
            if value is None:
                continue
            if key in operation.path:
                url = url.replace(f"{{{key}}}", quote(_text(value), safe=""))
            elif key == operation.whole_body and isinstance(value, dict):
                body = value
            elif key in operation.query:
                query[key] = _text(value)
            else:
                raise TypeError(f"ARI {operation.resource}.{operation.nickname}: "
                                f"unknown parameter {key!r}")
        if query and not body and len(urlencode(query)) > QUERY_IN_URL_AT_MOST:
            # Asterisk reads a request line of 4096 bytes at most (1024 in LOW_MEMORY
            # builds); every operation also takes its query parameters from a JSON body.
            body, query = {**query}, {}
        return await self.request(operation.method, self.base + url, query, body)

    async def request(self, method: str, url: str, query: dict[str, str],
                      body: dict[str, Any], at_most: int = ANSWER_AT_MOST) -> Any:
        """One request; ARI's JSON answer (None when empty), AriRequestError on an error
        (AriAnswerTooLarge past `at_most` bytes)."""
        if self._session.closed:
            raise AriSessionClosed("the ARI connection was closed")
        async with self._session.request(
                method, url, params=query, data=json.dumps(body) if body else None,
                headers={"Content-Type": "application/json"} if body else None) as response:
            payload = await _read_at_most(response, at_most)
            if payload is None:
                raise AriAnswerTooLarge(0, method, response.url.path,
                                        f"answer longer than {at_most} bytes")
            if response.status >= 400:
                raise AriRequestError(response.status, method, response.url.path,
                                      _message(payload))
            return json.loads(payload) if payload else None

    async def websocket(self, url: str, message_at_most: int) -> aiohttp.ClientWebSocketResponse:
        """A websocket with this session's credentials, on a connection of its own (never
        one of the requests' pooled connections); Asterisk's pings answered."""
        if self._websockets is None:
            self._websockets = aiohttp.ClientSession(headers=self._session.headers,
                                                     timeout=self._session.timeout)
        return await self._websockets.ws_connect(url, max_msg_size=message_at_most,
                                                 autoping=True)

    async def close(self) -> None:
        await self._session.close()
        if self._websockets is not None:
            await self._websockets.close()


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to be longer than `limit`."""
    if (response.content_length or 0) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _message(payload: bytes) -> str:
    """ARI's error text ({"message": ...}), or the body itself, short."""
    try:
        answer = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")[:200]
    return str(answer.get("message", "")) if isinstance(answer, dict) else ""
