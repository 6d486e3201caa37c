"""`agi://127.0.0.1:4573/health`: one AGI round trip for `balagh health`.

A FastAGI-only site has no heartbeat to read; what shows the service is well is a session
served end to end: headers read, one command sent (NOOP), its reply read. No report is
written and nothing is logged for it. The dialplan never calls it.
"""

from __future__ import annotations

from panoramisk.fast_agi import Request

from balagh.fastagi.channel import AgiCall, call_info

PING_SCRIPT = "health"
PING_COMMAND = "NOOP balagh-health"


async def answer_ping(request: Request) -> None:
    """Send one NOOP and read its reply (the server bounds the session's time)."""
    call = AgiCall(request.reader, request.writer, call_info(request.headers))
    await call.command(PING_COMMAND)


__all__ = ["PING_COMMAND", "PING_SCRIPT", "answer_ping"]
