"""AriRest: ARI's operations, as Asterisk describes them, sent to a real HTTP server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web

from balagh.ari.call import http_status
from balagh.ari.rest import (
    ANSWER_AT_MOST,
    AriAnswerTooLarge,
    AriRequestError,
    AriRest,
    AriSessionClosed,
    operations_of,
    session,
)


def describe(base: str) -> dict[str, Any]:
    """A few of ARI's operations, shaped as asyncswagger11 loads Asterisk's swagger files."""
    def param(name: str, kind: str, required: bool = False) -> dict[str, Any]:
        return {"name": name, "paramType": kind, "required": required}

    channels = {"basePath": base, "apis": [
        {"path": "/channels/{channelId}/play/{playbackId}", "operations": [
            {"httpMethod": "POST", "nickname": "playWithId",
             "parameters": [param("channelId", "path", True),
                            param("playbackId", "path", True), param("media", "query", True),
                            param("skipms", "query")]}]},
        {"path": "/channels/{channelId}/variable", "operations": [
            {"httpMethod": "GET", "nickname": "getChannelVar",
             "parameters": [param("channelId", "path", True),
                            param("variable", "query", True)]}]},
        {"path": "/channels/{channelId}/snoop/{snoopId}", "operations": [
            {"httpMethod": "POST", "nickname": "snoopChannelWithId",
             "parameters": [param("channelId", "path", True), param("snoopId", "path", True),
                            param("app", "query", True), param("variables", "body")]}]},
        {"path": "/channels/{channelId}/answer", "operations": [
            {"httpMethod": "POST", "nickname": "answer",
             "parameters": [param("channelId", "path", True)]}]},
    ]}
    applications = {"basePath": base, "apis": [
        {"path": "/applications/{applicationName}/eventFilter", "operations": [
            {"httpMethod": "PUT", "nickname": "filter",
             "parameters": [param("applicationName", "path", True),
                            param("filter", "body")]}]}]}
    events = {"basePath": base, "apis": [{"path": "/events", "operations": [
        {"httpMethod": "GET", "nickname": "eventWebsocket", "is_websocket": True,
         "parameters": [param("app", "query", True)]}]}]}
    return {name: SimpleNamespace(json={"api_declaration": declaration})
            for name, declaration in (("channels", channels), ("events", events),
                                      ("applications", applications))}


@pytest.fixture
async def ari() -> AsyncIterator[tuple[AriRest, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.text()
        seen.append({"method": request.method, "path": request.raw_path.split("?")[0],
                     "query": dict(request.query), "body": json.loads(body) if body else None,
                     "auth": request.headers.get("Authorization")})
        if "gone" in request.path:
            return web.json_response({"message": "Channel not found"}, status=404)
        if request.path.endswith("/answer"):
            return web.Response(status=204)
        if "huge" in request.path:  # a chunked answer, no Content-Length: counted as read
            response = web.StreamResponse()
            await response.prepare(request)
            for _ in range(ANSWER_AT_MOST // 65536 + 2):
                await response.write(b" " * 65536)
            return response
        return web.json_response({"value": "ok"})

    server = web.Application()
    server.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    requests = session("balagh", "s3cret")
    yield AriRest(requests, operations_of(describe(f"http://127.0.0.1:{port}/ari"))), seen
    await requests.close()
    await runner.cleanup()


async def test_path_query_and_body_parameters_go_where_asterisk_describes_them(ari):
    rest, seen = ari
    await rest.channels.playWithId(channelId="c/1 2", playbackId="p1",
                                   media=["sound:a", "sound:b"], skipms=None)
    await rest.channels.snoopChannelWithId(channelId="c1", snoopId="s1", app="balagh",
                                           variables={"X": "1"})
    assert seen[0]["method"] == "POST"
    assert seen[0]["path"] == "/ari/channels/c%2F1%202/play/p1"
    assert seen[0]["query"] == {"media": "sound:a,sound:b"}  # None is left out
    assert seen[0]["body"] is None
    assert seen[0]["auth"] == "Basic YmFsYWdoOnMzY3JldA=="
    assert seen[1]["query"] == {"app": "balagh"}
    assert seen[1]["body"] == {"variables": {"X": "1"}}


async def test_answers_are_json_or_none(ari):
    rest, _ = ari
    assert await rest.channels.getChannelVar(channelId="c1", variable="V") == {"value": "ok"}
    assert await rest.channels.answer(channelId="c1") is None


async def test_an_answer_past_the_bound_is_refused_not_kept(ari):
    rest, _ = ari
    with pytest.raises(AriAnswerTooLarge):
        await rest.channels.getChannelVar(channelId="huge", variable="V")
    assert await rest.channels.getChannelVar(channelId="c1", variable="V") == {"value": "ok"}


async def test_an_error_status_is_raised_with_it_and_with_aris_message(ari):
    rest, _ = ari
    with pytest.raises(AriRequestError, match="404 Channel not found") as raised:
        await rest.channels.answer(channelId="gone")
    assert http_status(raised.value) == 404


async def test_a_wrong_call_is_refused_before_anything_is_sent(ari):
    rest, seen = ari
    with pytest.raises(TypeError, match="missing \\['media'\\]"):
        await rest.channels.playWithId(channelId="c1", playbackId="p1")
    with pytest.raises(TypeError, match="unknown \\['colour'\\]"):
        await rest.channels.answer(channelId="c1", colour="red")
    with pytest.raises(AttributeError):
        rest.channels.dance  # noqa: B018
    with pytest.raises(AttributeError):
        rest.events.eventWebsocket  # noqa: B018 (the websocket is asyncari's)
    assert seen == []


async def test_a_closed_connection_sends_nothing_and_says_so():
    requests = session("balagh", "x")
    await requests.close()
    rest = AriRest(requests, operations_of(describe("http://127.0.0.1:9/ari")))
    with pytest.raises(AriSessionClosed):
        await rest.channels.answer(channelId="c1")


async def test_the_event_filter_is_the_body_itself(ari):
    rest, seen = ari
    await rest.allow_events("balagh", {"StasisStart", "ChannelDtmfReceived"})
    assert seen[0]["method"] == "PUT"
    assert seen[0]["path"] == "/ari/applications/balagh/eventFilter"
    assert seen[0]["body"] == {"allowed": [{"type": "ChannelDtmfReceived"},
                                           {"type": "StasisStart"}]}


async def test_long_query_parameters_go_in_a_json_body(ari):
    rest, seen = ari
    await rest.channels.getChannelVar(channelId="c1", variable="V" * 2000)
    assert seen[0]["query"] == {} and seen[0]["body"] == {"variable": "V" * 2000}


def test_the_event_reader_hands_on_dicts_and_skips_what_is_not_an_event():
    from balagh.ari.connect import _EventsAsDicts

    seen: list[dict[str, Any]] = []
    reader = _EventsAsDicts.__new__(_EventsAsDicts)  # no connection: only the parsing
    reader._sink = seen.append
    reader._hand_on('{"type": "StasisStart", "channel": {"id": "c1"}}')
    reader._hand_on("not json")
    reader._hand_on('["a list"]')
    reader._hand_on('{"no": "type"}')
    assert seen == [{"type": "StasisStart", "channel": {"id": "c1"}}]
