"""`balagh reports`: filters, CSV and JSON export, masked numbers, --show-numbers recorded,
and one report with its timeline."""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from balagh.cli import main
from balagh.cli.reports import parse_moment
from balagh.readmodel.rows import mask_number
from balagh.status import ReportStatus
from balagh.store import ReportStore

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
NUMBER = "+971501234567"
MASKED = "+9715****4567"
DUBAI = ZoneInfo("Asia/Dubai")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _fill(database: Path) -> None:
    store = await ReportStore.open(database)
    try:
        store.calls.start_report(call_id="c1", reference="1000009", channel="PJSIP/t-1",
                                 caller=NUMBER, hotline="800700", started_at=T0)
        store.calls.record_answer(call_id="c1", question="language", value="en", key="2",
                                  attempt=1, at=at(4))
        store.calls.set_language(call_id="c1", language="en", at=at(4))
        store.calls.record_answer(call_id="c1", question="danger", value="yes", key="1",
                                  attempt=1, at=at(8), typed_ahead=True)
        store.calls.set_location(call_id="c1", emirate="dubai", source="answer", at=at(12))
        store.calls.record_decision(call_id="c1", rule="danger", queue="women-protection",
                                    priority=10, at=at(12.5), danger=True)
        store.calls.set_status(call_id="c1", status=ReportStatus.ROUTED, at=at(13),
                               typed_ahead=True)
        store.calls.queue_joined(call_id="c1", queue="women-protection", at=at(14), position=1)
        store.calls.queue_answered(call_id="c1", queue="women-protection", agent="Amal",
                                   wait_seconds=9, at=at(23))
        store.calls.start_report(call_id="c2", reference="2000008", channel="PJSIP/t-2",
                                 caller=None, hotline="800700", started_at=T0 + timedelta(days=2))
        store.calls.record_answer(call_id="c2", question="language", value="ar", key="1",
                                  attempt=1, at=T0 + timedelta(days=2))
        store.calls.set_language(call_id="c2", language="ar", at=T0 + timedelta(days=2))
        store.calls.set_status(call_id="c2", status=ReportStatus.HUNG_UP_IN_IVR,
                               at=T0 + timedelta(days=2, seconds=20), gave_up_in="danger")
        await store.writer.flush()
        assert store.writer.write_errors == 0
    finally:
        await store.close()


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two reports in a data folder the CLI reads (BALAGH_DATA_DIR)."""
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    asyncio.run(_fill(tmp_path / "balagh.sqlite3"))
    return tmp_path


def disclosures(data: Path) -> list[tuple[str, int, dict]]:
    with sqlite3.connect(data / "balagh.sqlite3") as db:
        rows = db.execute("SELECT action, rows, detail FROM maintenance_runs ORDER BY id")
        return [(action, count, json.loads(detail)) for action, count, detail in rows]


def test_numbers_are_masked_and_withheld_stays_withheld():
    assert mask_number(NUMBER) == MASKED
    assert mask_number("1001") == "****01"
    assert mask_number(None) == "withheld" and mask_number("") == "withheld"


def test_the_table_lists_newest_first_with_masked_numbers(data, capsys):
    assert main(["reports"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["reference", "started_at", "status"]
    assert [line.split()[0] for line in lines[1:]] == ["2000008", "1000009"]
    assert MASKED in out and "withheld" in out and NUMBER not in out
    assert disclosures(data) == []


@pytest.mark.parametrize(("argv", "expected"), [
    (["--status", "routed"], ["1000009"]),
    (["--status", "hung_up_in_ivr"], ["2000008"]),
    (["--queue", "women-protection"], ["1000009"]),
    (["--danger"], ["1000009"]),
    (["--no-danger"], ["2000008"]),
    (["--emirate", "dubai"], ["1000009"]),
    (["--language", "ar"], ["2000008"]),
    (["--outcome", "answered"], ["1000009"]),
    (["--since", "2026-11-21"], ["2000008"]),
    (["--until", "2026-11-20"], ["1000009"]),  # a bare date: that whole day
    (["--since", "2026-11-20T13:00:01"], ["2000008"]),  # 09:00:01 UTC, in Dubai's time
    (["--repeat"], []),
    (["--limit", "1"], ["2000008"]),
])
def test_filters(data, capsys, argv, expected):
    assert main(["reports", "--format", "json", *argv]) == 0
    assert [r["reference"] for r in json.loads(capsys.readouterr().out)] == expected


def test_csv_export_parses_with_one_column_per_answer(data, capsys):
    assert main(["reports", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["reference"] for r in rows] == ["2000008", "1000009"]
    routed = rows[1]
    assert routed["caller"] == MASKED
    assert (routed["queue"], routed["answered_by"], routed["wait_seconds"]) == (
        "women-protection", "Amal", "9")
    assert (routed["danger"], routed["typed_ahead"], routed["answer.danger"]) == (
        "yes", "yes", "yes")
    assert (rows[0]["caller"], rows[0]["gave_up_in"], rows[0]["answer.danger"]) == (
        "withheld", "danger", "")
    assert "caller_hash" not in routed


def test_json_export_to_a_file(data, tmp_path, capsys):
    target = tmp_path / "out.json"
    assert main(["reports", "--format", "json", "--output", str(target)]) == 0
    assert capsys.readouterr().out == f"2 report(s) written to {target}\n"
    routed = json.loads(target.read_text())[1]
    assert routed["caller"] == MASKED
    assert routed["answers"] == {"language": "en", "danger": "yes"}
    assert (routed["danger"], routed["typed_ahead"], routed["status"]) == (True, True, "routed")


def test_show_numbers_is_recorded_with_the_user_and_filters(data, capsys):
    assert main(["reports", "--format", "csv", "--show-numbers", "--danger",
                 "--since", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    assert NUMBER in out and MASKED not in out
    assert disclosures(data) == [("show-numbers", 1, {
        "user": getpass.getuser(),
        # --since 2026-11-01 is Dubai's day: it starts at 20:00 UTC the day before
        "filters": {"format": "csv", "danger": True, "since": "2026-10-31T20:00:00.000Z"}})]


def test_show_numbers_is_refused_when_it_cannot_be_recorded(data, capsys):
    with sqlite3.connect(data / "balagh.sqlite3") as db:
        db.execute("ALTER TABLE maintenance_runs RENAME TO away")
    assert main(["reports", "--show-numbers"]) == 1
    captured = capsys.readouterr()
    assert NUMBER not in captured.out
    assert "could not be recorded" in captured.err


def test_one_report_with_its_timeline(data, capsys):
    assert main(["reports", "1000009"]) == 0
    out = capsys.readouterr().out
    assert f"caller         {MASKED}" in out and NUMBER not in out
    assert "caller_hash" not in out
    timeline = out.split("timeline:\n", 1)[1].split("monitoring")[0].splitlines()
    assert timeline == [
        "     +0.0s  2026-11-20T13:00:00.000+04:00  started          hotline=800700",
        "     +4.0s  2026-11-20T13:00:04.000+04:00  answer           attempt=1 key=2 "
        "question=language typed_ahead=no value=en",
        "     +4.0s  2026-11-20T13:00:04.000+04:00  language         language=en",
        "     +8.0s  2026-11-20T13:00:08.000+04:00  answer           attempt=1 key=1 "
        "question=danger typed_ahead=yes value=yes",
        "    +12.0s  2026-11-20T13:00:12.000+04:00  location         emirate=dubai source=answer",
        "    +12.5s  2026-11-20T13:00:12.500+04:00  routing          danger=yes priority=10 "
        "queue=women-protection rule=danger",
        "    +13.0s  2026-11-20T13:00:13.000+04:00  status           status=routed "
        "typed_ahead=yes",
        "    +14.0s  2026-11-20T13:00:14.000+04:00  queue_join       position=1 "
        "queue=women-protection",
        "    +23.0s  2026-11-20T13:00:23.000+04:00  agent_answer     agent=Amal "
        "queue=women-protection wait_seconds=9",
    ]
    assert disclosures(data) == []


def test_one_report_in_full_is_recorded_too(data, capsys):
    assert main(["reports", "1000009", "--show-numbers"]) == 0
    assert f"caller         {NUMBER}" in capsys.readouterr().out
    assert disclosures(data) == [("show-numbers", 1, {
        "user": getpass.getuser(), "filters": {"reference": "1000009"}})]


def test_a_bad_date_is_a_usage_error(data, capsys):
    assert main(["reports", "--since", "yesterday"]) == 2
    assert "not a date or time" in capsys.readouterr().err


def test_moments_are_the_zones_and_a_bare_until_date_is_the_whole_day():
    assert parse_moment("2026-11-20", UTC) == datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_moment("2026-11-20", UTC, end_of_day=True) == datetime(2026, 11, 21,
                                                                        tzinfo=UTC)
    assert parse_moment("2026-11-20T10:30", UTC) == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    assert parse_moment("2026-11-20T14:30+04:00", DUBAI) == datetime(2026, 11, 20, 10, 30,
                                                                     tzinfo=UTC)
    # Without an offset, a date or time is the hotline's: Dubai's 1 December starts at
    # 20:00 UTC on 30 November, and a bare --until takes in the whole of Dubai's day.
    assert parse_moment("2026-12-01", DUBAI) == datetime(2026, 11, 30, 20, tzinfo=UTC)
    assert parse_moment("2026-11-30", DUBAI, end_of_day=True) == datetime(2026, 11, 30, 20,
                                                                          tzinfo=UTC)
    assert parse_moment("2026-12-01T03:43:30", DUBAI) == datetime(2026, 11, 30, 23, 43, 30,
                                                                  tzinfo=UTC)
