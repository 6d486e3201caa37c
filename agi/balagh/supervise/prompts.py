"""The prompts a supervisor's call can play (sounds/prompts.yaml), checked by
`balagh sounds check` like the caller's."""

from __future__ import annotations

SUPERVISOR_PROMPTS: tuple[str, ...] = (
    "sup-enter-pin",
    "sup-refused",
    "sup-locked",
    "sup-not-allowed",
    "sup-no-live-call",
    "sup-connecting",
)

__all__ = ["SUPERVISOR_PROMPTS"]
