"""What every console route shares: the console's state, the request's client, language
and form, and `authed`, which gives a route its session (and checks a POST's CSRF token)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)

from balagh.config import Settings
from balagh.supervise.watch import SupervisorFile

from . import pages
from .access import Access, access_for
from .accounts import Session
from .agent_desk import AgentDesk
from .choices import Choices
from .clients import Network, client_address
from .csrf import token_ok
from .dispositions import DispositionBook
from .feed import Feed
from .offloop import AccountsOffLoop

SESSION_COOKIE = "balagh_session"
LOGIN_COOKIE = "balagh_login"     # the login form's CSRF token (double submit: no session yet)
LANG_COOKIE = "balagh_lang"
DEFAULT_LANGUAGE = "ar"
Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class Console:
    settings: Settings
    accounts: AccountsOffLoop
    feed: Feed
    supervisors: SupervisorFile
    trusted_proxies: tuple[Network, ...] = ()
    choices: Choices = field(default_factory=Choices)  # configured queues, emirates, ...
    desk: AgentDesk = field(default_factory=AgentDesk)  # the call at each agent's member
    dispositions: DispositionBook | None = None          # agents' dispositions (console.sqlite3)

    def access(self, session: Session) -> Access:
        return access_for(session.user, self.supervisors.current())


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def remote_of(request: Request) -> str | None:
    return client_address(request.client.host if request.client else None,
                          request.headers.get("x-forwarded-for"),
                          console_of(request).trusted_proxies)


def language_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in pages.LANGUAGES else DEFAULT_LANGUAGE


def html_page(request: Request, body: str, status: int = 200) -> HTMLResponse:
    response = HTMLResponse(body, status)
    if request.query_params.get("lang") in pages.LANGUAGES:
        response.set_cookie(LANG_COOKIE, request.query_params["lang"], max_age=365 * 86400,
                            samesite="strict", httponly=True,
                            secure=console_of(request).settings.console.secure_cookies)
    return response


async def form_fields(request: Request) -> dict[str, str]:
    """An url-encoded body (the only kind the console posts); first value of each field.
    BodyLimit has capped its size already."""
    body = (await request.body()).decode("utf-8", "replace")
    return {key: values[0] for key, values in parse_qs(body).items()}


STAFF = ("supervisor", "admin")  # every page but an agent's own


def authed(handler: Callable[[Request, Session], Awaitable[Response]],
           *, page: bool = False, roles: tuple[str, ...] = STAFF) -> Handler:
    """A route that needs a session (and, for POST, its CSRF token) of one of `roles`:
    an agent reaches only their own page, a supervisor never an agent's."""

    async def route(request: Request) -> Response:
        console = console_of(request)
        session = await console.accounts.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            if page and request.method == "GET":
                return RedirectResponse("/login", 303)
            return JSONResponse({"error": "log in first"}, 401)
        if session.user.role not in roles:
            if page and request.method == "GET":
                return RedirectResponse("/agent" if session.user.is_agent else "/", 303)
            return JSONResponse({"error": "not for this role"}, 403)
        if request.method == "POST":
            given = request.headers.get("x-csrf-token")
            if given is None:
                given = (await form_fields(request)).get("csrf")
            if not token_ok(session.csrf, given):
                await console.accounts.audit(session.user.name, "csrf-refused",
                                       {"path": request.url.path}, remote_of(request))
                return JSONResponse({"error": "missing or wrong CSRF token"}, 403)
        return await handler(request, session)

    return route
