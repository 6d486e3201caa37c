"""The `config` line of `balagh health`: the files the settings name are there.

A balagh.yaml copied to another folder keeps relative paths that now point nowhere
(`sounds_dir: ../sounds` from /etc); the app that is running still has what it loaded,
so only this line tells that its next start or reload will fail.
"""

from __future__ import annotations

import os
from pathlib import Path

from balagh.config import Settings
from balagh.health.report import Check, Status

# Files the loaders read as empty when absent (nobody may monitor; no unit endpoints):
# named on the line, not a warning.
OPTIONAL = ("handover_file", "supervisors_file")


def _needed(settings: Settings) -> dict[str, tuple[Path, Status]]:
    """name -> (path, status when it is missing). Without the menu or the table the app
    does not start; without the prompts an ARI caller hears nothing (a FastAGI-only site
    plays Asterisk's own copy, so there it is a warning)."""
    sounds = Status.DOWN if settings.ari.enabled else Status.DEGRADED
    needed = {"ivr_file": (settings.ivr_file, Status.DOWN),
              "routing_file": (settings.routing_file, Status.DOWN),
              "sounds_dir": (settings.sounds_dir, sounds),
              "handover_file": (settings.handover_file, Status.OK),
              "supervisors_file": (settings.supervisors_file, Status.OK)}
    if settings.secrets_file is not None:
        needed["secrets_file"] = (settings.secrets_file, Status.DEGRADED)
    return needed


def config_check(settings: Settings) -> Check:
    missing = {key: (path, status) for key, (path, status) in _needed(settings).items()
               if not path.exists()}
    source = settings.source
    data = {"settings": str(source.path), "from": source.origin,
            "missing": {key: str(path) for key, (path, _) in missing.items()}}
    worst = max((status for _, status in missing.values()), default=Status.OK)
    names = "; ".join(f"{key} {os.path.normpath(path)} "
                      f"{'absent (optional)' if key in OPTIONAL else 'MISSING'}"
                      for key, (path, _) in missing.items())
    if worst is Status.OK:
        found = f"{source.path} ({source.origin}); every file it needs is there"
        return Check("config", Status.OK, f"{found}; {names}" if names else found, data)
    return Check("config", worst, f"{names} (named by {source.path}, {source.origin}; "
                 "relative paths are taken from that file's folder)", data)


__all__ = ["config_check"]
