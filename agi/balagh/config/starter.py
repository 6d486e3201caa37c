"""`balagh config init`: a starter configuration folder (normally /etc/balagh).

The shipped files are copied as they are, except balagh.yaml's paths: relative ones would
point from /etc into nowhere (`sounds_dir: ../sounds`), so the starter names the shipped
prompts and the data folder absolutely. The menu, table, prefixes, handover and
supervisors stay relative: they are the starter's own neighbours.
"""

from __future__ import annotations

import re
from pathlib import Path

from balagh.config import CONFIG_DIR, SOUNDS_DIR
from balagh.config.atomicfile import replace_file
from balagh.config.lookup import SETTINGS_FILE

# The files a site owns, in the order written.
STARTER_FILES = (SETTINGS_FILE, "ivr.yaml", "routing.yaml", "locations.yaml",
                 "handover.yaml", "supervisors.yaml")
FILE_MODE = 0o640   # the service's group may read; callers' routing is nobody else's
DIR_MODE = 0o750
DEFAULT_DATA_DIR = Path("/var/lib/balagh")


class StarterExists(Exception):
    """Some of the files are there already and --force was not given."""

    def __init__(self, existing: list[Path]) -> None:
        self.existing = existing
        names = ", ".join(str(path) for path in existing)
        super().__init__(f"{names} exist(s) already; nothing written (--force overwrites, "
                         "keeping each file's owner)")


def starter_settings(shipped_text: str, data_dir: Path, sounds_dir: Path = SOUNDS_DIR) -> str:
    """The shipped balagh.yaml with the paths that must be absolute from another folder."""
    lines = shipped_text.splitlines()
    wanted = {"sounds_dir": f"sounds_dir: {sounds_dir}   # the shipped prompts",
              "data_dir": f"data_dir: {data_dir}"}
    for index, line in enumerate(lines):
        match = re.match(r"#?\s*(sounds_dir|data_dir):", line)
        if match and match.group(1) in wanted:
            lines[index] = wanted.pop(match.group(1))
    lines += list(wanted.values())  # not in the shipped text: added at the end
    return "\n".join(lines) + "\n"


def starter_texts(data_dir: Path = DEFAULT_DATA_DIR) -> dict[str, str]:
    """File name -> text of the starter folder."""
    texts = {name: (CONFIG_DIR / name).read_text(encoding="utf-8") for name in STARTER_FILES}
    texts[SETTINGS_FILE] = starter_settings(texts[SETTINGS_FILE], data_dir)
    return texts


def write_starter(folder: Path, *, data_dir: Path = DEFAULT_DATA_DIR,
                  force: bool = False) -> list[Path]:
    """Write the starter files into `folder`; the paths written. Without `force`, refuses
    (StarterExists) before writing anything if any of them exists."""
    texts = starter_texts(data_dir)
    targets = [folder / name for name in STARTER_FILES]
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        raise StarterExists(existing)
    if not folder.is_dir():
        folder.mkdir(parents=True)
        folder.chmod(DIR_MODE)  # the umask would take the group's read away
    for path in targets:
        write_keeping_owner(path, texts[path.name])
    return targets


def write_keeping_owner(path: Path, text: str, mode: int = FILE_MODE) -> None:
    """Replace `path` atomically with `text`, mode `mode`, its owner and group kept."""
    replace_file(path, text, mode)


__all__ = ["DEFAULT_DATA_DIR", "FILE_MODE", "STARTER_FILES", "StarterExists",
           "starter_settings", "starter_texts", "write_keeping_owner", "write_starter"]
