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
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings

from .conftest import AppProcess
from .dialback import (
    agents_seen,
    danger_caller_hangs_up,
    dialled,
    hours_now,
    placed_channels,
    placed_row,
    reachback_app,
    row_in,
)
from .legs import GENERAL_AGENT, general_agent_away, hang_up, originate, until
from .proxy import FaultProxy

NOT_IN_DANGER = "122110"  # Arabic, not in danger, adult, male, Abu Dhabi: general
GAP_SECONDS = 25
CALLBACK_AGENT = "Local/1017@balagh-agents/n"  # added for a test, at penalty 5
CALLBACK_IDS = "balagh-callback-"  # the ChannelIds the dialler gives callbacks
ROWS = "callbacks"


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


@pytest.fixture(scope="module")
def proxy(settings: Settings) -> Iterator[OriginateHolder]:
    holder = OriginateHolder(settings.ami.port).start()
    yield holder  # type: ignore[misc]
    holder.stop()


@pytest.fixture(scope="module")
def callback_app(app: AppProcess, settings: Settings, data_dir: Path,
                 proxy: OriginateHolder) -> Iterator[AppProcess]:
    with reachback_app(app, settings, data_dir, "callbacks", (
            "callbacks:\n  enabled: true\n  delay_seconds: 0\n  attempts: 2\n"
            f"  gap_seconds: {GAP_SECONDS}\n  ring_seconds: 20\n"
            f"  hours: '{hours_now(settings)}'\n"
            "  dial: 'Local/{number}@balagh-test-callee'\n  caller_id: '800700'\n"),
            {"BALAGH_AMI_PORT": str(proxy.port)}) as process:
        yield process


async def test_with_consent_called_back_and_ahead_of_a_caller_not_in_danger(
        settings: Settings, callback_app: AppProcess, ami: AmiSession) -> None:
    joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
    waiting = None
    async with placed_channels(ami, CALLBACK_IDS) as channels:
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
                assert placed_row(settings, ROWS, reference)["status"] == "pending"
                added = await ami.action({"Action": "QueueAdd", "Queue": "balagh-general",
                                          "Interface": CALLBACK_AGENT, "Penalty": "5",
                                          "MemberName": "Callback agent"}, as_list=False)
                assert added.get("Response") == "Success", added
                row = await until(row_in(settings, ROWS, reference, "dialling", "answered"),
                                  timeout=30, what="the callback dialled")
                channel_id = row["channel_id"]
                assert channel_id.endswith("-1")
                join = await wait_for_event(joins, lambda e: e.get("Uniqueid") == channel_id,
                                            30)
                whisper = await ami.getvar(join["Channel"], "BALAGH_WHISPER")
                prio = await ami.getvar(join["Channel"], "QUEUE_PRIO")
                await until(row_in(settings, ROWS, reference, "answered"), timeout=30,
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
    async with placed_channels(ami, CALLBACK_IDS) as channels:
        async with general_agent_away(ami):
            await agents_seen(callback_app, 0)
            reference, _ = await danger_caller_hangs_up(settings, ami, "+971501110002", "2")
        row = await until(row_in(settings, ROWS, reference, "cancelled"), timeout=30,
                          what="the callback withheld")
        await agents_seen(callback_app, 1)  # an agent free: still nothing to dial
    assert row["last_outcome"] == "no-consent" and row["attempt"] == 0
    assert channels == []


async def test_killed_between_claim_and_originate_never_dials_that_attempt(
        settings: Settings, callback_app: AppProcess, ami: AmiSession,
        proxy: OriginateHolder) -> None:
    async with placed_channels(ami, CALLBACK_IDS) as channels:
        async with general_agent_away(ami):
            await agents_seen(callback_app, 0)
            reference, _ = await danger_caller_hangs_up(settings, ami, "+971501110003", "1")
            proxy.seen.clear()
            proxy.holding = True
        try:
            # An agent is free: the dialler claims attempt 1 and sends its Originate, which
            # the proxy keeps from Asterisk. The app dies there.
            await asyncio.to_thread(proxy.seen.wait, 30)
            claimed = placed_row(settings, ROWS, reference)
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
        row = await until(row_in(settings, ROWS, reference, "answered"),
                          timeout=GAP_SECONDS + 30, what="the next attempt, after the gap")
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
        async with placed_channels(ami, CALLBACK_IDS) as channels:
            await ami.action({**pause, "Paused": "true"})
            try:
                await agents_seen(callback_app, 0)
                reference, abandoned_at = await danger_caller_hangs_up(
                    settings, ami, f"+9715011200{n:02d}", "1")
            finally:
                await ami.action({**pause, "Paused": "false"})
            await until(lambda: dialled(channels), timeout=30, what="the callback's channel")
            seconds.append(time.monotonic() - abandoned_at)
            await until(row_in(settings, ROWS, reference, "answered"), timeout=30,
                        what="the callback answered")
            for channel in channels:
                with contextlib.suppress(Exception):
                    await ami.action({"Action": "Hangup", "Channel": channel["Channel"]})
    print(f"\ncallback: abandon to ringing over {runs} call(s): median "
          f"{statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")
