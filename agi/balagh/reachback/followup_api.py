"""The units' follow-up API on the app's inbound listener (docs/units.md):

    POST /units/v1/reports/{reference}/status   {"status": "resolved", "reason": "..."}

signed like the webhooks (handover/signature.py: Balagh-Signature t, id, v1) with the secret
of one of handover.yaml's endpoints. The unit is that secret's name; it may write only to
reports routed to a queue whose endpoints it has: any other reference is 404, the same as
one that does not exist, so a unit cannot probe references. An id already taken from the
unit is 200 "duplicate" and changes nothing. Answers: 200, 400 (the field named), 401,
404, 409 (the transition refused), 413, 503 (the store lost the write: send it again).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog
from aiohttp import web

from balagh.handover.load import HandoverConfig
from balagh.handover.signature import HEADER, REPLAY_WINDOW, Signed, verified
from balagh.store.followups import FollowupRows
from balagh.store.queries import Queries

from .followup import MAX_BODY_BYTES, RESOLVED, BadBody, parse_update, refusal

log = structlog.get_logger(__name__)

__all__ = ["PATH", "FollowupApi", "Resolved", "ResolvedListener"]

PATH = "/units/v1/reports/{reference}/status"
MAX_ID = 100  # characters of the signed id the unit chose (kept with every status)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A unit said a report is resolved (the SMS sender texts the caller, with consent)."""

    reference: str
    call_id: str
    queue: str | None
    unit: str
    at: datetime


class ResolvedListener(Protocol):
    """Told once per status taken as resolved; must not block (queue work, return)."""

    def __call__(self, resolved: Resolved) -> None: ...


class FollowupApi:
    def __init__(self, rows: FollowupRows, reports: Queries,
                 handover: Callable[[], HandoverConfig], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.rows = rows
        self.reports = reports
        self.handover = handover  # the live hotline's, read at each request
        self.clock = clock
        self.on_resolved: list[ResolvedListener] = []
        # One update at a time: the transition is checked against what is committed.
        self._lock = asyncio.Lock()

    async def handle(self, request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _answer(413, error="body too large", limit=MAX_BODY_BYTES)
        body = await request.read()  # bounded by the listener's max_body_bytes too
        if len(body) > MAX_BODY_BYTES:  # chunked, without a length
            return _answer(413, error="body too large", limit=MAX_BODY_BYTES)
        signer = self._signer(body, request.headers.get(HEADER))
        if signer is None:
            log.warning("followup.unsigned", peer=request.remote)
            return _answer(401, error="signature",
                           detail=f"{HEADER} missing, wrong, or outside {REPLAY_WINDOW} s")
        unit, signed = signer
        reference = request.match_info["reference"]
        report = await self.reports.get_report(reference)
        if report is None or report.reference != reference or not report.queue \
                or unit not in self._units_of(report.queue):
            log.info("followup.not_found", unit=unit)
            return _answer(404, error="no such report for this unit")
        async with self._lock:
            return await self._apply(unit, signed, report.reference, report.call_id,
                                     report.queue, body)

    async def _apply(self, unit: str, signed: Signed, reference: str, call_id: str,
                     queue: str, body: bytes) -> web.Response:
        if len(signed.id) > MAX_ID:
            return _answer(400, error=f"longer than {MAX_ID} characters", field="id")
        if await self.rows.taken(unit, signed.id) is not None:
            return _answer(200, result="duplicate", id=signed.id)
        try:
            update = parse_update(body)
        except BadBody as bad:
            return _answer(400, error=bad.problem, field=bad.field)
        latest = await self.rows.latest(reference)
        current = latest.status if latest is not None else None
        if why := refusal(current, update):
            return _answer(409, error=why, current=current, status=update.status)
        now = datetime.fromtimestamp(self.clock(), UTC)
        taken = await self.rows.record(
            unit=unit, id=signed.id, reference=reference, call_id=call_id, queue=queue,
            status=update.status, reason=update.reason,
            signed_at=datetime.fromtimestamp(signed.timestamp, UTC), at=now)
        if not taken:
            return _answer(503, error="not stored: send it again with the same id")
        log.info("followup.status", reference=reference, unit=unit, status=update.status)
        if update.status == RESOLVED:
            self._tell(Resolved(reference, call_id, queue, unit, now))
        return _answer(200, result="taken", status=update.status, id=signed.id)

    def _signer(self, body: bytes, header: str | None) -> tuple[str, Signed] | None:
        """The unit (secret name) whose secret signs `body`, within the replay window."""
        if not header:
            return None
        now = self.clock()
        tried: set[str] = set()
        for endpoints in self.handover().endpoints.values():
            for endpoint in endpoints:
                if endpoint.secret_name in tried or not endpoint.secret_name:
                    continue
                tried.add(endpoint.secret_name)
                signed = verified(body, endpoint.secret, header, now=now)
                if signed is not None:
                    return endpoint.secret_name, signed
        return None

    def _units_of(self, queue: str) -> set[str]:
        return {e.secret_name for e in self.handover().endpoints_for(queue)}

    def _tell(self, resolved: Resolved) -> None:
        for listener in self.on_resolved:
            try:
                listener(resolved)
            except Exception:  # a subscriber's fault is its own: the unit has its 200
                log.exception("followup.listener_failed", reference=resolved.reference)


def _answer(http_status: int, /, **fields: object) -> web.Response:
    return web.json_response(fields, status=http_status)
