"""Supervision's entries in the Stasis router: a supervisor's call, and the snoop that
lets them listen (a supervisor's ear, never a hotline call)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from balagh.ari.call import AriCall
from balagh.ari.router import Entry, first_arg_is
from balagh.supervise.session import Request, Supervision
from balagh.supervise.snoop import SNOOP_ARG


def supervision_entries(supervision: Supervision,
                        refresh: Callable[[], Awaitable[object]]) -> tuple[Entry, Entry]:
    """`refresh` runs before a supervisor's call is served: a supervisor added by
    `balagh supervisors add` a moment ago is known to that call."""
    async def follow_snoop(call: AriCall) -> None:
        await supervision.follow_snoop(call, call.info.args[-1])

    def is_request(args: Sequence[str]) -> bool:
        return Request.from_args(args) is not None

    async def serve(call: AriCall) -> None:
        request = Request.from_args(call.info.args)
        assert request is not None  # is_request said so
        await refresh()
        await supervision.serve(call, request)

    return (Entry("snoop", first_arg_is(SNOOP_ARG), follow_snoop),
            Entry("supervise", is_request, serve))
