"""Secrets: KEY=value files and the environment. Never YAML."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

__all__ = ["SECRET_PREFIX", "read_env_file", "secret_values"]


class WithSecretsFile(Protocol):
    @property
    def secrets_file(self) -> Path | None: ...


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines; '#' comments. Used for secret files."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return values
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


# Named secrets (e.g. the units' webhook keys in handover.yaml): the secret NAME is
# BALAGH_SECRET_NAME in the environment or the secrets file.
SECRET_PREFIX = "BALAGH_SECRET_"


def secret_values(settings: WithSecretsFile,
                  environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables that may hold secrets: the secrets file's, overridden by the environment."""
    values = read_env_file(settings.secrets_file) if settings.secrets_file else {}
    values.update(os.environ if environ is None else environ)
    return values
