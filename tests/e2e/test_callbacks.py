"""Callbacks on the sandbox PBX: a caller in danger who said it is safe hangs up while
waiting and is called back (the sandbox's balagh-test-callee answers), greeted, and put
back in the same queue ahead of a caller not in danger; one who said no is never dialled;
the app killed between the claim and the Originate never dials that attempt.

The shipped menu leaves the consent question off and callbacks off: this module runs its
own app on copies with both on (BALAGH_IVR_FILE, BALAGH_REACHBACK_FILE), its AMI through a
proxy that can hold back an Originate, and gives the session's app back afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import statistics
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings
from balagh.testcall.caller import place_call

from .conftest import AppProcess
from .legs import GENERAL_AGENT, general_agent_away, hang_up, originate, until
from .proxy import FaultProxy

CONSENT_BLOCK = """
consent:
  prompt: ask-contact-safe
  options:
    1: 'yes'
    2: 'no'
  timeout: 3
  attempts: 1
"""
DANGER_TO_GENERAL = ["2", "1", "2", "1", "7", "0"]  # English, in danger: the general line
NOT_IN_DANGER = "122110"  # Arabic, not in danger, adult, male, Abu Dhabi: general
GAP_SECONDS = 25
CALLBACK_AGENT = "Local/1017@balagh-agents/n"  # added for a test, at penalty 5


class OriginateHolder(FaultProxy):
    """The AMI proxy: with `holding` set, an Originate is never passed on to Asterisk."""

    def __init__(self, target_port: int) -> None:
        super().__init__(target_port)
        self.holding = False
        self.held: list[bytes] = []
        self.seen = threading.Event()

    async def _pump(self, reader, writer, link, replies: bool = False) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                if not replies and self.holding and b"Action: Originate" in data:
                    self.held.append(data)
                    self.seen.set()
                    continue
                await link.flowing.wait()
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()


def hours_now(settings: Settings) -> str:
    """A window of hours around now in the hotline's zone (callbacks are refused outside)."""
    now = datetime.now(settings.zone)
    return f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=2):%H:%M}"


@pytest.fixture(scope="module")
def proxy(settings: Settings) -> Iterator[OriginateHolder]:
    holder = OriginateHolder(settings.ami.port).start()
    yield holder  # type: ignore[misc]
    holder.stop()


@pytest.fixture(scope="module")
def callback_app(app: AppProcess, settings: Settings, data_dir: Path,
                 proxy: OriginateHolder) -> Iterator[AppProcess]:
    config = data_dir / "config"
    menu = config / "ivr-callbacks.yaml"
    menu.write_text(settings.ivr_file.read_text(encoding="utf-8") + CONSENT_BLOCK,
                    encoding="utf-8")
    reachback = config / "reachback-callbacks.yaml"
    reachback.write_text(
        "callbacks:\n  enabled: true\n  delay_seconds: 0\n  attempts: 2\n"
        f"  gap_seconds: {GAP_SECONDS}\n  ring_seconds: 20\n  hours: '{hours_now(settings)}'\n"
        "  dial: 'Local/{number}@balagh-test-callee'\n  caller_id: '800700'\n",
        encoding="utf-8")
    app.stop()  # one app per Stasis name: the session's gives way for this module
    process = AppProcess(settings, data_dir / "app-callbacks.log", extra_env={
        "BALAGH_IVR_FILE": str(menu), "BALAGH_REACHBACK_FILE": str(reachback),
        "BALAGH_AMI_PORT": str(proxy.port)})
    process.start()
    try:
        yield process
    finally:
        process.stop()
        app.start()


def callback_row(settings: Settings, reference: str) -> dict | None:
    with contextlib.closing(sqlite3.connect(f"file:{settings.database}?mode=ro",
                                            uri=True)) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM callbacks WHERE reference = ?",
                         (reference,)).fetchone()
    return dict(row) if row else None


def row_in(settings: Settings, reference: str, *statuses: str):
    return lambda: (r := callback_row(settings, reference)) and r["status"] in statuses and r


async def agents_seen(app: AppProcess, available: int) -> None:
    """Until the app's queue state (QueueSummary, every 2 s) shows the general line with
    `available` free agents, after now."""
    before = len(app.events("queue.agents"))
    await until(lambda: any(e.get("queue") == "general" and e.get("available") == available
                            for e in app.events("queue.agents")[before - 1 if before else 0:]),
                timeout=15, what=f"the app seeing {available} free general agent(s)")


async def danger_caller_hangs_up(settings: Settings, ami: AmiSession, number: str,
                                 consent: str) -> tuple[str, float]:
    """A caller in danger answers the consent question (asked: no agent is free), joins the
    general line and hangs up: their reference and when Asterisk said they abandoned."""
    abandons = ami.listen(lambda e: e.get("Event") == "QueueCallerAbandon")
    try:
        result = await place_call(settings, settings.hotline, [*DANGER_TO_GENERAL, consent],
                                  caller_id=number)
        assert result.queue == "general" and result.priority == 10, result.summary()
        assert "ask-contact-safe" in result.played, result.played
        await wait_for_event(abandons, lambda e: e.get("Channel") == result.hotline_channel, 30)
        abandoned_at = time.monotonic()
    finally:
        ami.unlisten(abandons)
    assert result.reference
    return result.reference, abandoned_at


def dialled(channels: list[dict[str, str]]) -> list[str]:
    """The callbacks' ChannelIds among the channels (a Local channel's far half is the
    same id with ';2')."""
    return [c["Uniqueid"] for c in channels if ";" not in c["Uniqueid"]]


@contextlib.asynccontextmanager
async def callback_channels(ami: AmiSession) -> AsyncIterator[list[dict[str, str]]]:
    """Every channel Asterisk creates for a callback while the block runs."""
    seen: list[dict[str, str]] = []
    events = ami.listen(lambda e: e.get("Event") == "Newchannel"
                        and e.get("Uniqueid", "").startswith("balagh-callback-"))

    async def collect() -> None:
        while True:
            seen.append(await events.get())

    task = asyncio.create_task(collect())
    try:
        yield seen
    finally:
        task.cancel()
        ami.unlisten(events)


async def test_with_consent_called_back_and_ahead_of_a_caller_not_in_danger(
        settings: Settings, callback_app: AppProcess, ami: AmiSession) -> None:
    joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
    waiting = None
    async with callback_channels(ami) as channels:
        try:
            async with general_agent_away(ami):
                await agents_seen(callback_app, 0)
                reference, _ = await danger_caller_hangs_up(settings, ami, "+971501110001", "1")
                # Held: no agent is free. Meanwhile a caller not in danger joins and waits
                # (they may not be offered the agent added below: QUEUE_MAX_PENALTY 0).
                waiting = await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                          "balagh-test-caller", NOT_IN_DANGER,
                                          {"__QUEUE_MAX_PENALTY": "0"})
                await wait_for_event(
                    joins, lambda e: e.get("Uniqueid") == f"{waiting.uniqueid}-far", 60)
                assert channels == []
                assert callback_row(settings, reference)["status"] == "pending"
                added = await ami.action({"Action": "QueueAdd", "Queue": "balagh-general",
                                          "Interface": CALLBACK_AGENT, "Penalty": "5",
                                          "MemberName": "Callback agent"}, as_list=False)
                assert added.get("Response") == "Success", added
                row = await until(row_in(settings, reference, "dialling", "answered"),
                                  timeout=30, what="the callback dialled")
                channel_id = row["channel_id"]
                assert channel_id.endswith("-1")
                join = await wait_for_event(joins, lambda e: e.get("Uniqueid") == channel_id,
                                            30)
                whisper = await ami.getvar(join["Channel"], "BALAGH_WHISPER")
                prio = await ami.getvar(join["Channel"], "QUEUE_PRIO")
                await until(row_in(settings, reference, "answered"), timeout=30,
                            what="the callback answered")
        finally:
            ami.unlisten(joins)
            await ami.action({"Action": "QueueRemove", "Queue": "balagh-general",
                              "Interface": CALLBACK_AGENT})
            if waiting is not None:
                await hang_up(ami, waiting)
            for channel in channels:
                with contextlib.suppress(Exception):
                    await ami.action({"Action": "Hangup", "Channel": channel["Channel"]})
    # Ahead of the caller not in danger, at the priority of a caller in danger.
    assert join["Position"] == "1" and join["Count"] == "2", join
    assert prio == "10"
    assert whisper and whisper.split("&")[0].endswith("/balagh/w-callback"), whisper
    assert dialled(channels) == [channel_id]  # one call, once


async def test_without_consent_nothing_is_dialled(
        settings: Settings, callback_app: AppProcess, ami: AmiSession) -> None:
    async with callback_channels(ami) as channels:
        async with general_agent_away(ami):
            await agents_seen(callback_app, 0)
            reference, _ = await danger_caller_hangs_up(settings, ami, "+971501110002", "2")
        row = await until(row_in(settings, reference, "cancelled"), timeout=30,
                          what="the callback withheld")
        await agents_seen(callback_app, 1)  # an agent free: still nothing to dial
    assert row["last_outcome"] == "no-consent" and row["attempt"] == 0
    assert channels == []


async def test_killed_between_claim_and_originate_never_dials_that_attempt(
        settings: Settings, callback_app: AppProcess, ami: AmiSession,
        proxy: OriginateHolder) -> None:
    async with callback_channels(ami) as channels:
        async with general_agent_away(ami):
            await agents_seen(callback_app, 0)
            reference, _ = await danger_caller_hangs_up(settings, ami, "+971501110003", "1")
            proxy.seen.clear()
            proxy.holding = True
        try:
            # An agent is free: the dialler claims attempt 1 and sends its Originate, which
            # the proxy keeps from Asterisk. The app dies there.
            await asyncio.to_thread(proxy.seen.wait, 30)
            claimed = callback_row(settings, reference)
            assert claimed and claimed["attempt"] == 1, claimed
            assert claimed["status"] in ("claimed", "dialling")
            assert f"ChannelId: {claimed['channel_id']}".encode() in b"".join(proxy.held)
            callback_app.crash()
            proxy.cut("any")
        finally:
            proxy.holding = False
        restarted = time.monotonic()
        callback_app.start()
        await until(lambda: callback_app.last_event("callback.interrupted"), timeout=15,
                    what="the interrupted attempt counted at the restart")
        row = await until(row_in(settings, reference, "answered"), timeout=GAP_SECONDS + 30,
                          what="the next attempt, after the gap")
        waited = time.monotonic() - restarted
        for channel in channels:
            with contextlib.suppress(Exception):
                await ami.action({"Action": "Hangup", "Channel": channel["Channel"]})
    assert row["attempt"] == 2 and waited >= GAP_SECONDS - 1
    # Attempt 1 never reached Asterisk, before or after the restart; attempt 2 once.
    assert dialled(channels) == [row["channel_id"]]
    assert row["channel_id"].endswith("-2")


async def test_figure_abandon_to_callback_ringing(
        settings: Settings, callback_app: AppProcess, ami: AmiSession) -> None:
    """From the hang-up to Asterisk creating the callback's channel, an agent being free
    at once (bench/RESULTS.md)."""
    runs = int(os.environ.get("BALAGH_CALLBACK_RUNS", "1"))
    seconds = []
    pause = {"Action": "QueuePause", "Queue": "balagh-general", "Interface": GENERAL_AGENT}
    for n in range(runs):
        async with callback_channels(ami) as channels:
            await ami.action({**pause, "Paused": "true"})
            try:
                await agents_seen(callback_app, 0)
                reference, abandoned_at = await danger_caller_hangs_up(
                    settings, ami, f"+9715011200{n:02d}", "1")
            finally:
                await ami.action({**pause, "Paused": "false"})
            await until(lambda: dialled(channels), timeout=30, what="the callback's channel")
            seconds.append(time.monotonic() - abandoned_at)
            await until(row_in(settings, reference, "answered"), timeout=30,
                        what="the callback answered")
            for channel in channels:
                with contextlib.suppress(Exception):
                    await ami.action({"Action": "Hangup", "Channel": channel["Channel"]})
    print(f"\ncallback: abandon to ringing over {runs} call(s): median "
          f"{statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")
