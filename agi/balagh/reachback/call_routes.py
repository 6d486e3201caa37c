"""The console's view of the calls the app places, one implementation for every purpose
(store/callbacks.py's PURPOSES: callbacks, satisfaction calls): on the inbound listener,
GET /<table> lists a purpose's pending and failed rows and POST /<table>/<id>/cancel
cancels one of them, only a row of that purpose (another purpose's id is 404).

The console never writes the report store: it asks the app, on the loopback listener,
with a token only this machine's Balagh user can read (`callbacks.token` in the data
folder, 0600, made at the app's start by the first purpose that is on). A purpose that is
off registers nothing: its paths are 404."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
from aiohttp import web

from balagh.inbound import InboundServer
from balagh.inbound.server import Handler
from balagh.store.callbacks import CALLBACK, SURVEY, CallbackRows, Purpose

__all__ = ["SHOWN", "TOKEN_FILE", "TOKEN_HEADER", "cancel_handler", "cancel_path",
           "list_handler", "list_path", "read_token", "serve_calls"]

log = structlog.get_logger(__name__)

TOKEN_FILE = "callbacks.token"
TOKEN_HEADER = "X-Balagh-Token"
SHOWN = ("pending", "failed", "no-answer")  # the wallboard's: waiting, and given up on
_MAX_BY = 64  # who cancelled, as the console names them
_CANCEL_LOGS: dict[str, Callable[..., None]] = {  # by name, as docs/operators.md lists them
    CALLBACK.table: lambda **f: log.info("callback.cancel", **f),
    SURVEY.table: lambda **f: log.info("survey.cancel", **f),
}


def list_path(purpose: Purpose = CALLBACK) -> str:
    """/callbacks, /survey_calls: the purpose's table (a constant, never from input)."""
    return f"/{purpose.table}"


def cancel_path(purpose: Purpose = CALLBACK) -> str:
    return f"{list_path(purpose)}/{{id}}/cancel"


def read_token(data_dir: Path, create: bool = False) -> str | None:
    """The local token (None: the app never made one, every purpose is off)."""
    path = data_dir / TOKEN_FILE
    try:
        found = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        found = ""
    if found or not create:
        return found or None
    # none yet, or an empty one a start cut short between creating and writing it left
    token = secrets.token_urlsafe(32)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(token, encoding="ascii")
    return token


def _authorised(request: web.Request, token: str) -> bool:
    given = request.headers.get(TOKEN_HEADER, "")
    return hmac.compare_digest(given.encode(), token.encode())


def cancel_handler(rows: CallbackRows, token: str) -> Handler:
    """A supervisor's cancel of one pending row of `rows`' purpose: 404 for an id that
    is not one of its rows, 409 for one no longer pending. Logged `<kind>.cancel`."""
    logged = _CANCEL_LOGS[rows.purpose.table]

    async def cancel(request: web.Request) -> web.StreamResponse:
        if not _authorised(request, token):
            return web.json_response({"error": "forbidden"}, status=403)
        raw_id = request.match_info.get("id", "")
        by = request.query.get("by", "")
        if not raw_id.isdigit() or not by or len(by) > _MAX_BY:
            return web.json_response({"error": f"want {list_path(rows.purpose)}/<number>"
                                               f"/cancel?by=<name> (a name of at most"
                                               f" {_MAX_BY} characters)"}, status=400)
        id = int(raw_id)
        if await rows.get(id) is None:
            logged(id=id, by=by, cancelled=False, known=False)
            return web.json_response({"error": f"no {rows.purpose.kind} call with this"
                                               " number"}, status=404)
        cancelled = await rows.cancel(id, by, datetime.now(UTC))
        logged(id=id, by=by, cancelled=cancelled)
        if not cancelled:
            return web.json_response({"error": "not pending (dialling, done or unknown)"},
                                     status=409)
        return web.json_response({"cancelled": id})

    return cancel


def list_handler(rows: CallbackRows, token: str) -> Handler:
    """The wallboard's rows of `rows`' purpose under its table's name (no number: the
    table holds none), oldest first."""
    key = rows.purpose.table

    async def listing(request: web.Request) -> web.StreamResponse:
        if not _authorised(request, token):
            return web.json_response({"error": "forbidden"}, status=403)
        found = await rows.listing(SHOWN)
        return web.json_response({key: [
            {"id": row.id, "reference": row.reference, "queue": row.queue,
             "status": row.status, "attempt": row.attempt, "created_at": row.created_at,
             "next_attempt_at": row.next_attempt_at, "last_outcome": row.last_outcome}
            for row in found]})

    return listing


def serve_calls(inbound: InboundServer, rows: CallbackRows, data_dir: Path) -> None:
    """Register `rows`' purpose's list and cancel routes, with the local token (made if
    this is the first purpose on)."""
    token = read_token(data_dir, create=True)
    assert token is not None
    inbound.add_route("GET", list_path(rows.purpose), list_handler(rows, token))
    inbound.add_route("POST", cancel_path(rows.purpose), cancel_handler(rows, token))
