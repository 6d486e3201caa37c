"""The callbacks' part of `balagh run`'s composition: config/reachback.yaml's `callbacks:`
loaded and checked, the scheduler beside the outbox in the call path, the dialler on the
shared AMI session, and the console's cancel route on the inbound listener.

The console never writes the report store: it asks the app, on the loopback listener,
with a token only this machine's Balagh user can read (`callbacks.token` in the data
folder, 0600, made at the app's start). Callbacks off (the default): nothing registered."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import structlog
from aiohttp import web

from balagh.config import Settings
from balagh.handover.agents import QueueAgents
from balagh.handover.summary import Publisher
from balagh.inbound import InboundServer
from balagh.inbound.server import Handler
from balagh.routing import QueueState
from balagh.store.callbacks import CallbackRows
from balagh.store.queries import Queries

from .callbacks import CallbackDialler, CallbackPublisher, Originator
from .callbacks_config import load_callbacks_config

__all__ = ["CANCEL_PATH", "LIST_PATH", "TOKEN_FILE", "TOKEN_HEADER", "calling_back",
           "cancel_handler", "list_handler", "read_token"]

log = structlog.get_logger(__name__)

TOKEN_FILE = "callbacks.token"
TOKEN_HEADER = "X-Balagh-Token"
CANCEL_PATH = "/callbacks/{id}/cancel"
LIST_PATH = "/callbacks"
SHOWN = ("pending", "failed", "no-answer")  # the wallboard's: waiting, and given up on
_MAX_BY = 64  # who cancelled, as the console names them


def read_token(data_dir: Path, create: bool = False) -> str | None:
    """The local token (None: the app never made one, callbacks are off)."""
    path = data_dir / TOKEN_FILE
    try:
        return path.read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        if not create:
            return None
    token = secrets.token_urlsafe(32)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(token, encoding="ascii")
    return token


def cancel_handler(rows: CallbackRows, token: str) -> Handler:
    async def cancel(request: web.Request) -> web.StreamResponse:
        if not _authorised(request, token):
            return web.json_response({"error": "forbidden"}, status=403)
        raw_id = request.match_info.get("id", "")
        by = request.query.get("by", "")
        if not raw_id.isdigit() or not by or len(by) > _MAX_BY:
            return web.json_response({"error": "want /callbacks/<number>/cancel?by=<name>"
                                               f" (a name of at most {_MAX_BY} characters)"},
                                     status=400)
        cancelled = await rows.cancel(int(raw_id), by, datetime.now(UTC))
        log.info("callback.cancel", callback=int(raw_id), by=by, cancelled=cancelled)
        if not cancelled:
            return web.json_response({"error": "not pending (dialling, done or unknown)"},
                                     status=409)
        return web.json_response({"cancelled": int(raw_id)})

    return cancel


def _authorised(request: web.Request, token: str) -> bool:
    given = request.headers.get(TOKEN_HEADER, "")
    return hmac.compare_digest(given.encode(), token.encode())


def list_handler(rows: CallbackRows, token: str) -> Handler:
    """The wallboard's callbacks (no number: the table holds none), oldest first."""
    async def listing(request: web.Request) -> web.StreamResponse:
        if not _authorised(request, token):
            return web.json_response({"error": "forbidden"}, status=403)
        found = await rows.listing(SHOWN)
        return web.json_response({"callbacks": [
            {"id": row.id, "reference": row.reference, "queue": row.queue,
             "status": row.status, "attempt": row.attempt, "created_at": row.created_at,
             "next_attempt_at": row.next_attempt_at, "last_outcome": row.last_outcome}
            for row in found]})

    return listing


def calling_back(settings: Settings, rows: CallbackRows, reports: Queries, outbox: Publisher,
                 ami: Originator, queues: Callable[[], Mapping[str, QueueState]],
                 agents: Callable[[], Mapping[str, QueueAgents]], inbound: InboundServer,
                 ) -> tuple[Publisher, CallbackDialler | None]:
    """The call path's publisher and the dialler (None: callbacks are off). A bad
    reachback.yaml raises its ConfigError (file:line): `balagh run` does not start."""
    config = load_callbacks_config(settings.reachback_file)
    if not config.enabled:
        return outbox, None
    dialler = CallbackDialler(rows, reports, ami, queues, lambda: config, settings.zone,
                              agents=agents, agent_language=settings.agent_language)
    token = read_token(settings.data_dir, create=True)
    assert token is not None
    inbound.add_route("POST", CANCEL_PATH, cancel_handler(rows, token))
    inbound.add_route("GET", LIST_PATH, list_handler(rows, token))
    if not settings.inbound.enabled:
        log.warning("callback.no_inbound", hint="supervisors cannot cancel a callback from "
                    "the console: enable `inbound:` in balagh.yaml")
    log.info("callback.enabled", delay=config.delay_seconds, attempts=config.attempts)
    return CallbackPublisher(outbox, rows, lambda: config, dialler.wake), dialler
