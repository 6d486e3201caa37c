"""A flood of FastAGI connections never takes the descriptors the app needs for its own links.

Real sockets: another process opens more idle connections than the session cap to a real
FastAgiServer in this process, whose descriptor limit is lowered to the usual 1024; this
process's own outbound HTTP connection (to a real local aiohttp server, as to ARI or a
unit's system) must still succeed, and the connections over the cap are closed at once.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from balagh.fastagi.server import FastAgiServer, serve
from balagh.fdlimit import RESERVED_FDS, fastagi_session_cap, raise_soft_limit

USUAL_LIMIT = 1024
FLOOD = 1100  # what starved the app under the usual limit

FLOODER = textwrap.dedent("""
    import resource, select, socket, sys
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port, count = int(sys.argv[1]), int(sys.argv[2])
    held = []
    for _ in range(count):
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        held.append(s)
    print("connected", len(held), flush=True)
    sys.stdin.readline()  # the test has seen the server count them all
    closed, poller = set(), select.poll()
    for s in held:
        poller.register(s, select.POLLIN | select.POLLHUP)
    by_fd = {s.fileno(): s for s in held}
    while True:  # until no more closes come for a second
        ready = poller.poll(1000)
        if not ready:
            break
        for fd, _ in ready:
            poller.unregister(fd)
            s = by_fd[fd]
            try:
                data = s.recv(1)
            except OSError:
                data = b""
            if not data:
                closed.add(fd)
    print("closed", len(closed), flush=True)
    sys.stdin.readline()  # hold the rest until the test is done
""")


@pytest.fixture
def usual_limit() -> Iterator[int]:
    """This process's soft limit at the usual 1024 for the test (given back after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < USUAL_LIMIT:
        pytest.skip(f"hard descriptor limit {hard} is below {USUAL_LIMIT}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (USUAL_LIMIT, hard))
    try:
        yield USUAL_LIMIT
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@dataclass
class Flood:
    connected: int  # connections the flooder opened
    admitted: int  # sessions the server took
    over_capacity: int  # connections it closed at once
    closed_seen: int  # of the flooder's connections, those it saw closed
    fds_in_use: int  # this process's descriptors while the flood is held
    outbound: int  # HTTP status of this process's own request meanwhile


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def fds_in_use() -> int:
    return len(os.listdir("/proc/self/fd"))


async def flood(server: FastAgiServer, count: int, *, settle: bool = True) -> Flood:
    """`count` idle connections from another process; meanwhile one request of our own
    (once the server has seen them all; without `settle`, as soon as they are open)."""
    listener = await serve(server, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    web_app = web.Application()
    web_app.router.add_get("/", hello)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    web_port = runner.addresses[0][1]
    flooder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FLOODER, str(port), str(count),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert flooder.stdin is not None and flooder.stdout is not None
    try:
        connected = int((await flooder.stdout.readline()).split()[1])

        async def closed_seen() -> int:  # the flooder waits until closes stop coming
            flooder.stdin.write(b"count\n")
            await flooder.stdin.drain()
            return int((await flooder.stdout.readline()).split()[1])

        closed = await closed_seen() if settle else None
        in_use = fds_in_use()
        try:
            async with aiohttp.ClientSession() as session, \
                    session.get(f"http://127.0.0.1:{web_port}/") as answer:
                outbound = answer.status
        except OSError:  # EMFILE: no descriptor left for the app's own link
            outbound = 0
        if closed is None:
            closed = await closed_seen()
        return Flood(connected, server.admitted, server.over_capacity, closed, in_use,
                     outbound)
    finally:
        if flooder.returncode is None:
            flooder.kill()
        await flooder.wait()
        listener.close()
        for task in list(server.sessions):
            task.cancel()
        await asyncio.gather(*server.sessions, return_exceptions=True)
        await runner.cleanup()


async def test_a_flood_past_the_cap_leaves_descriptors_for_the_apps_own_links(
        usual_limit: int) -> None:
    cap = fastagi_session_cap(usual_limit)
    assert cap == usual_limit - RESERVED_FDS
    # Idle peers stay idle; the clock stands still, so the refusals log one line only.
    server = FastAgiServer(header_seconds=60, max_sessions=cap, clock=lambda: 0.0)
    with capture_logs() as logs:
        result = await flood(server, FLOOD)
    print(f"\nfastagi flood under soft limit {usual_limit}: {result}")
    assert result.connected == FLOOD
    assert result.admitted == cap
    assert result.over_capacity == FLOOD - cap
    assert result.closed_seen == result.over_capacity  # closed at once, not left hanging
    assert result.outbound == 200
    assert result.fds_in_use < usual_limit
    refusals = [entry for entry in logs if entry["event"] == "fastagi.over_capacity"]
    assert len(refusals) == 1 and refusals[0]["max_sessions"] == cap


def test_the_soft_limit_is_raised_toward_the_hard_limit(usual_limit: int) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    wanted = usual_limit * 4
    raised = raise_soft_limit(wanted)
    expected = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    assert raised == expected == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert fastagi_session_cap(raised) > fastagi_session_cap(usual_limit)
