"""A channel that entered one of our Stasis apps but is not one we placed or serve (a
survey entry whose reference is not being dialled, anything sent to the watchdog's own
app): sent away, hung up, or on to the dialplan where it may be a caller (the general
line there never loses one). A channel already gone is no error: there is nothing left
to send away. Each caller logs it first under its own event (docs/operators.md lists
them; tests/unit/test_docs.py finds them by their log calls)."""

from __future__ import annotations

import contextlib
from typing import Protocol

from balagh.ivr.port import CallGone, CallInfo

__all__ = ["StrayCall", "turn_away"]


class StrayCall(Protocol):
    """What sending a channel away needs of it (AriCall has it)."""

    info: CallInfo

    async def hangup(self) -> None: ...

    async def continue_in_dialplan(self) -> None: ...


async def turn_away(call: StrayCall, *, to_dialplan: bool = False) -> None:
    """Hang the channel up, or with `to_dialplan` let it go on in the dialplan."""
    with contextlib.suppress(CallGone):
        if to_dialplan:
            await call.continue_in_dialplan()
        else:
            await call.hangup()
