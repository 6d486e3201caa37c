"""The app's inbound HTTP listener: routes served, bodies and time bounded, a taken port
logged and not fatal."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from balagh.config import InboundSettings
from balagh.inbound import InboundServer, serve_inbound


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def echo(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    return web.json_response({"length": len(body)})


async def never(request: web.Request) -> web.StreamResponse:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.fixture
async def served() -> AsyncIterator[InboundServer]:
    server = InboundServer(InboundSettings(enabled=True, port=free_port(),
                                           max_body_bytes=1024, request_seconds=1))
    server.add_route("POST", "/echo", echo)
    server.add_route("GET", "/never", never)
    task = asyncio.create_task(serve_inbound(server))
    await asyncio.wait_for(server.started.wait(), 10)
    yield server
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_registered_route_answers(served: InboundServer) -> None:
    async with aiohttp.ClientSession() as http, \
            http.post(f"http://127.0.0.1:{served.port}/echo", data=b"x" * 10) as answer:
        assert answer.status == 200
        assert await answer.json() == {"length": 10}


async def test_a_body_over_the_cap_is_refused(served: InboundServer) -> None:
    async with aiohttp.ClientSession() as http, \
            http.post(f"http://127.0.0.1:{served.port}/echo", data=b"x" * 4096) as answer:
        assert answer.status == 413


async def test_a_request_past_its_time_is_cut(served: InboundServer) -> None:
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{served.port}/never") as answer:
        assert answer.status == 503


async def test_an_unknown_path_is_404(served: InboundServer) -> None:
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{served.port}/nothing") as answer:
        assert answer.status == 404


async def test_a_taken_port_is_logged_not_raised() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        server = InboundServer(InboundSettings(enabled=True, port=port))
        await asyncio.wait_for(serve_inbound(server), 10)  # returns, no exception
        assert not server.started.is_set()
