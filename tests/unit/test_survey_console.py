"""Satisfaction calls on the console, through the callbacks' one implementation: the app's
list and cancel routes registered per purpose (a real aiohttp listener on a real SQLite
store; another purpose's id is 404), the console's client and cancel route (a real
Starlette app asking that listener, the audit either way), the board per queue, and the
table hidden while the survey is off."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import httpx
import pytest

from balagh.config import InboundSettings, Settings
from balagh.console import board
from balagh.console.access import Access
from balagh.console.accounts import Accounts, ConsoleUser
from balagh.console.callbacks import CallbacksClient
from balagh.console.feed import Feed, survey_configured
from balagh.console.web import create_app
from balagh.inbound import InboundServer
from balagh.reachback.call_routes import TOKEN_FILE, TOKEN_HEADER, serve_calls
from balagh.reachback.survey_wiring import surveying
from balagh.store import ReportStore
from balagh.store.callbacks import SURVEY, Callback
from balagh.supervise.load import save_supervisors
from balagh.supervise.model import Supervisor, SupervisorTable
from balagh.supervise.pins import hash_pin

from .reachback_helpers import Asterisk
from .test_callbacks import scheduled as callback_scheduled
from .test_survey_calls import QUEUE, settings_with
from .test_survey_calls import scheduled as survey_scheduled

PASSWORD = "a long enough password"
OTHER_QUEUE = "elderly-care"


@dataclass
class Rows:
    """Two callbacks and one survey call: ids 1 and 2 in callbacks, 1 in survey_calls."""

    callback: Callback
    second_callback: Callback
    survey: Callback


async def seeded(store: ReportStore) -> Rows:
    first = await callback_scheduled(store, call_id="c1")
    second = await callback_scheduled(store, call_id="c2")
    survey = await survey_scheduled(store, call_id="c3")
    assert (first.id, second.id, survey.id) == (1, 2, 1)  # ids per purpose overlap
    return Rows(first, second, survey)


@contextlib.asynccontextmanager
async def app_listener(store: ReportStore, data_dir: Path) -> AsyncIterator[InboundServer]:
    """The app's inbound listener with both purposes' routes, as `balagh run` makes it."""
    server = InboundServer(InboundSettings(enabled=True, host="127.0.0.1", port=0))
    serve_calls(server, store.callbacks, data_dir)
    serve_calls(server, store.survey_calls, data_dir)
    task = asyncio.create_task(server.run())
    try:
        await server.started.wait()
        yield server
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# ------------------------------------------------------------------ the app's routes


async def test_the_survey_routes_list_and_cancel_only_survey_rows(store: ReportStore,
                                                                  tmp_path: Path) -> None:
    rows = await seeded(store)
    async with app_listener(store, tmp_path) as server, aiohttp.ClientSession() as client:
        assert (tmp_path / TOKEN_FILE).stat().st_mode & 0o077 == 0
        token = {TOKEN_HEADER: (tmp_path / TOKEN_FILE).read_text(encoding="ascii")}
        base = f"http://127.0.0.1:{server.port}"
        async with client.get(f"{base}/survey_calls", headers=token) as answer:
            listed = await answer.json()
        assert [r["reference"] for r in listed["survey_calls"]] == [rows.survey.reference]
        async with client.get(f"{base}/survey_calls") as answer:
            assert answer.status == 403
        # A callback's id on the survey's path: not a survey call, nothing changes.
        async with client.post(f"{base}/survey_calls/{rows.second_callback.id}/cancel",
                               params={"by": "amina"}, headers=token) as answer:
            assert answer.status == 404
        async with client.post(f"{base}/callbacks/7/cancel", params={"by": "amina"},
                               headers=token) as answer:
            assert answer.status == 404
        async with client.post(f"{base}/survey_calls/{rows.survey.id}/cancel",
                               params={"by": "amina"}, headers=token) as answer:
            assert (answer.status, await answer.json()) == (200, {"cancelled": 1})
        async with client.post(f"{base}/survey_calls/{rows.survey.id}/cancel",
                               params={"by": "amina"}, headers=token) as answer:
            assert answer.status == 409
    survey = await store.survey_calls.get(rows.survey.id)
    assert survey is not None and survey.status == "cancelled"
    # The callback with the same id, and the other one, are still waiting.
    for callback in (rows.callback, rows.second_callback):
        after = await store.callbacks.get(callback.id)
        assert after is not None and after.status == "pending"
    async with store.queries.db.execute(
            "SELECT json_extract(detail, '$.outcome'), json_extract(detail, '$.by')"
            " FROM report_events WHERE call_id = 'c3' AND kind = 'survey'"
            " ORDER BY id") as cursor:
        assert [tuple(r) async for r in cursor][-1] == ("cancelled", "amina")


async def test_a_callback_cancel_leaves_the_survey_call_of_the_same_id(
        store: ReportStore, tmp_path: Path) -> None:
    rows = await seeded(store)
    async with app_listener(store, tmp_path) as server:
        settings = replace(Settings(), data_dir=tmp_path, inbound=InboundSettings(
            enabled=True, host="127.0.0.1", port=server.port or 0))
        callbacks, surveys = CallbacksClient(settings), CallbacksClient(settings, SURVEY)
        assert await callbacks.cancel(rows.callback.id, "amina") == (200, "cancelled")
        listed = await surveys.listing()
        assert listed is not None and [r["id"] for r in listed] == [rows.survey.id]
        assert await surveys.cancel(rows.second_callback.id, "amina") == (
            404, "no survey call with this number")
    survey = await store.survey_calls.get(rows.survey.id)
    assert survey is not None and survey.status == "pending"


async def test_surveying_registers_the_routes_only_when_on(store: ReportStore,
                                                           tmp_path: Path) -> None:
    off, on = (InboundServer(InboundSettings(enabled=True)) for _ in range(2))
    surveying(settings_with(tmp_path, "  enabled: false\n"), store, Asterisk(), dict, inbound=off)
    assert not off.has_routes and not (tmp_path / TOKEN_FILE).exists()
    surveying(settings_with(tmp_path, "  enabled: true\n  dial: 'PJSIP/{number}@t'\n"),
              store, Asterisk(), dict, inbound=on)
    assert on.has_routes and (tmp_path / TOKEN_FILE).exists()


# ------------------------------------------------------------------ the board


def test_the_board_shows_each_user_the_survey_calls_of_their_queues() -> None:
    rows = [{"id": 1, "reference": "3356001", "queue": QUEUE, "status": "pending"},
            {"id": 2, "reference": "3356002", "queue": OTHER_QUEUE, "status": "failed"}]
    snapshot = board.build(queue_events=[], live_ids=set(), reports=[], questions=[],
                           today=board.Today(), now=0.0, survey_calls=rows, survey_on=True)
    only_other = Access(ConsoleUser("omar", "supervisor", "Omar"),
                        frozenset({OTHER_QUEUE}), None)
    mine = board.for_user(snapshot, only_other)
    assert [r["id"] for r in mine["survey_calls"]] == [2] and mine["survey_on"] is True
    off = board.build(queue_events=[], live_ids=set(), reports=[], questions=[],
                      today=board.Today(), now=0.0)
    assert board.for_user(off, only_other)["survey_calls"] is None
    assert off["survey_on"] is False


def test_the_survey_is_on_as_reachback_yaml_says(tmp_path: Path) -> None:
    assert not survey_configured(settings_with(tmp_path, "  enabled: false\n"))
    assert survey_configured(settings_with(tmp_path, "  enabled: true\n"
                                                     "  dial: 'PJSIP/{number}@t'\n"))
    # A file the app would refuse: shown, as "cannot be asked", rather than hidden.
    assert survey_configured(settings_with(tmp_path, "  enabled: maybe\n"))


# ------------------------------------------------------------------ the console's route


class AskingFeed(Feed):
    """The board without AMI: the placed calls asked of the app, as `rebuild` does."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def refresh(self) -> None:
        self.snapshot = board.build(
            queue_events=[], live_ids=set(), reports=[], questions=[], today=board.Today(),
            now=0.0, callbacks=await self.callbacks.listing(),
            survey_calls=await self.survey_calls.listing() if self.survey_on else None,
            survey_on=self.survey_on)


async def login(client: httpx.AsyncClient, name: str) -> str:
    page = await client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    answer = await client.post("/login", data={"csrf": token.group(1), "name": name,
                                               "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    found = re.search(r'name="csrf-token" content="([^"]+)"', (await client.get("/")).text)
    assert found
    return found.group(1)


@pytest.fixture
def supervisors(tmp_path: Path) -> Path:
    path = tmp_path / "supervisors.yaml"
    save_supervisors(SupervisorTable(supervisors=(
        Supervisor("Amina", frozenset({"201"}), hash_pin("4321"), frozenset({QUEUE})),
        Supervisor("Omar", frozenset({"202"}), hash_pin("4321"), frozenset({OTHER_QUEUE})),
    )), path)
    return path


async def test_a_supervisor_cancels_a_survey_call_through_the_console(
        store: ReportStore, tmp_path: Path, supervisors: Path) -> None:
    rows = await seeded(store)
    async with app_listener(store, tmp_path) as server:
        settings = replace(settings_with(tmp_path, "  enabled: true\n"
                                                   "  dial: 'PJSIP/{number}@t'\n"),
                           supervisors_file=supervisors, inbound=InboundSettings(
                               enabled=True, host="127.0.0.1", port=server.port or 0))
        accounts = Accounts(settings.console_database)
        accounts.add("amina", PASSWORD, "supervisor", "Amina")
        accounts.add("omar", PASSWORD, "supervisor", "Omar")
        feed = AskingFeed(settings, [])
        await feed.refresh()
        app = create_app(settings, accounts=accounts, feed=feed)
        transport = httpx.ASGITransport(app=app)  # https: the secure cookies go back
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") \
                as omar, httpx.AsyncClient(transport=transport,
                                           base_url="https://testserver") as amina:
            omar_csrf, amina_csrf = await login(omar, "omar"), await login(amina, "amina")
            assert (await omar.get("/api/state")).json()["survey_calls"] == []
            mine = (await amina.get("/api/state")).json()
            assert mine["survey_on"] is True
            assert [r["id"] for r in mine["survey_calls"]] == [rows.survey.id]
            assert 'id="survey_calls-section"' in (await amina.get("/")).text

            async def cancel(client: httpx.AsyncClient, csrf: str, id: int) -> int:
                answer = await client.post("/survey_calls/cancel", data={"id": str(id)},
                                           headers={"X-CSRF-Token": csrf})
                return answer.status_code

            assert await cancel(omar, omar_csrf, rows.survey.id) == 403  # not his queue
            # A callback's id that is no survey call on the board.
            assert await cancel(amina, amina_csrf, rows.second_callback.id) == 404
            assert await cancel(amina, amina_csrf, rows.survey.id) == 200
    survey = await store.survey_calls.get(rows.survey.id)
    assert survey is not None and survey.status == "cancelled"
    callback = await store.callbacks.get(rows.callback.id)
    assert callback is not None and callback.status == "pending"
    audited = [(row.user, row.action, row.detail.get("survey"), row.detail.get("reference"))
               for row in reversed(accounts.audit_rows(limit=20))
               if row.action.startswith("survey-")]
    assert audited == [("omar", "survey-cancel-refused", "1", None),
                       ("amina", "survey-cancel-refused", "2", None),
                       ("amina", "survey-cancelled", "1", rows.survey.reference)]


def test_an_empty_token_file_left_by_a_cut_start_is_made_again(tmp_path: Path) -> None:
    from balagh.reachback.call_routes import read_token

    (tmp_path / TOKEN_FILE).touch(mode=0o600)
    assert read_token(tmp_path) is None  # the console: nothing to ask with yet
    token = read_token(tmp_path, create=True)
    assert token and len(token) >= 32
    assert read_token(tmp_path) == token
    assert (tmp_path / TOKEN_FILE).stat().st_mode & 0o777 == 0o600
