"""ARI's REST operations, sent with aiohttp.

asyncari reads ARI's description from Asterisk's own swagger files (each operation's
method, path, and path, query and body parameters) and sends every request through
asyncswagger11 and httpx: about 3 ms of the app's CPU per request on this 2-core machine,
against about 0.3 ms with aiohttp (`make bench`: bench/RESULTS.md). A call makes 30 to
40 requests, so at 200 callers the app's one core went mostly on them.

AriRest keeps asyncari's description and its names, `rest.channels.answer(channelId=...)`,
and sends each request with aiohttp (its HTTP parser is compiled; one keep-alive pool).
Answers are ARI's JSON as it is: dicts, lists, or None for "204 No Content".
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

# Asterisk's HTTP server takes 100 sessions by default (http.conf sessionlimit); the
# websocket is one. Enough for the requests of a few hundred calls in flight at once.
CONNECTIONS = 32
QUERY_IN_URL_AT_MOST = 900  # longer query parameters go in a JSON body
# ARI's answers the app reads are a channel, a variable, an application's channel ids:
# kilobytes. An answer past this is refused, not held in the call process's memory.
ANSWER_AT_MOST = 8 * 1024 * 1024


@dataclass(frozen=True)
class Operation:
    """One ARI operation as Asterisk describes it."""

    method: str
    url: str  # with {placeholders} for the path parameters
    path: frozenset[str]
    query: frozenset[str]
    body: frozenset[str]
    required: frozenset[str]


Operations = Mapping[str, Mapping[str, Operation]]  # resource -> nickname -> operation


def operations_of(resources: Mapping[str, Any]) -> dict[str, dict[str, Operation]]:
    """The operations of asyncswagger11's loaded resources (`client.swagger.resources`)."""
    found: dict[str, dict[str, Operation]] = {}
    for name, resource in resources.items():
        declaration = resource.json["api_declaration"]
        for api in declaration["apis"]:
            for operation in api["operations"]:
                if operation.get("is_websocket"):
                    continue  # the event websocket is asyncari's
                params = operation.get("parameters") or []

                def named(kind: str, params: list[dict[str, Any]] = params) -> frozenset[str]:
                    return frozenset(p["name"] for p in params if p["paramType"] == kind)

                found.setdefault(name, {})[operation["nickname"]] = Operation(
                    method=operation["httpMethod"],
                    url=declaration["basePath"] + api["path"],
                    path=named("path"), query=named("query"), body=named("body"),
                    required=frozenset(p["name"] for p in params if p.get("required")))
    return found


class AriRequestError(Exception):
    """ARI answered with an error status (`status`: 404 when the channel is gone)."""

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(f"ARI {method} {path}: {status} {message}".rstrip())
        self.status = status


class AriAnswerTooLarge(AriRequestError):
    """ARI's answer was longer than ANSWER_AT_MOST bytes (status 0: not ARI's own)."""


class AriSessionClosed(RuntimeError):
    """The connection this request was to go through has been closed (a reconnect):
    nothing was sent."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)  # ARI's lists are comma separated
    return str(value)


class AriRest:
    """`rest.RESOURCE.NICKNAME(**params)`, as with asyncari's client."""

    def __init__(self, session: aiohttp.ClientSession, operations: Operations) -> None:
        self._session = session
        self._operations = operations

    def __getattr__(self, resource: str) -> _Resource:
        try:
            return _Resource(self, resource, self._operations[resource])
        except KeyError:
            raise AttributeError(f"ARI has no resource {resource!r}") from None

    async def request(self, operation: Operation, name: str, params: dict[str, Any]) -> Any:
        missing = operation.required - params.keys()
        unknown = params.keys() - operation.path - operation.query - operation.body
        if missing or unknown:
            raise TypeError(f"ARI {name}: missing {sorted(missing)}, unknown {sorted(unknown)}")
        url = operation.url
        query: dict[str, str] = {}
        body: dict[str, Any] = {}
        for key, value in params.items():
            if value is None:
                continue
            if key in operation.path:
                url = url.replace(f"{{{key}}}", quote(_text(value), safe=""))
            elif key in operation.query:
                query[key] = _text(value)
            else:
                body[key] = value
        if query and not body and len(urlencode(query)) > QUERY_IN_URL_AT_MOST:
            # Asterisk reads a request line of 4096 bytes at most (1024 in LOW_MEMORY
            # builds); every operation also takes its query parameters from a JSON body.
            body, query = query, {}
        return await self._send(operation.method, url, query, body)

    async def allow_events(self, app: str, types: Iterable[str]) -> None:
        """Asterisk sends `app` events of these types only (PUT .../eventFilter). That
        operation's JSON body is the filter itself, not wrapped in its parameter's name."""
        operation = self._operations["applications"]["filter"]
        url = operation.url.replace("{applicationName}", quote(app, safe=""))
        await self._send("PUT", url, {}, event_filter(types))

    async def _send(self, method: str, url: str, query: dict[str, str],
                    body: dict[str, Any]) -> Any:
        """One request; ARI's JSON answer (None when empty), AriRequestError on an error."""
        if self._session.closed:
            raise AriSessionClosed("the ARI connection was closed")
        async with self._session.request(
                method, url, params=query, data=json.dumps(body) if body else None,
                headers={"Content-Type": "application/json"} if body else None) as response:
            payload = await _read_at_most(response, ANSWER_AT_MOST)
            if payload is None:
                raise AriAnswerTooLarge(0, method, response.url.path,
                                        f"answer longer than {ANSWER_AT_MOST} bytes")
            if response.status >= 400:
                raise AriRequestError(response.status, method, response.url.path,
                                      _message(payload))
            return json.loads(payload) if payload else None

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


def event_filter(types: Iterable[str]) -> dict[str, Any]:
    """The body of PUT /applications/{app}/eventFilter letting only `types` through."""
    return {"allowed": [{"type": kind} for kind in sorted(types)]}


def _message(payload: bytes) -> str:
    """ARI's error text ({"message": ...}), or the body itself, short."""
    try:
        answer = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")[:200]
    return str(answer.get("message", "")) if isinstance(answer, dict) else ""


class _Resource:
    def __init__(self, rest: AriRest, name: str, operations: Mapping[str, Operation]) -> None:
        self._rest = rest
        self._name = name
        self._operations = operations

    def __getattr__(self, nickname: str) -> Callable[..., Awaitable[Any]]:
        try:
            operation = self._operations[nickname]
        except KeyError:
            raise AttributeError(f"ARI {self._name} has no operation {nickname!r}") from None
        name = f"{self._name}.{nickname}"

        async def send(**params: Any) -> Any:
            return await self._rest.request(operation, name, params)

        return send


def session(username: str, password: str) -> aiohttp.ClientSession:
    """The HTTP session for one ARI connection (keep-alive, CONNECTIONS at most)."""
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return aiohttp.ClientSession(
        headers={"Authorization": f"Basic {credentials}"},
        connector=aiohttp.TCPConnector(limit=CONNECTIONS),
        timeout=aiohttp.ClientTimeout(total=None))
