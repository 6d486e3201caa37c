"""Telling a caller something while they wait in the queue.

The caller joins the queue the moment routing has decided: what they are told then (the
routing rule's announcement, "connecting", their reference number) must not hold them
back. So it is whispered to them over the queue's music by an ARI snoop on their channel
(whisper "out": only the caller hears it, never the agent). The snoop enters the app
with the Stasis arguments `tell,CALLER_ID,LANGUAGE,SOUND&SOUND...` and is served by
`serve_telling` (the Stasis router's `tell` entry, `telling_entry`). It stops when an
agent answers (the caller's channel gets a BRIDGEPEER), when the caller hangs up
(Asterisk ends the snoop with its target), or when it is done. The caller's call port
asks for it through its narrow Teller (`SnoopTeller` here), so call.py never imports
this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence

import structlog

from balagh.ari.call import REQUEST_TIMEOUT_SECONDS, AriCall, http_status
from balagh.ari.rest import AriRest, JsonObject
from balagh.ari.router import Entry, first_arg_is
from balagh.ivr.port import CallGone
from balagh.privacy import error_kind
from balagh.timeouts import within

log = structlog.get_logger(__name__)

TELL_ARG = "tell"  # Stasis argument of a telling snoop: never a hotline call
SOUND_SEPARATOR = "&"
# Until the caller is in Queue(): whispering into a channel that writes no audio yet
# (between Stasis and the queue's music) could lose the first words.
QUEUE_WAIT_SECONDS = 3.0
POLL_SECONDS = 0.1
# How often the caller's channel is asked whether an agent has answered.
ANSWER_POLL_SECONDS = 0.5


def telling_args(caller_id: str, language: str, sounds: Sequence[str]) -> str:
    return ",".join((TELL_ARG, caller_id, language, SOUND_SEPARATOR.join(sounds)))


async def start_telling(rest: AriRest, app: str, caller_id: str, language: str,
                        sounds: Sequence[str]) -> None:
    """Make the snoop that will tell the caller `sounds`; best effort, never raises."""
    if not sounds:
        return
    try:
        await within(rest.channels.snoopChannelWithId(
            channelId=caller_id, snoopId=f"balagh-tell-{uuid.uuid4().hex[:12]}",
            spy="none", whisper="out", app=app,
            appArgs=telling_args(caller_id, language, sounds)), REQUEST_TIMEOUT_SECONDS)
    except Exception as exc:  # the caller is in the queue anyway; the agent has the reference
        log.warning("tell.not_started", error=error_kind(exc), status=http_status(exc))


class SnoopTeller:
    """The call port's Teller: a whispering snoop made in `app`, served by its tell entry."""

    def __init__(self, rest: AriRest, app: str) -> None:
        self.rest = rest
        self.app = app

    async def tell(self, caller_id: str, language: str, sounds: Sequence[str]) -> None:
        await start_telling(self.rest, self.app, caller_id, language, sounds)


def telling_entry(rest: AriRest) -> Entry:
    """The router's entry for telling snoops: a waiting caller's reference, not a caller."""
    async def serve(snoop: AriCall) -> None:
        await serve_telling(snoop, rest)

    return Entry("tell", first_arg_is(TELL_ARG), serve)


async def serve_telling(snoop: AriCall, rest: AriRest) -> None:
    """Play the sounds named in the snoop's arguments to the waiting caller, then go."""
    _, caller_id, language, sounds = snoop.info.args[:4]
    structlog.contextvars.bind_contextvars(call_id=caller_id)
    try:
        await _until_queued(rest, caller_id)
        await snoop.set_language(language)
        log.info("tell.started", snoop=snoop.info.call_id)
        playing = asyncio.ensure_future(
            snoop.play(sounds.split(SOUND_SEPARATOR), interruptible=False))
        answered = asyncio.ensure_future(_until_answered(rest, caller_id))
        done, pending = await asyncio.wait({playing, answered},
                                           return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()
        log.info("tell.done", stopped_by_answer=answered in done)
    except CallGone:
        return  # the caller hung up: Asterisk ended the snoop with them
    except Exception as exc:
        log.warning("tell.failed", error=error_kind(exc))
    finally:
        with contextlib.suppress(Exception):
            await within(snoop.hangup(), REQUEST_TIMEOUT_SECONDS)
        structlog.contextvars.unbind_contextvars("call_id")


async def _until_queued(rest: AriRest, caller_id: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + QUEUE_WAIT_SECONDS
    while loop.time() < deadline:
        channel = await _channel(rest, caller_id)
        if channel is None:
            raise CallGone(caller_id)
        if (channel.get("dialplan") or {}).get("app_name") == "Queue":
            return
        await asyncio.sleep(POLL_SECONDS)


async def _until_answered(rest: AriRest, caller_id: str) -> None:
    while True:
        await asyncio.sleep(ANSWER_POLL_SECONDS)
        try:
            found = await within(rest.channels.getChannelVar(
                channelId=caller_id, variable="BRIDGEPEER"), REQUEST_TIMEOUT_SECONDS)
        except Exception as exc:
            if http_status(exc) == 404:  # not bridged yet (or gone: the snoop ends too)
                continue
            raise
        if found.get("value"):
            return


async def _channel(rest: AriRest, channel_id: str) -> JsonObject | None:
    try:
        found = await within(rest.channels.get(channelId=channel_id),
                                       REQUEST_TIMEOUT_SECONDS)
    except Exception as exc:
        if http_status(exc) == 404:
            return None
        raise
    return found
