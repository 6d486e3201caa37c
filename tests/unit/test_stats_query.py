"""The figures of `balagh stats` on a hand-made database where each one is known."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from balagh.readmodel import statistics as query
from balagh.readmodel.figures import Histogram
from balagh.readmodel.period import parse_month, parse_range
from balagh.readmodel.statistics import StatsError, compute, compute_many
from balagh.store.daily import NOT_ROUTED

from .stats_data import make_database

PERIOD = parse_range("2026-11-01", "2026-11-02")


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return make_database(tmp_path / "balagh.sqlite3")


def test_totals_are_exact(database):
    total = compute(database, PERIOD, "day").total
    assert (total.calls, total.routed, total.answered, total.abandoned, total.hung_up_in_ivr) \
        == (8, 5, 3, 1, 3)
    assert dict(total.gave_up_in) == {"age": 2, "language": 1}
    # answered within 20 s: c1 (5 s) and c5 (exactly 20 s), of 3 answered + 1 abandoned
    assert total.service_level(20) == 0.5
    assert total.service_level(4) == 0.0
    assert total.service_level(30) == 0.75
    figures = total.as_dict(20)
    assert figures["wait_avg"] == (5 + 30 + 50 + 20) / 4
    assert figures["wait_p95"] == 50
    assert total.wait.percentile(50) == 20


def test_danger_calls_and_their_wait(database):
    figures = compute(database, PERIOD, "day").total.as_dict(20)
    # c1 answered yes; c5 said no, then pressed the danger key; c9 is outside the period
    assert figures["danger_calls"] == 2
    assert figures["danger_wait_avg"] == 12.5
    assert figures["danger_wait_p95"] == 20


def test_answer_to_queue_split_by_typed_ahead(database):
    figures = compute(database, PERIOD, "day").total.as_dict(20)
    # typed ahead: 6.0, 8.0, 10.0 s; not: 35.5, 40.0 s (nearest rank)
    assert figures["to_queue_typed_ahead_p50"] == 8.0
    assert figures["to_queue_typed_ahead_p95"] == 10.0
    assert figures["to_queue_not_typed_ahead_p50"] == 35.5
    assert figures["to_queue_not_typed_ahead_p95"] == 40.0


def test_by_queue(database):
    stats = compute(database, PERIOD, "queue")
    rows = {row.key: row for row in stats.rows}
    assert list(rows) == sorted([NOT_ROUTED, "child-protection", "general", "women-protection"])
    child, women = rows["child-protection"], rows["women-protection"]
    assert (child.calls, child.answered, child.service_level(20)) == (2, 2, 0.5)
    assert child.wait.percentile(95) == 30
    # c8 is still waiting: counted as a call, not in the service level
    assert (women.calls, women.abandoned, women.service_level(20)) == (2, 1, 0.0)
    assert rows[NOT_ROUTED].hung_up_in_ivr == 3
    assert rows[NOT_ROUTED].service_level(20) is None
    assert stats.total.calls == 8


def test_by_day_lists_every_day(database):
    stats = compute(database, parse_range("2026-11-01", "2026-11-04"), "day")
    assert [(row.key, row.calls) for row in stats.rows] == [
        ("2026-11-01", 4), ("2026-11-02", 4), ("2026-11-03", 1), ("2026-11-04", 0)]
    assert stats.rows[2].gave_up_in == {"emirate": 1}


def test_by_category_emirate_language(database):
    by_rule = {row.key: row.calls for row in compute(database, PERIOD, "category").rows}
    assert by_rule == {"child": 2, "adult-female": 2, "default": 1, NOT_ROUTED: 3}
    by_emirate = {row.key: row.calls for row in compute(database, PERIOD, "emirate").rows}
    assert by_emirate == {"dubai": 2, "sharjah": 2, "abu-dhabi": 1, "(unknown)": 3}
    by_language = {row.key: row.danger_calls for row in compute(database, PERIOD,
                                                                  "language").rows}
    assert by_language == {"ar": 2, "en": 0}


def test_give_up_questions_in_menu_order(database):
    stats = compute(database, PERIOD, "day", questions=["language", "danger", "age"])
    assert stats.questions == ["language", "age"]
    assert compute(database, PERIOD, "day").questions == ["age", "language"]  # most first


def test_the_period_bounds_are_exact(database):
    assert compute(database, parse_month("2026-10"), "day").total.calls == 1   # c9
    assert compute(database, parse_month("2026-11"), "day").total.calls == 9   # c1-c8, c10


def test_an_empty_period_has_no_figures_and_no_division(database):
    stats = compute(database, parse_month("2025-01"), "queue")
    assert stats.empty and stats.rows == []
    figures = stats.total.as_dict(20)
    assert figures["calls"] == 0
    assert figures["service_level"] is None and figures["wait_p95"] is None
    assert figures["to_queue_typed_ahead_p50"] is None


def test_several_groupings_from_one_scan(database):
    report = compute_many(database, PERIOD, ["queue", "day", "language"])
    assert report.stats["queue"].total.as_dict(20) == compute(database, PERIOD,
                                                              "day").total.as_dict(20)
    assert [row.calls for row in report.stats["day"].rows] == [4, 4]
    counts = report.per_day_and_queue
    assert counts["child-protection"] == {"2026-11-01": 2}
    assert counts[NOT_ROUTED] == {"2026-11-01": 1, "2026-11-02": 2}


def test_missing_or_old_database(tmp_path):
    with pytest.raises(StatsError, match="no report database"):
        compute(tmp_path / "nothing.sqlite3", PERIOD, "day")
    old = tmp_path / "old.sqlite3"
    sqlite3.connect(old).execute("PRAGMA user_version = 6").connection.close()
    with pytest.raises(StatsError, match="schema version 6"):
        compute(old, PERIOD, "day")


def test_the_danger_scan_uses_the_partial_index(database):
    # schema v8's answers_danger: usable only while the query's literals match its WHERE
    sql = query._danger_sql([query.GROUPINGS["day"]])
    with sqlite3.connect(database) as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}",
                            query._params("2026-11-01", "2026-11-03")).fetchall()
    assert any("answers_danger" in row[-1] for row in plan), plan


def test_statistics_never_write(database):
    before = database.read_bytes()
    compute(database, PERIOD, "queue")
    assert database.read_bytes() == before


@pytest.mark.parametrize(("values", "p", "expected"), [
    ([1], 95, 1), ([1, 2], 50, 1), ([1, 2, 3, 4], 50, 2), (list(range(1, 101)), 95, 95),
    (list(range(1, 21)), 95, 19), ([], 95, None),
])
def test_nearest_rank_percentile(values, p, expected):
    histogram = Histogram()
    for value in values:
        histogram.add(value)
    assert histogram.percentile(p) == expected
