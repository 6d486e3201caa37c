"""`balagh health` on a FastAGI-only site (ari.enabled false): the app line is a real AGI
session with a real FastAGI server, and nothing connects to ARI."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from balagh.config import AriSettings, FastAgiSettings, Settings
from balagh.fastagi.ping import PING_SCRIPT, answer_ping
from balagh.fastagi.server import FastAgiServer, serve
from balagh.health.fastagi import fastagi_check
from balagh.health.probes import run_probes
from balagh.health.report import Status


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def fastagi() -> AsyncIterator[tuple[FastAgiServer, int]]:
    app = FastAgiServer(header_seconds=1, session_seconds=2)
    app.add_route(PING_SCRIPT, answer_ping)
    listening = await serve(app, "127.0.0.1", 0)
    try:
        yield app, int(listening.sockets[0].getsockname()[1])
    finally:
        listening.close()
        await listening.wait_closed()


async def test_a_served_session_is_ok(fastagi: tuple[FastAgiServer, int]) -> None:
    app, port = fastagi
    check = await fastagi_check(FastAgiSettings(port=port))
    assert check.status is Status.OK, check.summary
    assert f"agi://127.0.0.1:{port} served a session" in check.summary
    assert app.admitted == 1 and not app.sessions  # one session, ended


async def test_no_listener_is_down() -> None:
    check = await fastagi_check(FastAgiSettings(port=closed_port()))
    assert check.status is Status.DOWN
    assert "no FastAGI listener" in check.summary and "general queue" in check.summary


async def test_another_service_on_the_port_is_down() -> None:
    async def not_agi(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(not_agi, "127.0.0.1", 0)
    try:
        port = int(server.sockets[0].getsockname()[1])
        check = await fastagi_check(FastAgiSettings(port=port))
    finally:
        server.close()
        await server.wait_closed()
    assert check.status is Status.DOWN
    assert "did not run the health route" in check.summary


async def test_probes_of_a_fastagi_only_site_never_touch_ari(
        fastagi: tuple[FastAgiServer, int]) -> None:
    _, port = fastagi
    ari_connections = 0

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal ari_connections
        ari_connections += 1
        writer.close()

    ari = await asyncio.start_server(counted, "127.0.0.1", 0)
    try:
        ari_port = int(ari.sockets[0].getsockname()[1])
        settings = replace(Settings(), ari=AriSettings(enabled=False,
                                                       url=f"http://127.0.0.1:{ari_port}/"),
                           fastagi=FastAgiSettings(port=port))
        checks = {check.name: check
                  for check in await run_probes(settings, ("ari", "app", "watchdog"))}
    finally:
        ari.close()
        await ari.wait_closed()
    assert {name: check.status for name, check in checks.items()} == \
        {"ari": Status.OK, "app": Status.OK, "watchdog": Status.OK}
    assert "FastAGI-only" in checks["ari"].summary
    assert ari_connections == 0
