"""The call port: the few things the IVR does to a call.

The ARI adapter implements it for real calls; tests use a scripted fake. Every
method may raise CallGone, because a caller can hang up at any moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class CallGone(Exception):
    """The caller hung up (or the channel vanished)."""


@dataclass(frozen=True)
class CallInfo:
    call_id: str            # ARI channel id (Asterisk's uniqueid)
    channel: str            # channel name, e.g. PJSIP/softphone-00000001
    caller: str | None      # caller's number; None when withheld
    hotline: str | None     # the number dialled
    args: tuple[str, ...] = ()  # Stasis() arguments: the hotline number, or a supervisor's
                                # request ("supervise", mode, "agent"|"reference", target)


class CallPort(Protocol):
    info: CallInfo

    async def answer(self) -> None: ...

    async def set_language(self, language: str) -> None: ...

    async def play(self, sounds: Sequence[str], *, interruptible: bool = True) -> None:
        """Play sound ids (balagh/<id> in the caller's language) in order.

        Interruptible playback stops at once when a key is pressed, and is not
        started at all when keys are already waiting (type-ahead)."""
        ...

    def has_digits(self) -> bool:
        """True when keys pressed ahead are waiting to be read."""
        ...

    async def get_digit(self, timeout: float) -> str | None:
        """Next key, waiting at most `timeout` seconds; None on timeout."""
        ...

    async def wait_for_digit(self, timeout: float) -> bool:
        """Wait at most `timeout` seconds for a key, leaving it to be read; True if one came."""
        ...

    async def set_variables(self, variables: dict[str, str]) -> None: ...

    async def get_variable(self, name: str) -> str | None:
        """A channel variable or dialplan function's value; None when unset."""
        ...

    async def continue_in_dialplan(self) -> None: ...

    async def tell_while_waiting(self, sounds: Sequence[str], language: str) -> None:
        """After continue_in_dialplan: play `sounds` to the caller over the queue's music
        (stopped when an agent answers). Best effort: never raises, never waits for it."""
        ...
