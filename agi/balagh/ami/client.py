"""The AMI session over panoramisk: log in, read events, run actions.

One session per process: `balagh run` keeps it up with `run()` (supervised, with
backoff) and every consumer (queue monitor, queue outcomes) listens on it or sends
actions through it; listeners stay registered across reconnects. Short-lived users
(the test caller, tests) use it as `async with AmiSession(settings) as ami`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from panoramisk import Manager

from balagh.config import AmiSettings
from balagh.supervised import DEFAULT_BACKOFF, Backoff, MarkUp, keep_up
from balagh.timeouts import within

log = structlog.get_logger(__name__)

# Events a listener has not read yet. A listener that falls this far behind (its task
# stuck) loses the newest events rather than the process its memory.
MAX_UNREAD_EVENTS = 10_000

EventFilter = Callable[[dict[str, str]], bool]


def ami_int(value: object) -> int:
    """An AMI header as a whole number; AMI sends text, and a missing one counts as 0."""
    try:
        return int(str(value))
    except ValueError:
        return 0


class AmiError(RuntimeError):
    pass


class AmiSession:
    """Connected, logged-in AMI manager with an event feed for waiting on events."""

    def __init__(self, settings: AmiSettings) -> None:
        self.settings = settings
        self.manager: Manager | None = None
        self.connected = asyncio.Event()
        self._lost = asyncio.Event()
        self._listeners: list[tuple[EventFilter, asyncio.Queue[dict[str, str]]]] = []
        self.dropped_events = 0  # events a full listener's queue could not take

    async def run(self, backoff: Backoff = DEFAULT_BACKOFF) -> None:
        """Stay logged in until cancelled, logging in again after every drop."""
        await keep_up("ami", self._session, backoff)

    async def _session(self, mark_up: MarkUp) -> None:
        self._lost.clear()
        await self.connect()
        try:
            mark_up()
            log.info("ami.connected", host=self.settings.host, port=self.settings.port)
            await self._lost.wait()
        finally:
            self.close()

    async def __aenter__(self) -> AmiSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def connect(self, timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        logged_in: asyncio.Future[bool] = loop.create_future()

        def on_login(_manager: Manager) -> None:
            if not logged_in.done():
                logged_in.set_result(True)

        self.manager = Manager(
            loop=loop, host=self.settings.host, port=self.settings.port,
            username=self.settings.username, secret=self.settings.secret,
            ping_delay=30, on_login=on_login,
        )
        self.manager.register_event("*", self._on_event)
        # panoramisk would reconnect by itself; the supervisor (run) does that instead.
        self.manager.connection_lost = lambda exc: self._lost.set()
        try:
            await within(self.manager.connect(), timeout)
            await within(logged_in, timeout)
        except (TimeoutError, OSError) as exc:
            self.close()
            raise AmiError(f"AMI login to {self.settings.host}:{self.settings.port} as "
                           f"{self.settings.username!r} failed: {exc or 'timed out'}") from exc
        self.connected.set()

    def close(self) -> None:
        self.connected.clear()
        if self.manager is not None:
            # A failed connect has panoramisk schedule its own retry of this manager:
            # a closed one must not come back beside the next.
            self.manager.connect = lambda *args, **kwargs: None
            self.manager.close()
            self.manager = None

    def _on_event(self, _manager: Manager, message: Any) -> None:
        event = {str(k): str(v) for k, v in dict(message).items()}
        for accept, queue in self._listeners:
            if accept(event):
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    self.dropped_events += 1
                    if self.dropped_events & (self.dropped_events - 1) == 0:  # 1, 2, 4, ...
                        log.error("ami.listener_behind", dropped=self.dropped_events,
                                  limit=MAX_UNREAD_EVENTS)

    def listen(self, accept: EventFilter) -> asyncio.Queue[dict[str, str]]:
        """Start collecting events that `accept` takes; read them from the returned queue."""
        queue: asyncio.Queue[dict[str, str]] = asyncio.Queue(maxsize=MAX_UNREAD_EVENTS)
        self._listeners.append((accept, queue))
        return queue

    def unlisten(self, queue: asyncio.Queue[dict[str, str]]) -> None:
        self._listeners = [(a, q) for a, q in self._listeners if q is not queue]

    async def action(self, action: dict[str, str], timeout: float = 10.0,
                     as_list: bool | None = None) -> Any:
        """`as_list=False` for an answer panoramisk would wrongly wait on as a list
        (QueueAdd's "Added interface to queue")."""
        if self.manager is None or not self.connected.is_set():
            raise AmiError("not connected")
        return await within(
            self.manager.send_action(dict(action), as_list=as_list), timeout)

    async def action_list(self, action: dict[str, str], timeout: float = 10.0) -> list[Any]:
        """An action answered by a list of events (QueueSummary, QueueStatus, ...)."""
        if self.manager is None or not self.connected.is_set():
            raise AmiError("not connected")
        answer = await within(self.manager.send_action(dict(action), as_list=True),
                                        timeout)
        return list(answer) if isinstance(answer, list) else [answer]

    async def originate(self, fields: dict[str, str], timeout: float) -> dict[str, str]:
        """Originate a call (Async): panoramisk waits for Asterisk's OriginateResponse, which
        says whether the channel answered; that event (or the refusal) is returned."""
        answer = await self.action({"Action": "Originate", "Async": "true", **fields}, timeout)
        messages = answer if isinstance(answer, list) else [answer]
        for message in messages:
            if message.get("Event") == "OriginateResponse":
                return {str(k): str(v) for k, v in dict(message).items()}
        return {str(k): str(v) for k, v in dict(messages[0]).items()}

    async def getvar(self, channel: str, variable: str) -> str | None:
        response = await self.action({"Action": "Getvar", "Channel": channel,
                                      "Variable": variable})
        if getattr(response, "success", False) or response.get("Response") == "Success":
            value = response.get("Value")
            return None if value in (None, "", "(null)") else str(value)
        return None


async def wait_for_event(queue: asyncio.Queue[dict[str, str]], accept: EventFilter,
                         timeout: float) -> dict[str, str]:
    """Next event from `queue` that `accept` takes, or TimeoutError."""
    async with asyncio.timeout(timeout):
        while True:
            event = await queue.get()
            if accept(event):
                return event
