"""Replacing a file whole: a reader sees the old file or the new one, never half of it, and
the rename survives a power cut. A file that is there keeps its owner and group (when this
user may set them: root, or the owner itself), so a package's `root:balagh 0640` stays
readable by the service after an admin's command rewrites it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["replace_file"]


def replace_file(path: Path, text: str, mode: int, *, kept_bits: int = 0) -> None:
    """Write `text` to `path` atomically with permission bits `mode`, plus those of
    `kept_bits` the old file had (e.g. 0o640: its group's read bit)."""
    try:
        before: os.stat_result | None = path.stat()
    except OSError:
        before = None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode | (before.st_mode & kept_bits if before else 0))
        if before is not None:
            with contextlib.suppress(PermissionError):
                os.fchown(fd, before.st_uid, before.st_gid)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # the rename itself, on disk
        dirfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
