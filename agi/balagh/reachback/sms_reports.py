"""Kannel's delivery reports, on the app's inbound listener: GET /sms/dlr/<token>?type=N.

The token is the text's own random one (32 characters of urlsafe base64, in the dlr-url
it was sent with): a report with any other token is refused (404) and changes nothing,
so nobody who does not hold the URL can forge one. `type` is Kannel's dlr type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from aiohttp import web

from balagh.inbound.server import Handler
from balagh.store.sms import DELIVERED, FAILED, SmsRows

from .sms import DLR_PREFIX

__all__ = ["OUTCOMES", "delivery_report_handler", "route_path"]

log = structlog.get_logger(__name__)

# Kannel's dlr types (dlr-mask=31 asks for all five).
OUTCOMES = {1: DELIVERED, 2: FAILED, 4: "buffered", 8: "smsc_accepted", 16: "smsc_rejected"}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def route_path() -> str:
    return DLR_PREFIX + "{token}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def delivery_report_handler(rows: SmsRows,
                            clock: Callable[[], datetime] = _utcnow) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        token = request.match_info.get("token", "")
        try:
            code = int(request.query.get("type", ""))
        except ValueError:
            return web.Response(status=400, text="type: Kannel's dlr type (1, 2, 4, 8, 16)\n")
        outcome = OUTCOMES.get(code)
        if outcome is None:
            return web.Response(status=400, text=f"type {code}: not a dlr type\n")
        if code == 16:
            outcome = FAILED  # the SMSC refused it: it will never arrive
        if not _TOKEN.fullmatch(token) or not await rows.delivery_report(
                token, code, outcome, clock()):
            log.warning("sms.report_unknown", code=code)
            return web.Response(status=404, text="no such text\n")
        log.info("sms.report", code=code, outcome=outcome)
        return web.Response(text="ok\n")

    return handle
