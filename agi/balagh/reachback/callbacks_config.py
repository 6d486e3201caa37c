"""config/reachback.yaml's `callbacks:` section: calling back a caller in danger who hung
up while waiting, with consent. Checked once when loaded, with file:line errors: the
delay, attempts and gap are bounded whole numbers, the hours are HH:MM-HH:MM in the
hotline's zone, and the dial string has exactly one placeholder, {number}."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

from balagh.config.yamlsrc import YamlDoc, known_keys, load_optional_mapping

from .sms_config import SECTIONS

__all__ = ["CallbacksConfig", "caller_id", "dial", "hours", "load_callbacks_config",
           "ring_and_gap", "whole", "within"]

_KEYS = ("enabled", "delay_seconds", "attempts", "gap_seconds", "hours", "dial",
         "ring_seconds", "caller_id")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class CallbacksConfig:
    enabled: bool = False
    delay_seconds: int = 60      # after the abandon: the caller may ring again themselves
    attempts: int = 3            # dials at most, per abandoned call
    gap_seconds: int = 300       # between two attempts (longer than ring_seconds)
    hours: tuple[time, time] = (time(8, 0), time(22, 0))  # in the hotline's zone
    dial: str = ""               # e.g. PJSIP/{number}@trunk
    ring_seconds: int = 30       # how long the caller's phone rings, per attempt
    caller_id: str = ""          # the number the caller sees (the hotline's)

    def channel(self, number: str) -> str:
        return self.dial.format(number=number)

    def within_hours(self, local: datetime) -> bool:
        return within(self.hours, local)


def within(hours: tuple[time, time], local: datetime) -> bool:
    """`local` (in the hotline's zone) inside `hours`; a range may cross midnight."""
    start, end = hours
    now = local.time().replace(tzinfo=None)
    if start <= end:
        return start <= now < end
    return now >= start or now < end


# The checks below are shared with the `survey:` section (survey_config.py): `section`
# names the one being read, for the file:line error.

def whole(doc: YamlDoc, raw: dict[Any, Any], name: str, default: int, low: int,
          high: int, section: str = "callbacks") -> int:
    value = raw.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise doc.error((section, name), f"must be a whole number from {low} to {high}")
    return value


def hours(doc: YamlDoc, raw: Any, section: str = "callbacks") -> tuple[time, time]:
    match = _HOURS.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise doc.error((section, "hours"), "must be HH:MM-HH:MM (e.g. 08:00-22:00)")
    a, b, c, d = (int(part) for part in match.groups())
    if (a, b) == (c, d):
        raise doc.error((section, "hours"), "start and end are the same time")
    return time(a, b), time(c, d)


def dial(doc: YamlDoc, raw: Any, enabled: bool, section: str = "callbacks") -> str:
    if raw is None:
        if enabled:
            raise doc.error((section, "dial"), "needed when enabled (e.g. "
                                               "PJSIP/{number}@trunk)")
        return ""
    if not isinstance(raw, str) or "/" not in raw:
        raise doc.error((section, "dial"), "must be a dial string like "
                                           "PJSIP/{number}@trunk")
    try:
        names = [name for _, name, spec, conv in string.Formatter().parse(raw)
                 if name is not None and not spec and not conv]
        fields = [name for _, name, _, _ in string.Formatter().parse(raw) if name is not None]
    except ValueError as exc:
        raise doc.error((section, "dial"), f"not a template: {exc}") from None
    if names != ["number"] or fields != ["number"]:
        raise doc.error((section, "dial"), "must hold {number} once, and no other "
                                           "placeholder")
    return raw


def ring_and_gap(doc: YamlDoc, raw: dict[Any, Any], section: str, ring_default: int,
                 gap_default: int) -> tuple[int, int]:
    ring = whole(doc, raw, "ring_seconds", ring_default, 5, 120, section)
    gap = whole(doc, raw, "gap_seconds", gap_default, 1, 86_400, section)
    if gap <= ring:
        # The next attempt must not ring while the last may still be ringing.
        raise doc.error((section, "gap_seconds"), f"must be longer than ring_seconds "
                                                  f"({ring})")
    return ring, gap


def caller_id(doc: YamlDoc, raw: dict[Any, Any], section: str) -> str:
    value = raw.get("caller_id", "")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise doc.error((section, "caller_id"), "must be text")
    return str(value)


def load_callbacks_config(path: Path) -> CallbacksConfig:
    """The file's `callbacks:` section (a missing file or section: callbacks off)."""
    loaded = load_optional_mapping(path, SECTIONS, "an `sms:` or `callbacks:` section")
    if loaded is None or loaded[1].get("callbacks") is None:
        return CallbacksConfig()
    doc, data = loaded
    raw = data["callbacks"]
    if not isinstance(raw, dict):
        raise doc.error(("callbacks",), "must be a mapping")
    known_keys(doc, ("callbacks",), raw, _KEYS)
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        raise doc.error(("callbacks", "enabled"), "must be true or false")
    ring, gap = ring_and_gap(doc, raw, "callbacks", CallbacksConfig.ring_seconds,
                             CallbacksConfig.gap_seconds)
    return CallbacksConfig(
        enabled=enabled,
        delay_seconds=whole(doc, raw, "delay_seconds", CallbacksConfig.delay_seconds,
                            0, 86_400),
        attempts=whole(doc, raw, "attempts", CallbacksConfig.attempts, 1, 10),
        gap_seconds=gap,
        hours=hours(doc, raw["hours"]) if "hours" in raw else CallbacksConfig.hours,
        dial=dial(doc, raw.get("dial"), enabled), ring_seconds=ring,
        caller_id=caller_id(doc, raw, "callbacks"))
