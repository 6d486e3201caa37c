"""A channel in our Stasis app that is not ours (ari/stray.py): hung up or sent on to the
dialplan, never an error when it is already gone; the watchdog's app sends any such
channel on under its own log event (the survey entry's hang-up: test_survey_calls.py)."""

from __future__ import annotations

from structlog.testing import capture_logs

from balagh.ari.stray import turn_away
from balagh.watchdog.service import not_ours

from .reachback_helpers import Callee


async def test_a_stray_is_hung_up() -> None:
    call = Callee([])
    await turn_away(call)
    assert [name for name, _ in call.log] == ["hangup"] and not call.continued


async def test_a_stray_that_may_be_a_caller_goes_on_in_the_dialplan() -> None:
    call = Callee([])
    await turn_away(call, to_dialplan=True)
    assert call.continued and [name for name, _ in call.log] == ["continue_in_dialplan"]


async def test_a_stray_already_gone_is_no_error() -> None:
    call = Callee([])
    call.gone = True
    await turn_away(call)
    await turn_away(call, to_dialplan=True)
    assert [name for name, _ in call.log] == ["hangup", "continue_in_dialplan"]


async def test_a_channel_sent_to_the_watchdogs_app_goes_on_and_is_logged() -> None:
    call = Callee([])
    with capture_logs() as logs:
        await not_ours(call)
    assert call.continued
    assert [(e["event"], e["channel"]) for e in logs] == [
        ("watchdog.unexpected_channel", call.info.call_id)]
