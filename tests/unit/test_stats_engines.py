"""The statistics on PostgreSQL: stats_hourly kept by the server's triggers as SQLite's keep
it, filled from reports already there by the migration, and `balagh stats` printing the
same on both engines for the same calls."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from balagh.cli import main
from balagh.localtime import local
from balagh.readmodel import statistics as query
from balagh.readmodel.period import parse_range
from balagh.store import postgres_schema
from balagh.store.engine import PostgresEngine
from balagh.store.postgres_sync import SyncPgConnection, connect_sync
from balagh.store.timestamps import iso

from . import pg_cluster
from .stats_data import ANSWERS, COLUMNS, REPORTS, make_database
from .summary_checks import figures, summary_rows
from .test_stats_summary import _CHANGE, _REPORT, DAY0, change, insert, v9_copy
from .test_stats_summary import empty_v9 as empty_v9  # the fixture, shared

Row = tuple[str, str, str, int, str, int]


def _server_rows(conn: SyncPgConnection) -> set[Row]:
    return {tuple(row) for row in conn.execute(  # type: ignore[misc]
        "SELECT dim, hour, value, kind, code, n FROM stats_hourly WHERE n != 0")}


def _as_text(rows: set[Any]) -> set[Row]:
    """SQLite's codes are integers but for give-ups' questions; the server's all text."""
    return {(dim, hour, value, kind, str(code), n) for dim, hour, value, kind, code, n in rows}


def _migrated(url: str, steps: int | None = None) -> None:
    """The server's schema, all of it or its first `steps` migrations."""
    async def run() -> None:
        engine = PostgresEngine(url)
        if steps is None:
            db = await engine.open_writer()
            await db.close()
            return
        from balagh.store import postgres

        db = await postgres.connect(url)
        try:
            await postgres_schema.schema_version(db)
            for step in postgres_schema.MIGRATIONS[:steps]:
                await db.raw.execute(step.encode())
            await db.execute("INSERT INTO balagh_schema (version) VALUES (?)", (steps,))
        finally:
            await db.close()
    asyncio.run(run())


@contextlib.contextmanager
def writing(url: str) -> Iterator[SyncPgConnection]:
    conn = connect_sync(url, read_only=False)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server() -> Iterator[pg_cluster.Cluster]:
    with pg_cluster.running() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def shared_url(server: pg_cluster.Cluster) -> str:
    url = server.new_database()
    _migrated(url)
    return url


def _emptied(url: str) -> None:
    with writing(url) as conn:
        conn.execute("TRUNCATE reports, answers, stats_hourly RESTART IDENTITY")


# ------------------------------------------------------------------ the same counts

@settings(max_examples=15, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(_REPORT, min_size=1, max_size=40), st.lists(_CHANGE, max_size=30),
       st.integers(0, 6), st.integers(0, 6),
       st.sampled_from(["UTC", "Asia/Dubai", "Asia/Kolkata", "Europe/London"]))
def test_the_server_keeps_the_same_counts_and_figures_as_sqlite(
        empty_v9: Path, shared_url: str, reports: list[dict[str, Any]],
        changes: list[dict[str, Any]], first: int, length: int, zone: str) -> None:
    _emptied(shared_url)
    engine = PostgresEngine(shared_url)
    with v9_copy(empty_v9) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            insert(db, reports)
            for step in changes:
                change(db, len(reports), step)
        with writing(shared_url) as conn:
            insert(conn, reports)  # type: ignore[arg-type]
            for step in changes:
                change(conn, len(reports), step)  # type: ignore[arg-type]
            assert _server_rows(conn) == _as_text(summary_rows(path))
        day = (DAY0 + timedelta(days=first)).date()
        period = parse_range(day.isoformat(), (day + timedelta(days=length)).isoformat(),
                             ZoneInfo(zone))
        on_sqlite = figures(path, period, exact=False)
        assert figures(engine, period, exact=False) == on_sqlite  # type: ignore[arg-type]
        assert figures(engine, period, exact=True) == on_sqlite  # type: ignore[arg-type]


def test_the_migration_counts_the_reports_already_on_the_server(
        server: pg_cluster.Cluster, empty_v9: Path) -> None:
    url = server.new_database()
    _migrated(url, steps=postgres_schema.STATS_HOURLY_SINCE - 1)  # before stats_hourly
    with writing(url) as conn:
        conn.execute(f"INSERT INTO reports ({', '.join(COLUMNS)}) VALUES"
                     f" ({', '.join('?' for _ in COLUMNS)})", REPORTS[0])
        for report in REPORTS[1:]:
            conn.execute(f"INSERT INTO reports ({', '.join(COLUMNS)}) VALUES"
                         f" ({', '.join('?' for _ in COLUMNS)})", report)
        for answer in ANSWERS:
            conn.execute("INSERT INTO answers (call_id, question, value, key, attempt,"
                         " answered_at) VALUES (?, ?, ?, '1', 1, '2026-11-01T10:00:01.000Z')",
                         answer)
        conn.execute("UPDATE reports SET to_queue_tenths = CAST(round((julianday(routed_at)"
                     " - julianday(started_at)) * 864000.0) AS INTEGER)"
                     " WHERE routed_at IS NOT NULL")
    _migrated(url)
    with v9_copy(empty_v9) as path:
        make_database(path)
        with writing(url) as conn:
            assert _server_rows(conn) == _as_text(summary_rows(path))
    total = query.compute(PostgresEngine(url), parse_range("2026-11-01", "2026-11-02"),
                          "day").total
    assert (total.calls, total.answered, total.danger_calls) == (8, 3, 2)


# ------------------------------------------------------------------ balagh stats

@pytest.fixture
def both(tmp_path: Path, server: pg_cluster.Cluster,
         monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """The hand-made calls in a SQLite file and on a server, written the same way."""
    monkeypatch.setenv("BALAGH_TIMEZONE", "UTC")
    (tmp_path / "sqlite").mkdir()
    path = make_database(tmp_path / "sqlite" / "balagh.sqlite3")
    url = server.new_database()
    _migrated(url)
    with writing(url) as conn:
        for report in REPORTS:
            conn.execute(f"INSERT INTO reports ({', '.join(COLUMNS)}) VALUES"
                         f" ({', '.join('?' for _ in COLUMNS)})", report)
        for answer in ANSWERS:
            conn.execute("INSERT INTO answers (call_id, question, value, key, attempt,"
                         " answered_at) VALUES (?, ?, ?, '1', 1, '2026-11-01T10:00:01.000Z')",
                         answer)
        conn.execute("UPDATE reports SET to_queue_tenths = CAST(round((julianday(routed_at)"
                     " - julianday(started_at)) * 864000.0) AS INTEGER)"
                     " WHERE routed_at IS NOT NULL")
    return path, url


def _stats(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
           data_dir: Path, url: str | None, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("BALAGH_DATA_DIR", str(data_dir))
    if url is None:
        monkeypatch.delenv("BALAGH_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("BALAGH_DATABASE_URL", url)
    status = main(["stats", "--since", "2026-11-01", "--until", "2026-11-02", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("argv", [
    ["--by", "day"], ["--by", "queue", "--format", "csv"],
    ["--by", "category", "--format", "json"], ["--by", "emirate"], ["--by", "language"]])
@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])  # stats_hourly, then the scan
def test_balagh_stats_prints_the_same_on_both_engines(
        both: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, argv: list[str], zone: str) -> None:
    path, url = both
    monkeypatch.setenv("BALAGH_TIMEZONE", zone)
    on_sqlite = _stats(capsys, monkeypatch, path.parent, None, *argv)
    on_server = _stats(capsys, monkeypatch, tmp_path / "empty", url, *argv)
    assert on_sqlite[0] == 0 and on_sqlite[1].count("\n") >= 2  # figures, not "no calls"
    assert on_server == on_sqlite


def test_report_pack_reads_the_server(both: tuple[Path, str], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = both
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("BALAGH_DATABASE_URL", url)
    out = tmp_path / "pack.html"
    assert main(["report-pack", "--since", "2026-11-01", "--until", "2026-11-02",
                 "--language", "en", "--output", str(out)]) == 0
    assert "(8 calls;" in capsys.readouterr().err


def test_a_server_that_is_down_is_one_line_naming_it_without_its_password(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    port = pg_cluster._free_port()  # nothing listens there
    monkeypatch.setenv("BALAGH_DATABASE_PASSWORD", "s3cret-word")
    status, out, err = _stats(capsys, monkeypatch, tmp_path, f"postgresql://balagh@127.0.0.1:"
                              f"{port}/balagh")
    assert status == 2 and out == ""
    assert err.startswith(f"error: postgresql://127.0.0.1:{port}/balagh is unreachable: ")
    assert err.count("\n") == 1 and "s3cret-word" not in err and "balagh@" not in err


def test_the_server_connection_for_statistics_is_read_only(shared_url: str) -> None:
    with query.connect(PostgresEngine(shared_url)) as conn, \
            pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("DELETE FROM reports")


# ------------------------------------------------------------------ balagh stats --survey

ZONES = ["UTC", "Asia/Dubai", "Asia/Kolkata", "Europe/London"]
PROMPTS = ("survey-satisfied", "survey-again")
# Answers near the months' UTC edges (London's DST ends on 25 October, inside the period)
EDGES = [datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
         datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)]
SurveyAnswer = tuple[datetime, int, str, int, str | None]  # edge, half hours, unit, question
_ANSWER = st.tuples(st.sampled_from(EDGES), st.integers(-24, 24),
                    st.sampled_from(["CHILD", "WOMEN"]), st.integers(0, 1),
                    st.sampled_from(["1", "5", "no", None]))
_SURVEY_PERIOD = ("--since", "2026-09-30", "--until", "2026-12-01")  # every edge, any zone


def _answer_rows(answers: list[SurveyAnswer]) -> list[tuple[object, ...]]:
    return [(f"{1000000 + n}", f"c{n}", "child-protection", unit, question, PROMPTS[question],
             answer, iso(edge + timedelta(minutes=30 * halves)))
            for n, (edge, halves, unit, question, answer) in enumerate(answers)]


_INSERT_ANSWER = ("INSERT INTO survey_answers (reference, call_id, queue, unit, question,"
                  " prompt, answer, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def _survey_csv(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                zone: str, data_dir: Path, url: str | None) -> str:
    monkeypatch.setenv("BALAGH_TIMEZONE", zone)
    monkeypatch.setenv("BALAGH_DATA_DIR", str(data_dir))
    if url is None:
        monkeypatch.delenv("BALAGH_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("BALAGH_DATABASE_URL", url)
    assert main(["stats", *_SURVEY_PERIOD, "--survey", "--format", "csv"]) == 0
    return capsys.readouterr().out


def _on_both(empty_v9: Path, shared_url: str, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch, answers: list[SurveyAnswer],
             zone: str) -> str:
    """`balagh stats --survey` as CSV for the same answers on SQLite and on the server:
    the same text on both (returned)."""
    rows = _answer_rows(answers)
    with writing(shared_url) as conn:
        conn.execute("TRUNCATE survey_answers RESTART IDENTITY")
        for row in rows:
            conn.execute(_INSERT_ANSWER, row)
    with v9_copy(empty_v9) as path:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.executemany(_INSERT_ANSWER, rows)
        capsys.readouterr()
        on_sqlite = _survey_csv(capsys, monkeypatch, zone, path.parent, None)
    on_server = _survey_csv(capsys, monkeypatch, zone, path.parent / "none", shared_url)
    assert on_server == on_sqlite
    return on_sqlite


@settings(max_examples=15, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(_ANSWER, min_size=1, max_size=30), st.sampled_from(ZONES))
@example([(EDGES[3], -1, "CHILD", 0, "5")], "Asia/Dubai")  # 23:30 UTC, 30 Nov: December
def test_balagh_stats_survey_counts_the_zones_months_on_both_engines(
        empty_v9: Path, shared_url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, answers: list[SurveyAnswer], zone: str) -> None:
    printed = _on_both(empty_v9, shared_url, capsys, monkeypatch, answers, zone)
    expected: Counter[tuple[str, str, str, str]] = Counter(
        (local(edge + timedelta(minutes=30 * halves), ZoneInfo(zone)).strftime("%Y-%m"), unit,
         PROMPTS[question], "unanswered" if answer is None else answer)
        for edge, halves, unit, question, answer in answers)
    [header, *lines] = list(csv.reader(io.StringIO(printed)))
    assert header == ["month", "unit", "question", "answer", "calls"]
    assert {(month, unit, question, answer): int(calls)
            for month, unit, question, answer, calls in lines} == expected


def test_an_answer_at_2330_utc_on_a_months_last_day_is_the_next_month_in_dubai(
        empty_v9: Path, shared_url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    late = (EDGES[3], -1, "CHILD", 0, "5")  # 2026-11-30T23:30Z, 03:30 on 1 December there
    assert _on_both(empty_v9, shared_url, capsys, monkeypatch, [late], "Asia/Dubai") \
        == "month,unit,question,answer,calls\n2026-12,CHILD,survey-satisfied,5,1\n"
    assert _on_both(empty_v9, shared_url, capsys, monkeypatch, [late], "UTC") \
        == "month,unit,question,answer,calls\n2026-11,CHILD,survey-satisfied,5,1\n"
