"""A file copy flushed to disk as it grows (maintenance.backup's SQLite copy)."""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["PacedCopy"]


class PacedCopy:
    """Flush the copy to disk as it grows, a little at a time, with a breath between steps.

    Left to itself the kernel keeps the whole copy dirty in memory and writes it out at
    the final fsync; on ext4 every other fsync (the app's WAL checkpoint) then waits
    behind hundreds of megabytes. Small flushes along the way keep those waits short.
    """

    SYNC_BYTES = 16 * 1024 * 1024
    BREATH = 0.002  # seconds after each step

    def __init__(self, path: Path, step_bytes: int) -> None:
        self.path = path
        self.step_bytes = step_bytes
        self.fd = -1
        self.unsynced = 0

    def __enter__(self) -> PacedCopy:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)

    def step(self, status: int, remaining: int, total: int) -> None:
        del status, total
        self.unsynced += self.step_bytes
        if self.unsynced >= self.SYNC_BYTES or remaining == 0:
            if self.fd < 0:
                self.fd = os.open(self.path, os.O_RDONLY)
            os.fsync(self.fd)
            self.unsynced = 0
        time.sleep(self.BREATH)
