"""ARI's REST operations Balagh uses, typed: `rest.channels.answer(channelId=...)`.

Each method is one of ARI's operations under ARI's own names (resource, nickname and
parameter names as Asterisk's description gives them), so mypy checks every request the
app, the watchdog, health and the test caller make. A method hands its `Operation` and
its parameters to a `Send`: the HTTP transport (transport.py), or the application's
CurrentClient (app.py), which passes them on to the connection of the moment.
Answers are ARI's JSON: objects for the reads, nothing for the actions.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPMethod
from typing import Any, Protocol

Params = Mapping[str, object]


@dataclass(frozen=True)
class Operation:
    """One ARI operation: where its parameters go (path or query; the eventFilter's in
    the JSON body)."""

    resource: str
    nickname: str
    method: str
    url: str  # below /ari, with {placeholders} for the path parameters
    query: frozenset[str] = frozenset()
    # The parameter that is the whole JSON body, not wrapped in its name (eventFilter).
    whole_body: str | None = None

    @property
    def path(self) -> frozenset[str]:
        return frozenset(re.findall(r"{(\w+)}", self.url))


def _op(resource: str, nickname: str, method: HTTPMethod, url: str, query: str = "",
        whole_body: str | None = None) -> Operation:
    return Operation(resource, nickname, method, url, frozenset(query.split()), whole_body)


# The methods by http's names: SQL text (DELETE) lives only in the store and the read model.
GET, POST, PUT, DELETE = HTTPMethod.GET, HTTPMethod.POST, HTTPMethod.PUT, HTTPMethod.DELETE
# ARI's operations as Asterisk (16 to 22) describes them in rest-api/*.json: only the
# parameters Balagh sends. description.py checks them at every connect against the
# description and modules the running Asterisk offers.
CHANNEL = "/channels/{channelId}"
OPERATIONS: tuple[Operation, ...] = (
    ANSWER := _op("channels", "answer", POST, CHANNEL + "/answer"),
    GET_CHANNEL := _op("channels", "get", GET, CHANNEL),
    HANGUP := _op("channels", "hangup", DELETE, CHANNEL, "reason"),
    CONTINUE := _op("channels", "continueInDialplan", POST, CHANNEL + "/continue",
                    "context extension priority label"),
    PLAY := _op("channels", "playWithId", POST, CHANNEL + "/play/{playbackId}",
                "media lang offsetms skipms"),
    GET_CHANNEL_VAR := _op("channels", "getChannelVar", GET, CHANNEL + "/variable",
                           "variable"),
    SET_CHANNEL_VAR := _op("channels", "setChannelVar", POST, CHANNEL + "/variable",
                           "variable value"),
    SNOOP := _op("channels", "snoopChannelWithId", POST, CHANNEL + "/snoop/{snoopId}",
                 "spy whisper app appArgs"),
    CREATE := _op("channels", "create", POST, "/channels/create",
                  "endpoint app appArgs channelId otherChannelId originator formats"),
    DIAL := _op("channels", "dial", POST, CHANNEL + "/dial", "caller timeout"),
    SEND_DTMF := _op("channels", "sendDTMF", POST, CHANNEL + "/dtmf",
                     "dtmf before between duration after"),
    CREATE_BRIDGE := _op("bridges", "createWithId", POST, "/bridges/{bridgeId}",
                         "type name"),
    ADD_CHANNEL := _op("bridges", "addChannel", POST, "/bridges/{bridgeId}/addChannel",
                       "channel role"),
    DESTROY_BRIDGE := _op("bridges", "destroy", DELETE, "/bridges/{bridgeId}"),
    STOP_PLAYBACK := _op("playbacks", "stop", DELETE, "/playbacks/{playbackId}"),
    GET_APPLICATION := _op("applications", "get", GET, "/applications/{applicationName}"),
    SUBSCRIBE := _op("applications", "subscribe", POST,
                     "/applications/{applicationName}/subscription", "eventSource"),
    FILTER := _op("applications", "filter", PUT,
                  "/applications/{applicationName}/eventFilter", whole_body="filter"),
    GET_INFO := _op("asterisk", "getInfo", GET, "/asterisk/info", "only"),
    LIST_MODULES := _op("asterisk", "listModules", GET, "/asterisk/modules"),
    GET_GLOBAL_VAR := _op("asterisk", "getGlobalVar", GET, "/asterisk/variable",
                          "variable"),
    SET_GLOBAL_VAR := _op("asterisk", "setGlobalVar", POST, "/asterisk/variable",
                          "variable value"),
    USER_EVENT := _op("events", "userEvent", POST, "/events/user/{eventName}",
                      "application source"),
)


class Send(Protocol):
    """Sends one operation; ARI's JSON answer (None when empty)."""

    def __call__(self, operation: Operation, params: Params) -> Awaitable[Any]: ...


class AriRequestError(Exception):
    """ARI answered with an error status (`status`: 404 when the channel is gone)."""

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(f"ARI {method} {path}: {status} {message}".rstrip())
        self.status = status


class AriAnswerTooLarge(AriRequestError):
    """ARI's answer was longer than transport.ANSWER_AT_MOST bytes (status 0: not ARI's)."""


class AriBadAnswer(AriRequestError):
    """ARI answered a read with something other than a JSON object (status 0)."""


class AriSessionClosed(RuntimeError):
    """The connection this request was to go through has been closed (a reconnect):
    nothing was sent."""


JsonObject = dict[str, Any]


def _object(operation: Operation, answer: object) -> JsonObject:
    if not isinstance(answer, dict):
        raise AriBadAnswer(0, operation.method, operation.url,
                           f"answer is {type(answer).__name__}, not a JSON object")
    return answer


class _Resource:
    # Reads check that the answer is an object; actions drop theirs (nobody reads it).
    def __init__(self, send: Send) -> None:
        self._send = send

    async def _read(self, operation: Operation, **params: object) -> JsonObject:
        return _object(operation, await self._send(operation, params))

    async def _read_list(self, operation: Operation, **params: object) -> list[JsonObject]:
        answer = await self._send(operation, params)
        if not isinstance(answer, list):
            raise AriBadAnswer(0, operation.method, operation.url,
                               f"answer is {type(answer).__name__}, not a JSON list")
        return [_object(operation, item) for item in answer]

    async def _act(self, operation: Operation, **params: object) -> None:
        await self._send(operation, params)


class Channels(_Resource):
    async def answer(self, *, channelId: str) -> None:
        await self._act(ANSWER, channelId=channelId)

    async def get(self, *, channelId: str) -> JsonObject:
        return await self._read(GET_CHANNEL, channelId=channelId)

    async def hangup(self, *, channelId: str, reason: str | None = None) -> None:
        await self._act(HANGUP, channelId=channelId, reason=reason)

    async def continueInDialplan(self, *, channelId: str, context: str | None = None,
                                 extension: str | None = None, priority: int | None = None,
                                 label: str | None = None) -> None:
        await self._act(CONTINUE, channelId=channelId, context=context, extension=extension,
                        priority=priority, label=label)

    async def playWithId(self, *, channelId: str, playbackId: str, media: str | list[str],
                         lang: str | None = None, skipms: int | None = None) -> None:
        await self._act(PLAY, channelId=channelId, playbackId=playbackId, media=media,
                        lang=lang, skipms=skipms)

    async def getChannelVar(self, *, channelId: str, variable: str) -> JsonObject:
        return await self._read(GET_CHANNEL_VAR, channelId=channelId, variable=variable)

    async def setChannelVar(self, *, channelId: str, variable: str, value: str) -> None:
        await self._act(SET_CHANNEL_VAR, channelId=channelId, variable=variable, value=value)

    async def snoopChannelWithId(self, *, channelId: str, snoopId: str, app: str,
                                 spy: str | None = None, whisper: str | None = None,
                                 appArgs: str | None = None) -> None:
        await self._act(SNOOP, channelId=channelId, snoopId=snoopId, app=app, spy=spy,
                        whisper=whisper, appArgs=appArgs)

    async def create(self, *, endpoint: str, app: str, channelId: str | None = None,
                     otherChannelId: str | None = None,
                     appArgs: str | None = None) -> None:
        await self._act(CREATE, endpoint=endpoint, app=app, channelId=channelId,
                        otherChannelId=otherChannelId, appArgs=appArgs)

    async def dial(self, *, channelId: str, caller: str | None = None,
                   timeout: int | None = None) -> None:
        await self._act(DIAL, channelId=channelId, caller=caller, timeout=timeout)

    async def sendDTMF(self, *, channelId: str, dtmf: str, between: int | None = None,
                       duration: int | None = None) -> None:
        await self._act(SEND_DTMF, channelId=channelId, dtmf=dtmf, between=between,
                        duration=duration)


class Bridges(_Resource):
    async def createWithId(self, *, bridgeId: str, type: str | None = None,
                           name: str | None = None) -> None:
        await self._act(CREATE_BRIDGE, bridgeId=bridgeId, type=type, name=name)

    async def addChannel(self, *, bridgeId: str, channel: str | list[str],
                         role: str | None = None) -> None:
        await self._act(ADD_CHANNEL, bridgeId=bridgeId, channel=channel, role=role)

    async def destroy(self, *, bridgeId: str) -> None:
        await self._act(DESTROY_BRIDGE, bridgeId=bridgeId)


class Playbacks(_Resource):
    async def stop(self, *, playbackId: str) -> None:
        await self._act(STOP_PLAYBACK, playbackId=playbackId)


class Applications(_Resource):
    async def get(self, *, applicationName: str) -> JsonObject:
        return await self._read(GET_APPLICATION, applicationName=applicationName)

    async def subscribe(self, *, applicationName: str, eventSource: str) -> None:
        await self._act(SUBSCRIBE, applicationName=applicationName, eventSource=eventSource)

    async def filter(self, *, applicationName: str, filter: JsonObject) -> None:
        await self._act(FILTER, applicationName=applicationName, filter=filter)


class Asterisk(_Resource):
    async def getInfo(self) -> JsonObject:
        return await self._read(GET_INFO)

    async def listModules(self) -> list[JsonObject]:
        return await self._read_list(LIST_MODULES)

    async def getGlobalVar(self, *, variable: str) -> JsonObject:
        return await self._read(GET_GLOBAL_VAR, variable=variable)

    async def setGlobalVar(self, *, variable: str, value: str) -> None:
        await self._act(SET_GLOBAL_VAR, variable=variable, value=value)


class Events(_Resource):
    async def userEvent(self, *, eventName: str, application: str,
                        source: str | None = None) -> None:
        await self._act(USER_EVENT, eventName=eventName, application=application,
                        source=source)


class AriRest:
    """ARI's resources Balagh uses, each request handed to `send`."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.channels = Channels(send)
        self.bridges = Bridges(send)
        self.playbacks = Playbacks(send)
        self.applications = Applications(send)
        self.asterisk = Asterisk(send)
        self.events = Events(send)

    async def allow_events(self, app: str, types: Iterable[str]) -> None:
        """Asterisk sends `app` events of these types only (PUT .../eventFilter)."""
        await self.applications.filter(applicationName=app, filter=event_filter(types))


def event_filter(types: Iterable[str]) -> JsonObject:
    """The body of PUT /applications/{app}/eventFilter letting only `types` through."""
    return {"allowed": [{"type": kind} for kind in sorted(types)]}
