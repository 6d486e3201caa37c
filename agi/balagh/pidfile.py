"""The pid file of `balagh run`, locked for as long as the app runs.

`balagh routes reload` sends SIGHUP to the pid written there. After a SIGKILL the file
stays behind and its pid may later belong to any process: so the running app holds an
flock on the file, the kernel drops it when the process dies however it dies, and a
pid is only trusted while its file is locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path


class PidFileHeld(RuntimeError):
    """Another live process holds the pid file."""


@dataclass
class PidFile:
    path: Path
    fd: int

    @classmethod
    def acquire(cls, path: Path) -> PidFile:
        """Lock `path` and write this process's pid in it; PidFileHeld if another holds it."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise PidFileHeld(f"{path} is held by balagh run pid {running_pid(path)}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        # Unlink while still locked, so no reader sees an unlocked file with our pid.
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self.fd)


def running_pid(path: Path) -> int | None:
    """The pid in `path` if a live process holds its lock; None for a stale or no file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # locked: the app that wrote it is alive
            text = os.read(fd, 64).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() and int(text) > 0 else None
        return None  # nobody holds it: left behind by an app that died
    finally:
        os.close(fd)


__all__ = ["PidFile", "PidFileHeld", "running_pid"]
