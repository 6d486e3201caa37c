"""The period a statistic covers: whole UTC days, from a start to an (exclusive) end."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from balagh.store.timestamps import iso


class PeriodError(ValueError):
    """A period the user wrote cannot be understood."""


@dataclass(frozen=True)
class Period:
    start: datetime  # first instant, UTC midnight
    end: datetime    # first instant after the period, UTC midnight
    label: str       # as the user would write it: 2026-11, 2026-W47, 2026-11-01..2026-11-07

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def bounds(self) -> tuple[str, str]:
        """The period as stored text, for `started_at >= ? AND started_at < ?`."""
        return iso(self.start), iso(self.end)

    @property
    def shown(self) -> str:
        """First and last day, both included: 2026-11-01 – 2026-11-30."""
        last = (self.end - timedelta(days=1)).date().isoformat()
        return f"{self.start.date().isoformat()} – {last}"

    def each_day(self) -> list[str]:
        return [(self.start + timedelta(days=n)).date().isoformat() for n in range(self.days)]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"not a date (YYYY-MM-DD): {text!r}") from None


def parse_month(text: str) -> Period:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise PeriodError(f"not a month (YYYY-MM): {text!r}")
    year, month = int(match[1]), int(match[2])
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(_midnight(date(year, month, 1)), _midnight(following), text)


def parse_week(text: str) -> Period:
    """An ISO week, Monday to Sunday: 2026-W47."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", text)
    if not match:
        raise PeriodError(f"not an ISO week (YYYY-Www): {text!r}")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise PeriodError(f"no such week: {text!r}") from None
    return Period(_midnight(monday), _midnight(monday + timedelta(days=7)), text)


def parse_range(since: str, until: str) -> Period:
    """From `since` to `until`, both days included."""
    first, last = parse_day(since), parse_day(until)
    if last < first:
        raise PeriodError(f"--until {until} is before --since {since}")
    return Period(_midnight(first), _midnight(last + timedelta(days=1)), f"{since}..{until}")


def choose(*, month: str | None = None, week: str | None = None, since: str | None = None,
           until: str | None = None, today: date | None = None) -> Period:
    """The period from the command line's options; none given: the last 30 days with today."""
    today = today or datetime.now(UTC).date()
    given = sum(x is not None for x in (month, week)) + (since is not None or until is not None)
    if given > 1:
        raise PeriodError("give one of --month, --week or --since/--until")
    if month:
        return parse_month(month)
    if week:
        return parse_week(week)
    if since or until:
        last = until or today.isoformat()
        return parse_range(since or last, last)
    return parse_range((today - timedelta(days=29)).isoformat(), today.isoformat())
