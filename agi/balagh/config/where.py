"""`balagh config where`: each file in use, and where that choice came from. Pure reads.

A path's origin is the environment variable that set it, else the settings file that
named it (that file's own origin: --config, BALAGH_CONFIG, /etc/balagh, the shipped
defaults), else the built-in default. A path inside the installed package is marked
read-only whatever named it: nothing may write there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from balagh.config import ENV_OVERRIDES, Settings, is_shipped
from balagh.config.lookup import FROM_SHIPPED
from balagh.config.yamlsrc import ConfigError, load_yaml

BUILT_IN = "built-in default"
READ_ONLY = " (read-only)"


@dataclass(frozen=True)
class FileInUse:
    name: str          # settings, ivr, routing, ...
    path: Path | None  # None: not set (secrets)
    origin: str
    exists: bool


# What `where` lists: its name -> the setting that holds it.
KEYS = {"ivr": "ivr_file", "routing": "routing_file", "handover": "handover_file",
        "supervisors": "supervisors_file", "sounds": "sounds_dir", "data": "data_dir",
        "secrets": "secrets_file"}


def _yaml_keys(settings: Settings) -> set[str]:
    """The top-level keys the settings file sets (none when it is absent or unread)."""
    if not settings.source.path.is_file():
        return set()
    try:
        data = load_yaml(settings.source.path).data
    except ConfigError:
        return set()
    return {str(key) for key in data} if isinstance(data, dict) else set()


def _origin(key: str, settings: Settings, in_yaml: set[str],
            environ: Mapping[str, str]) -> str:
    variable = next((var for var, target in ENV_OVERRIDES.items() if target == ("", key)), "")
    if variable and environ.get(variable):
        return variable
    if key in in_yaml:
        return settings.source.origin
    return BUILT_IN


def _marked(origin: str, path: Path | None) -> str:
    if path is not None and is_shipped(path) and origin != FROM_SHIPPED:
        return origin + READ_ONLY
    return origin


def files_in_use(settings: Settings, environ: Mapping[str, str]) -> list[FileInUse]:
    """settings, ivr, routing, locations, handover, supervisors, sounds, data, secrets."""
    in_yaml = _yaml_keys(settings)
    source = settings.source
    found = [FileInUse("settings", source.path, source.origin, source.path.is_file())]
    for name, key in KEYS.items():
        path: Path | None = getattr(settings, key)
        origin = _marked(_origin(key, settings, in_yaml, environ), path)
        found.append(FileInUse(name, path, origin, path is not None and path.exists()))
        if name == "routing":  # locations.yaml lives beside the table it serves
            found.append(FileInUse("locations", settings.locations_file,
                                   "beside routing",
                                   settings.locations_file.exists()))
    return found


__all__ = ["BUILT_IN", "KEYS", "FileInUse", "files_in_use"]
