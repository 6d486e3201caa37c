"""The read-only URI of a database file (light: the statistics import it at start)."""

from __future__ import annotations

from pathlib import Path


def read_only_uri(path: Path) -> str:
    return f"{path.absolute().as_uri()}?mode=ro"
