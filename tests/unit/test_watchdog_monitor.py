"""The watchdog's decisions against a scripted ARI (when it moves callers, and when not),
and the app's heartbeat it reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from balagh.ari import liveness
from balagh.ari.call import AriCall
from balagh.ari.liveness import (
    Heartbeat,
    HeartbeatLost,
    heartbeat_variable,
    in_stasis_of,
    stasis_args,
)
from balagh.watchdog.monitor import Watchdog

NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
APP = "balagh"


class NotFound(Exception):
    def __init__(self) -> None:
        super().__init__("404")
        self.response = SimpleNamespace(status_code=404)


def channel(channel_id: str, *, age: float = 60.0, app: str = "Stasis",
            data: str = "balagh,800700") -> dict[str, Any]:
    created = (NOW - timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    return {"id": channel_id, "name": f"Local/800700@balagh-inbound-{channel_id};2",
            "creationtime": created, "caller": {"number": "+97165551234"},
            "dialplan": {"context": "balagh-inbound", "exten": "800700", "priority": 4,
                         "app_name": app, "app_data": data}}


class ScriptedAri:
    """The heartbeat, the app's channels and each channel, as the test sets them."""

    def __init__(self) -> None:
        self.beat: str | None = "100-a-1"
        self.beats: list[str | None] = []  # if set, each read takes the next value
        self.held: list[str] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []  # in the order the watchdog made them
        self.app_back_at_channel_read = False  # the app beats while a channel is read

    async def _get_var(self, variable: str) -> dict[str, Any]:
        assert variable == heartbeat_variable(APP)
        self.requests.append("heartbeat")
        if self.beats:
            self.beat = self.beats.pop(0)
        if self.beat is None:
            raise NotFound()
        return {"value": self.beat}

    async def _get_app(self, applicationName: str) -> dict[str, Any]:
        assert applicationName == APP
        return {"name": APP, "channel_ids": list(self.held)}

    async def _get_channel(self, channelId: str) -> SimpleNamespace:
        self.requests.append(f"channel {channelId}")
        if self.app_back_at_channel_read:
            self.beat = "200-b-1"
        if channelId not in self.by_id:
            raise NotFound()
        return SimpleNamespace(json=self.by_id[channelId])


class Rest:
    """ARI's repositories as asyncari presents them, answered by the script."""

    def __init__(self, ari: ScriptedAri) -> None:
        self.asterisk = SimpleNamespace(getGlobalVar=ari._get_var)
        self.applications = SimpleNamespace(get=ari._get_app)
        self.channels = SimpleNamespace(get=ari._get_channel)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ari() -> ScriptedAri:
    return ScriptedAri()


def watchdog(ari: ScriptedAri, clock: Clock, moved: list[str]) -> Watchdog:
    async def move(call: AriCall) -> str:
        moved.append(call.info.call_id)
        ari.requests.append(f"move {call.info.call_id}")
        return "caller-routed"

    return Watchdog(Rest(ari), APP, move, grace=5.0, clock=clock,
                    wall_clock=lambda: NOW)


def hold(ari: ScriptedAri, *channels: dict[str, Any]) -> None:
    for item in channels:
        ari.held.append(item["id"])
        ari.by_id[item["id"]] = item


async def after(dog: Watchdog, clock: Clock, seconds: float) -> list[str]:
    clock.now += seconds
    return await dog.check()


async def test_a_beating_app_keeps_its_callers(ari: ScriptedAri) -> None:
    clock, moved = Clock(), []
    dog = watchdog(ari, clock, moved)
    hold(ari, channel("c1"))
    for second in range(1, 20):
        ari.beat = f"100-a-{second}"
        assert await after(dog, clock, 1.0) == []
    assert moved == []


async def test_a_silent_app_s_callers_are_moved_after_the_grace_only(ari: ScriptedAri) -> None:
    clock, moved = Clock(), []
    dog = watchdog(ari, clock, moved)
    hold(ari, channel("c1"), channel("c2"))
    assert await after(dog, clock, 0.5) == []    # first look: the value is new
    assert await after(dog, clock, 4.0) == []    # silent 4 s: not yet
    assert await after(dog, clock, 1.0) == ["c1", "c2"]
    assert moved == ["c1", "c2"]


async def test_no_heartbeat_ever_counts_from_the_watchdog_s_start(ari: ScriptedAri) -> None:
    clock, moved = Clock(), []
    ari.beat = None  # the app never ran since Asterisk started
    dog = watchdog(ari, clock, moved)
    hold(ari, channel("c1"))
    assert await after(dog, clock, 4.9) == []
    assert await after(dog, clock, 0.2) == ["c1"]


async def test_the_app_back_mid_pass_stops_the_watchdog(ari: ScriptedAri) -> None:
    clock, moved = Clock(), []
    dog = watchdog(ari, clock, moved)
    hold(ari, channel("c1"), channel("c2"), channel("c3"))
    await after(dog, clock, 0.5)
    # Silent at the pass's start and before c1; beating again before c2.
    ari.beats = ["100-a-1", "100-a-1", "200-b-1"]
    assert await after(dog, clock, 6.0) == ["c1"]
    assert moved == ["c1"]


async def test_the_heartbeat_is_read_last_immediately_before_each_move(
        ari: ScriptedAri) -> None:
    clock, moved = Clock(), []
    dog = watchdog(ari, clock, moved)
    hold(ari, channel("c1"), channel("c2"))
    await after(dog, clock, 0.5)
    ari.requests.clear()
    assert await after(dog, clock, 6.0) == ["c1", "c2"]
    assert ari.requests == ["heartbeat", "channel c1", "heartbeat", "move c1",
                            "channel c2", "heartbeat", "move c2"]


async def test_an_app_back_while_the_watchdog_reads_a_channel_keeps_it(
        ari: ScriptedAri) -> None:
    clock, moved = Clock(), []
    dog = watchdog(ari, clock, moved)
    hold(ari, channel("c1"))
    await after(dog, clock, 0.5)
    # Silent when the pass starts; the app's first beat lands during the channel read.
    ari.app_back_at_channel_read = True
    assert await after(dog, clock, 6.0) == []
    assert moved == []


def test_the_fence_outlasts_the_watchdogs_last_read_and_its_move() -> None:
    # The watchdog's last read may have been answered from a value Asterisk read up to
    # its timeout before it ended; the move follows at once, bounded. A returning app
    # waits the fence after its first beat: it must cover both, with room to spare.
    from balagh.ari.app import RECONCILE_GRACE_SECONDS
    from balagh.watchdog import monitor

    worst = monitor.REQUEST_TIMEOUT_SECONDS + liveness.MOVE_TIMEOUT_SECONDS
    assert liveness.WATCHDOG_FENCE_SECONDS >= worst + 1.0
    assert RECONCILE_GRACE_SECONDS == liveness.WATCHDOG_FENCE_SECONDS


async def test_only_channels_still_in_the_app_and_held_long_enough_are_moved(
        ari: ScriptedAri) -> None:
    clock, moved = Clock(), []
    dog = watchdog(ari, clock, moved)
    hold(ari,
         channel("fresh", age=1.0),                        # reached an app just back
         channel("queued", app="Queue", data="balagh-general"),  # already moved
         channel("other", data="balagh-watchdog"),         # another app's
         channel("old"))
    ari.held.append("gone")                                # hung up meanwhile
    await after(dog, clock, 0.5)
    assert await after(dog, clock, 5.0) == ["old"]


async def test_a_failed_move_is_logged_and_the_others_still_moved(ari: ScriptedAri) -> None:
    clock = Clock()
    moved: list[str] = []

    async def move(call: AriCall) -> str:
        if call.info.call_id == "bad":
            raise RuntimeError("ARI said 500")
        moved.append(call.info.call_id)
        return "caller-routed"

    dog = Watchdog(Rest(ari), APP, move, grace=5.0, clock=clock, wall_clock=lambda: NOW)
    hold(ari, channel("bad"), channel("good"))
    await after(dog, clock, 0.5)
    assert await after(dog, clock, 5.0) == ["good"]


def test_stasis_of_and_its_arguments() -> None:
    supervisor = channel("s", data="balagh,supervise,listen,agent,1001")
    assert in_stasis_of(supervisor, "balagh")
    assert not in_stasis_of(supervisor, "balagh-watchdog")
    assert stasis_args(supervisor) == ["supervise", "listen", "agent", "1001"]
    assert stasis_args(channel("c")) == ["800700"]
    assert not in_stasis_of(channel("q", app="Queue", data="balagh"), "balagh")



class FlakyAsterisk:
    """setGlobalVar, getGlobalVar and userEvent as a client's: failing while `down`,
    recording writes."""

    def __init__(self) -> None:
        self.down = False
        self.written: list[tuple[str, str]] = []
        self.events: list[str] = []

    async def setGlobalVar(self, variable: str, value: str) -> None:
        if self.down:
            raise ConnectionError("connection reset")
        self.written.append((variable, value))

    async def getGlobalVar(self, variable: str) -> dict[str, str]:
        if self.down:
            raise ConnectionError("connection reset")
        return {"value": self.written[-1][1] if self.written else ""}

    async def userEvent(self, eventName: str, application: str) -> None:
        assert application == APP
        self.events.append(eventName)


def client(asterisk: FlakyAsterisk) -> SimpleNamespace:
    return SimpleNamespace(asterisk=asterisk, events=asterisk)


async def test_the_heartbeat_writes_new_values_and_gives_up_after_repeated_misses(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(liveness, "HEARTBEAT_SECONDS", 0.0)
    asterisk = FlakyAsterisk()
    heartbeat = Heartbeat(client(asterisk), APP)
    await heartbeat.beat()
    await heartbeat.beat()
    assert [name for name, _ in asterisk.written] == [heartbeat_variable(APP)] * 2
    assert asterisk.written[0][1] != asterisk.written[1][1]
    assert asterisk.events == [liveness.ECHO_EVENT] * 2  # each beat also echoes
    asterisk.down = True
    with pytest.raises(HeartbeatLost, match="heartbeats in a row failed"):
        await asyncio.wait_for(heartbeat.run(), 1.0)
    # A restarted app never writes a value an earlier process wrote.
    assert Heartbeat(client(asterisk), APP).token != heartbeat.token


async def test_a_websocket_that_stops_bringing_the_echo_back_ends_the_session(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(liveness, "HEARTBEAT_SECONDS", 0.0)
    clock = Clock()
    heartbeat = Heartbeat(client(FlakyAsterisk()), APP, clock=clock)
    echo = {"type": "ChannelUserevent", "eventname": liveness.ECHO_EVENT, "application": APP}
    assert heartbeat.on_event(echo)
    assert not heartbeat.on_event({"type": "ChannelUserevent", "eventname": "Other"})
    running = asyncio.create_task(heartbeat.run())
    for _ in range(20):  # echoes keep coming: the session goes on
        clock.now += 1.0
        heartbeat.on_event(echo)
        await asyncio.sleep(0)
    assert not running.done()
    clock.now += liveness.ECHO_TIMEOUT_SECONDS + 1  # HTTP works, the websocket is silent
    with pytest.raises(HeartbeatLost, match="no event on the websocket"):
        await asyncio.wait_for(running, 1.0)
