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

__all__ = ["CallbacksConfig", "load_callbacks_config"]

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
        """`local` (in the hotline's zone) inside the hours; a range may cross midnight."""
        start, end = self.hours
        now = local.time().replace(tzinfo=None)
        if start <= end:
            return start <= now < end
        return now >= start or now < end


def _whole(doc: YamlDoc, raw: dict[Any, Any], name: str, default: int, low: int,
           high: int) -> int:
    value = raw.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise doc.error(("callbacks", name), f"must be a whole number from {low} to {high}")
    return value


def _hours(doc: YamlDoc, raw: Any) -> tuple[time, time]:
    match = _HOURS.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise doc.error(("callbacks", "hours"), "must be HH:MM-HH:MM (e.g. 08:00-22:00)")
    a, b, c, d = (int(part) for part in match.groups())
    if (a, b) == (c, d):
        raise doc.error(("callbacks", "hours"), "start and end are the same time")
    return time(a, b), time(c, d)


def _dial(doc: YamlDoc, raw: Any, enabled: bool) -> str:
    if raw is None:
        if enabled:
            raise doc.error(("callbacks", "dial"), "needed when enabled (e.g. "
                                                   "PJSIP/{number}@trunk)")
        return ""
    if not isinstance(raw, str) or "/" not in raw:
        raise doc.error(("callbacks", "dial"), "must be a dial string like "
                                               "PJSIP/{number}@trunk")
    try:
        names = [name for _, name, spec, conv in string.Formatter().parse(raw)
                 if name is not None and not spec and not conv]
        fields = [name for _, name, _, _ in string.Formatter().parse(raw) if name is not None]
    except ValueError as exc:
        raise doc.error(("callbacks", "dial"), f"not a template: {exc}") from None
    if names != ["number"] or fields != ["number"]:
        raise doc.error(("callbacks", "dial"), "must hold {number} once, and no other "
                                               "placeholder")
    return raw


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
    ring = _whole(doc, raw, "ring_seconds", CallbacksConfig.ring_seconds, 5, 120)
    gap = _whole(doc, raw, "gap_seconds", CallbacksConfig.gap_seconds, 1, 86_400)
    if gap <= ring:
        # The next attempt must not ring while the last may still be ringing.
        raise doc.error(("callbacks", "gap_seconds"), f"must be longer than ring_seconds "
                                                      f"({ring})")
    caller_id = raw.get("caller_id", "")
    if not isinstance(caller_id, str | int) or isinstance(caller_id, bool):
        raise doc.error(("callbacks", "caller_id"), "must be text")
    return CallbacksConfig(
        enabled=enabled,
        delay_seconds=_whole(doc, raw, "delay_seconds", CallbacksConfig.delay_seconds,
                             0, 86_400),
        attempts=_whole(doc, raw, "attempts", CallbacksConfig.attempts, 1, 10),
        gap_seconds=gap,
        hours=_hours(doc, raw["hours"]) if "hours" in raw else CallbacksConfig.hours,
        dial=_dial(doc, raw.get("dial"), enabled), ring_seconds=ring,
        caller_id=str(caller_id))
