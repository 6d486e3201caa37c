"""AriRest: ARI's operations, typed, sent by the aiohttp transport to a real HTTP server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from balagh.ari.call import http_status
from balagh.ari.connect import connect, read_events
from balagh.ari.rest import (
    AriAnswerTooLarge,
    AriBadAnswer,
    AriRequestError,
    AriRest,
    AriSessionClosed,
)
from balagh.ari.transport import ANSWER_AT_MOST, AriTransport, session

from .ari_description import described, running_modules


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
        if "listy" in request.path:
            return web.json_response(["not", "an", "object"])
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
    transport = AriTransport(session("balagh", "s3cret"), f"http://127.0.0.1:{port}/")
    yield AriRest(transport.send), seen
    await transport.close()
    await runner.cleanup()


async def test_path_query_and_body_parameters_go_where_asterisk_describes_them(ari):
    rest, seen = ari
    await rest.channels.playWithId(channelId="c/1 2", playbackId="p1",
                                   media=["sound:a", "sound:b"], skipms=None)
    await rest.channels.snoopChannelWithId(channelId="c1", snoopId="s1", app="balagh",
                                           spy=None, appArgs="tell,c1")
    assert seen[0]["method"] == "POST"
    assert seen[0]["path"] == "/ari/channels/c%2F1%202/play/p1"
    assert seen[0]["query"] == {"media": "sound:a,sound:b"}  # None is left out
    assert seen[0]["body"] is None
    assert seen[0]["auth"] == "Basic YmFsYWdoOnMzY3JldA=="
    assert seen[1]["path"] == "/ari/channels/c1/snoop/s1"
    assert seen[1]["query"] == {"app": "balagh", "appArgs": "tell,c1"}


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
    with pytest.raises(TypeError, match="'media'"):
        await rest.channels.playWithId(channelId="c1", playbackId="p1")
    with pytest.raises(TypeError, match="'colour'"):
        await rest.channels.answer(channelId="c1", colour="red")
    with pytest.raises(AttributeError):
        rest.channels.dance  # noqa: B018
    with pytest.raises(AttributeError):
        rest.events.eventWebsocket  # noqa: B018 (the websocket is connect.py's)
    assert seen == []


async def test_a_closed_connection_sends_nothing_and_says_so():
    transport = AriTransport(session("balagh", "x"), "http://127.0.0.1:9/")
    await transport.close()
    rest = AriRest(transport.send)
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




async def test_a_read_answered_with_no_object_is_a_clear_error(ari):
    rest, _ = ari
    with pytest.raises(AriBadAnswer, match="answer is list, not a JSON object"):
        await rest.channels.get(channelId="listy")


# ------------------------------------------------------------------ the event websocket

FRAMES = ['{"type": "StasisStart", "channel": {"id": "c1"}}', "not json", '["a list"]',
          '{"no": "type"}', '{"type": "ChannelDtmfReceived", "digit": "5"}']


@pytest.fixture
async def asterisk() -> AsyncIterator[dict[str, Any]]:
    """ARI's websocket and one REST operation on a real aiohttp server. The websocket
    sends FRAMES (and a binary frame) and closes once `state["close"]` is set."""
    state: dict[str, Any] = {"close": asyncio.Event(), "opened": [], "release": asyncio.Event()}

    async def events(request: web.Request) -> web.StreamResponse:
        if state.get("refuse"):
            return web.Response(status=403)
        state["opened"].append({"app": request.query.get("app"),
                                "auth": request.headers.get("Authorization")})
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        for frame in FRAMES:
            await websocket.send_str(frame)
        await websocket.send_bytes(b"\x00")
        await state["close"].wait()
        await websocket.close()
        return websocket

    async def variable(request: web.Request) -> web.Response:
        return web.json_response({"value": request.query["variable"]})

    async def docs(request: web.Request) -> web.Response:
        if state.get("hang"):
            await state["release"].wait()  # ARI's HTTP side hung
        state["docs_read"] = state.get("docs_read", 0) + 1
        if (doc := state["docs"].get(request.path)) is None:
            return web.json_response({"message": "Not found"}, status=404)
        return web.json_response(doc)

    async def modules(request: web.Request) -> web.Response:
        return web.json_response(state["modules"])

    server = web.Application()
    server.router.add_get("/ari/events", events)
    server.router.add_get("/ari/asterisk/variable", variable)
    server.router.add_get("/ari/asterisk/modules", modules)
    server.router.add_get("/ari/api-docs/{name}", docs)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    state["docs"] = described(state["url"] + "ari")
    state["modules"] = running_modules()
    yield state
    state["close"].set()
    state["release"].set()
    await runner.cleanup()


async def test_events_are_handed_on_as_dicts_and_a_close_is_seen(asterisk):
    seen: list[dict[str, Any]] = []
    two = asyncio.Event()

    def sink(event: dict[str, Any]) -> None:
        seen.append(event)
        if len(seen) == 2:
            two.set()

    async with connect(asterisk["url"], "balagh", "balagh", "s3cret", sink) as link:
        answer = await link.rest.asterisk.getGlobalVar(variable="BEAT")
        assert answer == {"value": "BEAT"}  # REST on the same session
        await asyncio.wait_for(two.wait(), 5)
        assert not link.closed.is_set()
        asterisk["close"].set()
        await asyncio.wait_for(link.closed.wait(), 5)
    assert seen == [json.loads(FRAMES[0]), json.loads(FRAMES[4])]  # the rest skipped
    assert asterisk["opened"] == [{"app": "balagh", "auth": "Basic YmFsYWdoOnMzY3JldA=="}]


async def test_an_event_past_the_bound_ends_the_websocket_not_the_process(asterisk):
    seen: list[dict[str, Any]] = []
    closed = asyncio.Event()
    transport = AriTransport(session("balagh", "s3cret"), asterisk["url"])
    try:
        websocket = await transport.websocket(asterisk["url"] + "ari/events?app=balagh", 40)
        await asyncio.wait_for(read_events(websocket, seen.append, closed), 5)
    finally:
        await transport.close()
    # The first frame (47 bytes) is over the bound: the link ends there, to be re-made.
    assert closed.is_set() and seen == []


async def test_the_websocket_refused_is_an_error_at_connect(asterisk):
    asterisk["refuse"] = True
    with pytest.raises(aiohttp.WSServerHandshakeError):
        async with connect(asterisk["url"], "balagh", "u", "p",
                           lambda _event: None):
            pass  # pragma: no cover (never opened)



async def test_a_link_whose_requests_hang_is_not_handed_out(asterisk, monkeypatch):
    monkeypatch.setattr("balagh.ari.connect.HTTP_CHECK_TIMEOUT_SECONDS", 0.2)
    asterisk["hang"] = True
    with pytest.raises(TimeoutError):
        async with connect(asterisk["url"], "balagh", "u", "p", lambda _event: None):
            pass  # pragma: no cover (never handed out)
    assert asterisk["opened"] == []  # no websocket: the Stasis app was not registered
