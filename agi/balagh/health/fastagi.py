"""The FastAGI line of `balagh health` on a FastAGI-only site (ari.enabled false).

It plays Asterisk's part of one session against the `health` route (fastagi/ping.py):
connect, send the agi_* headers, read the NOOP, answer it, see the session end. So a
green line means the listener accepts, the event loop serves sessions and the route
service is in place, as an AGI() of a caller would find it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

from balagh.config import FastAgiSettings
from balagh.fastagi.ping import PING_COMMAND, PING_SCRIPT
from balagh.health.report import Check, Status
from balagh.timeouts import within

STEP_SECONDS = 3.0  # each of connect, the command, the close


def _headers() -> bytes:
    lines = [f"agi_network_script: {PING_SCRIPT}", f"agi_uniqueid: health-{os.getpid()}",
             "agi_channel: balagh/health", "agi_callerid: unknown"]
    return ("\n".join(lines) + "\n\n").encode()


async def fastagi_check(settings: FastAgiSettings, name: str = "app") -> Check:
    """OK when a session is served end to end; DOWN (callers go to the general queue by
    the dialplan's fallback) when the listener is not there or does not answer."""
    where = f"agi://{settings.host}:{settings.port}"
    data = {"url": where, "mode": "fastagi-only"}
    started = time.monotonic()
    try:
        reader, writer = await within(
            asyncio.open_connection(settings.host, settings.port), STEP_SECONDS)
    except (OSError, TimeoutError) as exc:
        return Check(name, Status.DOWN, f"no FastAGI listener at {where} "
                     f"({exc.strerror if isinstance(exc, OSError) else 'no answer'}): "
                     "is `balagh run` running? callers go to the general queue", data)
    try:
        writer.write(_headers())
        await writer.drain()
        command = await within(reader.readline(), STEP_SECONDS)
        if command.decode("utf-8", "replace").strip() != PING_COMMAND:
            return Check(name, Status.DOWN, f"FastAGI at {where} did not run the health "
                         f"route (sent {command[:60]!r}): another service on that port?",
                         data)
        writer.write(b"200 result=0\n")
        await writer.drain()
        await within(reader.read(), STEP_SECONDS)  # the session ends: closed
    except (OSError, TimeoutError) as exc:
        return Check(name, Status.DOWN, f"FastAGI at {where} accepted but did not serve a "
                     f"session: {type(exc).__name__}", data)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    millis = (time.monotonic() - started) * 1000
    return Check(name, Status.OK, f"FastAGI at {where} served a session in {millis:.0f} ms "
                 "(FastAGI-only site)", {**data, "round_trip_ms": round(millis, 1)})


__all__ = ["fastagi_check"]
