"""The units' follow-up in the statistics: reports per status and, per queue and unit, the
time from the call to resolved (median, 90th percentile), from a real SQLite file, through
`balagh stats --followup`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.readmodel.followups import followup_figures, percentile
from balagh.readmodel.period import choose
from balagh.store import ReportStore

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
PERIOD = ("--since", "2026-11-01", "--until", "2026-11-30")


async def make(path: Path) -> None:
    store = await ReportStore.open(path)
    # ten child-protection reports resolved after 1..10 hours; one women's report in progress;
    # one child report that no unit has answered yet; one report before the period.
    plan = [(f"c{n}", "child-protection", "CHILD", "resolved", n, T0) for n in range(1, 11)]
    plan += [("w1", "women-protection", "WOMEN", "in_progress", 2, T0),
             ("c0", "child-protection", None, None, 0, T0),
             ("old", "child-protection", "CHILD", "resolved", 1, T0 - timedelta(days=30))]
    for number, (call_id, queue, unit, status, hours, start) in enumerate(plan):
        reference = f"{1000000 + number}"
        store.calls.start_report(call_id=call_id, reference=reference, channel="PJSIP/x",
                                 caller=None, hotline="800", started_at=start)
        store.calls.record_decision(call_id=call_id, rule="r", queue=queue, priority=5,
                                    at=start + timedelta(seconds=2))
        if unit is None or status is None:
            continue
        for step, (word, after) in enumerate((("received", 0.5), (status, hours))):
            at = start + timedelta(hours=after)
            assert await store.followups.record(
                unit=unit, id=f"{call_id}-{step}", reference=reference, call_id=call_id,
                queue=queue, status=word, reason=None, signed_at=at, at=at)
    await store.close()


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 11)]
    assert (percentile(values, 0.5), percentile(values, 0.9)) == (5.0, 9.0)
    assert percentile([7.0], 0.9) == 7.0


async def test_figures_per_status_and_unit(tmp_path: Path) -> None:
    path = tmp_path / "balagh.db"
    await make(path)
    figures = followup_figures(path, choose(month="2026-11", zone=UTC))
    assert dict(figures.by_status) == {"resolved": 10, "in_progress": 1, "none": 1}
    [child] = figures.resolutions
    assert (child.queue, child.unit, child.resolved) == ("child-protection", "CHILD", 10)
    assert (child.median_seconds, child.p90_seconds) == (5 * 3600.0, 9 * 3600.0)


def test_balagh_stats_followup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BALAGH_TIMEZONE", "UTC")
    path = tmp_path / "balagh.db"
    asyncio.run(make(path))
    assert main(["stats", *PERIOD, "--followup", "--database", str(path)]) == 0
    out = capsys.readouterr().out
    assert [line.split() for line in out.splitlines() if line.startswith("resolved ")] \
        == [["resolved", "10"]]
    assert "child-protection  CHILD        10           18000        32400" in out
    assert main(["stats", *PERIOD, "--followup", "--format", "json",
                 "--database", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["resolution"] == [{"queue": "child-protection", "unit": "CHILD",
                                   "resolved": 10, "median_seconds": 18000.0,
                                   "p90_seconds": 32400.0}]


async def test_the_report_pack_shows_the_followup(tmp_path: Path) -> None:
    from balagh.stats import pack

    path = tmp_path / "balagh.db"
    await make(path)
    data = pack.collect(path, choose(month="2026-11", zone=UTC))
    english, arabic = pack.render(data, "en"), pack.render(data, "ar")
    assert "The units&#39; follow-up" in english or "The units' follow-up" in english
    assert "<td>Resolved</td><td class=\"num\"><bdi>10</bdi></td>" in english
    # a report no unit has spoken of yet, in words, not the stored "none"
    assert "<td>No word from the unit yet</td><td class=\"num\"><bdi>1</bdi></td>" in english
    assert "<bdi>Child protection</bdi></td><td class=\"num\"><bdi>CHILD</bdi></td>" \
        "<td class=\"num\"><bdi>10</bdi></td><td class=\"num\"><bdi>5:00</bdi></td>" \
        "<td class=\"num\"><bdi>9:00</bdi></td>" in english  # 18000 s, 32400 s: h:mm
    assert "متابعة الجهات المختصة" in arabic and "تم الحل" in arabic
