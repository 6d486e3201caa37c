"""One user of the sandbox PBX at a time on a machine.

The sandbox's ports are fixed, so two test sessions or benchmarks from two checkouts
would place calls into each other's app. Each holds this lock while it uses the PBX;
the second waits for the first.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PBX_LOCK = Path(os.environ.get("BALAGH_PBX_LOCK", "/run/lock/balagh-sandbox-pbx.lock"))


@contextmanager
def exclusive_pbx() -> Iterator[None]:
    with open(PBX_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
