"""Telling a waiting caller their reference: the snoop made after the queue join, its
playback, and its end when an agent answers or the caller goes (a recording ARI fake)."""

from __future__ import annotations

import asyncio

import pytest

from balagh.ari import tell
from balagh.ari.call import AriCall
from balagh.ivr.port import CallInfo

from .fakes import FakeRest, channel_event, playback_event, rest_error
from .test_ari_adapter import until

CALLER = "1700000000.7"
SNOOP = "balagh-tell-abc"
SOUNDS = ["connecting", "reference", "digit-4", "digit-2"]


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tell, "POLL_SECONDS", 0.001)
    monkeypatch.setattr(tell, "ANSWER_POLL_SECONDS", 0.001)


def snoop_call(rest: FakeRest) -> AriCall:
    args = tuple(tell.telling_args(CALLER, "en", SOUNDS).split(","))
    info = CallInfo(call_id=SNOOP, channel="Snoop/1700000000.7-00000001", caller=None,
                    hotline=None, args=args)
    return AriCall(info, rest)


def in_queue(rest: FakeRest) -> None:
    rest.channels.results["get"] = {"id": CALLER, "dialplan": {"app_name": "Queue"}}


async def test_the_caller_channel_is_snooped_with_a_whisper_towards_the_caller() -> None:
    rest = FakeRest()
    caller = AriCall(CallInfo(CALLER, "PJSIP/trunk-7", "0501234567", "800700"), rest,
                     teller=tell.SnoopTeller(rest, "balagh"))
    await caller.tell_while_waiting(SOUNDS, "ar")
    [snoop] = rest.channels.named("snoopChannelWithId")
    assert (snoop["channelId"], snoop["spy"], snoop["whisper"], snoop["app"]) == (
        CALLER, "none", "out", "balagh")
    assert snoop["appArgs"] == f"tell,{CALLER},ar,connecting&reference&digit-4&digit-2"


async def test_without_an_app_to_serve_it_nothing_is_made() -> None:
    rest = FakeRest()
    await AriCall(CallInfo(CALLER, "x", None, None), rest).tell_while_waiting(SOUNDS, "ar")
    assert rest.channels.calls == []


async def test_a_refused_snoop_never_reaches_the_caller_flow() -> None:
    rest = FakeRest()
    rest.channels.errors["snoopChannelWithId"] = rest_error(500)
    caller = AriCall(CallInfo(CALLER, "x", None, None), rest,
                     teller=tell.SnoopTeller(rest, "balagh"))
    await caller.tell_while_waiting(SOUNDS, "ar")  # logged, not raised


async def test_the_sounds_play_in_the_caller_language_then_the_snoop_goes() -> None:
    rest = FakeRest()
    in_queue(rest)
    rest.channels.errors["getChannelVar"] = rest_error(404)  # BRIDGEPEER: not bridged
    snoop = snoop_call(rest)
    serving = asyncio.create_task(tell.serve_telling(snoop, rest))
    await until(lambda: rest.channels.named("playWithId"))
    [play] = rest.channels.named("playWithId")
    assert play["channelId"] == SNOOP
    assert play["media"] == ",".join(f"sound:balagh/{sound}" for sound in SOUNDS)
    assert rest.channels.named("setChannelVar")[0]["value"] == "en"
    snoop.on_event(playback_event("PlaybackFinished", play["playbackId"], SNOOP))
    await asyncio.wait_for(serving, 1)
    assert rest.channels.named("hangup") == [{"channelId": SNOOP}]


async def test_an_agent_answering_stops_the_reading_at_once() -> None:
    rest = FakeRest()
    in_queue(rest)
    rest.channels.results["getChannelVar"] = {"value": "Local/1001@balagh-agents-0001;1"}
    snoop = snoop_call(rest)
    await asyncio.wait_for(tell.serve_telling(snoop, rest), 1)  # no PlaybackFinished needed
    # Hanging up the snoop is what cuts the reading off, mid-word if need be.
    assert rest.channels.named("hangup") == [{"channelId": SNOOP}]


async def test_a_caller_who_hangs_up_ends_it_quietly() -> None:
    rest = FakeRest()
    in_queue(rest)
    rest.channels.errors["getChannelVar"] = rest_error(404)
    snoop = snoop_call(rest)
    serving = asyncio.create_task(tell.serve_telling(snoop, rest))
    await until(lambda: rest.channels.named("playWithId"))
    snoop.on_event(channel_event("StasisEnd", SNOOP))  # Asterisk ends a snoop with its target
    await asyncio.wait_for(serving, 1)


async def test_a_caller_gone_before_the_queue_is_not_read_to() -> None:
    rest = FakeRest()
    rest.channels.errors["get"] = rest_error(404)
    await asyncio.wait_for(tell.serve_telling(snoop_call(rest), rest), 1)
    assert rest.channels.named("playWithId") == []
