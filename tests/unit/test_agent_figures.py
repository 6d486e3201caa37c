"""Per-agent figures (readmodel/agents.py) and `balagh stats --by agent`, on a real
SQLite file written by the store's own writer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.ami.agent_events import AgentEvents
from balagh.cli import main
from balagh.readmodel.agents import paused_seconds
from balagh.store import ReportStore

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def member(queue: str, name: str) -> dict[str, str]:
    return {"Queue": f"balagh-{queue}", "MemberName": name}


# (seconds after midnight of 2 November, the AMI event)
SCRIPT: list[tuple[int, dict[str, str]]] = [
    # the day before: A pauses in two queues and is still paused at midnight
    (-600, {"Event": "QueueMemberPause", "Paused": "1", "PausedReason": "training",
            **member("child-protection", "A")}),
    (-600, {"Event": "QueueMemberPause", "Paused": "1", "PausedReason": "training",
            **member("general", "A")}),
    (-300, {"Event": "AgentCalled", "Uniqueid": "old", **member("general", "B")}),
    # 2 November
    (100, {"Event": "QueueMemberPause", "Paused": "0", **member("child-protection", "A")}),
    (160, {"Event": "QueueMemberPause", "Paused": "0", **member("general", "A")}),
    (200, {"Event": "AgentCalled", "Uniqueid": "c1", **member("child-protection", "A")}),
    (203, {"Event": "AgentConnect", "Uniqueid": "c1", "HoldTime": "9", "RingTime": "3",
           **member("child-protection", "A")}),
    (263, {"Event": "AgentComplete", "Uniqueid": "c1", "TalkTime": "60", "Reason": "caller",
           **member("child-protection", "A")}),
    (300, {"Event": "AgentCalled", "Uniqueid": "c2", **member("general", "B")}),
    (315, {"Event": "AgentRingNoAnswer", "Uniqueid": "c2", "RingTime": "15000",
           **member("general", "B")}),
    (316, {"Event": "AgentCalled", "Uniqueid": "c2", **member("general", "A")}),
    (318, {"Event": "AgentConnect", "Uniqueid": "c2", "HoldTime": "20", "RingTime": "2",
           **member("general", "A")}),
    (338, {"Event": "AgentComplete", "Uniqueid": "c2", "TalkTime": "20", "Reason": "agent",
           **member("general", "A")}),
    (400, {"Event": "QueueMemberPause", "Paused": "1", "PausedReason": "break",
           **member("general", "B")}),
    (520, {"Event": "QueueMemberPause", "Paused": "0", **member("general", "B")}),
    # the next day: not counted
    (86_500, {"Event": "AgentCalled", "Uniqueid": "c3", **member("general", "A")}),
]


@pytest.fixture
async def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BALAGH_TIMEZONE", "UTC")
    path = tmp_path / "balagh.sqlite3"
    store = await ReportStore.open(path)
    now = DAY
    follower = AgentEvents(object(), store.agents, 30,  # type: ignore[arg-type]
                           clock=lambda: now)
    for seconds, event in SCRIPT:
        now = DAY + timedelta(seconds=seconds)
        follower.take(event)
    await store.close()
    return path


def test_stats_by_agent_json(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["stats", "--since", "2026-11-02", "--until", "2026-11-02", "--by", "agent",
                   "--format", "json"])
    assert status == 0
    figures = json.loads(capsys.readouterr().out)
    rows = {row["agent"]: row for row in figures["rows"]}
    assert rows["A"] == {"agent": "A", "offered": 2, "answered": 2, "missed": 0,
                         "talk_seconds": 80, "pause_seconds": 160, "wrapup_seconds": 60}
    assert rows["B"] == {"agent": "B", "offered": 1, "answered": 0, "missed": 1,
                         "talk_seconds": 0, "pause_seconds": 120, "wrapup_seconds": 0}
    assert figures["total"]["offered"] == 3 and figures["total"]["pause_seconds"] == 280


def test_stats_by_agent_one_queue_table(database: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["stats", "--since", "2026-11-02", "--until", "2026-11-02", "--by", "agent",
                   "--queue", "child-protection"])
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split() == ["agent", "offered", "answered", "missed", "talk", "s",
                                "pause", "s", "wrap-up", "s"]
    # only A's activity in child-protection: paused there from before midnight to 00:01:40
    assert lines[3].split() == ["A", "1", "1", "0", "60", "100", "30"]
    assert lines[4].split()[0] == "total"


def test_stats_by_agent_refuses_a_plot(database: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--by", "agent", "--plot", str(database.with_suffix(".png"))]) == 2
    assert "--plot" in capsys.readouterr().err


def test_a_pause_still_open_counts_to_the_end() -> None:
    events = [("q1", "paused", "2026-11-02T00:00:10.000Z"),
              ("q2", "paused", "2026-11-02T00:00:20.000Z"),
              ("q1", "unpaused", "2026-11-02T00:00:30.000Z")]
    start = DAY.timestamp()
    assert paused_seconds(events, start, start + 100) == 90
    assert paused_seconds(events, start + 50, start + 100) == 50
    # leaving the queue ends its pause
    removed = [*events, ("q2", "removed", "2026-11-02T00:01:00.000Z")]
    assert paused_seconds(removed, start, start + 100) == 50


def test_purge_takes_agents_activity_of_the_same_age(database: Path) -> None:
    import sqlite3

    from balagh.store import maintenance

    run = maintenance.purge(database, DAY + timedelta(seconds=300), pause=0)
    with sqlite3.connect(database) as db:
        left = [row[0] for row in db.execute("SELECT at FROM agent_events ORDER BY at")]
    assert run.detail["agent_events"] == 8
    assert left[0] == "2026-11-02T00:05:00.000Z" and len(left) == len(SCRIPT) - 8


def test_the_report_pack_has_the_agents_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    from .stats_data import make_database

    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BALAGH_TIMEZONE", "UTC")
    path = make_database(tmp_path / "balagh.sqlite3")  # calls on 1-2 November 2026
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO agent_events (at, agent, queue, kind, talk_seconds,"
                       " wrapup_seconds) VALUES (?, 'Agent <b>', 'general', ?, ?, 0)",
                       [("2026-11-01T10:00:00.000Z", "offered", None),
                        ("2026-11-01T10:00:05.000Z", "answered", None),
                        ("2026-11-01T10:01:05.000Z", "completed", 60)])
    page = tmp_path / "pack.html"
    assert main(["report-pack", "--since", "2026-11-01", "--until", "2026-11-02",
                 "--language", "en", "-o", str(page)]) == 0
    html = page.read_text()
    assert "By agent (times in hours:minutes)" in html
    row = html[html.index("Agent &lt;b&gt;"):]  # the name escaped, like every value
    assert row.split("</tr>")[0].count("<bdi>") == 6
    assert [cell.split("</bdi>")[0] for cell in row.split("<bdi>")[1:7]] == \
        ["1", "1", "0", "0:01", "0:00", "0:00"]  # 60 s of talk: one minute
