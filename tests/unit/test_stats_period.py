"""Periods: a month, an ISO week, a range of days, all in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from balagh.readmodel.period import PeriodError, choose, parse_month, parse_range, parse_week


def test_a_month():
    period = parse_month("2026-11")
    assert period.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert period.end == datetime(2026, 12, 1, tzinfo=UTC)
    assert period.bounds == ("2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z")
    assert period.days == 30 and period.shown == "2026-11-01 – 2026-11-30"
    assert parse_month("2026-12").end == datetime(2027, 1, 1, tzinfo=UTC)


def test_an_iso_week_runs_monday_to_sunday():
    period = parse_week("2026-W47")
    assert period.each_day() == [f"2026-11-{day}" for day in range(16, 23)]
    assert parse_week("2026-W01").start == datetime(2025, 12, 29, tzinfo=UTC)


def test_a_range_includes_both_days():
    period = parse_range("2026-11-01", "2026-11-01")
    assert period.days == 1 and period.label == "2026-11-01..2026-11-01"


@pytest.mark.parametrize("call", [
    lambda: parse_month("2026-13"), lambda: parse_month("November"),
    lambda: parse_week("2026-W54"), lambda: parse_week("2026-47"),
    lambda: parse_range("2026-11-05", "2026-11-01"), lambda: parse_range("yesterday", "2026-11-01"),
    lambda: choose(month="2026-11", week="2026-W47"),
    lambda: choose(month="2026-11", since="2026-11-01"),
])
def test_what_cannot_be_understood_is_refused(call):
    with pytest.raises(PeriodError):
        call()


def test_choose():
    today = date(2026, 11, 25)
    assert choose(today=today).shown == "2026-10-27 – 2026-11-25"  # the last 30 days
    assert choose(since="2026-11-20", today=today).shown == "2026-11-20 – 2026-11-25"
    assert choose(until="2026-11-20", today=today).days == 1
    assert choose(week="2026-W47", today=today).label == "2026-W47"


def test_the_months_of_a_period_are_the_zones_cut_to_the_period():
    from zoneinfo import ZoneInfo

    dubai = parse_range("2026-11-15", "2027-01-10", ZoneInfo("Asia/Dubai"))
    assert [(month, start.isoformat(), end.isoformat()) for month, start, end
            in dubai.months()] == [
        ("2026-11", "2026-11-14T20:00:00+00:00", "2026-11-30T20:00:00+00:00"),
        ("2026-12", "2026-11-30T20:00:00+00:00", "2026-12-31T20:00:00+00:00"),
        ("2027-01", "2026-12-31T20:00:00+00:00", "2027-01-10T20:00:00+00:00")]
    # a month over a DST change begins and ends at the zone's own midnights
    [(month, start, end)] = parse_month("2026-10", ZoneInfo("Europe/London")).months()
    assert (month, start.isoformat(), end.isoformat()) == (
        "2026-10", "2026-09-30T23:00:00+00:00", "2026-11-01T00:00:00+00:00")
