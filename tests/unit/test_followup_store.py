"""The units' statuses in the store (store/followups.py), on SQLite and PostgreSQL: one row
per (unit, id), its timeline step, the latest on the report; redact and purge (SQLite)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.readmodel.reader import reader_of
from balagh.store import ReportStore, maintenance
from balagh.store.events import EventKind

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def routed_report(store: ReportStore, reference: str = "3356375", call_id: str = "c1",
                  queue: str = "child-protection") -> None:
    store.calls.start_report(call_id=call_id, reference=reference, channel="PJSIP/x",
                             caller="+971501234567", hotline="800", started_at=T0)
    store.calls.record_decision(call_id=call_id, rule="child", queue=queue, priority=5,
                                at=T0 + timedelta(seconds=3))


async def record(store: ReportStore, id: str, status: str, reason: str | None = None,
                 minutes: int = 10, unit: str = "CHILD_UNIT_HOOK") -> bool:
    at = T0 + timedelta(minutes=minutes)
    return await store.followups.record(
        unit=unit, id=id, reference="3356375", call_id="c1", queue="child-protection",
        status=status, reason=reason, signed_at=at, at=at)


@pytest.mark.both_engines
async def test_statuses_are_kept_once_per_id_with_their_timeline(store: ReportStore) -> None:
    routed_report(store)
    assert await store.followups.latest("3356375") is None
    assert await record(store, "u-1", "received")
    assert await record(store, "u-2", "in_progress", "a visit is planned", minutes=20)
    assert await record(store, "u-2", "in_progress", "a visit is planned", minutes=20)  # copy
    assert await record(store, "u-1", "received", minutes=30, unit="DUTY_DESK_HOOK")

    latest = await store.followups.latest("3356375")
    assert latest is not None
    assert (latest.unit, latest.id, latest.status) == ("DUTY_DESK_HOOK", "u-1", "received")
    taken = await store.followups.taken("CHILD_UNIT_HOOK", "u-2")
    assert taken is not None and taken.reason == "a visit is planned"
    assert taken.queue == "child-protection" and taken.at == "2026-03-01T09:20:00.000Z"
    assert await store.followups.taken("CHILD_UNIT_HOOK", "u-3") is None

    report = await store.queries.get_report("3356375")
    assert report is not None and report.followup_status == "received"
    steps = [e for e in await reader_of(store).timeline("3356375")
             if e.kind == EventKind.FOLLOWUP]
    assert [(e.detail["unit"], e.detail["id"], e.detail["status"]) for e in steps] == [
        ("CHILD_UNIT_HOOK", "u-1", "received"), ("CHILD_UNIT_HOOK", "u-2", "in_progress"),
        ("DUTY_DESK_HOOK", "u-1", "received")]
    assert steps[1].detail["reason"] == "a visit is planned"


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return list(db.execute(sql))


async def test_redact_clears_the_reasons_and_purge_deletes_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "balagh.db"
    store = await ReportStore.open(path)
    routed_report(store)
    await record(store, "u-1", "resolved", "the family was visited")
    await store.close()

    maintenance.redact(path, T0 + timedelta(days=1), pause=0)
    assert rows(path, "SELECT status, reason FROM report_statuses") == [("resolved", None)]
    [(detail,)] = rows(path, "SELECT detail FROM report_events WHERE kind = 'followup'")
    assert "visited" not in str(detail) and '"status":"resolved"' in str(detail)

    run = maintenance.purge(path, T0 + timedelta(days=1), pause=0)
    assert rows(path, "SELECT COUNT(*) FROM report_statuses") == [(0,)]
    assert run.detail["report_statuses"] == 1
