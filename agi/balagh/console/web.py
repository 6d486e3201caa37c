"""The console's web application (Starlette): login, sessions, pages, the event stream,
the monitor button and the report pages.

Every route but the login page and its static files needs a session; every POST needs
the session's CSRF token as well (form field `csrf` or header X-CSRF-Token). Every
login, refusal and action is written to the console's audit (accounts.py), from threads
of its own (offloop.py): nothing here blocks the event loop on SQLite. Request bodies are
capped by middleware (limits.py); the client's address is the peer's unless the peer is
a trusted proxy (clients.py).
"""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
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
from balagh.privacy import mask_number
from balagh.readmodel import statistics as stats_query
from balagh.readmodel.period import Period
from balagh.readmodel.reader import open_reader
from balagh.readmodel.rows import write_csv
from balagh.readmodel.search import ReportSearch, parse_moment
from balagh.readmodel.timeline import timeline_lines
from balagh.stats.questions import menu_questions
from balagh.store.queries import Report
from balagh.supervise.modes import Mode
from balagh.supervise.watch import SupervisorFile

from . import pages
from .access import Access, access_for, dial_phone
from .accounts import Accounts, Session
from .board import for_user
from .clients import Network, client_address, networks
from .csrf import new_token, token_ok
from .feed import Feed
from .limits import BodyLimit
from .offloop import AccountsOffLoop

SESSION_COOKIE = "balagh_session"
LOGIN_COOKIE = "balagh_login"     # the login form's CSRF token (double submit: no session yet)
LANG_COOKIE = "balagh_lang"
DEFAULT_LANGUAGE = "ar"
KEEPALIVE_SECONDS = 15.0
SESSION_CHECK_SECONDS = 10.0  # an open stream looks its session up again this often
REPORT_ROWS = 200
CSV_ROWS = 100_000
STATIC = Path(__file__).parent / "static"
Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class Console:
    settings: Settings
    accounts: AccountsOffLoop
    feed: Feed
    supervisors: SupervisorFile
    trusted_proxies: tuple[Network, ...] = ()

    def access(self, session: Session) -> Access:
        return access_for(session.user, self.supervisors.current())


def _console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def _remote(request: Request) -> str | None:
    return client_address(request.client.host if request.client else None,
                          request.headers.get("x-forwarded-for"),
                          _console(request).trusted_proxies)


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in pages.LANGUAGES else DEFAULT_LANGUAGE


def _html(request: Request, body: str, status: int = 200) -> HTMLResponse:
    response = HTMLResponse(body, status)
    if request.query_params.get("lang") in pages.LANGUAGES:
        response.set_cookie(LANG_COOKIE, request.query_params["lang"], max_age=365 * 86400,
                            samesite="strict", httponly=True,
                            secure=_console(request).settings.console.secure_cookies)
    return response


async def _form(request: Request) -> dict[str, str]:
    """An url-encoded body (the only kind the console posts); first value of each field.
    BodyLimit has capped its size already."""
    body = (await request.body()).decode("utf-8", "replace")
    return {key: values[0] for key, values in parse_qs(body).items()}


def authed(handler: Callable[[Request, Session], Awaitable[Response]],
           *, page: bool = False) -> Handler:
    """A route that needs a session (and, for POST, its CSRF token)."""

    async def route(request: Request) -> Response:
        console = _console(request)
        session = await console.accounts.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            if page and request.method == "GET":
                return RedirectResponse("/login", 303)
            return JSONResponse({"error": "log in first"}, 401)
        if request.method == "POST":
            given = request.headers.get("x-csrf-token")
            if given is None:
                given = (await _form(request)).get("csrf")
            if not token_ok(session.csrf, given):
                await console.accounts.audit(session.user.name, "csrf-refused",
                                       {"path": request.url.path}, _remote(request))
                return JSONResponse({"error": "missing or wrong CSRF token"}, 403)
        return await handler(request, session)

    return route


# ----------------------------------------------------------------------- login


async def login_form(request: Request) -> Response:
    console = _console(request)
    if await console.accounts.session(request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse("/", 303)
    return _login_page(request, None, 200)


def _login_page(request: Request, error: str | None, status: int) -> Response:
    token = new_token()
    response = _html(request, pages.login_page(_lang(request), token, error), status)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login",
                        secure=_console(request).settings.console.secure_cookies)
    return response


async def login(request: Request) -> Response:
    console = _console(request)
    form = await _form(request)
    if not token_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        await console.accounts.audit(form.get("name", "")[:64] or None, "csrf-refused",
                                     {"path": "/login"}, _remote(request))
        return _login_page(request, "login_wrong", 403)
    name, password = form.get("name", "").strip(), form.get("password", "")
    # scrypt takes tens of milliseconds and SQLite may wait: off the event loop.
    outcome = await console.accounts.login(name, password, _remote(request))
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
    console = _console(request)
    await console.accounts.logout(request.cookies.get(SESSION_COOKIE, ""))
    await console.accounts.audit(session.user.name, "logout", remote=_remote(request))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ------------------------------------------------------------ board and calls


async def wallboard(request: Request, session: Session) -> Response:
    return _html(request, pages.wallboard_page(_lang(request), session.user.name, session.csrf))


async def live(request: Request, session: Session) -> Response:
    return _html(request, pages.live_page(_lang(request), session.user.name, session.csrf))


def _state(console: Console, session: Session, version: int,
           snapshot: dict[str, Any]) -> dict[str, Any]:
    return {**for_user(snapshot, console.access(session)), "version": version}


async def state(request: Request, session: Session) -> Response:
    console = _console(request)
    return JSONResponse(_state(console, session, console.feed.version, console.feed.snapshot))


async def events(request: Request, session: Session) -> Response:
    """Server-sent events: the whole state at once, then each change. EventSource comes
    back by itself after a drop (a restart of the console); the first message is again
    the whole state."""
    console = _console(request)
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
    console = _console(request)
    form = await _form(request)
    reference, mode_word = form.get("reference", ""), form.get("mode", "listen")
    access = console.access(session)
    detail: dict[str, Any] = {"reference": reference, "mode": mode_word}

    async def refuse(status: int, why: str) -> Response:
        await console.accounts.audit(session.user.name, "monitor-refused",
                                     {**detail, "why": why}, _remote(request))
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
                                  if access.supervisor else None}, _remote(request))
    return JSONResponse({"ringing": phone, "reference": reference, "mode": mode.value}, 202)


# --------------------------------------------------------------------- reports


def _search(params: dict[str, str], limit: int | None) -> ReportSearch:
    danger = {"yes": True, "no": False}.get(params.get("danger", ""))
    return ReportSearch(
        since=parse_moment(params["since"]) if params.get("since") else None,
        until=parse_moment(params["until"], end_of_day=True) if params.get("until") else None,
        queue=params.get("queue") or None, outcome=params.get("outcome") or None,
        danger=danger, emirate=params.get("emirate") or None,
        language=params.get("language") or None, limit=limit)


async def _reports(console: Console, access: Access, search: ReportSearch) -> list[Report]:
    """The search, limited to the queues this user may see (one search per queue)."""
    if not console.settings.database.exists():
        return []
    async with open_reader(console.settings.database, busy_timeout_ms=2000) as reader:
        return await reader.search_visible(search, access.queues)


def _visible_queues(console: Console, access: Access) -> list[str]:
    names = {q["name"] for q in console.feed.snapshot["queues"]}
    return sorted(n for n in names if access.may_see(n))


async def reports(request: Request, session: Session) -> Response:
    console, lang = _console(request), _lang(request)
    params = dict(request.query_params)
    if params.get("ref", "").isdigit():
        return RedirectResponse(f"/reports/{params['ref']}", 303)
    access = console.access(session)
    try:
        search = _search(params, REPORT_ROWS)
    except ValueError as exc:
        return _html(request, pages.message_page(lang, pages.label(lang, "reports"), str(exc),
                                                 user=session.user.name, csrf=session.csrf),
                     400)
    found = await _reports(console, access, search)
    await console.accounts.audit(session.user.name, "reports-searched",
                                 {**search.described(), "rows": len(found)}, _remote(request))
    rows = [(r.reference, r.started_at, r.status, r.joined_queue or r.queue, r.queue_outcome,
             r.wait_seconds, mask_number(r.caller), r.location) for r in found]
    csv_query = urlencode([(k, v) for k, v in params.items() if k != "lang"])
    return _html(request, pages.reports_page(
        lang, user=session.user.name, csrf=session.csrf, params=params,
        queues=_visible_queues(console, access), csv_query=csv_query, rows=rows))


async def reports_csv(request: Request, session: Session) -> Response:
    console = _console(request)
    params = dict(request.query_params)
    try:
        search = _search(params, CSV_ROWS)
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    found = await _reports(console, console.access(session), search)
    out = io.StringIO()
    write_csv(found, out, show_numbers=False)  # numbers masked, as `balagh reports`
    await console.accounts.audit(session.user.name, "reports-exported",
                                 {**search.described(), "rows": len(found)}, _remote(request))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="balagh-reports.csv"'})


async def report(request: Request, session: Session) -> Response:
    console, lang = _console(request), _lang(request)
    reference = str(request.path_params["reference"])
    found: Report | None = None
    timeline: list[str] = []
    if console.settings.database.exists():
        async with open_reader(console.settings.database, busy_timeout_ms=2000) as reader:
            found = await reader.get_report(reference)
            if found is not None and found.reference == reference:
                timeline = timeline_lines(found.started_at, await reader.timeline(reference))
    access = console.access(session)
    if found is None or found.reference != reference or \
            not access.may_see(found.joined_queue or found.queue):
        return _html(request, pages.message_page(
            lang, pages.label(lang, "reports"), pages.label(lang, "not_found"),
            user=session.user.name, csrf=session.csrf), 404)
    await console.accounts.audit(session.user.name, "report-viewed", {"reference": reference},
                                 _remote(request))
    facts = (("reference", found.reference), ("started", found.started_at),
             ("status", found.status), ("queue", found.joined_queue or found.queue),
             ("category", found.rule), ("outcome", found.queue_outcome),
             ("agent", found.answered_by), ("wait", found.wait_seconds),
             ("caller", mask_number(found.caller)), ("emirate", found.location),
             ("language", found.language))
    return _html(request, pages.report_page(
        lang, user=session.user.name, csrf=session.csrf, reference=reference, facts=facts,
        answers=list(found.answers.items()), timeline="\n".join(timeline)))


async def stats(request: Request, session: Session) -> Response:
    """Figures for a period with balagh.stats (the same numbers as `balagh stats`)."""
    console, lang = _console(request), _lang(request)
    params = dict(request.query_params)
    access = console.access(session)
    today = datetime.now(UTC).date()
    try:
        first = datetime.fromisoformat(params.get("since") or
                                       (today - timedelta(days=6)).isoformat())
        last = datetime.fromisoformat(params.get("until") or today.isoformat())
    except ValueError:
        first = datetime.combine(today - timedelta(days=6), datetime.min.time())
        last = datetime.combine(today, datetime.min.time())
    start = first.replace(tzinfo=UTC, hour=0, minute=0)
    end = last.replace(tzinfo=UTC, hour=0, minute=0) + timedelta(days=1)
    if end <= start or (end - start).days > 366:
        end = start + timedelta(days=1)
    period = Period(start, end, f"{start.date()}..{(end - timedelta(days=1)).date()}")
    by = str(params.get("by")) if params.get("by") in stats_query.GROUPINGS else "day"
    if access.queues is not None:
        by = "queue"  # a supervisor sees their queues' rows, not totals over every queue
    params["by"] = by
    try:
        result = await asyncio.to_thread(stats_query.compute_many, console.settings.database,
                                         period, [by], questions=menu_questions(console.settings))
        figures = result.stats[by]
        rows = [row for row in figures.rows if by != "queue" or access.may_see(row.key)]
    except stats_query.StatsError:
        figures, rows = None, []
    seconds = figures.service_level_seconds if figures else 20
    columns = ("by", "calls", "answered", "abandoned", "service_level", "wait")

    def cells(calls: int, answered: int, abandoned: int, level: float | None,
              wait: float | None) -> tuple[object, ...]:
        return (calls, answered, abandoned, "-" if level is None else f"{100 * level:.0f}%",
                "-" if wait is None else f"{wait:.0f} s")

    rows_shown = [(row.key, *cells(row.calls, row.answered, row.abandoned,
                                    row.service_level(seconds), row.wait.mean()))
                  for row in rows]
    total = None
    if figures is not None and access.queues is None:
        whole = figures.total
        total = cells(whole.calls, whole.answered, whole.abandoned,
                      whole.service_level(seconds), whole.wait.mean())
    await console.accounts.audit(session.user.name, "stats-viewed",
                                 {"period": period.label, "by": by}, _remote(request))
    filters = {**params, "since": start.date().isoformat(),
               "until": (end - timedelta(days=1)).date().isoformat()}
    return _html(request, pages.stats_page(
        lang, user=session.user.name, csrf=session.csrf, filters=filters,
        chart=pages.bar_chart([(row.key, float(row.calls)) for row in rows]),
        columns=columns, rows=rows_shown, total=total))


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
    feed = feed or Feed(settings, menu_questions(settings))
    off_loop = AccountsOffLoop(accounts)
    console = Console(settings, off_loop, feed, SupervisorFile(settings.supervisors_file),
                      networks(settings.console.trusted_proxies))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await feed.start()
        try:
            yield
        finally:
            await feed.stop()
            off_loop.close()

    routes = [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", authed(logout), methods=["POST"]),
        Route("/", authed(wallboard, page=True)),
        Route("/live", authed(live, page=True)),
        Route("/events", authed(events)),
        Route("/api/state", authed(state)),
        Route("/monitor", authed(monitor), methods=["POST"]),
        Route("/reports", authed(reports, page=True)),
        Route("/reports.csv", authed(reports_csv, page=True)),
        Route("/reports/{reference}", authed(report, page=True)),
        Route("/stats", authed(stats, page=True)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={sqlite3.OperationalError: database_busy})
    app.state.console = console
    app.add_middleware(BodyLimit, max_bytes=settings.console.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: a 413 gets the headers as well
    return app


__all__ = ["Console", "create_app"]
