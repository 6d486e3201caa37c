"""The satisfaction call's answers in the store (store/survey.py), on SQLite and
PostgreSQL: one row per report and question, written once; kept by a redact (they hold no
number, place or words), deleted with their report by a purge; counted per month, unit and
question by `balagh stats --survey` and the report pack."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.readmodel.period import choose
from balagh.readmodel.survey import UNANSWERED, SurveyCount, survey_figures
from balagh.store import ReportStore, maintenance
from balagh.store.survey import Answer

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def routed_report(store: ReportStore, reference: str, call_id: str,
                  queue: str = "child-protection", at: datetime = T0) -> None:
    store.calls.start_report(call_id=call_id, reference=reference, channel="PJSIP/x",
                             caller="+971501234567", hotline="800", started_at=at)
    store.calls.record_decision(call_id=call_id, rule="child", queue=queue, priority=5,
                                at=at + timedelta(seconds=3))


async def answer(store: ReportStore, reference: str, call_id: str, satisfied: str | None,
                 again: str | None = None, *, unit: str = "CHILD",
                 queue: str = "child-protection", at: datetime = T0) -> bool:
    return await store.survey.record(
        reference=reference, call_id=call_id, queue=queue, unit=unit,
        answers=[Answer(0, "survey-satisfied", satisfied), Answer(1, "survey-again", again)],
        at=at + timedelta(days=2))


@pytest.mark.both_engines
async def test_answers_are_kept_once_per_report_and_question(store: ReportStore) -> None:
    routed_report(store, "3356375", "c1")
    assert await answer(store, "3356375", "c1", "4", None)
    # a copy (the spool's replay, or a second call of the same report) adds nothing
    assert await answer(store, "3356375", "c1", "1", "no")
    rows = await store.survey.of_report("3356375")
    assert [(r.question, r.prompt, r.answer, r.unit, r.queue) for r in rows] == [
        (0, "survey-satisfied", "4", "CHILD", "child-protection"),
        (1, "survey-again", None, "CHILD", "child-protection")]
    assert rows[0].asked_at == "2026-11-05T09:00:00.000Z"
    assert await store.survey.of_report("0000000") == []


def table(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return list(db.execute(sql))


async def test_redact_keeps_the_answers_and_purge_deletes_them(tmp_path: Path) -> None:
    path = tmp_path / "balagh.db"
    store = await ReportStore.open(path)
    routed_report(store, "3356375", "c1")
    routed_report(store, "3356376", "c2", at=T0 + timedelta(days=10))
    assert await answer(store, "3356375", "c1", "5", "yes")
    assert await answer(store, "3356376", "c2", "2", "no", at=T0 + timedelta(days=10))
    await store.close()

    maintenance.redact(path, T0 + timedelta(days=1), pause=0)
    assert table(path, "SELECT COUNT(*) FROM survey_answers") == [(4,)]

    run = maintenance.purge(path, T0 + timedelta(days=1), pause=0)
    assert run.detail["survey_answers"] == 2
    assert table(path, "SELECT reference, answer FROM survey_answers ORDER BY question") \
        == [("3356376", "2"), ("3356376", "no")]


async def make(path: Path) -> None:
    store = await ReportStore.open(path)
    plan = [("c1", "CHILD", "5", "yes"), ("c2", "CHILD", "5", None),
            ("c3", "CHILD", None, None), ("w1", "WOMEN", "3", "no")]
    for number, (call_id, unit, satisfied, again) in enumerate(plan):
        reference = f"{1000000 + number}"
        routed_report(store, reference, call_id)
        assert await answer(store, reference, call_id, satisfied, again, unit=unit)
    routed_report(store, "1000099", "dec")  # asked in December: another month
    assert await answer(store, "1000099", "dec", "1", "no", at=T0 + timedelta(days=30))
    await store.close()


async def test_figures_per_month_unit_and_question(tmp_path: Path) -> None:
    path = tmp_path / "balagh.db"
    await make(path)
    figures = survey_figures(path, choose(since="2026-11-01", until="2026-12-31", zone=UTC))
    assert figures.counts == [
        SurveyCount("2026-11", "CHILD", "survey-again", "yes", 1),
        SurveyCount("2026-11", "CHILD", "survey-again", UNANSWERED, 2),
        SurveyCount("2026-11", "CHILD", "survey-satisfied", "5", 2),
        SurveyCount("2026-11", "CHILD", "survey-satisfied", UNANSWERED, 1),
        SurveyCount("2026-11", "WOMEN", "survey-again", "no", 1),
        SurveyCount("2026-11", "WOMEN", "survey-satisfied", "3", 1),
        SurveyCount("2026-12", "CHILD", "survey-again", "no", 1),
        SurveyCount("2026-12", "CHILD", "survey-satisfied", "1", 1)]
    assert survey_figures(path, choose(month="2026-10", zone=UTC)).empty


async def test_a_month_is_the_hotlines_own(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    from balagh.stats import pack

    path = tmp_path / "balagh.db"
    store = await ReportStore.open(path)
    # 23:30 UTC on 30 November is 03:30 on 1 December in Dubai; 19:30 UTC is still November
    for reference, call_id, asked in (("1000001", "late", datetime(2026, 11, 30, 23, 30)),
                                      ("1000002", "eve", datetime(2026, 11, 30, 19, 30))):
        routed_report(store, reference, call_id)
        assert await store.survey.record(
            reference=reference, call_id=call_id, queue="child-protection", unit="CHILD",
            answers=[Answer(0, "survey-satisfied", "5")], at=asked.replace(tzinfo=UTC))
    await store.close()
    period = choose(since="2026-11-01", until="2026-12-31", zone=ZoneInfo("Asia/Dubai"))
    expected = [SurveyCount("2026-11", "CHILD", "survey-satisfied", "5", 1),
                SurveyCount("2026-12", "CHILD", "survey-satisfied", "5", 1)]
    assert survey_figures(path, period).counts == expected
    assert pack.collect(path, period).survey.counts == expected  # the pack's section too


def test_balagh_stats_survey(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BALAGH_TIMEZONE", "UTC")
    path = tmp_path / "balagh.db"
    asyncio.run(make(path))
    capsys.readouterr()  # the store's log lines
    assert main(["stats", "--month", "2026-11", "--survey", "--database", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["month", "unit", "question", "answer", "calls"]
    assert ["2026-11", "CHILD", "survey-satisfied", "unanswered", "1"] in \
        [line.split() for line in out]
    assert main(["stats", "--month", "2026-11", "--survey", "--format", "json",
                 "--database", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"month": "2026-11", "unit": "WOMEN", "question": "survey-satisfied",
            "answer": "3", "calls": 1} in data["survey"]
    assert len(data["survey"]) == 6
    assert main(["stats", "--month", "2026-10", "--survey", "--database", str(path)]) == 0
    captured = capsys.readouterr()
    assert "no satisfaction calls in" in captured.err


def test_a_database_from_before_the_survey_step_has_no_figures(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY)")
        db.execute("PRAGMA user_version = 8")  # the oldest the statistics read
    assert survey_figures(path, choose(month="2026-11", zone=UTC)).empty


async def test_the_report_pack_shows_the_satisfaction_calls(tmp_path: Path) -> None:
    from balagh.stats import pack

    path = tmp_path / "balagh.db"
    await make(path)
    data = pack.collect(path, choose(month="2026-11", zone=UTC))
    english, arabic = pack.render(data, "en"), pack.render(data, "ar")
    assert "<h2>Satisfaction calls</h2>" in english
    assert "<td class=\"key\"><bdi>WOMEN</bdi></td><td class=\"num\"><bdi>2026-11</bdi></td>" \
        "<td class=\"num\"><bdi>Satisfied (1 not at all, 5 very)</bdi></td>" \
        "<td class=\"num\"><bdi>3</bdi></td><td class=\"num\"><bdi>1</bdi></td>" in english
    assert "<bdi>unanswered</bdi>" in english
    assert "مكالمات قياس الرضا" in arabic and "<bdi>بلا إجابة</bdi>" in arabic
    # a month without a satisfaction call has no such section
    quiet = pack.render(pack.collect(path, choose(month="2026-10", zone=UTC)), "en")
    assert "Satisfaction calls" not in quiet
