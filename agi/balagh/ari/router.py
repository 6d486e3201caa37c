"""The Stasis router: which feature serves a channel that entered the app.

One ARI application receives four kinds of channel: callers, the snoops that tell a
waiting caller something, supervisors' calls, and the snoops that let a supervisor
listen. Each feature owns its entry (a matcher on the Stasis arguments and a handler)
and registers it here; a channel no entry claims is a caller, served by the default.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from balagh.ari.call import AriCall

Handler = Callable[[AriCall], Awaitable[object]]
Matcher = Callable[[Sequence[str]], bool]


@dataclass(frozen=True)
class Entry:
    """A feature's way in: `matches` the channel's Stasis arguments, `serve` it."""

    name: str
    matches: Matcher
    serve: Handler


def first_arg_is(marker: str) -> Matcher:
    """A matcher for channels the app made itself: their first argument names the feature."""
    def matches(args: Sequence[str]) -> bool:
        return bool(args) and args[0] == marker

    return matches


class StasisRouter:
    """Entries tried in the order registered; `default` serves what none claims."""

    def __init__(self, default: Handler, entries: Sequence[Entry] = ()) -> None:
        self.default = default
        self._entries: list[Entry] = []
        for entry in entries:
            self.register(entry)

    def register(self, entry: Entry) -> None:
        if any(known.name == entry.name for known in self._entries):
            raise ValueError(f"Stasis entry '{entry.name}' is registered twice")
        self._entries.append(entry)

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    def handler_for(self, args: Sequence[str]) -> Handler:
        for entry in self._entries:
            if entry.matches(args):
                return entry.serve
        return self.default

    async def __call__(self, call: AriCall) -> object:
        return await self.handler_for(call.info.args)(call)
