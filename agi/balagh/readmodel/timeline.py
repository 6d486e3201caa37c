"""A report's timeline as lines: seconds since the call started, the time, what happened."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from balagh.localtime import shown
from balagh.store.events import TimelineEvent


def _moment(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def describe(detail: Mapping[str, Any]) -> str:
    """`key=value` for each fact that is there, in the stored (sorted) order."""
    parts = []
    for name, value in detail.items():
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        parts.append(f"{name}={value}")
    return " ".join(parts)


def timeline_lines(started_at: str, events: Sequence[TimelineEvent],
                   zone: tzinfo) -> list[str]:
    """'  +12.4s  2026-11-25T13:00:12.400+04:00  answer  attempt=1 key=1 ...', oldest first,
    each time in the hotline's `zone`."""
    start = _moment(started_at)
    lines = []
    for step in events:
        moment = _moment(step.at)
        offset = "?" if start is None or moment is None \
            else f"{(moment - start).total_seconds():+.1f}s"
        lines.append(f"  {offset:>8}  {shown(step.at, zone, 'milliseconds')}  {step.kind!s:<16} "
                     f"{describe(step.detail)}".rstrip())
    return lines


__all__ = ["describe", "timeline_lines"]
