"""Which balagh.yaml is in use, and why: the documented lookup order.

1. `--config FILE` (the command line)
2. BALAGH_CONFIG (the environment)
3. /etc/balagh/balagh.yaml (the folder: BALAGH_ETC_DIR, for tests and other layouts)
4. the shipped defaults inside the installed package, read only

The first that names a file wins; 1 and 2 must exist (a typing mistake is an error, not
a silent fall back to the defaults), 3 is used only when it exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ETC_DIR = Path("/etc/balagh")
SETTINGS_FILE = "balagh.yaml"

FROM_FLAG = "--config"
FROM_ENV = "BALAGH_CONFIG"
FROM_ETC = "/etc/balagh"
FROM_SHIPPED = "shipped defaults (read-only)"


@dataclass(frozen=True)
class ConfigSource:
    """The settings file in use and where it came from (one of the FROM_* words)."""

    path: Path
    origin: str

    @property
    def explicit(self) -> bool:
        """Named by the admin (flag or environment): it must exist."""
        return self.origin in (FROM_FLAG, FROM_ENV)


def etc_dir(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("BALAGH_ETC_DIR") or ETC_DIR)


def find_config(flag: Path | None, environ: Mapping[str, str], shipped: Path) -> ConfigSource:
    """The settings file to read, in the documented order."""
    if flag is not None:
        return ConfigSource(flag, FROM_FLAG)
    if environ.get("BALAGH_CONFIG"):
        return ConfigSource(Path(environ["BALAGH_CONFIG"]), FROM_ENV)
    system = etc_dir(environ) / SETTINGS_FILE
    if system.is_file():
        return ConfigSource(system, FROM_ETC)
    return ConfigSource(shipped, FROM_SHIPPED)


def inside(path: Path, folder: Path) -> bool:
    """Whether `path` (resolved) is `folder` or lies under it."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


__all__ = ["ETC_DIR", "FROM_ENV", "FROM_ETC", "FROM_FLAG", "FROM_SHIPPED", "SETTINGS_FILE",
           "ConfigSource", "etc_dir", "find_config", "inside"]
