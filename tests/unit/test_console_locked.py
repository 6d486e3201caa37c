"""A locked console.sqlite3 delays only the requests that need it: static files and the
event loop go on (the account calls run on threads of their own), and a lock that
outlasts the busy timeout is answered 503 rather than after seconds of stalling."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from balagh.config import Settings
from balagh.console.accounts import Accounts
from balagh.console.web import create_app
from balagh.supervise.load import save_supervisors

from .test_console import PASSWORD, TABLE, StillFeed

PEER = ("198.51.100.7", 40000)


def _app(tmp_path: Path, busy_timeout_seconds: float) -> httpx.AsyncClient:
    save_supervisors(TABLE, tmp_path / "supervisors.yaml")
    settings = Settings(data_dir=tmp_path, supervisors_file=tmp_path / "supervisors.yaml")
    accounts = Accounts(settings.console_database, busy_timeout_seconds=busy_timeout_seconds)
    accounts.add("root", PASSWORD, "admin", None)
    app = create_app(settings, accounts=accounts, feed=StillFeed(settings))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app, client=PEER),
                             base_url="https://testserver", follow_redirects=False)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another connection holding the file (as a long `balagh users` or a backup might)."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def _login_form(client: httpx.AsyncClient) -> dict[str, str]:
    page = await client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    return {"csrf": token.group(1), "name": "root", "password": PASSWORD}


async def test_static_files_are_served_while_a_login_waits_on_a_locked_database(
        tmp_path: Path) -> None:
    async with _app(tmp_path, busy_timeout_seconds=60) as client:
        form = await _login_form(client)
        first = await client.post("/login", data=form)
        assert first.status_code == 303
        session_cookie = first.cookies["balagh_session"]
        client.cookies.clear()
        form = await _login_form(client)
        with locked(tmp_path / "console.sqlite3"):
            waiting_login = asyncio.create_task(client.post("/login", data=form))
            waiting_page = asyncio.create_task(
                client.get("/", headers={"cookie": f"balagh_session={session_cookie}"}))
            await asyncio.sleep(0)  # both are on their way to the locked file
            style = await client.get("/static/console.css")
            assert style.status_code == 200 and "nav" in style.text
            assert (await client.get("/login")).status_code == 200  # another client's page
            # the file is still locked: neither can have finished
            assert not waiting_login.done() and not waiting_page.done()
        assert (await waiting_login).status_code == 303
        assert (await waiting_page).status_code == 200


async def test_a_lock_past_the_busy_timeout_is_answered_503(tmp_path: Path) -> None:
    async with _app(tmp_path, busy_timeout_seconds=0.05) as client:
        form = await _login_form(client)
        with locked(tmp_path / "console.sqlite3"):
            refused = await client.post("/login", data=form)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert "busy" in refused.text
        assert (await client.post("/login", data=await _login_form(client))).status_code == 303
