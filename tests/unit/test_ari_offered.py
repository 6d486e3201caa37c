"""At connect, Asterisk must offer every operation the typed client sends: its description
(loaded by asyncswagger11's Loader through our transport) and its running modules, served
here by a real aiohttp server. A missing one fails the connect, naming it, before the
websocket registers the Stasis app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from structlog.testing import capture_logs

import balagh
from balagh.ari.connect import connect
from balagh.ari.description import (
    AriDescriptionUnreadable,
    AriOperationsMissing,
    check_offered,
    modules_needed,
)
from balagh.ari.liveness import Heartbeat
from balagh.ari.rest import OPERATIONS, AriRest
from balagh.ari.transport import CONNECTIONS, AriTransport, session
from balagh.supervised import Backoff, MarkUp, keep_up

from .ari_description import described, running_modules


@pytest.fixture
async def asterisk() -> AsyncIterator[dict[str, Any]]:
    state: dict[str, Any] = {"websockets": 0, "docs_read": [], "hung": 0,
                             "pool_full": asyncio.Event(), "release": asyncio.Event()}

    async def docs(request: web.Request) -> web.Response:
        state["docs_read"].append(request.path)
        if (doc := state["docs"].get(request.path)) is None:
            return web.json_response({"message": "Not found"}, status=404)
        return web.json_response(doc)

    async def modules(request: web.Request) -> web.Response:
        if state["modules"] is None:  # res_ari_asterisk not loaded
            return web.json_response({"message": "Resource not found"}, status=404)
        return web.json_response(state["modules"])

    async def events(request: web.Request) -> web.StreamResponse:
        state["websockets"] += 1
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        await websocket.close()
        return websocket

    async def hung(request: web.Request) -> web.Response:
        state["hung"] += 1
        if state["hung"] == CONNECTIONS:
            state["pool_full"].set()
        await state["release"].wait()  # not answered while the test runs
        return web.Response(status=204)

    async def answered(request: web.Request) -> web.Response:
        return web.Response(status=204)

    server = web.Application()
    server.router.add_post("/ari/channels/{id}/answer", hung)
    server.router.add_post("/ari/asterisk/variable", answered)
    server.router.add_post("/ari/events/user/{name}", answered)
    server.router.add_get("/ari/api-docs/{name}", docs)
    server.router.add_get("/ari/asterisk/modules", modules)
    server.router.add_get("/ari/events", events)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    state["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    state["docs"] = described(state["url"] + "ari")
    state["modules"] = running_modules()
    yield state
    state["release"].set()
    await runner.cleanup()


async def missing(url: str) -> list[str]:
    """What check_offered finds missing (nothing: Asterisk offers it all)."""
    transport = AriTransport(session("balagh", "s3cret"), url)
    try:
        await check_offered(transport, AriRest(transport.send))
    except AriOperationsMissing as exc:
        return exc.missing
    finally:
        await transport.close()
    return []


async def test_everything_offered_is_checked_through_our_transport(asterisk):
    assert await missing(asterisk["url"]) == []
    resources = {"channels", "bridges", "playbacks", "applications", "asterisk", "events"}
    assert set(asterisk["docs_read"]) == {"/ari/api-docs/resources.json"} | {
        f"/ari/api-docs/{name}.json" for name in resources}


async def test_a_module_not_loaded_fails_the_connect_naming_it(asterisk):
    asterisk["modules"] = running_modules(without={"res_stasis_snoop"})
    with pytest.raises(AriOperationsMissing) as refused:
        async with connect(asterisk["url"], "balagh", "u", "p", lambda _event: None):
            pass  # pragma: no cover (never handed out)
    assert str(refused.value) == ("Asterisk does not offer what Balagh sends: "
                                  "res_stasis_snoop not loaded (channels.snoopChannelWithId)")
    assert asterisk["websockets"] == 0  # the Stasis app was never registered


async def test_the_app_s_failed_connect_is_one_log_line_naming_what_lacks(asterisk):
    asterisk["modules"] = running_modules(without={"res_stasis_snoop"})
    attempts: list[int] = []
    retried = asyncio.Event()

    async def ari_session(mark_up: MarkUp) -> None:
        attempts.append(1)
        if len(attempts) == 2:  # the first attempt's failure has been logged
            retried.set()
            await asyncio.Event().wait()
        async with connect(asterisk["url"], "balagh", "u", "p", lambda _event: None):
            mark_up()  # pragma: no cover (never handed out)

    with capture_logs() as logs:
        running = asyncio.create_task(keep_up("ari", ari_session, Backoff(first=0.0)))
        await asyncio.wait_for(retried.wait(), 10)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    assert [(line["event"], line["error"]) for line in logs] == [(
        "connection.failed", "AriOperationsMissing: Asterisk does not offer what Balagh "
        "sends: res_stasis_snoop not loaded (channels.snoopChannelWithId)")]


async def test_the_heartbeat_never_waits_behind_the_calls_requests(asterisk):
    async with connect(asterisk["url"], "balagh", "u", "p", lambda _event: None) as link:
        calls = [asyncio.create_task(link.rest.channels.answer(channelId=f"c{n}"))
                 for n in range(CONNECTIONS + 1)]
        await asyncio.wait_for(asterisk["pool_full"].wait(), 10)  # every pooled link busy
        await asyncio.wait_for(Heartbeat(link.beats, "balagh").beat(), 10)
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
    assert asterisk["hung"] == CONNECTIONS  # the 33rd call still waits for a pooled link


async def test_a_resource_module_not_loaded_names_each_operation(asterisk):
    asterisk["modules"] = running_modules(without={"res_ari_bridges"})
    assert await missing(asterisk["url"]) == [
        "res_ari_bridges not loaded (bridges.createWithId, bridges.addChannel, "
        "bridges.destroy)"]
    asterisk["modules"] = None  # /asterisk/modules itself is res_ari_asterisk's
    assert "res_ari_asterisk not loaded (asterisk.getInfo, asterisk.listModules, " \
        "asterisk.getGlobalVar, asterisk.setGlobalVar)" in await missing(asterisk["url"])


async def test_an_operation_described_otherwise_is_named(asterisk):
    base = asterisk["url"] + "ari"
    asterisk["docs"] = described(
        base, without={"channels.dial"}, method={"playbacks.stop": "POST"},
        requires={"channels.create": {"otherChannelId", "formats", "variables"}})
    assert await missing(asterisk["url"]) == [
        "channels.create: requires variables",
        "channels.dial: no such operation",
        "playbacks.stop: described as POST /playbacks/{playbackId}"]
    del asterisk["docs"]["/ari/api-docs/events.json"]
    docs = asterisk["docs"]["/ari/api-docs/resources.json"]
    docs["apis"] = [api for api in docs["apis"] if "events" not in api["path"]]
    assert "events.userEvent: no resource events (res_ari_events)" in \
        await missing(asterisk["url"])


async def test_a_description_pointing_outside_ari_is_refused(asterisk):
    listing = asterisk["docs"]["/ari/api-docs/resources.json"]
    listing["apis"][0]["path"] = "/../../../elsewhere.{format}"
    with pytest.raises(AriDescriptionUnreadable, match="points outside ARI"):
        await missing(asterisk["url"])
    assert all(path.startswith("/ari/api-docs/") for path in asterisk["docs_read"])


async def test_a_description_that_is_not_swagger_is_refused(asterisk):
    del asterisk["docs"]["/ari/api-docs/resources.json"]["swaggerVersion"]
    with pytest.raises(AriDescriptionUnreadable, match="not valid"):
        await missing(asterisk["url"])


def test_the_shipped_module_list_loads_every_module_the_check_needs():
    """A site with `autoload = no` loads what config/asterisk/balagh_modules.conf names:
    every module the connect's check asks for must be there."""
    shipped = Path(balagh.__file__).resolve().parents[2] / "config/asterisk/balagh_modules.conf"
    loaded = {line.split("=>", 1)[1].strip().removesuffix(".so")
              for line in shipped.read_text().splitlines() if line.startswith("load =>")}
    needed = {module for operation in OPERATIONS for module in modules_needed(operation)}
    assert needed <= loaded, sorted(needed - loaded)
