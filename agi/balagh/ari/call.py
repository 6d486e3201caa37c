"""AriCall: the call port over ARI for one channel.

The event reader feeds `on_event()` (sync, never blocks); the IVR coroutine
awaits the methods below, which wake on those events. Keys pressed at any time
are kept in order, so a caller can type ahead of the prompts.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import structlog

from balagh.ari.rest import AriRequestError, AriRest
from balagh.ivr.port import CallGone, CallInfo
from balagh.timeouts import within

log = structlog.get_logger(__name__)

GONE_EVENTS = frozenset({"StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"})
PLAYBACK_END_EVENTS = frozenset({"PlaybackFinished", "PlaybackFailed"})
CALL_EVENTS = GONE_EVENTS | PLAYBACK_END_EVENTS | {"ChannelDtmfReceived"}  # on_event's
# Keys typed ahead and not yet read: the whole menu and a PIN fit many times over.
MAX_BUFFERED_DIGITS = 64
# How long a playback may outlast its prompts' own length before we stop waiting for its
# end event (lost, say, with a dropped websocket); a prompt of unknown length counts as
# UNKNOWN_PROMPT_SECONDS.
PLAYBACK_MARGIN_SECONDS = 5.0
UNKNOWN_PROMPT_SECONDS = 30.0
# Longest one ARI request may take, a wait for a reconnect included.
REQUEST_TIMEOUT_SECONDS = 10.0

PromptSeconds = Callable[[str], float | None]

Rest = Callable[..., Awaitable[Any]]


class Teller(Protocol):
    """Telling a caller something while they wait in the queue (ari/tell.py's snoop)."""

    async def tell(self, caller_id: str, language: str, sounds: Sequence[str]) -> None: ...


class AriCall:
    def __init__(self, info: CallInfo, rest: AriRest,
                 prompt_seconds: PromptSeconds | None = None, *,
                 teller: Teller | None = None) -> None:
        self.info = info
        self._rest = rest
        self._teller = teller  # None: nobody serves telling snoops (the watchdog)
        self._prompt_seconds = prompt_seconds or (lambda _sound: None)
        self._digits: deque[str] = deque()
        self._playing: set[str] = set()
        self._finished_playbacks: set[str] = set()
        self._wake = asyncio.Event()
        self.gone = False

    # -- fed by the event reader --------------------------------------------

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "ChannelDtmfReceived":
            # A caller types ahead a few keys; a stuck key or a DTMF flood is not kept.
            if len(self._digits) < MAX_BUFFERED_DIGITS:
                self._digits.append(str(event.get("digit", "")))
        elif kind in PLAYBACK_END_EVENTS:
            playback_id = event.get("playback", {}).get("id", "")
            if playback_id in self._playing:  # not one we stopped and forgot
                self._finished_playbacks.add(playback_id)
        elif kind in GONE_EVENTS:
            self.gone = True
        else:
            return
        self._wake.set()

    # -- waiting ---------------------------------------------------------------

    async def _wait_until(self, ready: Callable[[], bool], timeout: float | None) -> bool:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            if self.gone:
                raise CallGone(self.info.call_id)
            if ready():
                return True
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            self._wake.clear()
            try:
                await within(self._wake.wait(), remaining)
            except TimeoutError:
                pass

    # -- the call port ---------------------------------------------------------

    async def answer(self) -> None:
        await self._call(self._rest.channels.answer, channelId=self.info.call_id)

    async def set_language(self, language: str) -> None:
        await self.set_variables({"CHANNEL(language)": language})

    async def set_variables(self, variables: dict[str, str]) -> None:
        # ARI sets one variable per request: several go in one, through ARRAY().
        for name, value in array_assignments(variables):
            await self._call(self._rest.channels.setChannelVar, channelId=self.info.call_id,
                             variable=name, value=value)

    async def get_variable(self, name: str) -> str | None:
        try:
            result = await self._request(self._rest.channels.getChannelVar,
                                         channelId=self.info.call_id, variable=name)
        except AriNotFound as exc:
            # ARI answers 404 both for an unset variable and for a channel that has gone;
            # the channel itself tells them apart, so an unset variable never ends a call.
            if await self._channel_exists():
                return None
            raise CallGone(self.info.call_id) from exc
        value = result.get("value") if isinstance(result, dict) else None
        return str(value) if value not in (None, "") else None

    async def _channel_exists(self) -> bool:
        try:
            await self._request(self._rest.channels.get, channelId=self.info.call_id)
        except AriNotFound:
            self.gone = True
            return False
        return True

    async def wait_gone(self) -> None:
        """Until the channel has gone (hung up, or left the app)."""
        with contextlib.suppress(CallGone):
            await self._wait_until(lambda: False, None)

    def has_digits(self) -> bool:
        return bool(self._digits)

    async def wait_for_digit(self, timeout: float) -> bool:
        return await self._wait_until(self.has_digits, timeout)

    async def get_digit(self, timeout: float) -> str | None:
        if await self._wait_until(self.has_digits, timeout):
            return self._digits.popleft()
        return None

    async def play(self, sounds: Sequence[str], *, interruptible: bool = True) -> None:
        if not sounds or (interruptible and self._digits):
            return
        playback_id = f"balagh-{uuid.uuid4().hex}"
        media = ",".join(f"sound:balagh/{sound}" for sound in sounds)
        self._playing.add(playback_id)
        try:
            await self._call(self._rest.channels.playWithId, channelId=self.info.call_id,
                             playbackId=playback_id, media=media)

            def done() -> bool:
                return playback_id in self._finished_playbacks or (
                    interruptible and bool(self._digits))

            if not await self._wait_until(done, self.playback_bound(sounds)):
                log.warning("ari.playback_end_lost", playback=playback_id)
        finally:
            self._playing.discard(playback_id)
        if playback_id in self._finished_playbacks:
            self._finished_playbacks.discard(playback_id)
            return
        # Barge-in: a key was pressed, stop the prompt now.
        try:
            await self._rest.playbacks.stop(playbackId=playback_id)
        except Exception as exc:  # it may have finished on its own meanwhile
            log.debug("ari.playback_stop_failed", error=str(exc))

    def playback_bound(self, sounds: Sequence[str]) -> float:
        """The longest wait for `sounds` to finish playing."""
        known = (self._prompt_seconds(sound) for sound in sounds)
        return sum(UNKNOWN_PROMPT_SECONDS if seconds is None else seconds
                   for seconds in known) + PLAYBACK_MARGIN_SECONDS

    async def continue_in_dialplan(self) -> None:
        await self._call(self._rest.channels.continueInDialplan, channelId=self.info.call_id)

    async def tell_while_waiting(self, sounds: Sequence[str], language: str) -> None:
        if self._teller is None:
            log.info("tell.no_app")  # the watchdog: it puts callers through, nothing more
            return
        await self._teller.tell(self.info.call_id, language, sounds)

    async def hangup(self) -> None:
        await self._call(self._rest.channels.hangup, channelId=self.info.call_id)

    async def _call(self, operation: Rest, **params: Any) -> Any:
        """A request on this call's channel: 404 (the channel is gone) becomes CallGone."""
        try:
            return await self._request(operation, **params)
        except AriNotFound as exc:
            self.gone = True
            raise CallGone(self.info.call_id) from exc.__cause__

    async def _request(self, operation: Rest, **params: Any) -> Any:
        """One ARI request. 404 is AriNotFound; other errors are raised as they are,
        except that any error once the channel has gone is CallGone."""
        if self.gone:
            raise CallGone(self.info.call_id)
        try:
            return await within(operation(**params), REQUEST_TIMEOUT_SECONDS)
        except Exception as exc:
            if self.gone:
                raise CallGone(self.info.call_id) from exc
            if http_status(exc) == 404:
                raise AriNotFound(str(exc)) from exc
            raise


def array_assignments(variables: dict[str, str]) -> list[tuple[str, str]]:
    """`variables` as few channel-variable assignments: one variable as it is, several
    as `ARRAY(A,B,...)` = `a,b,...` (Asterisk's func_strings), ARRAY_AT_ONCE at most in
    each. One request instead of a dozen (the routing variables), and the dialplan never
    sees half of them. Each value is escaped for Asterisk's argument splitting, which
    would otherwise cut it at a comma and drop quotes and backslashes (and keeps commas
    within brackets or parentheses together)."""
    items = list(variables.items())
    if len(items) == 1:
        return items
    return [(f"ARRAY({','.join(name for name, _ in chunk)})",
             ",".join(ARRAY_SPECIAL.sub(r"\\\g<0>", value) for _, value in chunk))
            for chunk in (items[at:at + ARRAY_AT_ONCE]
                          for at in range(0, len(items), ARRAY_AT_ONCE))]


ARRAY_AT_ONCE = 50  # ARRAY() takes up to 100 names
ARRAY_SPECIAL = re.compile(r'[\\",()\[\]]')


class AriNotFound(Exception):
    """ARI answered 404: the resource named in the request does not exist."""


def http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an ARI error: AriRest's, or one carried by an HTTP error
    (an error with a `response.status_code`, itself or as the __cause__)."""
    if isinstance(exc, AriRequestError):
        return exc.status
    for error in (exc, exc.__cause__):
        status = getattr(getattr(error, "response", None), "status_code", None)
        if isinstance(status, int):
            return status
    return None

