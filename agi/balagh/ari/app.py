"""The ARI connection: one websocket, events routed to per-call objects.

The reader only parses events and hands them to the call they concern; it never
awaits business logic, because Asterisk drops a reader that falls
behind. Each call is served by its own task. After every (re)connect, channels
that were already in the app (their StasisStart was lost) are taken back.
Calls hold the application's current client (CurrentClient), not the one they
started with, so a call in progress goes on over the new connection.

While connected, the app beats a heartbeat into an Asterisk global variable
(liveness.py): the watchdog, a separate process, takes callers out of the app only
when the heartbeat has stopped. A heartbeat that cannot be written ends the session
(a half-open connection), and keep_up connects again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from balagh.ari.call import CALL_EVENTS, AriCall, PromptSeconds
from balagh.ari.connect import AriConnection, connect
from balagh.ari.liveness import (
    ECHO_EVENT_TYPE,
    WATCHDOG_FENCE_SECONDS,
    Heartbeat,
    in_stasis_of,
    stasis_args,
)
from balagh.ari.rest import AriRest, AriSessionClosed, Operation, Params
from balagh.ari.tell import SnoopTeller
from balagh.config import AriSettings
from balagh.ivr.port import CallInfo
from balagh.supervised import DEFAULT_BACKOFF, Backoff, MarkUp, keep_up
from balagh.timeouts import within

log = structlog.get_logger(__name__)

CallHandler = Callable[[AriCall], Awaitable[object]]
WITHHELD = frozenset({"", "anonymous", "restricted", "unavailable", "unknown", "private"})
# Events for a channel that entered the app reach the reader before the HTTP answer
# listing it; this grace lets them arrive before a channel is counted as an orphan. It
# also fences off the watchdog: it outlasts any move the watchdog began before it saw
# this connection's first heartbeat.
RECONCILE_GRACE_SECONDS = WATCHDOG_FENCE_SECONDS


ORPHANS_AT_ONCE = 10
# Channels served at once. Far above what one core serves well (bench/RESULTS.md: 200
# callers); past it a new channel goes straight on to the dialplan, whose general line
# takes it, rather than growing the process without bound.
MAX_CALLS = 2000
# The event types the app acts on (AriCall.on_event, the heartbeat's echo, new calls).
APP_EVENTS = frozenset({"StasisStart", *CALL_EVENTS, ECHO_EVENT_TYPE})


class WebsocketClosed(ConnectionError):
    """Asterisk (or the network) closed the event websocket."""


async def _continue(call: AriCall) -> None:
    await call.continue_in_dialplan()


async def _continue_quietly(call: AriCall) -> None:
    """A channel over the limit: on to the dialplan (general line), nothing else."""
    try:
        await call.continue_in_dialplan()
    except Exception as exc:  # gone already, or ARI refused: Asterisk keeps the channel
        log.warning("ari.continue_failed", call_id=call.info.call_id, error=type(exc).__name__)


def caller_number(channel: dict[str, Any]) -> str | None:
    number = str((channel.get("caller") or {}).get("number") or "").strip()
    return None if number.lower() in WITHHELD else number


def call_info(channel: dict[str, Any], args: list[Any]) -> CallInfo:
    """What a call knows about itself, from ARI's channel JSON and its Stasis() arguments."""
    hotline = str(args[0]) if args else str((channel.get("dialplan") or {}).get("exten", ""))
    return CallInfo(call_id=str(channel["id"]), channel=str(channel.get("name", "")),
                    caller=caller_number(channel), hotline=hotline or None,
                    args=tuple(str(arg) for arg in args))


def event_channel_id(event: dict[str, Any]) -> str | None:
    channel = event.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    playback = event.get("playback")
    if isinstance(playback, dict):
        target = str(playback.get("target_uri", ""))
        if target.startswith("channel:"):
            return target.removeprefix("channel:")
    return None


class AriUnavailable(RuntimeError):
    """No ARI connection, and none came back within RECONNECT_WAIT_SECONDS."""


# A request made while the connection is down waits this long for the next one (the first
# reconnect comes within 100 ms): a short drop costs a call a moment, not its route.
RECONNECT_WAIT_SECONDS = 5.0


class CurrentClient(AriRest):
    """The REST side of whichever ARI connection is up now, for the calls to use:
    `rest.channels.answer(...)` goes to the client of the moment, waiting for one if the
    connection is being re-made."""

    def __init__(self, application: AriApplication) -> None:
        super().__init__(self._send)
        self._application = application

    async def _send(self, operation: Operation, params: Params) -> Any:
        client = await self._application.current_client()
        try:
            return await client.send(operation, params)
        except AriSessionClosed:
            pass  # the connection was re-made under this request: nothing was sent
        client = await self._application.current_client()
        return await client.send(operation, params)


class AriApplication:
    def __init__(self, settings: AriSettings, handler: CallHandler,
                 *, orphan_handler: CallHandler | None = None,
                 backoff: Backoff = DEFAULT_BACKOFF,
                 prompt_seconds: PromptSeconds | None = None) -> None:
        self.settings = settings
        self.handler = handler
        # A call found in the app after a (re)connect: its StasisStart went with the old
        # connection. Without a handler it simply goes on to the dialplan.
        self.orphan_handler = orphan_handler or _continue
        self.backoff = backoff
        self.calls: dict[str, AriCall] = {}
        self.max_calls = MAX_CALLS
        self.calls_over_limit = 0  # channels sent on unserved since the start
        self.prompt_seconds = prompt_seconds
        self.connected = asyncio.Event()
        self._client: AriRest | None = None
        self._client_up = asyncio.Event()
        self._heartbeat: Heartbeat | None = None
        self._orphans = asyncio.Semaphore(ORPHANS_AT_ONCE)
        self.rest = CurrentClient(self)  # for calls, and anyone acting for them
        self.teller = SnoopTeller(self.rest, settings.app)  # served by tell.telling_entry
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def client(self) -> AriRest | None:
        """The connected client, or None between a drop and the reconnect."""
        return self._client

    @client.setter
    def client(self, client: AriRest | None) -> None:
        self._client = client
        if client is None:
            self._client_up.clear()
        else:
            self._client_up.set()

    async def current_client(self, wait: float = RECONNECT_WAIT_SECONDS) -> AriRest:
        """The client of the moment, waiting up to `wait` seconds for a reconnect."""
        while self._client is None:
            try:
                await within(self._client_up.wait(), wait)
            except TimeoutError:
                raise AriUnavailable("not connected to ARI") from None
        return self._client

    def heartbeat_age(self) -> float | None:
        """Seconds since the heartbeat's last echo (metrics/); None while not connected."""
        heartbeat = self._heartbeat
        return None if heartbeat is None else heartbeat.clock() - heartbeat.echoed_at

    async def run(self) -> None:
        """Serve calls until cancelled, reconnecting whenever the websocket drops."""
        await keep_up("ari", self._session, self.backoff)

    async def _session(self, mark_up: MarkUp) -> None:
        try:
            async with connect(self.settings.url, self.settings.app, self.settings.username,
                               self.settings.password, self.dispatch) as connection:
                client = self.client = connection.rest
                await self._allow_events(client)
                heartbeat = self._heartbeat = Heartbeat(connection.beats, self.settings.app)
                await heartbeat.beat()  # the watchdog stands back from here on
                self.connected.set()
                mark_up()
                log.info("ari.connected", url=self.settings.url, app=self.settings.app)
                self._spawn(self._reconcile(client))
                # Either ending ends the session: the websocket closed, or the heartbeat
                # could not be written (a half-open connection the websocket never noticed).
                async with asyncio.TaskGroup() as session:
                    session.create_task(self._read(connection))
                    session.create_task(heartbeat.run())
        finally:
            self.connected.clear()
            self.client = None
            self._heartbeat = None

    async def _allow_events(self, client: AriRest) -> None:
        """Only the events the app acts on: most of the rest (a variable set, a dialplan
        step, a state change) would be read and parsed for nothing, some twenty a call."""
        try:
            await client.allow_events(self.settings.app, APP_EVENTS)
        except Exception as exc:  # an Asterisk without filters sends everything: still fine
            log.warning("ari.event_filter_refused", error=str(exc))

    async def _read(self, connection: AriConnection) -> None:
        await connection.closed.wait()  # events meanwhile go to dispatch as they are read
        raise WebsocketClosed("the ARI websocket closed")

    def dispatch(self, event: dict[str, Any]) -> None:
        """Hand one event to its call. Sync and quick by design."""
        if self._heartbeat is not None and self._heartbeat.on_event(event):
            return
        kind = event.get("type")
        channel_id = event_channel_id(event)
        if channel_id is None:
            return
        if kind == "StasisStart" and channel_id not in self.calls:
            self._start_call(event)
            return
        call = self.calls.get(channel_id)
        if call is not None:
            call.on_event(event)

    def _start_call(self, event: dict[str, Any], handler: CallHandler | None = None) -> None:
        info = call_info(event["channel"], event.get("args") or [])
        call = AriCall(info, self.rest, self.prompt_seconds, teller=self.teller)
        if len(self.calls) >= self.max_calls:
            self.calls_over_limit += 1
            if self.calls_over_limit & (self.calls_over_limit - 1) == 0:  # 1, 2, 4, 8, ...
                log.error("ari.calls_full", limit=self.max_calls, sent_on=self.calls_over_limit)
            self._spawn(_continue_quietly(call))
            return
        self.calls[info.call_id] = call
        self._spawn(self._serve(call, handler or self.handler))

    async def _serve(self, call: AriCall, handler: CallHandler) -> None:
        try:
            await handler(call)
        except Exception:
            log.exception("ari.handler_crashed", call_id=call.info.call_id)
        finally:
            self.calls.pop(call.info.call_id, None)

    async def _reconcile(self, client: AriRest) -> None:
        """Channels in the app that we have no task for are taken back (orphan_handler)."""
        try:
            application = await client.applications.get(applicationName=self.settings.app)
            channel_ids = list((application or {}).get("channel_ids", []))
        except Exception as exc:
            log.warning("ari.reconcile_failed", error=str(exc))
            return
        if not channel_ids:
            return
        await asyncio.sleep(RECONCILE_GRACE_SECONDS)
        for channel_id in channel_ids:
            if channel_id in self.calls:
                continue
            try:
                channel = dict(await client.channels.get(channelId=channel_id))
            except Exception as exc:  # gone meanwhile, or ARI refused: nothing to serve
                log.warning("ari.orphan_failed", call_id=channel_id, error=str(exc))
                continue
            if not in_stasis_of(channel, self.settings.app):
                log.info("ari.orphan_moved_already", call_id=channel_id)  # the watchdog
                continue
            log.warning("ari.orphan_taken_back", call_id=channel_id)
            self._start_call({"channel": channel, "args": stasis_args(channel)},
                             self._one_at_a_time(self.orphan_handler))

    def _one_at_a_time(self, handler: CallHandler) -> CallHandler:
        """`handler` within the take-back limit: fifty callers found after a restart are
        put through ORPHANS_AT_ONCE at a time, not in one burst that slows Asterisk for all."""
        async def limited(call: AriCall) -> object:
            async with self._orphans:
                return await handler(call)

        return limited

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel_calls(self) -> None:
        handlers = [task for task in self._tasks if not task.done()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    async def drain(self, timeout: float) -> None:
        """Let calls in progress finish (used on shutdown)."""
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)
