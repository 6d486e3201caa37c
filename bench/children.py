"""The bench's child processes (`balagh run`, `balagh console`, py-spy) end with it.

A bench stopped from outside (`kill`, a CI timeout) would otherwise leave its
`balagh run` connected to the sandbox, where the next run's figures would count it.
"""

from __future__ import annotations

import ctypes
import signal
from types import FrameType

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """Popen's preexec_fn: the kernel sends the child SIGTERM when the bench process dies,
    however it dies (SIGKILL included)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def unwind_on_sigterm() -> None:
    """SIGTERM unwinds the bench like Ctrl-C, so its `finally` blocks stop the app and
    the sandbox PBX it started (Python's default for SIGTERM runs none of them)."""
    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
