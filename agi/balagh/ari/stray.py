"""A channel that entered one of our Stasis apps but is not one we placed or serve (a
survey entry whose reference is not being dialled, anything sent to the watchdog's own
app): it is logged under the feature's own event and sent away, hung up, or on to the
dialplan where it may be a caller (the general line there never loses one). A channel
already gone is no error: there is nothing left to send away."""

from __future__ import annotations

import contextlib
from typing import Protocol

import structlog

from balagh.ivr.port import CallGone, CallInfo

__all__ = ["StrayCall", "turn_away"]

log = structlog.get_logger(__name__)


class StrayCall(Protocol):
    """What sending a channel away needs of it (AriCall has it)."""

    info: CallInfo

    async def hangup(self) -> None: ...

    async def continue_in_dialplan(self) -> None: ...


async def turn_away(call: StrayCall, event: str, *, to_dialplan: bool = False) -> None:
    """Log `event` (the feature's name for it) with the channel, then hang it up, or with
    `to_dialplan` let it go on in the dialplan."""
    log.warning(event, channel=call.info.call_id)
    with contextlib.suppress(CallGone):
        if to_dialplan:
            await call.continue_in_dialplan()
        else:
            await call.hangup()
