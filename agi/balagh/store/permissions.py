"""Who may read the callers' data: the data folder 0700, the database files 0600.

Balagh's processes run with umask 077 (`private_umask`), so what they create is theirs
alone; the store also sets the modes itself when it creates the folder and database,
whatever umask a caller had. At start `loose_files` lists what someone opened up
(group or others may read or write) so the app can say so loudly.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

PRIVATE_UMASK = 0o077
FOLDER_MODE = 0o700
FILE_MODE = 0o600
# SQLite's companions of the database file, and the spool beside it.
COMPANIONS = ("-wal", "-shm", "-journal")


def private_umask() -> int:
    """Files this process creates from now on are readable by its user only."""
    return os.umask(PRIVATE_UMASK)


def data_files(database: Path, spool: Path | None = None) -> list[Path]:
    """The database, its WAL, shm and journal, and the spool (those that exist)."""
    paths = [database, *(database.with_name(database.name + end) for end in COMPANIONS)]
    if spool is not None:
        paths.append(spool)
    return [path for path in paths if path.exists()]


def make_private_folder(folder: Path) -> None:
    """Create `folder` (and parents) if missing; a folder created here is 0700."""
    if folder.exists():
        return
    folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    with contextlib.suppress(OSError):
        folder.chmod(FOLDER_MODE)  # mkdir's mode goes through the umask


def make_private(paths: Iterable[Path]) -> None:
    """0600 on each file: for files this process has just created."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.chmod(FILE_MODE)


def loose_files(folder: Path, files: Iterable[Path]) -> list[tuple[Path, str]]:
    """(path, mode as 0o...) for the folder and files that group or others may use."""
    loose: list[tuple[Path, str]] = []
    for path in (folder, *files):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            loose.append((path, f"{mode:04o}"))
    return loose


__all__ = ["FILE_MODE", "FOLDER_MODE", "PRIVATE_UMASK", "data_files", "loose_files",
           "make_private", "make_private_folder", "private_umask"]
