"""The console's web application (Starlette): login, sessions, pages, the event stream,
the monitor button; the report pages are report_routes.py, what routes share context.py.

Every route but the login page and its static files needs a session; every POST needs
the session's CSRF token as well (form field `csrf` or header X-CSRF-Token). Every
login, refusal and action is written to the console's audit (accounts.py), from threads
of its own (offloop.py): nothing here blocks the event loop on SQLite. Request bodies are
capped by middleware (limits.py); the client's address is the peer's unless the peer is
a trusted proxy (clients.py).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from balagh.config import Settings
from balagh.stats.questions import menu_questions
from balagh.store.callbacks import PURPOSES, Purpose
from balagh.supervise.modes import Mode
from balagh.supervise.watch import SupervisorFile

from . import pages
from .access import ROLES, dial_phone
from .accounts import Accounts, Session
from .agent_routes import agent_home, agent_state, follow, pause, save_disposition, unpause
from .board import for_user
from .choices import configured_choices
from .clients import networks
from .context import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Console,
    authed,
    console_of,
    form_fields,
    html_page,
    language_of,
    remote_of,
)
from .csrf import new_token, token_ok
from .dispositions import DispositionBook
from .feed import Feed
from .limits import BodyLimit
from .metrics_route import console_registry, metrics_endpoint
from .offloop import AccountsOffLoop
from .report_routes import report, reports, reports_csv, stats

STATIC = Path(__file__).parent / "static"
KEEPALIVE_SECONDS = 15.0
SESSION_CHECK_SECONDS = 10.0  # an open stream looks its session up again this often


# ----------------------------------------------------------------------- login


async def login_form(request: Request) -> Response:
    console = console_of(request)
    if await console.accounts.session(request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse("/", 303)
    return _login_page(request, None, 200)


def _login_page(request: Request, error: str | None, status: int) -> Response:
    token = new_token()
    response = html_page(request, pages.login_page(language_of(request), token, error), status)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login",
                        secure=console_of(request).settings.console.secure_cookies)
    return response


async def login(request: Request) -> Response:
    console = console_of(request)
    form = await form_fields(request)
    if not token_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        await console.accounts.audit(form.get("name", "")[:64] or None, "csrf-refused",
                                     {"path": "/login"}, remote_of(request))
        return _login_page(request, "login_wrong", 403)
    name, password = form.get("name", "").strip(), form.get("password", "")
    # scrypt takes tens of milliseconds and SQLite may wait: off the event loop.
    outcome = await console.accounts.login(name, password, remote_of(request))
    if isinstance(outcome, str):
        return _login_page(request, "login_locked" if outcome == "locked" else "login_wrong",
                           401)
    token, _session = outcome
    response = RedirectResponse("/", 303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=console.settings.console.secure_cookies)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


async def logout(request: Request, session: Session) -> Response:
    console = console_of(request)
    await console.accounts.logout(request.cookies.get(SESSION_COOKIE, ""))
    await console.accounts.audit(session.user.name, "logout", remote=remote_of(request))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ------------------------------------------------------------ board and calls


async def wallboard(request: Request, session: Session) -> Response:
    return html_page(request, pages.wallboard_page(language_of(request), session.user.name,
                                                   session.csrf))


async def live(request: Request, session: Session) -> Response:
    return html_page(request, pages.live_page(
        language_of(request), session.user.name, session.csrf,
        several_nodes=bool(console_of(request).settings.nodes)))


def _state(console: Console, session: Session, version: int,
           snapshot: dict[str, Any]) -> dict[str, Any]:
    return {**for_user(snapshot, console.access(session)), "version": version}


async def state(request: Request, session: Session) -> Response:
    console = console_of(request)
    return JSONResponse(_state(console, session, console.feed.version, console.feed.snapshot))


async def events(request: Request, session: Session) -> Response:
    """Server-sent events: the whole state at once, then each change. EventSource comes
    back by itself after a drop (a restart of the console); the first message is again
    the whole state."""
    console = console_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)

    async def stream() -> AsyncIterator[str]:
        seen = -1
        current: Session | None = session
        checked = time.monotonic()
        yield "retry: 1000\n\n"  # come back within a second after a drop (a restart)
        while True:
            version, snapshot = await console.feed.next_snapshot(seen, KEEPALIVE_SECONDS)
            if time.monotonic() - checked >= SESSION_CHECK_SECONDS:
                try:
                    current = await console.accounts.session(cookie)
                except sqlite3.OperationalError:  # busy: keep telling, look again next time
                    pass
                checked = time.monotonic()
            if current is None:  # logged out or expired meanwhile: stop telling
                return
            if version == seen:
                yield ": keepalive\n\n"
                continue
            seen = version
            data = json.dumps(_state(console, current, version, snapshot), ensure_ascii=False)
            yield f"id: {version}\ndata: {data}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def monitor(request: Request, session: Session) -> Response:
    """Ring the supervisor's own phone into a call, as `balagh monitor` does: the same
    code (supervise/ring.py), so the phone gives its PIN and the app checks the queue and
    writes the monitoring audit. The console checks first, and audits the request."""
    console = console_of(request)
    form = await form_fields(request)
    reference, mode_word = form.get("reference", ""), form.get("mode", "listen")
    access = console.access(session)
    detail: dict[str, Any] = {"reference": reference, "mode": mode_word}

    async def refuse(status: int, why: str) -> Response:
        await console.accounts.audit(session.user.name, "monitor-refused",
                                     {**detail, "why": why}, remote_of(request))
        return JSONResponse({"error": why}, status)

    try:
        mode = Mode(mode_word)
    except ValueError:
        return await refuse(400, "unknown mode")
    if not reference.isdigit():
        return await refuse(400, "not a reference")
    call = next((c for c in console.feed.snapshot["calls"] if c["reference"] == reference), None)
    if call is not None and not access.may_monitor(call["queue"]):
        return await refuse(403, "not allowed on this queue (or no supervisor entry to ring)")
    if call is None or call["state"] != "talking":
        return await refuse(404, "no call being answered with this reference")
    phone = dial_phone(access.supervisor) if access.supervisor else None
    if phone is None:
        return await refuse(409, "no phone to ring: give the supervisor a TECH/endpoint phone")
    console.feed.ring(phone, reference, mode)
    await console.accounts.audit(session.user.name, "monitor-requested",
                                 {**detail, "phone": phone, "supervisor": access.supervisor.name
                                  if access.supervisor else None,
                                  "node": console.feed.node_of(reference)}, remote_of(request))
    return JSONResponse({"ringing": phone, "reference": reference, "mode": mode.value}, 202)


def cancel_placed(purpose: Purpose) -> Callable[[Request, Session], Awaitable[Response]]:
    """A supervisor cancels a pending call of `purpose` (a callback, a satisfaction call):
    asked of the app (the console never writes the report store), only a row of that
    purpose on the board, checked against the queues this user sees, and audited either
    way (`callback-cancelled`, `survey-cancel-refused`, ...)."""
    key, word = purpose.table, str(purpose.kind)

    async def cancel(request: Request, session: Session) -> Response:
        console = console_of(request)
        form = await form_fields(request)
        raw_id = form.get("id", "")
        detail: dict[str, Any] = {word: raw_id}
        shown = console.feed.snapshot.get(key) or []
        row = next((r for r in shown if str(r.get("id")) == raw_id), None)
        if not raw_id.isdigit() or row is None:
            status, said = 404, f"no pending {word} call with this number"
        elif not console.access(session).may_see(row.get("queue")):
            status, said = 403, "not allowed on this queue"
        else:
            detail["reference"] = row.get("reference")
            status, said = await console.feed.placed[key].cancel(int(raw_id),
                                                                 session.user.name)
        await console.accounts.audit(session.user.name, f"{word}-cancelled" if status == 200
                                     else f"{word}-cancel-refused", {**detail, "why": said},
                                     remote_of(request))
        if status == 200:
            console.feed.mark_stale()
            return JSONResponse({"cancelled": int(raw_id)})
        return JSONResponse({"error": said}, status)

    return cancel


# ------------------------------------------------------------------ the app


class SecurityHeaders:
    """No framing, scripts and styles from this origin only, nothing cached."""

    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [(b"content-security-policy",
                b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                b"form-action 'self'; base-uri 'none'"),
               (b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store")]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in self.HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, with_headers)


async def database_busy(_request: Request, _exc: Exception) -> Response:
    """console.sqlite3 stayed locked past the busy timeout: say so, quickly."""
    return PlainTextResponse("The console's database is busy: try again in a moment.\n", 503,
                             headers={"Retry-After": "1"})


def create_app(settings: Settings, *, accounts: Accounts | None = None,
               feed: Feed | None = None) -> Starlette:
    accounts = accounts or Accounts(settings.console_database,
                                    session_minutes=settings.console.session_minutes,
                                    lockout_attempts=settings.console.lockout_attempts,
                                    lockout_minutes=settings.console.lockout_minutes)
    choices = configured_choices(settings)
    # The configured queues: a tile each on the board even while AMI is down.
    feed = feed or Feed(settings, menu_questions(settings), choices.queues)
    off_loop = AccountsOffLoop(accounts)
    console = Console(settings, off_loop, feed, SupervisorFile(settings.supervisors_file),
                      networks(settings.console.trusted_proxies), choices,
                      dispositions=DispositionBook(accounts.path, settings.console.dispositions,
                                                   settings.console.note_max_chars))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await feed.start()
        desk = asyncio.create_task(follow(feed.ami, console.desk), name="console-desk")
        try:
            yield
        finally:
            desk.cancel()
            await asyncio.gather(desk, return_exceptions=True)
            await feed.stop()
            off_loop.close()

    routes = [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", authed(logout, roles=ROLES), methods=["POST"]),
        Route("/", authed(wallboard, page=True)),
        Route("/live", authed(live, page=True)),
        Route("/events", authed(events)),
        Route("/api/state", authed(state)),
        Route("/monitor", authed(monitor), methods=["POST"]),
        # /callbacks/cancel, /survey_calls/cancel
        *(Route(f"/{purpose.table}/cancel", authed(cancel_placed(purpose)), methods=["POST"])
          for purpose in PURPOSES),
        Route("/reports", authed(reports, page=True)),
        Route("/reports.csv", authed(reports_csv, page=True)),
        Route("/reports/{reference}", authed(report, page=True)),
        Route("/stats", authed(stats, page=True)),
        Route("/agent", authed(agent_home, page=True, roles=("agent",))),
        Route("/agent/state", authed(agent_state, roles=("agent",))),
        Route("/agent/disposition", authed(save_disposition, roles=("agent",)),
              methods=["POST"]),
        Route("/agent/pause", authed(pause, roles=("agent",)), methods=["POST"]),
        Route("/agent/unpause", authed(unpause, roles=("agent",)), methods=["POST"]),
        metrics_endpoint(console_registry()),  # loopback peers only, no session
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={sqlite3.OperationalError: database_busy})
    app.state.console = console
    app.add_middleware(BodyLimit, max_bytes=settings.console.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: a 413 gets the headers as well
    return app


__all__ = ["Console", "create_app"]
