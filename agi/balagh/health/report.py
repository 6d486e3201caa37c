"""Health lines, their overall status and exit code, as text or JSON (pure: no I/O)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Status(IntEnum):
    """Ordered by severity, so the overall status is the worst line's."""

    OK = 0
    DEGRADED = 1  # calls are served, but something needs a person
    DOWN = 2      # callers are not being served by Balagh (or that cannot be seen)

    @property
    def label(self) -> str:
        return {Status.OK: "ok", Status.DEGRADED: "warn", Status.DOWN: "DOWN"}[self]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    summary: str  # the line's text: what was found, or what failed
    data: Mapping[str, Any] = field(default_factory=dict)  # the details, for --json


def overall(checks: Sequence[Check]) -> Status:
    return max((check.status for check in checks), default=Status.OK)


def exit_code(checks: Sequence[Check]) -> int:
    return int(overall(checks))


_WORDS = {Status.OK: "healthy", Status.DEGRADED: "DEGRADED", Status.DOWN: "DOWN"}


def text_lines(checks: Sequence[Check]) -> list[str]:
    """`name  status  summary` per check, aligned, then the overall verdict."""
    width = max((len(check.name) for check in checks), default=0)
    width = max(width, len("health"))
    lines = [f"{check.name:<{width}}  {check.status.label:<4}  {check.summary}"
             for check in checks]
    verdict = overall(checks)
    lines.append(f"{'health':<{width}}  {_WORDS[verdict]} (exit {int(verdict)})")
    return lines


def as_json(checks: Sequence[Check]) -> str:
    """One object: the overall status and exit code, and each check by name."""
    verdict = overall(checks)
    return json.dumps({
        "status": _WORDS[verdict].lower(),
        "exit_code": int(verdict),
        "checks": {check.name: {"status": check.status.name.lower(), "summary": check.summary,
                                **check.data} for check in checks},
    }, indent=2, default=str)
