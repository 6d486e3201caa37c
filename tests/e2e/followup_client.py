"""A unit's side of the follow-up API (docs/units.md), for the e2e files that post to the
running app: a status signed with the session unit's secret (conftest's HOOK_SECRET)."""

from __future__ import annotations

import json
import socket
import time

import aiohttp

from balagh.handover.signature import HEADER, sign

from .conftest import HOOK_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def post(port: int, reference: str, payload: dict[str, object], request_id: str,
               t: int | None = None) -> tuple[int, dict[str, object]]:
    """POST the signed status `payload` for `reference`; the answer's HTTP status and body.
    `t`: the signature's timestamp (default now)."""
    body = json.dumps(payload).encode()
    header = sign(body, HOOK_SECRET, delivery_id=request_id,
                  timestamp=int(time.time()) if t is None else t)
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{port}/units/v1/reports/{reference}/status", data=body,
            headers={HEADER: header, "Content-Type": "application/json"}) as answer:
        return answer.status, await answer.json()
