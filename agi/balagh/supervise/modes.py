"""The three ways of monitoring a call, and the keys that switch between them."""

from __future__ import annotations

import enum


class Mode(enum.StrEnum):
    LISTEN = "listen"    # the supervisor hears both sides; nobody hears the supervisor
    WHISPER = "whisper"  # ... and the agent hears the supervisor; the caller does not
    BARGE = "barge"      # ... and both hear the supervisor


# Pressed while monitoring (the same keys as ChanSpy's d option).
MODE_KEYS = {"4": Mode.LISTEN, "5": Mode.WHISPER, "6": Mode.BARGE}
