"""Channels held in the Balagh app with nobody serving them, and what becomes of them.

Found by the app after it (re)connects (their StasisStart went with the old
connection) or by the watchdog when the app has stopped beating (watchdog/). Both
treat them alike: a supervisor's ear (snoop) is hung up, a supervisor's phone goes on
to the dialplan (which says monitoring is refused), a caller is routed at once by the
answers stored so far.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from balagh.ari.call import AriCall

SNOOP_PREFIX = "Snoop/"


async def take_back(call: AriCall, route_caller: Callable[[AriCall], Awaitable[object]]) -> str:
    """Deal with one orphaned channel; return what was done (for the logs)."""
    if call.info.channel.startswith(SNOOP_PREFIX):
        await call.hangup()  # a monitoring session of an app that is gone
        return "snoop-hung-up"
    if await call.get_variable("BALAGH_ROLE") == "supervisor":
        await call.continue_in_dialplan()
        return "supervisor-released"
    await route_caller(call)
    return "caller-routed"
