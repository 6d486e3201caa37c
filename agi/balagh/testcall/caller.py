"""`balagh call`: a test caller for people and tests.

It creates a Local channel pair into the hotline's dialplan, holds the caller's
end in its own ARI app (`<app>-caller`), follows the hotline end's events to see
what is played, presses keys like a person would (one per question prompt) or all
at once (--ahead), and reads the queue joined and its priority through AMI.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

from balagh.ami.client import AmiSession, wait_for_event
from balagh.ami.queue_names import routing_queue
from balagh.ari.call import http_status
from balagh.ari.connect import connect
from balagh.ari.rest import AriRest
from balagh.config import Settings
from balagh.pbx.test_user import ami_for_tests
from balagh.testcall.result import CallResult
from balagh.timeouts import within

# A person takes a moment after a prompt starts before pressing a key.
KEY_DELAY_SECONDS = 0.3
DTMF_ATTEMPTS = 5
DTMF_RETRY_SECONDS = 0.2


def _media_name(uri: str) -> str:
    return uri.removeprefix("sound:").removeprefix("balagh/")


async def place_call(settings: Settings, number: str, digits: list[str], *,
                     ahead: bool = False, timeout: float = 60.0,
                     caller_id: str | None = "+97165551234", wait_agent: bool = False,
                     hang_up_after: int | None = None, context: str = "balagh-inbound",
                     variables: dict[str, str] | None = None,
                     read_variables: tuple[str, ...] = ()) -> CallResult:
    """Call `number`, press `digits`, return what happened.

    Each item of `digits` answers one question prompt as it starts: a key, several keys
    ("*" to hear it again), or "-" to press nothing (let it time out). With ahead=True
    all keys are typed at once when the call is answered.
    hang_up_after=N hangs up right after the N-th item (a caller who gives up half way).
    `variables` are set on the caller's leg before it dials (a Local channel copies them to
    the hotline leg); `read_variables` are read from the hotline leg once it is queued."""
    # Over 60 lines: the caller's two links (AMI and its own ARI app) are opened, used and
    # closed here, around the conversation, so nothing of a test call outlives it.
    result = CallResult()
    # Own app name per call: Asterisk gives one app one websocket, and tests place calls at once.
    caller_app = f"{settings.ari.app}-caller-{uuid.uuid4().hex[:8]}"
    caller_leg = f"balagh-test-{uuid.uuid4().hex[:12]}"
    hotline_leg = f"{caller_leg}-hotline"
    result.hotline_id = hotline_leg
    ari_events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    # The sandbox's test user when there is one: the app's own login stays the app's.
    async with AmiSession(ami_for_tests(settings)) as ami, connect(
        settings.ari.url, caller_app, settings.ari.username, settings.ari.password,
        ari_events.put_nowait,
    ) as connection:
        ari = connection.rest
        ami_events = ami.listen(lambda e: e.get("Uniqueid") == hotline_leg)
        # The hotline leg of a Local pair takes its caller ID from the caller leg's
        # connected line. A withheld number arrives as "anonymous", as from SIP trunks.
        variables = {"CONNECTEDLINE(num)": caller_id or "anonymous",
                 "CONNECTEDLINE(name)": "Balagh test caller", **(variables or {})}
        try:
            await ari.channels.create(
                endpoint=f"Local/{number}@{context}/n", app=caller_app,
                channelId=caller_leg, otherChannelId=hotline_leg,
            )
            await ari.applications.subscribe(applicationName=caller_app,
                                              eventSource=f"channel:{hotline_leg}")
            # create returns before the caller leg has entered our app; variables need it there.
            await _wait_ari(ari_events, lambda e: e.get("type") == "StasisStart" and
                            (e.get("channel") or {}).get("id") == caller_leg, 10)
            for name, value in variables.items():
                await ari.channels.setChannelVar(channelId=caller_leg, variable=name, value=value)
            await ari.channels.dial(channelId=caller_leg, timeout=int(timeout))
            await within(
                _converse(ari, ami, ari_events, ami_events, result, caller_leg, hotline_leg,
                          digits, ahead=ahead, wait_agent=wait_agent,
                          hang_up_after=hang_up_after, read_variables=read_variables),
                timeout,
            )
        finally:
            with contextlib.suppress(Exception):
                await ari.channels.hangup(channelId=caller_leg)
    return result


def _reached_a_person(event: dict[str, str]) -> bool:
    """Joined a queue, or an overflow step dialled an outside number."""
    return event.get("Event") == "QueueCallerJoin" or (
        event.get("Event") == "DialBegin" and _outside_number(event.get("DestChannel", "")) != "")


def _outside_number(dest_channel: str) -> str:
    """'Local/+97165550000@balagh-external-dial-0000000a;1' -> '+97165550000'."""
    if "@balagh-external-dial" not in dest_channel:
        return ""
    return dest_channel.removeprefix("Local/").split("@", 1)[0]


async def _wait_ari(events: asyncio.Queue[dict[str, Any]],
                    accept: Callable[[dict[str, Any]], bool], timeout: float) -> None:
    """Wait for one ARI event, keeping the others queued in their order."""
    kept: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while not accept(event := await events.get()):
                kept.append(event)
    finally:
        rest = [*kept]
        while not events.empty():
            rest.append(events.get_nowait())
        for event in rest:
            events.put_nowait(event)


async def _converse(ari: AriRest, ami: AmiSession, ari_events: asyncio.Queue[dict[str, Any]],
                    ami_events: asyncio.Queue[dict[str, str]], result: CallResult,
                    caller_leg: str, hotline_leg: str, digits: list[str], *,
                    ahead: bool, wait_agent: bool, hang_up_after: int | None,
                    read_variables: tuple[str, ...] = ()) -> None:
    # Over 60 lines: one loop over the call's events, the caller's side of the menu from
    # answer to queue, then what the queue join says; its steps share the one call's state.
    pending = list(digits)
    used = 0
    answered_at: float | None = None
    started = time.monotonic()

    def mark(kind: str, media: str) -> None:
        result.timeline.append((time.monotonic() - (answered_at or started), kind, media))

    async def press(keys: str) -> None:
        # Right after answer, under load, Asterisk may refuse DTMF on the leg for a moment
        # (412: not ready yet); a person would simply press again.
        for attempt in range(DTMF_ATTEMPTS):
            try:
                await ari.channels.sendDTMF(channelId=caller_leg, dtmf=keys, between=100,
                                            duration=100)
                break
            except Exception as exc:
                if http_status(exc) != 412 or attempt == DTMF_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(DTMF_RETRY_SECONDS)
        result.sent.extend(keys)

    joined = asyncio.create_task(wait_for_event(ami_events, _reached_a_person, 3600))
    try:
        while not joined.done():
            getter = asyncio.create_task(ari_events.get())
            done, _ = await asyncio.wait({getter, joined}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            event = getter.result()
            kind = event.get("type")
            channel = event.get("channel") or {}
            if kind == "ChannelStateChange" and channel.get("id") == hotline_leg \
                    and channel.get("state") == "Up" and answered_at is None:
                answered_at = time.monotonic()
                result.hotline_channel = channel.get("name", "")
                if ahead and pending:
                    await press("".join(key for key in pending if key != "-"))
                    pending.clear()
            elif kind in ("PlaybackStarted", "PlaybackFinished"):
                # Each sound of a list gets its own PlaybackStarted (PlaybackContinuing,
                # also sent between them, names the one that ended: not needed here).
                playback = event.get("playback") or {}
                if playback.get("target_uri") != f"channel:{hotline_leg}":
                    continue
                media = _media_name(str(playback.get("media_uri", "")))
                if kind == "PlaybackFinished":
                    mark("finish", media)
                    continue
                result.played.append(media)
                mark("start", media)
                if media.startswith("ask-") and pending and not ahead:
                    token = pending.pop(0)
                    used += 1
                    if token != "-":
                        await asyncio.sleep(KEY_DELAY_SECONDS)
                        await press(token)
                    if hang_up_after is not None and used >= hang_up_after:
                        await asyncio.sleep(0.5)  # let the app store the last answer
                        result.hung_up_early = True
                        return
            elif kind in ("StasisEnd", "ChannelDestroyed") and channel.get("id") == caller_leg:
                result.hung_up_early = True
                return
        join = await joined
    finally:
        if not joined.done():
            joined.cancel()
    if answered_at is not None:
        result.seconds_to_queue = time.monotonic() - answered_at
    if join.get("Event") == "DialBegin":
        result.dialled = _outside_number(join.get("DestChannel", ""))
    result.asterisk_queue = join.get("Queue")
    result.queue = routing_queue(result.asterisk_queue or "")
    channel_name = join.get("Channel", "")
    result.hotline_channel = channel_name
    prio = await ami.getvar(channel_name, "QUEUE_PRIO")
    result.priority = int(prio) if prio and prio.lstrip("-").isdigit() else None
    result.reference = await ami.getvar(channel_name, "BALAGH_REFERENCE")
    result.fallback = await ami.getvar(channel_name, "BALAGH_FALLBACK")
    for name in read_variables:
        result.variables[name] = await ami.getvar(channel_name, name)
    if wait_agent:
        await wait_for_event(ami_events, lambda e: e.get("Event") == "AgentConnect", 60)
        # Then until caller and agent are bridged: app_queue publishes AgentConnect before
        # it watches the call, so a hang-up in between would never be reported as ended
        # (no AgentComplete).
        await wait_for_event(ami_events, lambda e: e.get("Event") == "BridgeEnter", 10)
        result.agent_answered = True
