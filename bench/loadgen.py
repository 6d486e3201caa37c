"""The load process: bench callers on Local channels, timed from Asterisk's side.

Each call is an AMI Originate of Local/<hotline>@<context>/n whose caller half enters
this bench's ARI app (it presses keys with ARI and hangs up); the hotline half runs the
IVR under test (Balagh's Stasis app, or the native dialplan). The bench's app subscribes
to every channel (subscribeAll), so each hotline leg's events, with Asterisk's own
timestamps, make its timeline (bench/timeline.py). A call ends at the queue join.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from callers import Lengths, caller_language, press_delay
from timeline import Timeline, ari_time

from balagh.ami.client import AmiSession
from balagh.ari.rest import event_filter
from balagh.config import Settings
from balagh.ivr.menu import Menu
from balagh.pbx.test_user import ami_for_tests

APP = "balagh-bench"
DTMF_ATTEMPTS = 10
LISTEN_SECONDS = 180.0  # Asterisk after an overload step: minutes to drain its queues
# Only what the timelines need: every other event (device states, bridges, the agents'
# channels ...) would cost Asterisk a websocket write and this process a parse.
EVENT_TYPES = ("StasisStart", "ChannelStateChange", "ChannelDtmfReceived", "PlaybackStarted",
               "PlaybackFinished", "ChannelDialplan", "ChannelVarset", "ChannelDestroyed")


@dataclass(frozen=True)
class CallSpec:
    context: str           # balagh-inbound (Balagh) or bench-native
    keys: Sequence[str]
    mode: str              # callers.MODES
    timeout: float = 60.0  # originate to queue join; longer counts as a failed call


@dataclass
class CallRun:
    spec: CallSpec
    caller: str
    timeline: Timeline
    language: str
    pending: list[str] = field(default_factory=list)
    joined: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None
    presses: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.timeline.queue_at is not None


class Bench:
    """One AMI session and one ARI connection shared by every bench call."""

    def __init__(self, settings: Settings, menu: Menu, lengths: Lengths, *,
                 light: bool = False) -> None:
        self.settings = settings
        # light: the hotline legs are not watched over ARI (no subscribeAll), only their
        # queue join, from AMI's QueueCallerJoin. Asterisk turns every event of a watched
        # channel into JSON in one thread per app, and the native IVR's 80 dialplan steps
        # a call made that thread the limit of the rate search, not the IVR (RESULTS.md).
        self.light = light
        # Its own app name: two websockets of one app replace each other.
        self.app = f"{APP}-light" if light else APP
        self.menu = menu
        self.lengths = lengths
        self.spoken = {q.prompt: list(q.options) for q in menu.questions}
        self.language_keys = dict(menu.language_question.options)
        self.calls: dict[str, CallRun] = {}    # hotline leg id -> call
        self.callers: dict[str, CallRun] = {}  # caller leg id -> call
        self.events = 0
        self.active = 0
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> Bench:
        ari = self.settings.ari
        base = ari.url.rstrip("/") + "/ari"
        # aiohttp, as the app's own requests (balagh/ari/rest.py): this process sends a
        # request per key and reads every channel's events; it must not be the limit.
        self.base = base
        self.http = await self._stack.enter_async_context(aiohttp.ClientSession(
            auth=aiohttp.BasicAuth(ari.username, ari.password),
            connector=aiohttp.TCPConnector(limit=50),
            timeout=aiohttp.ClientTimeout(total=10)))
        query = urllib.parse.urlencode({"app": self.app,
                                        "subscribeAll": str(not self.light).lower()})
        self.ws_url = base.replace("http", "ws", 1) + f"/events?{query}"
        self.ws_lost = 0  # times Asterisk dropped this app's websocket (it fell behind)
        self.ami = await self._stack.enter_async_context(
            AmiSession(ami_for_tests(self.settings)))
        # Only call events for this session (its originates' OriginateResponse): the test
        # user reads everything, and the native IVR's every dialplan step is an AMI event
        # that Asterisk's manager would queue, and this process parse, for nothing.
        await self.ami.action({"Action": "Events",
                               "EventMask": "call,agent" if self.light else "call"},
                              as_list=False)
        if self.light:
            self._joins = self.ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
            self._stack.callback(self.ami.unlisten, self._joins)
            self._join_reader = asyncio.create_task(self._read_joins())
            self._stack.callback(self._join_reader.cancel)
        self.reader = asyncio.create_task(self._read())
        await self.listening()
        return self

    async def listening(self) -> None:
        """Make sure Asterisk has this app (a websocket it dropped is not always noticed
        here: without the app, every bench call would fail at once). After an overload
        step Asterisk can take a while to serve HTTP again: up to LISTEN_SECONDS."""
        deadline = time.monotonic() + LISTEN_SECONDS
        attempt = 0
        while time.monotonic() < deadline:
            try:
                if await self._ari("GET", f"/applications/{self.app}", timeout=2) == 200:
                    return
            except (aiohttp.ClientError, TimeoutError):
                pass  # Asterisk's HTTP server still busy after an overload: ask again
            attempt += 1
            if attempt % 20 == 0:  # the reader is stuck on a dead websocket: a new one
                self.reader.cancel()
                with contextlib.suppress(BaseException):
                    await self.reader
                self.ws_lost += 1
                self.reader = asyncio.create_task(self._read())
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the bench's ARI app {self.app} did not register")

    async def __aexit__(self, *exc: object) -> None:
        self.reader.cancel()
        with contextlib.suppress(BaseException):
            await self.reader
        await self._stack.aclose()

    async def _ari(self, method: str, path: str, timeout: float | None = None,
                   **kwargs: Any) -> int:
        """One ARI request; its status."""
        async with self.http.request(method, self.base + path, **kwargs,
                                     timeout=aiohttp.ClientTimeout(total=timeout or 10)
                                     ) as response:
            await response.read()
            return response.status

    # -- events --------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            try:
                await self._follow()
            except (aiohttp.ClientError, TimeoutError, OSError):
                await asyncio.sleep(0.5)  # Asterisk still busy: connect again
            self.ws_lost += 1

    async def _follow(self) -> None:
        async with self.http.ws_connect(self.ws_url, max_msg_size=0) as ws:
            await self._ari("PUT", f"/applications/{self.app}/eventFilter",
                            json=event_filter(EVENT_TYPES))
            async for message in ws:
                data = message.data if message.type == aiohttp.WSMsgType.TEXT else None
                # Most events are dialplan steps the timelines skip: not even parsed.
                if isinstance(data, str) and not (
                        '"ChannelDialplan"' in data and '"Read"' not in data
                        and '"Queue"' not in data):
                    self.events += 1
                    self._dispatch(json.loads(data))

    def _dispatch(self, event: dict[str, Any]) -> None:
        channel = (event.get("channel") or {}).get("id")
        if channel is None:
            target = str((event.get("playback") or {}).get("target_uri", ""))
            channel = target.removeprefix("channel:")
        if (run := self.calls.get(channel)) is not None:
            prompts = len(run.timeline.prompts)
            run.timeline.feed(event)
            if len(run.timeline.prompts) > prompts:
                self._on_prompt(run)
            if run.timeline.queue_at is not None:
                run.joined.set()
        elif (run := self.callers.get(channel)) is not None:
            if self.light and event.get("type") == "StasisStart" and "timestamp" in event:
                # The caller half enters the app when the hotline half has answered.
                run.timeline.answered = ari_time(event["timestamp"])
            if event.get("type") == "StasisStart" and run.spec.mode == "ahead" and run.pending:
                keys, run.pending = "".join(run.pending), []
                self._press(run, keys, 0.0)

    async def _read_joins(self) -> None:
        """Light mode: each hotline leg's queue join, as this process hears of it."""
        while True:
            event = await self._joins.get()
            if (run := self.calls.get(event.get("Uniqueid", ""))) is not None:
                run.timeline.queue_at = time.time()
                run.timeline.queue = event.get("Queue", "").removeprefix("balagh-")
                run.joined.set()

    def _on_prompt(self, run: CallRun) -> None:
        if not run.pending or run.spec.mode in ("ahead", "silent"):
            return
        started, prompt = run.timeline.prompts[-1]
        key = run.pending.pop(0)
        delay = press_delay(run.spec.mode, prompt, key, self.spoken.get(prompt, []),
                            run.language, self.lengths)
        if delay is not None:
            # From the prompt's start as Asterisk stamped it, not when we read the event.
            self._press(run, key, max(0.0, started + delay - time.time()))

    def _press(self, run: CallRun, keys: str, delay: float) -> None:
        run.presses.append(asyncio.create_task(self._send_dtmf(run, keys, delay)))

    async def _send_dtmf(self, run: CallRun, keys: str, delay: float) -> None:
        await asyncio.sleep(delay)
        for _ in range(DTMF_ATTEMPTS):
            # 412/404 right after answer: the caller half is not in the app yet.
            status = await self._ari("POST", f"/channels/{run.caller}/dtmf",
                                     params={"dtmf": keys, "between": "100",
                                             "duration": "100"})
            if status < 300:
                return
            await asyncio.sleep(0.1)
        run.error = f"dtmf refused ({status})"

    # -- calls ------------------------------------------------------------------------

    async def place(self, spec: CallSpec) -> CallRun:
        caller = f"bench-{uuid.uuid4().hex[:16]}"
        hotline = f"{caller}-h"
        run = CallRun(spec, caller, Timeline(hotline),
                      caller_language(spec.keys, self.language_keys,
                                      self.menu.default_language),
                      pending=[k for k in spec.keys if k != "-"])
        self.calls[hotline] = run
        self.callers[caller] = run
        self.active += 1
        originate = asyncio.create_task(self.ami.originate({
            "Channel": f"Local/{self.settings.hotline}@{spec.context}/n",
            "Application": "Stasis", "Data": self.app, "ChannelId": caller,
            "OtherChannelId": hotline, "CallerID": "Bench <+97165551234>",
            "Timeout": str(int(spec.timeout * 1000))}, spec.timeout + 5))
        try:
            async with asyncio.timeout(spec.timeout):
                await run.joined.wait()
        except TimeoutError:
            run.error = run.error or "no queue join"
            if originate.done() and not originate.cancelled() and originate.exception():
                run.error = f"originate: {originate.exception()!r}"
        finally:
            self.active -= 1
            for task in run.presses:
                task.cancel()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                await self._ari("DELETE", f"/channels/{caller}")
            originate.cancel()
            with contextlib.suppress(BaseException):
                await originate
            self.calls.pop(hotline, None)
            self.callers.pop(caller, None)
        return run

    async def burst(self, specs: Sequence[CallSpec], per_second: float) -> list[CallRun]:
        """Start the calls `per_second` apart at most, all running together."""
        tasks = []
        for spec in specs:
            tasks.append(asyncio.create_task(self.place(spec)))
            await asyncio.sleep(1 / per_second)
        return list(await asyncio.gather(*tasks))

    async def steady(self, spec: CallSpec, rate: float, seconds: float,
                     sample: Callable[[], None] | None = None) -> list[CallRun]:
        """New calls at `rate` per second for `seconds`, paced on the clock (no drift)."""
        tasks: list[asyncio.Task[CallRun]] = []
        start = time.monotonic()
        count = int(rate * seconds)
        for index in range(count):
            wait = start + index / rate - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(self.place(spec)))
            if sample is not None:
                sample()
        return list(await asyncio.gather(*tasks))
