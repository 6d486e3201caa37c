"""Callbacks to abandoned callers in danger: the `callbacks:` section, the rows' life on
both engines (claimed and committed before the Originate, an interrupted attempt never
dialled again), the dialler's rules (consent at the dial, hours, free agents, no caller
waiting), what it sends to Asterisk, and the cancel route."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from balagh.ami.originate import outcome
from balagh.config import InboundSettings, Settings
from balagh.config.yamlsrc import ConfigError
from balagh.console import board
from balagh.console.access import Access
from balagh.console.accounts import ConsoleUser
from balagh.console.callbacks import CallbacksClient
from balagh.inbound import InboundServer
from balagh.reachback.callbacks import CallbackDialler, CallbackPublisher
from balagh.reachback.callbacks_config import CallbacksConfig, load_callbacks_config
from balagh.reachback.callbacks_wiring import (
    CANCEL_PATH,
    LIST_PATH,
    TOKEN_HEADER,
    cancel_handler,
    list_handler,
    read_token,
)
from balagh.reachback.sms_config import load_sms_config
from balagh.routing import QueueState
from balagh.store import ReportStore, maintenance
from balagh.store.callbacks import Callback

from .reachback_helpers import (
    DUBAI,
    NUMBER,
    Asterisk,
    dialled_once,
    originate_variables,
    settle,
    undialled,
    write_reachback,
)
from .shipped import CONFIG_DIR

T0 = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)  # 13:30 in Dubai
QUEUE = "women-protection"
CONFIG = CallbacksConfig(enabled=True, delay_seconds=0, attempts=2, gap_seconds=60,
                         dial="Local/{number}@balagh-test-callee", ring_seconds=20)
FREE = {QUEUE: QueueState(logged_in=2, available=1, callers=0, longest_wait=0.0)}


# ------------------------------------------------------------------ the section


def test_the_shipped_file_loads_both_sections() -> None:
    path = CONFIG_DIR / "reachback.yaml"
    assert not load_callbacks_config(path).enabled
    load_sms_config(path, {})  # the texts' loader accepts the callbacks' section beside it


def test_a_good_section(tmp_path: Path) -> None:
    config = load_callbacks_config(write_reachback(tmp_path, (
        "callbacks:\n  enabled: true\n  delay_seconds: 30\n  attempts: 2\n"
        "  gap_seconds: 120\n  hours: '22:00-06:00'\n  dial: 'PJSIP/{number}@trunk'\n")))
    assert config.channel("0501234567") == "PJSIP/0501234567@trunk"
    assert config.within_hours(datetime(2025, 3, 1, 23, 0))
    assert config.within_hours(datetime(2025, 3, 1, 5, 59))
    assert not config.within_hours(datetime(2025, 3, 1, 6, 0))
    assert load_sms_config(tmp_path / "reachback.yaml", {}).enabled is False


@pytest.mark.parametrize(("body", "message"), [
    ("  enabled: true\n", "needed when enabled"),
    ("  dial: 'PJSIP/trunk'\n", "must hold {number} once"),
    ("  dial: 'PJSIP/{number}@{trunk}'\n", "must hold {number} once"),
    ("  dial: 'nothing'\n", "a dial string"),
    ("  attempts: 0\n", "from 1 to 10"),
    ("  hours: '8-22'\n", "HH:MM-HH:MM"),
    ("  ring_seconds: 30\n  gap_seconds: 30\n", "longer than ring_seconds"),
    ("  colour: red\n", "unknown key"),
])
def test_a_bad_section_says_where(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_callbacks_config(write_reachback(tmp_path, "# a comment\ncallbacks:\n" + body))
    assert error.value.line is not None and error.value.line >= 2


# ------------------------------------------------------------------ the rows


async def seed(store: ReportStore, call_id: str = "c1", *, danger: str = "yes",
               consent: str | None = "yes", caller: str | None = NUMBER) -> str:
    reference = str(1000 + int(call_id[1:]))
    answers = [("danger", danger)] + ([("contact_safe", consent)] if consent else [])
    store.writer.submit("seed", lambda: [
        ("INSERT INTO reports (call_id, reference, channel, caller, language, status,"
         " queue, priority, started_at, updated_at)"
         " VALUES (?, ?, 'PJSIP/x', ?, 'en', 'abandoned', ?, 10, ?, ?)",
         (call_id, reference, caller, QUEUE, T0.isoformat(), T0.isoformat())),
        *[("INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
           " VALUES (?, ?, ?, '1', 1, ?)", (call_id, q, v, T0.isoformat()))
          for q, v in answers]])
    await store.writer.flush()
    return reference


async def scheduled(store: ReportStore, **kwargs: object) -> Callback:
    reference = await seed(store, **kwargs)  # type: ignore[arg-type]
    store.callbacks.schedule(reference=reference, queue=QUEUE, at=T0, due=T0)
    await store.writer.flush()
    [row] = [r for r in await store.callbacks.listing(("pending",)) if r.reference == reference]
    return row


async def timeline(store: ReportStore, call_id: str = "c1") -> list[tuple[int, str]]:
    async with store.queries.db.execute(
            "SELECT detail FROM report_events WHERE call_id = ? AND kind = 'callback'"
            " ORDER BY id", (call_id,)) as cursor:
        details = [json.loads(row[0]) if isinstance(row[0], str) else row[0]
                   async for row in cursor]
    return [(int(d["attempt"]), str(d["outcome"])) for d in details]


@pytest.mark.both_engines
async def test_an_attempt_is_claimed_before_it_is_dialled_and_recorded(store) -> None:
    row = await scheduled(store)
    store.callbacks.schedule(reference=row.reference, queue=QUEUE, at=T0, due=T0)  # twice
    claimed = await store.callbacks.claim(row, T0)
    assert claimed is not None and claimed.attempt == 1
    assert claimed.channel_id == f"balagh-callback-{row.id}-1"
    assert await store.callbacks.claim(row, T0) is None  # the same attempt: not twice
    await store.callbacks.dialling(row.id, T0)
    await store.callbacks.finished(row.id, "no-answer", T0, again_at=T0 + timedelta(seconds=60))
    again = await store.callbacks.get(row.id)
    assert again is not None and (again.status, again.attempt) == ("pending", 1)
    assert await store.callbacks.due(T0, 10) == []
    assert [r.id for r in await store.callbacks.due(T0 + timedelta(seconds=60), 10)] == [row.id]
    assert await timeline(store) == [(0, "scheduled"), (1, "claimed"), (1, "no-answer")]


@pytest.mark.both_engines
async def test_an_interrupted_attempt_is_spent_never_dialled_again(store) -> None:
    row = await scheduled(store)
    assert await store.callbacks.claim(row, T0) is not None
    # The app is killed here. At its restart:
    assert await store.callbacks.recover(T0, attempts=2, gap_seconds=60) == 1
    after = await store.callbacks.get(row.id)
    assert after is not None and (after.status, after.attempt) == ("pending", 1)
    assert after.last_outcome == "interrupted"
    claimed = await store.callbacks.claim(after, T0)
    assert claimed is not None and claimed.channel_id == f"balagh-callback-{row.id}-2"
    assert await store.callbacks.recover(T0, attempts=2, gap_seconds=60) == 1
    last = await store.callbacks.get(row.id)
    assert last is not None and last.status == "failed"  # no attempt left


@pytest.mark.both_engines
async def test_cancel_only_a_pending_callback(store) -> None:
    row = await scheduled(store)
    assert await store.callbacks.cancel(row.id, "sup1", T0)
    assert not await store.callbacks.cancel(row.id, "sup1", T0)
    assert await store.callbacks.claim(row, T0) is None
    assert (0, "cancelled") in await timeline(store)


# ------------------------------------------------------------------ the dialler


def dialler(store: ReportStore, ami: Asterisk,
            queues: Mapping[str, QueueState] = FREE, at: datetime = T0,
            config: CallbacksConfig = CONFIG) -> CallbackDialler:
    return CallbackDialler(store.callbacks, store.queries, ami, lambda: queues,
                           lambda: config, DUBAI, agent_language="en", clock=lambda: at)


async def test_a_consenting_caller_is_dialled_into_the_callback_context(store) -> None:
    row = await scheduled(store)
    ami = Asterisk()
    worker = dialler(store, ami)
    sent = await dialled_once(worker, ami)
    assert sent["Channel"] == f"Local/{NUMBER}@balagh-test-callee"
    assert sent["Context"] == "balagh-callback" and sent["Timeout"] == "20000"
    assert sent["ChannelId"] == f"balagh-callback-{row.id}-1"
    variables = originate_variables(sent)
    assert variables["BALAGH_PRIO"] == "10" and variables["BALAGH_CALLBACK_QUEUE"] == QUEUE
    assert variables["BALAGH_CALLBACK_LANGUAGE"] == "en"
    assert variables["BALAGH_WHISPER_women_protection"].startswith("en/balagh/w-callback&")
    done = await store.callbacks.get(row.id)
    assert done is not None and done.status == "answered"


@pytest.mark.parametrize("seeded", [{"consent": None}, {"consent": "no"},
                                    {"caller": None}, {"danger": "no"},
                                    {"caller": "0501&PJSIP/0502"}, {"caller": "x1@evil"}])
async def test_without_consent_nothing_is_dialled(store, seeded) -> None:
    row = await scheduled(store, **seeded)
    ami = Asterisk()
    after = await undialled(dialler(store, ami), ami, row.id)
    assert (after.status, after.last_outcome) == ("cancelled", "no-consent")


@pytest.mark.parametrize("queues", [
    {},  # no fresh queue state: unknown is not free
    {QUEUE: QueueState(logged_in=2, available=0, callers=0, longest_wait=0.0)},
])
async def test_no_free_agent_holds_the_callback(store, queues) -> None:
    row = await scheduled(store)
    ami = Asterisk()
    after = await undialled(dialler(store, ami, queues), ami, row.id)
    assert (after.status, after.attempt) == ("pending", 0)


async def test_callers_waiting_do_not_hold_it_the_priority_orders_them(store) -> None:
    """A caller waiting while an agent is free is being offered one; the callback rejoins
    at priority 10, behind callers in danger already there, ahead of the others."""
    await scheduled(store)
    ami = Asterisk()
    busy = {QUEUE: QueueState(logged_in=2, available=1, callers=3, longest_wait=5.0)}
    worker = dialler(store, ami, busy)
    await worker.dial_due()
    await settle(worker)
    assert len(ami.sent) == 1


async def test_outside_the_hours_nothing_is_dialled(store) -> None:
    await scheduled(store)
    ami = Asterisk()
    night = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)  # midnight in Dubai
    await dialler(store, ami, at=night).dial_due()
    assert ami.sent == []


async def test_never_more_callbacks_at_once_than_free_agents(store) -> None:
    for call_id in ("c1", "c2", "c3"):
        await scheduled(store, call_id=call_id)
    ami = Asterisk()
    ami.release.clear()  # every call keeps ringing
    worker = dialler(store, ami)
    await worker.dial_due()
    await worker.dial_due()
    await asyncio.sleep(0)
    assert len(ami.sent) == 1  # one free agent
    ami.release.set()
    await settle(worker)
    await worker.dial_due()
    await settle(worker)
    assert len(ami.sent) == 2


async def test_no_answer_tries_again_after_the_gap_then_fails(store) -> None:
    row = await scheduled(store)
    ami = Asterisk(reason="3")
    first = dialler(store, ami)
    await first.dial_due()
    await settle(first)
    later = T0 + timedelta(seconds=CONFIG.gap_seconds)
    second = dialler(store, ami, at=later)
    await second.dial_due()
    await settle(second)
    last = await store.callbacks.get(row.id)
    assert last is not None and (last.status, last.attempt) == ("no-answer", 2)
    assert [f["ChannelId"] for f in ami.sent] == [f"balagh-callback-{row.id}-1",
                                                  f"balagh-callback-{row.id}-2"]


def test_originate_outcomes() -> None:
    assert outcome({"Event": "OriginateResponse", "Response": "Success", "Reason": "4"}) \
        == "answered"
    assert outcome({"Event": "OriginateResponse", "Response": "Failure", "Reason": "5"}) \
        == "no-answer"
    assert outcome({"Event": "OriginateResponse", "Response": "Failure", "Reason": "0"}) \
        == "failed"
    assert outcome({"Response": "Error", "Message": "Channel ID in use"}) == "failed"


# ------------------------------------------------------------ the call path


class Outbox:
    def __init__(self) -> None:
        self.events: list[str] = []

    def publish(self, event: str, report: Mapping[str, object], *, queue: str | None,
                details: Mapping[str, object] | None = None) -> None:
        self.events.append(event)


async def test_only_an_abandoned_danger_call_is_scheduled(store) -> None:
    await seed(store, "c1")
    await seed(store, "c2", danger="no")
    inner, woken = Outbox(), []
    publisher = CallbackPublisher(inner, store.callbacks, lambda: CONFIG,
                                  lambda: woken.append(1), clock=lambda: T0)
    publisher.publish("answered", {"reference": "1001", "danger": True}, queue=QUEUE)
    publisher.publish("abandoned", {"reference": "1002", "danger": False}, queue=QUEUE)
    publisher.publish("abandoned", {"reference": "1001", "danger": True}, queue=QUEUE)
    await store.writer.flush()
    assert inner.events == ["answered", "abandoned", "abandoned"]  # the units still hear
    assert [r.reference for r in await store.callbacks.listing(("pending",))] == ["1001"]
    assert woken == [1]


# ------------------------------------------------------------ the cancel route


async def test_the_cancel_route_wants_the_token(store) -> None:
    row = await scheduled(store)
    server = InboundServer(InboundSettings(enabled=True, host="127.0.0.1", port=0))
    server.add_route("POST", CANCEL_PATH, cancel_handler(store.callbacks, "s3cret"))
    task = asyncio.create_task(server.run())
    try:
        await server.started.wait()
        url = f"http://127.0.0.1:{server.port}/callbacks/{row.id}/cancel"
        async with aiohttp.ClientSession() as client:
            async with client.post(url, params={"by": "sup1"},
                                   headers={TOKEN_HEADER: "wrong"}) as answer:
                assert answer.status == 403
            async with client.post(url, headers={TOKEN_HEADER: "s3cret"}) as answer:
                assert answer.status == 400
            async with client.post(url, params={"by": "sup1"},
                                   headers={TOKEN_HEADER: "s3cret"}) as answer:
                assert answer.status == 200
            async with client.post(url, params={"by": "sup1"},
                                   headers={TOKEN_HEADER: "s3cret"}) as answer:
                assert answer.status == 409
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    after = await store.callbacks.get(row.id)
    assert after is not None and after.status == "cancelled"


# ------------------------------------------------------------------ retention


async def test_redact_stops_a_pending_callback_and_purge_deletes_it(tmp_path) -> None:
    path = tmp_path / "balagh.sqlite3"
    store = await ReportStore.open(path)
    try:
        row = await scheduled(store)
    finally:
        await store.close()
    maintenance.redact(path, datetime.now(UTC))
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT status, cancelled_by FROM callbacks WHERE id = ?",
                          (row.id,)).fetchone() == ("cancelled", "redacted")
    result = maintenance.purge(path, datetime.now(UTC))
    assert result.detail["callbacks"] == 1
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*) FROM callbacks").fetchone() == (0,)


# ------------------------------------------------------------ the console's side


async def test_the_console_lists_and_cancels_through_the_app(store, tmp_path) -> None:
    row = await scheduled(store)
    token = read_token(tmp_path, create=True)
    assert token and (tmp_path / "callbacks.token").stat().st_mode & 0o077 == 0
    server = InboundServer(InboundSettings(enabled=True, host="127.0.0.1", port=0))
    server.add_route("POST", CANCEL_PATH, cancel_handler(store.callbacks, token))
    server.add_route("GET", LIST_PATH, list_handler(store.callbacks, token))
    task = asyncio.create_task(server.run())
    try:
        await server.started.wait()
        settings = replace(Settings(), data_dir=tmp_path, inbound=InboundSettings(
            enabled=True, host="127.0.0.1", port=server.port or 0))
        client = CallbacksClient(settings)
        listed = await client.listing()
        assert listed is not None and [r["reference"] for r in listed] == [row.reference]
        assert "caller" not in listed[0]  # no number leaves the app
        assert await client.cancel(row.id, "amina") == (200, "cancelled")
        assert await client.cancel(row.id, "amina") == (409, "not pending (dialling, done "
                                                              "or unknown)")
        assert await client.listing() == []
        (tmp_path / "callbacks.token").unlink()
        assert await client.listing() is None  # callbacks off: nothing to ask
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_the_board_shows_each_user_the_callbacks_of_their_queues() -> None:
    rows = [{"id": 1, "reference": "1001", "queue": QUEUE, "status": "pending"},
            {"id": 2, "reference": "1002", "queue": "general", "status": "failed"}]
    snapshot = board.build(queue_events=[], live_ids=set(), reports=[], questions=[],
                           today=board.Today(), now=0.0, callbacks=rows)
    only_general = Access(ConsoleUser("amina", "supervisor", "Amina"),
                          frozenset({"general"}), None)
    assert [r["id"] for r in board.for_user(snapshot, only_general)["callbacks"]] == [2]
    unknown = board.build(queue_events=[], live_ids=set(), reports=[], questions=[],
                          today=board.Today(), now=0.0)
    assert board.for_user(unknown, only_general)["callbacks"] is None
