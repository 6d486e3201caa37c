"""The hotline's own clock: stored UTC instants shown, and days counted, in its time zone.

Times are stored as ISO-8601 UTC text (store/timestamps.py) and stay so; this module is
the one place that turns them into the zone's wall time for people, and that says where
the zone's days begin. zoneinfo does the arithmetic, so a day over a DST change is 23 or
25 hours long and still one day. Pure: no I/O beyond the system's zone database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_TIMEZONE",
    "ZoneError",
    "day_of",
    "day_start",
    "hour_of_day",
    "local",
    "parse_stored",
    "shown",
    "shown_short",
    "today",
    "zone_named",
]

DEFAULT_TIMEZONE = "Asia/Dubai"


class ZoneError(ValueError):
    """A time zone name the zone database does not know."""


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name` ("Asia/Dubai"); ZoneError when there is none by that name."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise ZoneError(f"must be a time zone name such as {DEFAULT_TIMEZONE}, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(f"unknown time zone {name!r} (use an IANA name such as "
                        f"{DEFAULT_TIMEZONE} or Europe/London)") from None


def parse_stored(text: str) -> datetime:
    """A stored instant ('2026-11-30T23:43:30.000Z'), aware; naive text is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(moment: datetime | str, zone: tzinfo) -> datetime:
    """`moment` (aware, or stored text) as wall time in `zone`."""
    aware = parse_stored(moment) if isinstance(moment, str) else moment
    if aware.tzinfo is None:
        aware = aware.replace(tzinfo=UTC)
    return aware.astimezone(zone)


def shown(moment: datetime | str | None, zone: tzinfo, timespec: str = "seconds") -> str:
    """ISO 8601 in the zone with its offset, to the second: '2026-12-01T03:43:30+04:00'
    ('' for no time). Text that is not a time comes back as it is."""
    if moment is None or moment == "":
        return ""
    try:
        return local(moment, zone).isoformat(timespec=timespec)
    except ValueError:
        return str(moment)


def shown_short(moment: datetime | str | None, zone: tzinfo) -> str:
    """'2026-12-01 03:43' in the zone, for tables where the offset is said once."""
    if moment is None or moment == "":
        return ""
    try:
        return local(moment, zone).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(moment)


def day_of(moment: datetime | str, zone: tzinfo) -> date:
    """The zone's calendar day `moment` falls on (23:43 UTC on 30 Nov is 1 Dec in Dubai)."""
    return local(moment, zone).date()


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first instant of `day` in the zone, in UTC. A zone that skips midnight on a
    DST change starts that day at the first wall time that exists."""
    wall = datetime(day.year, day.month, day.day, tzinfo=zone)
    start = wall.astimezone(UTC)
    if start.astimezone(zone).date() != day:  # midnight fell in a gap: an hour later
        start = (wall + timedelta(hours=1)).astimezone(UTC)
    return start


def today(zone: tzinfo, now: datetime | None = None) -> date:
    """The zone's day at `now` (default: the present)."""
    return (now or datetime.now(UTC)).astimezone(zone).date()


def hour_of_day(moment: datetime | str, zone: tzinfo) -> int:
    """The zone's wall-clock hour (0-23) of `moment`."""
    return local(moment, zone).hour
