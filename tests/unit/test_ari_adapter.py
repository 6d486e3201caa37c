"""The ARI adapter with a recording REST fake: digits, playback, barge-in, hang-up, dispatch."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balagh.ari.app import AriApplication, AriUnavailable, caller_number, event_channel_id
from balagh.ari.call import ARRAY_AT_ONCE, MAX_BUFFERED_DIGITS, AriCall, array_assignments
from balagh.ari.rest import AriSessionClosed
from balagh.config import AriSettings
from balagh.ivr.port import CallGone, CallInfo

from .fakes import FakeRest, channel_event, dtmf, playback_event, rest_error

CHANNEL = "1700000000.7"
INFO = CallInfo(call_id=CHANNEL, channel="PJSIP/trunk-00000007", caller="0501234567",
                hotline="800111")
SHORT = 0.05  # seconds: a key timeout that keeps the tests fast


def make_call() -> tuple[AriCall, FakeRest]:
    rest = FakeRest()
    return AriCall(INFO, rest), rest


async def until(predicate, turns: int = 1000) -> None:
    """Let other tasks run until `predicate()` holds (at most `turns` loop iterations)."""
    for _ in range(turns):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still not true after {turns} turns of the event loop")


async def settle(turns: int = 50) -> None:
    """Let every task that could react to what just happened run (no wall-clock wait)."""
    for _ in range(turns):
        await asyncio.sleep(0)


async def started_playback(call: AriCall, rest: FakeRest, sounds=("ask-age",), **kwargs):
    """Start play() in a task and return it with the playback id it asked ARI for."""
    before = len(rest.channels.named("playWithId"))
    task = asyncio.create_task(call.play(list(sounds), **kwargs))
    await until(lambda: len(rest.channels.named("playWithId")) > before)
    return task, rest.channels.named("playWithId")[-1]["playbackId"]


# -- digits -------------------------------------------------------------------------


async def test_dtmf_is_buffered_in_order_and_read_by_get_digit():
    call, _ = make_call()
    assert not call.has_digits()
    for digit in "1290":
        call.on_event(dtmf(CHANNEL, digit))
    assert call.has_digits()
    assert [await call.get_digit(SHORT) for _ in range(4)] == ["1", "2", "9", "0"]
    assert not call.has_digits()


async def test_a_dtmf_flood_keeps_only_the_first_keys():
    call, _ = make_call()
    for _ in range(10 * MAX_BUFFERED_DIGITS):
        call.on_event(dtmf(CHANNEL, "7"))
    call.on_event(dtmf(CHANNEL, "1"))  # past the bound: not kept
    kept = [await call.get_digit(SHORT) for _ in range(MAX_BUFFERED_DIGITS)]
    assert kept == ["7"] * MAX_BUFFERED_DIGITS
    assert not call.has_digits()


async def test_get_digit_times_out_with_none():
    call, _ = make_call()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await call.get_digit(SHORT) is None
    assert SHORT * 0.8 <= loop.time() - started < 0.5


async def test_get_digit_wakes_on_a_key_pressed_while_waiting():
    call, _ = make_call()
    waiter = asyncio.create_task(call.get_digit(5.0))
    await asyncio.sleep(0)
    assert not waiter.done()
    call.on_event(dtmf(CHANNEL, "3"))
    assert await asyncio.wait_for(waiter, 0.5) == "3"


async def test_unrelated_events_do_not_wake_or_count_as_keys():
    call, _ = make_call()
    call.on_event(channel_event("ChannelVarset", CHANNEL, variable="X", value="1"))
    call.on_event(channel_event("ChannelStateChange", CHANNEL))
    assert not call.has_digits()
    assert await call.get_digit(SHORT) is None


# -- playback -----------------------------------------------------------------------


async def test_play_with_buffered_digits_is_skipped_type_ahead():
    call, rest = make_call()
    call.on_event(dtmf(CHANNEL, "1"))
    await call.play(["ask-danger"])
    assert rest.channels.named("playWithId") == []
    assert await call.get_digit(SHORT) == "1"


async def test_play_of_nothing_does_nothing():
    call, rest = make_call()
    await call.play([])
    assert rest.channels.calls == []


async def test_uninterruptible_play_is_played_despite_buffered_digits():
    call, rest = make_call()
    call.on_event(dtmf(CHANNEL, "1"))
    task, playback_id = await started_playback(call, rest, ("connecting",), interruptible=False)
    call.on_event(dtmf(CHANNEL, "2"))
    await settle()
    assert not task.done()  # keys do not stop it
    call.on_event(playback_event("PlaybackFinished", playback_id, CHANNEL))
    await asyncio.wait_for(task, 0.5)
    assert rest.playbacks.calls == []
    assert [await call.get_digit(SHORT), await call.get_digit(SHORT)] == ["1", "2"]


async def test_play_returns_when_its_playback_finishes():
    call, rest = make_call()
    task, playback_id = await started_playback(call, rest, ("reference", "digit-4", "digit-2"))
    params = rest.channels.named("playWithId")[0]
    assert params["channelId"] == CHANNEL
    assert params["media"] == "sound:balagh/reference,sound:balagh/digit-4,sound:balagh/digit-2"

    # Another playback finishing is not ours.
    call.on_event(playback_event("PlaybackFinished", "someone-else", CHANNEL))
    await settle()
    assert not task.done()

    call.on_event(playback_event("PlaybackFinished", playback_id, CHANNEL))
    await asyncio.wait_for(task, 0.5)
    assert rest.playbacks.calls == []
    assert playback_id not in call._finished_playbacks


async def test_play_copes_with_the_finished_event_arriving_before_the_rest_reply():
    # Asterisk may send PlaybackFinished before the HTTP answer to playWithId.
    call, rest = make_call()
    rest.channels.hooks["playWithId"] = lambda **params: call.on_event(
        playback_event("PlaybackFinished", params["playbackId"], CHANNEL))
    await asyncio.wait_for(call.play(["connecting"]), 0.5)
    assert rest.playbacks.calls == []


async def test_play_returns_when_its_playback_fails():
    call, rest = make_call()
    task, playback_id = await started_playback(call, rest)
    call.on_event(playback_event("PlaybackFailed", playback_id, CHANNEL))
    await asyncio.wait_for(task, 0.5)


async def test_each_play_uses_a_fresh_playback_id():
    call, rest = make_call()
    ids = []
    for _ in range(3):
        task, playback_id = await started_playback(call, rest)
        call.on_event(playback_event("PlaybackFinished", playback_id, CHANNEL))
        await asyncio.wait_for(task, 0.5)
        ids.append(playback_id)
    assert len(set(ids)) == 3


async def test_barge_in_stops_the_playback_and_keeps_the_digit():
    call, rest = make_call()
    task, playback_id = await started_playback(call, rest, ("ask-emirate",))
    call.on_event(dtmf(CHANNEL, "4"))
    await asyncio.wait_for(task, 0.5)
    assert rest.playbacks.named("stop") == [{"playbackId": playback_id}]
    assert call.has_digits()
    assert await call.get_digit(SHORT) == "4"


async def test_barge_in_survives_a_stop_for_a_playback_that_just_ended():
    call, rest = make_call()
    rest.playbacks.errors["stop"] = rest_error(404)
    task, _ = await started_playback(call, rest)
    call.on_event(dtmf(CHANNEL, "5"))
    await asyncio.wait_for(task, 0.5)  # no error: the prompt was over anyway
    assert not call.gone
    assert await call.get_digit(SHORT) == "5"


# -- hang-up ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["StasisEnd", "ChannelHangupRequest", "ChannelDestroyed"])
async def test_hangup_event_makes_waiting_get_digit_raise_callgone(kind):
    call, _ = make_call()
    waiter = asyncio.create_task(call.get_digit(5.0))
    await asyncio.sleep(0)
    call.on_event(channel_event(kind, CHANNEL))
    with pytest.raises(CallGone):
        await asyncio.wait_for(waiter, 0.5)
    assert call.gone


@pytest.mark.parametrize("kind", ["StasisEnd", "ChannelHangupRequest"])
async def test_hangup_event_makes_waiting_play_raise_callgone(kind):
    call, rest = make_call()
    task, _ = await started_playback(call, rest)
    call.on_event(channel_event(kind, CHANNEL))
    with pytest.raises(CallGone):
        await asyncio.wait_for(task, 0.5)


async def test_after_hangup_every_method_raises_callgone_without_rest_calls():
    call, rest = make_call()
    call.on_event(channel_event("StasisEnd", CHANNEL))
    for operation in (call.answer(), call.set_language("en"), call.set_variables({"A": "1"}),
                      call.continue_in_dialplan(), call.hangup(), call.get_digit(SHORT),
                      call.play(["ask-age"])):
        with pytest.raises(CallGone):
            await operation
    assert rest.channels.calls == []


async def test_hangup_wins_over_buffered_digits():
    call, _ = make_call()
    call.on_event(dtmf(CHANNEL, "1"))
    call.on_event(channel_event("ChannelHangupRequest", CHANNEL))
    with pytest.raises(CallGone):
        await call.get_digit(SHORT)


async def test_rest_404_means_the_caller_is_gone():
    call, rest = make_call()
    rest.channels.errors["answer"] = rest_error(404)
    with pytest.raises(CallGone) as caught:
        await call.answer()
    assert caught.value.__cause__ is rest.channels.errors["answer"]
    assert call.gone
    with pytest.raises(CallGone):
        await call.get_digit(SHORT)


async def test_other_rest_errors_are_raised_as_they_are():
    call, rest = make_call()
    error = rest_error(500)
    rest.channels.errors["setChannelVar"] = error
    with pytest.raises(RuntimeError) as caught:
        await call.set_variables({"BALAGH_QUEUE": "general"})
    assert caught.value is error
    assert not isinstance(caught.value, CallGone)
    assert not call.gone


async def test_rest_calls_name_the_channel():
    call, rest = make_call()
    await call.answer()
    await call.set_language("en")
    await call.set_variables({"BALAGH_QUEUE": "general", "BALAGH_PRIO": "0"})
    await call.continue_in_dialplan()
    await call.hangup()
    assert rest.channels.calls == [
        ("answer", {"channelId": CHANNEL}),
        ("setChannelVar", {"channelId": CHANNEL, "variable": "CHANNEL(language)",
                           "value": "en"}),
        ("setChannelVar", {"channelId": CHANNEL, "variable": "ARRAY(BALAGH_QUEUE,BALAGH_PRIO)",
                           "value": "general,0"}),
        ("continueInDialplan", {"channelId": CHANNEL}),
        ("hangup", {"channelId": CHANNEL}),
    ]


# -- the application: dispatch ------------------------------------------------------------


class RecordingHandler:
    def __init__(self, hold: bool = False) -> None:
        self.calls: list[AriCall] = []
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def __call__(self, call: AriCall) -> None:
        self.calls.append(call)
        await self.release.wait()


def make_app(handler) -> tuple[AriApplication, FakeRest]:
    app = AriApplication(AriSettings(url="http://pbx.example:8088/", password="x"), handler)
    rest = FakeRest()
    app.client = rest
    return app, rest


def stasis_start(channel_id: str, *, number: str = "0501234567", args=None, exten="800111"):
    event = {"type": "StasisStart", "application": "balagh", "args": args or [],
             "channel": {"id": channel_id, "name": f"PJSIP/trunk-{channel_id}",
                         "caller": {"name": "", "number": number},
                         "dialplan": {"context": "balagh", "exten": exten, "priority": 3}}}
    return event


async def test_stasis_start_creates_a_call_and_runs_the_handler():
    handler = RecordingHandler(hold=True)
    app, rest = make_app(handler)
    app.dispatch(stasis_start("c1", args=["800222"]))
    assert "c1" in app.calls
    await until(lambda: handler.calls)
    call = handler.calls[0]
    assert call is app.calls["c1"]
    assert call.info == CallInfo(call_id="c1", channel="PJSIP/trunk-c1", caller="0501234567",
                                 hotline="800222", args=("800222",))
    await call.answer()  # through the application's client of the moment
    assert rest.channels.named("answer") == [{"channelId": "c1"}]
    handler.release.set()
    await app.drain(1.0)
    assert app.calls == {}  # forgotten once the handler returns


async def test_hotline_falls_back_to_the_dialled_extension_and_withheld_caller_is_none():
    handler = RecordingHandler()
    app, _ = make_app(handler)
    app.dispatch(stasis_start("c2", number="anonymous", exten="800333"))
    await app.drain(1.0)
    assert handler.calls[0].info.hotline == "800333"
    assert handler.calls[0].info.caller is None


async def test_a_second_stasis_start_for_the_same_channel_starts_nothing():
    handler = RecordingHandler(hold=True)
    app, _ = make_app(handler)
    app.dispatch(stasis_start("c1"))
    first = app.calls["c1"]
    app.dispatch(stasis_start("c1"))
    await until(lambda: handler.calls)
    await settle()
    assert len(handler.calls) == 1
    assert app.calls["c1"] is first
    handler.release.set()
    await app.drain(1.0)


async def test_channels_past_the_limit_go_on_to_the_dialplan_unserved():
    handler = RecordingHandler(hold=True)
    app, rest = make_app(handler)
    app.max_calls = 2
    for channel_id in ("c1", "c2", "c3", "c4"):
        app.dispatch(stasis_start(channel_id))
    await until(lambda: len(rest.channels.named("continueInDialplan")) == 2)
    assert sorted(app.calls) == ["c1", "c2"]
    assert rest.channels.named("continueInDialplan") == [{"channelId": "c3"},
                                                         {"channelId": "c4"}]
    assert app.calls_over_limit == 2
    handler.release.set()
    await app.drain(1.0)
    app.dispatch(stasis_start("c5"))  # room again once calls end
    assert "c5" in app.calls
    await app.drain(1.0)


async def test_events_reach_their_own_call_only():
    handler = RecordingHandler(hold=True)
    app, _ = make_app(handler)
    app.dispatch(stasis_start("c1"))
    app.dispatch(stasis_start("c2"))
    app.dispatch(dtmf("c1", "1"))
    app.dispatch(dtmf("c2", "2"))
    app.dispatch(dtmf("c1", "3"))
    assert list(app.calls["c1"]._digits) == ["1", "3"]
    assert list(app.calls["c2"]._digits) == ["2"]
    handler.release.set()
    await app.drain(1.0)


async def test_events_for_unknown_channels_are_ignored():
    handler = RecordingHandler()
    app, rest = make_app(handler)
    app.dispatch(dtmf("nobody", "1"))
    app.dispatch(channel_event("StasisEnd", "nobody"))
    app.dispatch(playback_event("PlaybackFinished", "p1", "nobody"))
    app.dispatch({"type": "DeviceStateChanged", "device_state": {"name": "x"}})
    app.dispatch({"type": "PlaybackFinished", "playback": {"id": "p", "target_uri": "bridge:b"}})
    await asyncio.sleep(0)
    assert app.calls == {}
    assert handler.calls == []
    assert rest.channels.calls == []


async def test_playback_events_are_routed_by_target_uri():
    handler = RecordingHandler(hold=True)
    app, rest = make_app(handler)
    app.dispatch(stasis_start("c1"))
    await until(lambda: handler.calls)
    call = app.calls["c1"]
    task, playback_id = await started_playback(call, rest)
    app.dispatch(playback_event("PlaybackFinished", playback_id, "c2"))  # not this channel
    await settle()
    assert not task.done()
    app.dispatch(playback_event("PlaybackFinished", playback_id, "c1"))
    await asyncio.wait_for(task, 0.5)
    handler.release.set()
    await app.drain(1.0)


async def test_hangup_dispatched_to_a_call_ends_its_handler():
    async def handler(call: AriCall) -> None:
        await call.get_digit(30.0)

    app, _ = make_app(handler)
    app.dispatch(stasis_start("c1"))
    await asyncio.sleep(0)
    app.dispatch(channel_event("StasisEnd", "c1"))
    await app.drain(1.0)
    assert app.calls == {}


async def test_a_crashing_handler_does_not_take_the_app_down():
    async def handler(call: AriCall) -> None:
        raise ValueError("bug in the flow")

    app, _ = make_app(handler)
    app.dispatch(stasis_start("c1"))
    await app.drain(1.0)
    assert app.calls == {}
    app.dispatch(stasis_start("c2"))  # the next call is still served
    await app.drain(1.0)


# -- pure helpers ---------------------------------------------------------------------


@pytest.mark.parametrize("number", ["", "anonymous", "Anonymous", "Restricted", "  ",
                                    "unavailable", "Unknown", "PRIVATE"])
def test_caller_number_withheld_is_none(number):
    assert caller_number({"caller": {"name": "x", "number": number}}) is None


@pytest.mark.parametrize("channel", [{}, {"caller": None}, {"caller": {}},
                                     {"caller": {"number": None}}])
def test_caller_number_missing_is_none(channel):
    assert caller_number(channel) is None


@pytest.mark.parametrize("number", ["0501234567", "+971501234567", "800111", " 042 "])
def test_caller_number_is_kept(number):
    assert caller_number({"caller": {"number": number}}) == number.strip()


def test_event_channel_id():
    assert event_channel_id(channel_event("ChannelDtmfReceived", "c9")) == "c9"
    assert event_channel_id(playback_event("PlaybackStarted", "p", "c8")) == "c8"
    assert event_channel_id({"type": "PlaybackFinished",
                             "playback": {"id": "p", "target_uri": "bridge:b1"}}) is None
    assert event_channel_id({"type": "PlaybackFinished", "playback": {"id": "p"}}) is None
    assert event_channel_id({"type": "StasisEnd", "channel": {"id": ""}}) is None
    assert event_channel_id({"type": "ApplicationReplaced"}) is None


# -- channel variables ----------------------------------------------------------------


async def test_an_unset_variable_is_none_and_keeps_the_call():
    # ARI's 404 "variable not found" looks like a gone channel's 404: the channel decides.
    call, rest = make_call()
    rest.channels.errors["getChannelVar"] = rest_error(404)
    assert await call.get_variable("GEOLOC_PROFILE(format)") is None
    assert not call.gone
    assert rest.channels.named("get") == [{"channelId": CHANNEL}]
    await call.set_variables({"BALAGH_QUEUE": "general"})  # the call goes on
    assert rest.channels.named("setChannelVar")


async def test_a_variable_of_a_gone_channel_is_callgone():
    call, rest = make_call()
    rest.channels.errors["getChannelVar"] = rest_error(404)
    rest.channels.errors["get"] = rest_error(404)
    with pytest.raises(CallGone):
        await call.get_variable("GEOLOC_PROFILE(format)")
    assert call.gone


async def test_a_set_variable_is_read():
    call, rest = make_call()
    rest.channels.results["getChannelVar"] = {"value": "GML"}
    assert await call.get_variable("GEOLOC_PROFILE(format)") == "GML"


async def test_a_call_in_progress_goes_on_over_the_new_connection():
    # After a websocket drop asyncari closes the old client; the call must not keep it.
    handler = RecordingHandler(hold=True)
    app, old = make_app(handler)
    app.dispatch(stasis_start("c1"))
    await until(lambda: handler.calls)
    call = handler.calls[0]
    app.client = None  # the connection dropped
    # A request made meanwhile waits for the reconnect, then goes over the new client.
    answering = asyncio.create_task(call.answer())
    await asyncio.sleep(0.05)
    assert not answering.done()
    new = FakeRest()
    app.client = new  # reconnected
    await asyncio.wait_for(answering, 1.0)
    assert new.channels.named("answer") == [{"channelId": "c1"}]
    assert old.channels.named("answer") == []


async def test_without_a_reconnect_a_request_gives_up_after_the_wait():
    app, _ = make_app(RecordingHandler())
    app.client = None
    with pytest.raises(AriUnavailable):
        await app.current_client(wait=0.05)


async def test_a_request_caught_by_a_reconnect_goes_again_on_the_new_connection():
    handler = RecordingHandler(hold=True)
    app, old = make_app(handler)
    app.dispatch(stasis_start("c1"))
    await until(lambda: handler.calls)
    new = FakeRest()

    class ClosedChannels:
        """The old connection's requests, closed when its websocket dropped."""

        async def answer(self, **params):
            app.client = new  # the reconnect happened meanwhile
            raise AriSessionClosed("the ARI connection was closed")

    old.channels = ClosedChannels()
    await handler.calls[0].answer()
    assert new.channels.named("answer") == [{"channelId": "c1"}]


def asterisk_split(value: str) -> list[str]:
    """Asterisk's argument splitting as ARRAY() applies it (main/app.c,
    __ast_app_separate_args with remove_chars): commas split, except within quotes,
    parentheses or brackets; quotes are dropped; a backslash takes the next character
    as it is."""
    args, current, paren, bracket, quote = [], [], 0, 0, False
    chars = iter(value)
    for char in chars:
        if char == "\\":
            current.append(next(chars, ""))
            continue
        if char == "(":
            paren += 1
        elif char == ")":
            paren = max(0, paren - 1)
        elif char == "[":
            bracket += 1
        elif char == "]":
            bracket = max(0, bracket - 1)
        elif char == '"':
            quote = not quote
            continue
        elif char == "," and not (paren or bracket or quote):
            args.append("".join(current))
            current = []
            continue
        current.append(char)
    return [*args, "".join(current)]


@given(st.dictionaries(st.from_regex(r"[A-Z_]{1,12}", fullmatch=True), st.text(max_size=30),
                       min_size=2, max_size=120))
def test_several_variables_go_in_arrays_that_asterisk_splits_back_exactly(variables):
    assignments = array_assignments(variables)
    assert len(assignments) == -(-len(variables) // ARRAY_AT_ONCE)
    found = {}
    for name, value in assignments:
        names = name.removeprefix("ARRAY(").removesuffix(")").split(",")
        values = asterisk_split(value)
        assert len(values) == len(names)
        found.update(zip(names, values, strict=True))
    assert found == variables


def test_one_variable_is_set_as_it_is():
    assert array_assignments({"CHANNEL(language)": "ar"}) == [("CHANNEL(language)", "ar")]
