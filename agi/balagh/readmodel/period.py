"""The period a statistic covers: whole days in the hotline's time zone, from a first day
to an (exclusive) stop day.

A day is the zone's calendar day (localtime.py): 23:43 UTC on 30 November counts on
1 December in Dubai, and a day over a DST change is 23 or 25 hours long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from balagh.localtime import day_start
from balagh.localtime import today as zone_today
from balagh.store.timestamps import iso


class PeriodError(ValueError):
    """A period the user wrote cannot be understood."""


@dataclass(frozen=True)
class Period:
    first: date      # the first day, in `zone`
    stop: date       # the first day after the period
    label: str       # as the user would write it: 2026-11, 2026-W47, 2026-11-01..2026-11-07
    zone: tzinfo = UTC

    @property
    def start(self) -> datetime:
        """The first instant (UTC): the zone's midnight starting `first`."""
        return day_start(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (UTC)."""
        return day_start(self.stop, self.zone)

    @property
    def days(self) -> int:
        return (self.stop - self.first).days

    @property
    def bounds(self) -> tuple[str, str]:
        """The period as stored text, for `started_at >= ? AND started_at < ?`."""
        return iso(self.start), iso(self.end)

    @property
    def shown(self) -> str:
        """First and last day, both included: 2026-11-01 – 2026-11-30."""
        return f"{self.first.isoformat()} – {(self.stop - timedelta(days=1)).isoformat()}"

    def each_day(self) -> list[str]:
        return [(self.first + timedelta(days=n)).isoformat() for n in range(self.days)]

    def slices(self) -> list[tuple[str, datetime, datetime]]:
        """Each day with its first instant and the next day's (UTC)."""
        edges = [day_start(self.first + timedelta(days=n), self.zone)
                 for n in range(self.days + 1)]
        return [(day, edges[n], edges[n + 1]) for n, day in enumerate(self.each_day())]

    def months(self) -> list[tuple[str, datetime, datetime]]:
        """Each of the zone's calendar months the period touches (YYYY-MM) with its first
        instant and the next month's (UTC), the first and last cut to the period."""
        out = []
        first = self.first
        while first < self.stop:
            following = _next_month(first)
            stop = min(following, self.stop)
            out.append((f"{first:%Y-%m}", day_start(first, self.zone),
                        day_start(stop, self.zone)))
            first = following
        return out


def _next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def days_period(first: date, last: date, zone: tzinfo, label: str | None = None) -> Period:
    """From `first` to `last`, both included, in `zone`."""
    return Period(first, last + timedelta(days=1), label or f"{first}..{last}", zone)


def today_period(now: datetime, zone: tzinfo) -> Period:
    """The zone's day `now` falls in, as a period (the wallboard's "today")."""
    day = zone_today(zone, now)
    return days_period(day, day, zone, day.isoformat())


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"not a date (YYYY-MM-DD): {text!r}") from None


def parse_month(text: str, zone: tzinfo = UTC) -> Period:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise PeriodError(f"not a month (YYYY-MM): {text!r}")
    first = date(int(match[1]), int(match[2]), 1)
    return Period(first, _next_month(first), text, zone)


def parse_week(text: str, zone: tzinfo = UTC) -> Period:
    """An ISO week, Monday to Sunday: 2026-W47."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", text)
    if not match:
        raise PeriodError(f"not an ISO week (YYYY-Www): {text!r}")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise PeriodError(f"no such week: {text!r}") from None
    return Period(monday, monday + timedelta(days=7), text, zone)


def parse_range(since: str, until: str, zone: tzinfo = UTC) -> Period:
    """From `since` to `until`, both days included."""
    first, last = parse_day(since), parse_day(until)
    if last < first:
        raise PeriodError(f"--until {until} is before --since {since}")
    return days_period(first, last, zone, f"{since}..{until}")


def choose(*, month: str | None = None, week: str | None = None, since: str | None = None,
           until: str | None = None, today: date | None = None,
           zone: tzinfo = UTC) -> Period:
    """The period from the command line's options, days in `zone`; none given: the last
    30 days with today (the zone's)."""
    today = today or zone_today(zone)
    given = sum(x is not None for x in (month, week)) + (since is not None or until is not None)
    if given > 1:
        raise PeriodError("give one of --month, --week or --since/--until")
    if month:
        return parse_month(month, zone)
    if week:
        return parse_week(week, zone)
    if since or until:
        last = until or today.isoformat()
        return parse_range(since or last, last, zone)
    return parse_range((today - timedelta(days=29)).isoformat(), today.isoformat(), zone)
