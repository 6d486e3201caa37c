"""The ARI connection: one websocket, events routed to per-call objects.

The reader only parses events and hands them to the call they concern; it never
awaits business logic, because asyncari (and Asterisk) drop a reader that falls
behind. Each call is served by its own task. After every (re)connect, channels
that were already in the app (their StasisStart was lost) are taken back.
Calls hold the application's current client (CurrentClient), not the one they
started with, so a call in progress goes on over the new connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncari
import structlog

from balagh.ari.call import AriCall
from balagh.config import AriSettings
from balagh.ivr.port import CallInfo
from balagh.supervised import DEFAULT_BACKOFF, Backoff, MarkUp, keep_up

log = structlog.get_logger(__name__)

CallHandler = Callable[[AriCall], Awaitable[object]]
WITHHELD = frozenset({"", "anonymous", "restricted", "unavailable", "unknown", "private"})
# Events for a channel that entered the app reach the reader before the HTTP answer
# listing it; this grace lets them arrive before a channel is counted as an orphan.
RECONCILE_GRACE_SECONDS = 1.0


async def _continue(call: AriCall) -> None:
    await call.continue_in_dialplan()


def caller_number(channel: dict[str, Any]) -> str | None:
    number = str((channel.get("caller") or {}).get("number") or "").strip()
    return None if number.lower() in WITHHELD else number


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
    """No ARI connection at the moment (between a drop and the reconnect)."""


class CurrentClient:
    """The REST side of whichever ARI connection is up now, for the calls to use."""

    def __init__(self, application: AriApplication) -> None:
        self._application = application

    def __getattr__(self, name: str) -> Any:
        client = self._application.client
        if client is None:
            raise AriUnavailable("not connected to ARI")
        return getattr(client, name)


class AriApplication:
    def __init__(self, settings: AriSettings, handler: CallHandler,
                 *, orphan_handler: CallHandler | None = None,
                 backoff: Backoff = DEFAULT_BACKOFF) -> None:
        self.settings = settings
        self.handler = handler
        # A call found in the app after a (re)connect: its StasisStart went with the old
        # connection. Without a handler it simply goes on to the dialplan.
        self.orphan_handler = orphan_handler or _continue
        self.backoff = backoff
        self.calls: dict[str, AriCall] = {}
        self.connected = asyncio.Event()
        self.client: Any = None
        self.rest = CurrentClient(self)  # for calls, and anyone acting for them
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Serve calls until cancelled, reconnecting whenever the websocket drops."""
        await keep_up("ari", self._session, self.backoff)

    async def _session(self, mark_up: MarkUp) -> None:
        try:
            async with asyncari.connect(self.settings.url, self.settings.app,
                                        self.settings.username,
                                        self.settings.password) as client:
                self.client = client
                self.connected.set()
                mark_up()
                log.info("ari.connected", url=self.settings.url, app=self.settings.app)
                self._spawn(self._reconcile(client))
                async for message in client:
                    self.dispatch(getattr(message, "_orig_msg", message))
        finally:
            self.connected.clear()
            self.client = None

    def dispatch(self, event: dict[str, Any]) -> None:
        """Hand one event to its call. Sync and quick by design."""
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
        channel = event["channel"]
        args = event.get("args") or []
        hotline = str(args[0]) if args else str((channel.get("dialplan") or {}).get("exten", ""))
        info = CallInfo(call_id=str(channel["id"]), channel=str(channel.get("name", "")),
                        caller=caller_number(channel), hotline=hotline or None,
                        args=tuple(str(arg) for arg in args))
        call = AriCall(info, self.rest)
        self.calls[info.call_id] = call
        self._spawn(self._serve(call, handler or self.handler))

    async def _serve(self, call: AriCall, handler: CallHandler) -> None:
        try:
            await handler(call)
        except Exception:
            log.exception("ari.handler_crashed", call_id=call.info.call_id)
        finally:
            self.calls.pop(call.info.call_id, None)

    async def _reconcile(self, client: Any) -> None:
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
            log.warning("ari.orphan_taken_back", call_id=channel_id)
            try:
                channel = await client.channels.get(channelId=channel_id)
                self._start_call({"channel": dict(getattr(channel, "json", channel))},
                                 self.orphan_handler)
            except Exception as exc:  # gone meanwhile, or ARI refused: nothing to serve
                log.warning("ari.orphan_failed", call_id=channel_id, error=str(exc))

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
