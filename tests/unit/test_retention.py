"""Retention: callers' numbers and locations are forgotten, and old reports deleted, on request."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from balagh.cli import main
from balagh.store import ReportStore

NOW = datetime.now(UTC)


@pytest.fixture
async def aged_reports(store: ReportStore) -> None:
    """Three reports, started 400, 100 and 1 day(s) ago."""
    for n, age_days in enumerate((400, 100, 1)):
        call_id = f"c{n}"
        at = NOW - timedelta(days=age_days)
        store.calls.start_report(call_id=call_id, reference=store.calls.new_reference(),
                                 channel="PJSIP/x",
                                 caller="+97165551234", hotline="800700", started_at=at)
        store.calls.set_location(call_id=call_id, emirate="sharjah", source="answer", at=at)
        store.calls.record_answer(call_id=call_id, question="age", value="child", key="1",
                                  attempt=1, at=at)
    await store.writer.flush()


@pytest.mark.both_engines
@pytest.mark.usefixtures("aged_reports")
async def test_redact_forgets_number_and_location_but_keeps_the_report(store):
    assert await store.retention.redact_before(NOW - timedelta(days=30)) == 2
    old, recent = await store.queries.get_report("c0"), await store.queries.get_report("c2")
    assert (old.caller, old.location, old.channel) == (None, None, "")
    assert old.answers == {"age": "child"}
    assert recent.caller == "+97165551234"


@pytest.mark.both_engines
@pytest.mark.usefixtures("aged_reports")
async def test_purge_deletes_old_reports_with_their_answers(store):
    assert await store.retention.purge_before(NOW - timedelta(days=365)) == 1
    assert await store.queries.get_report("c0") is None
    assert await store.queries.get_report("c1") is not None
    async with store.queries.db.execute("SELECT COUNT(*) FROM answers") as cursor:
        assert (await cursor.fetchone())[0] == 2


def test_cli_dry_run_counts_only(tmp_path, monkeypatch, capsys):
    async def make() -> None:
        store = await ReportStore.open(tmp_path / "balagh.sqlite3")
        for n in range(3):
            store.calls.start_report(call_id=f"c{n}", reference=store.calls.new_reference(),
                                     channel="x", caller=None, hotline=None,
                                     started_at=NOW - timedelta(days=90))
        await store.close()

    asyncio.run(make())
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    assert main(["reports", "purge", "--older-than", "30", "--dry-run"]) == 0
    assert "3 report(s)" in capsys.readouterr().out
    assert main(["reports", "purge"]) == 2  # --older-than is required
    assert main(["reports", "redact", "--older-than", "30", "--yes"]) == 0
    assert "redacted caller number and location of 3 report(s)" in capsys.readouterr().out
