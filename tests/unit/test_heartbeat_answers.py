"""The heartbeat over ARI's HTTP side that receives requests but stops answering them (a
real aiohttp server): after a miss, nothing is written until a read is answered, so a
heartbeat never advances on a link whose answers do not come back (the watchdog would
keep away from callers nobody serves)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from balagh.ari import liveness
from balagh.ari.liveness import Heartbeat, HeartbeatLost
from balagh.ari.rest import AriRest
from balagh.ari.transport import AriTransport, session

APP = "balagh"


@pytest.fixture
async def asterisk() -> AsyncIterator[dict[str, Any]]:
    """Every request is recorded as it arrives ("write", "read", "echo"); while `hung`
    (set from the `hang_at_write`th write on), or for the next `hang_next` requests, none
    is answered."""
    state: dict[str, Any] = {"seen": [], "hung": False, "hang_next": 0, "hang_at_write": 0,
                             "release": asyncio.Event()}

    async def arrive(kind: str) -> None:
        state["seen"].append(kind)
        if kind == "write" and state["seen"].count("write") == state["hang_at_write"]:
            state["hung"] = True
        if state["hung"] or state["hang_next"]:
            state["hang_next"] = max(0, state["hang_next"] - 1)
            await state["release"].wait()  # received, never answered

    async def variable(request: web.Request) -> web.Response:
        await arrive("write" if request.method == "POST" else "read")
        return web.json_response({"value": "x"}) if request.method == "GET" \
            else web.Response(status=204)

    async def user_event(request: web.Request) -> web.Response:
        await arrive("echo")
        return web.Response(status=204)

    server = web.Application()
    server.router.add_route("*", "/ari/asterisk/variable", variable)
    server.router.add_post("/ari/events/user/{name}", user_event)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    transport = AriTransport(session("balagh", "s3cret"),
                             f"http://127.0.0.1:{runner.addresses[0][1]}/")
    state["rest"] = AriRest(transport.send)
    yield state
    state["release"].set()
    await transport.close()
    await runner.cleanup()


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(liveness, "HEARTBEAT_SECONDS", 0.0)
    monkeypatch.setattr(liveness, "REQUEST_TIMEOUT_SECONDS", 0.2)


async def test_no_write_reaches_asterisk_after_a_miss_while_answers_stay_away(asterisk):
    heartbeat = Heartbeat(asterisk["rest"], APP)
    await heartbeat.beat()
    assert asterisk["seen"] == ["write", "echo"]
    asterisk["hung"] = True
    with pytest.raises(HeartbeatLost, match="3 heartbeats in a row failed"):
        await heartbeat.run()
    # The write in flight when answers stopped, then reads only: the value Asterisk holds
    # stopped with the last write sent.
    assert asterisk["seen"][2:] == ["write", "read", "read"]


async def test_writes_resume_once_a_read_is_answered(asterisk):
    heartbeat = Heartbeat(asterisk["rest"], APP, clock=lambda: 0.0)  # no websocket: no echo
    asterisk["hang_next"] = 1  # one answer lost, then ARI answers again, until the 3rd write
    asterisk["hang_at_write"] = 3
    with pytest.raises(HeartbeatLost, match="3 heartbeats in a row failed"):
        await heartbeat.run()
    assert asterisk["seen"] == ["write", "read", "write", "echo",
                                "write", "read", "read"]
