"""Times shown, and days counted, in the hotline's time zone (issue 25, local time).

Stored instants stay UTC; `2026-11-30T23:43:30Z` is 03:43 on 1 December in Dubai, so that
call is shown with +04:00 and counted on 1 December by `reports`, `stats`, `report-pack`
and the wallboard's today. Europe/London checks the day math over a DST change.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from balagh.cli import main
from balagh.config import load_settings
from balagh.console.feed import Feed
from balagh.localtime import day_of, day_start, shown, today
from balagh.readmodel import statistics as stats_query
from balagh.readmodel.period import choose, days_period, parse_month, today_period

from .stats_data import _report, make_database

DUBAI = ZoneInfo("Asia/Dubai")
LONDON = ZoneInfo("Europe/London")
LATE = "2026-11-30T23:43:30.000Z"  # 03:43:30 on 1 December in Dubai
LATE_IN_DUBAI = "2026-12-01T03:43:30+04:00"


# --- the pure day math --------------------------------------------------------------------------

def test_late_on_30_november_utc_is_1_december_in_dubai():
    assert day_of(LATE, DUBAI) == date(2026, 12, 1)
    assert day_of(LATE, UTC) == date(2026, 11, 30)
    assert shown(LATE, DUBAI) == LATE_IN_DUBAI
    assert today(DUBAI, datetime(2026, 11, 30, 23, 43, 30, tzinfo=UTC)) == date(2026, 12, 1)
    assert day_start(date(2026, 12, 1), DUBAI) == datetime(2026, 11, 30, 20, tzinfo=UTC)


def test_a_month_is_the_zones_month():
    december = parse_month("2026-12", DUBAI)
    assert december.start == datetime(2026, 11, 30, 20, tzinfo=UTC)
    assert december.end == datetime(2026, 12, 31, 20, tzinfo=UTC)
    assert december.days == 31 and december.each_day()[0] == "2026-12-01"


def test_a_day_over_the_march_change_in_london_is_23_hours_and_still_one_day():
    # Clocks go forward at 01:00 UTC on Sunday 29 March 2026.
    period = choose(since="2026-03-28", until="2026-03-30", zone=LONDON)
    assert period.each_day() == ["2026-03-28", "2026-03-29", "2026-03-30"]
    lengths = {day: end - start for day, start, end in period.slices()}
    assert lengths == {"2026-03-28": timedelta(hours=24), "2026-03-29": timedelta(hours=23),
                       "2026-03-30": timedelta(hours=24)}
    assert period.start == datetime(2026, 3, 28, 0, tzinfo=UTC)   # GMT
    assert period.end == datetime(2026, 3, 30, 23, tzinfo=UTC)    # BST: midnight is 23:00 UTC
    # 23:30 UTC on 29 March is already 30 March in London; the hour before is not.
    assert day_of("2026-03-29T23:30:00Z", LONDON) == date(2026, 3, 30)
    assert day_of("2026-03-29T22:59:59Z", LONDON) == date(2026, 3, 29)
    assert shown("2026-03-29T23:30:00Z", LONDON) == "2026-03-30T00:30:00+01:00"
    assert shown("2026-03-28T23:30:00Z", LONDON) == "2026-03-28T23:30:00+00:00"


# --- a real report database ---------------------------------------------------------------------

@pytest.fixture
def late_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One call at 23:43:30 UTC on 30 November, one at noon UTC on 30 November; the
    hotline's zone left to its default (Asia/Dubai)."""
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BALAGH_TIMEZONE", raising=False)
    return make_database(tmp_path / "balagh.sqlite3", [
        _report("c1", 1, "routed", queue="child-protection", rule="child",
                outcome="answered", wait=5, typed=1, to_queue=8.0, started=LATE),
        _report("c2", 1, "hung_up_in_ivr", gave_up_in="age",
                started="2026-11-30T12:00:00.000Z"),
    ])


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_stats_count_the_call_on_dubais_1_december(late_call, capsys):
    rows = list(csv.DictReader(io.StringIO(_run(
        capsys, "stats", "--since", "2026-11-30", "--until", "2026-12-01", "--by", "day",
        "--format", "csv"))))
    assert {row["day"]: row["calls"] for row in rows} == {
        "2026-11-30": "1", "2026-12-01": "1", "total": "2"}


def test_a_months_stats_and_pack_take_the_zones_month(late_call, tmp_path, capsys):
    november = json.loads(_run(capsys, "stats", "--month", "2026-11", "--format", "json"))
    assert november["total"]["calls"] == 1  # the late call belongs to December
    assert november["period"]["start"] == "2026-10-31T20:00:00.000Z"
    december = json.loads(_run(capsys, "stats", "--month", "2026-12", "--format", "json"))
    assert december["total"]["calls"] == 1
    page = tmp_path / "pack.html"
    assert main(["report-pack", "--month", "2026-12", "--language", "en", "-o",
                 str(page)]) == 0
    assert "1 calls" in capsys.readouterr().err
    assert "Asia/Dubai" in page.read_text(encoding="utf-8")


def test_the_summary_and_the_scan_agree_on_the_zones_days(late_call):
    period = days_period(date(2026, 11, 30), date(2026, 12, 1), DUBAI)
    fast = stats_query.compute_many(late_call, period, ["day"])
    exact = stats_query.compute_many(late_call, period, ["day"], exact=True)
    assert [(row.key, row.calls) for row in fast.stats["day"].rows] == \
        [(row.key, row.calls) for row in exact.stats["day"].rows] == \
        [("2026-11-30", 1), ("2026-12-01", 1)]


def test_csv_and_json_rows_carry_the_offset(late_call, capsys):
    rows = list(csv.DictReader(io.StringIO(_run(capsys, "reports", "--format", "csv"))))
    late = next(row for row in rows if row["reference"] == "Rc1")
    assert late["started_at"] == LATE_IN_DUBAI
    assert late["routed_at"] == "2026-12-01T03:43:08+04:00"
    records = json.loads(_run(capsys, "reports", "--format", "json"))
    assert {r["reference"]: r["started_at"] for r in records} == {
        "Rc1": LATE_IN_DUBAI, "Rc2": "2026-11-30T16:00:00+04:00"}
    table = _run(capsys, "reports")
    assert LATE_IN_DUBAI in table and "23:43" not in table


def test_a_bare_date_filter_is_the_zones_day(late_call, capsys):
    records = json.loads(_run(capsys, "reports", "--format", "json",
                              "--since", "2026-12-01", "--until", "2026-12-01"))
    assert [r["reference"] for r in records] == ["Rc1"]


def test_the_wallboards_today_starts_at_local_midnight(late_call):
    settings = load_settings()
    assert settings.zone == DUBAI
    feed = Feed(settings, ["language", "danger"])
    # 00:10 UTC on 1 December: 04:10 in Dubai, the late call (03:43) is today's;
    # the UTC day began ten minutes ago with no call.
    now = datetime(2026, 12, 1, 0, 10, tzinfo=UTC)
    assert today_period(now, settings.zone).first == date(2026, 12, 1)
    figures = asyncio.run(feed._today_figures(now.timestamp()))
    assert figures.calls == 1 and figures.answered == {"child-protection": 1}
    assert figures.per_hour[3] == 1 and sum(figures.per_hour) == 1
    # 19:59 UTC on 1 December is still Dubai's 1 December; 20:00 UTC begins the 2nd.
    last_minute = datetime(2026, 12, 1, 19, 59, tzinfo=UTC).timestamp()
    assert asyncio.run(feed._today_figures(last_minute)).calls == 1
    next_day = datetime(2026, 12, 1, 20, 0, tzinfo=UTC).timestamp()
    assert asyncio.run(feed._today_figures(next_day)).calls == 0


@pytest.mark.parametrize("exact", [False, True])
def test_a_caller_in_danger_is_counted_on_the_zones_day(late_call, exact):
    """c1 (23:43 UTC on 30 Nov, in danger) is Dubai's 1 December: its danger count goes
    there, and no UTC day outside the period gets a row of its own."""
    period = days_period(date(2026, 12, 1), date(2026, 12, 1), DUBAI)
    rows = stats_query.compute_many(late_call, period, ["day"], exact=exact).stats["day"].rows
    assert [(row.key, row.calls, row.danger_calls) for row in rows] == [("2026-12-01", 1, 1)]
