"""Conditions on the local time: holiday calendars, time-of-day windows, weekdays.

Holiday, TimeWindow and Days are unknown (None) when the call's time is not known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from types import MappingProxyType

from balagh.routing.facts import Facts

__all__ = ["DAY_NAMES", "Calendar", "Days", "Holiday", "TimeWindow"]

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # datetime.weekday() order


@dataclass(frozen=True)
class Calendar:
    """A named list of dated holidays: date -> name ('' when the YAML gave none)."""

    name: str
    days: Mapping[date, str] = field(hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", MappingProxyType(dict(self.days)))


@dataclass(frozen=True)
class Holiday:
    calendar: Calendar

    def value(self, facts: Facts) -> bool | None:
        return None if facts.now is None else facts.now.date() in self.calendar.days

    def describe(self, facts: Facts) -> str:
        name = self.calendar.name
        if facts.now is None:
            return f"the date is unknown (holiday in calendar {name}?)"
        day = facts.now.date()
        if day in self.calendar.days:
            label = self.calendar.days[day] or "a holiday"
            return f"{day.isoformat()} is {label} in calendar {name}"
        return f"{day.isoformat()} is not a holiday in calendar {name}"


@dataclass(frozen=True)
class TimeWindow:
    """From `start` (included) to `end` (excluded); wraps midnight when end <= start."""

    start: time
    end: time

    def value(self, facts: Facts) -> bool | None:
        if facts.now is None:
            return None
        now = facts.now.time()
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def describe(self, facts: Facts) -> str:
        window = f"between {self.start:%H:%M} and {self.end:%H:%M}"
        if facts.now is None:
            return f"the time is unknown (needs {window})"
        verb = "is" if self.value(facts) else "is not"
        return f"time {facts.now:%H:%M} {verb} {window}"


@dataclass(frozen=True)
class Days:
    days: frozenset[int]  # datetime.weekday(): 0 = Monday

    def value(self, facts: Facts) -> bool | None:
        return None if facts.now is None else facts.now.weekday() in self.days

    def describe(self, facts: Facts) -> str:
        wanted = " or ".join(DAY_NAMES[day] for day in sorted(self.days))
        if facts.now is None:
            return f"the day is unknown (needs {wanted})"
        today = DAY_NAMES[facts.now.weekday()]
        return f"day is {today}" if self.value(facts) else f"day is {today}, not {wanted}"
