"""The outbox table (schema v5) through the store, and `balagh outbox`."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.store import ReportStore
from balagh.store.schema import MIGRATIONS, VERSION

pytestmark = pytest.mark.both_engines  # on SQLite and on PostgreSQL (conftest.py)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def queue(store: ReportStore, key: str, url: str = "https://unit.example/in",
          at: datetime = T0) -> None:
    reference, _, event = key.partition(":")
    store.outbox.queue_delivery(key=key, url=url, event=event, reference=reference,
                                body=f'{{"id":"{key}"}}', at=at)


async def test_queued_once_per_key_and_url(store: ReportStore) -> None:
    queue(store, "R1:routed")
    queue(store, "R1:routed")  # published again: ignored
    queue(store, "R1:routed", url="https://desk.example/in")
    queue(store, "R1:answered", at=T0 + timedelta(seconds=1))
    await store.writer.flush()
    rows = await store.queries.deliveries(None, 10)
    assert [(r.key, r.url) for r in rows] == [
        ("R1:answered", "https://unit.example/in"), ("R1:routed", "https://desk.example/in"),
        ("R1:routed", "https://unit.example/in")]
    assert store.writer.write_errors == 0
    row = rows[-1]
    assert (row.status, row.attempts, row.event, row.reference) == ("pending", 0, "routed", "R1")
    assert row.created_at == row.next_attempt_at == "2026-03-01T09:00:00.000Z"
    assert row.delivered_at is None and row.last_error is None


async def test_due_failed_done_and_retry(store: ReportStore) -> None:
    for key in ("R1:routed", "R1:answered", "R2:routed"):
        queue(store, key)
    queue(store, "R3:routed", url="https://desk.example/in")
    await store.writer.flush()
    first, second, third, desk = await store.queries.due_deliveries(T0, 10)
    assert [first.key, second.key, third.key, desk.key] == [
        "R1:routed", "R1:answered", "R2:routed", "R3:routed"]
    assert await store.queries.due_deliveries(T0 - timedelta(seconds=1), 10) == []
    assert len(await store.queries.due_deliveries(T0, 2)) == 2

    later = T0 + timedelta(minutes=5)
    await store.outbox.delivery_failed(first.id, T0, "HTTP 503", later, give_up=False)
    await store.outbox.delivery_failed(second.id, T0, "HTTP 503", later, give_up=False)
    await store.outbox.delivery_failed(desk.id, T0, "ConnectError", later, give_up=True)
    assert [r.key for r in await store.queries.due_deliveries(T0, 10)] == ["R2:routed"]
    assert await store.queries.next_delivery_at() == T0
    [failed] = await store.queries.deliveries("failed", 10)
    assert (failed.key, failed.attempts, failed.last_error) == ("R3:routed", 1, "ConnectError")

    # A delivery to an endpoint brings its waiting rows forward: it is up again.
    done_at = T0 + timedelta(seconds=30)
    await store.outbox.delivery_done(third.id, done_at)
    due = await store.queries.due_deliveries(done_at, 10)
    assert [r.key for r in due] == ["R1:routed", "R1:answered"]
    assert all(r.attempts == 1 and r.last_error == "HTTP 503" for r in due)
    [delivered] = await store.queries.deliveries("delivered", 10)
    assert delivered.delivered_at == "2026-03-01T09:00:30.000Z" and delivered.attempts == 1

    assert await store.outbox.retry_deliveries([third.id],
                                               datetime.now(UTC)) == 0  # delivered, not failed
    assert await store.outbox.retry_deliveries([], datetime.now(UTC)) == 0
    assert await store.outbox.retry_deliveries([desk.id], datetime.now(UTC)) == 1
    [again] = [r for r in await store.queries.deliveries("pending", 10) if r.id == desk.id]
    assert again.attempts == 0 and again.last_error == "ConnectError"
    assert await store.queries.deliveries("failed", 10) == []


async def test_a_v4_database_gains_the_outbox(tmp_path: Path) -> None:
    path = tmp_path / "balagh.db"
    with sqlite3.connect(path) as conn:
        for version, script in enumerate(MIGRATIONS[:4]):
            conn.executescript(f"{script}\nPRAGMA user_version = {version + 1};")
    conn.close()
    store = await ReportStore.open(path)
    try:
        queue(store, "R1:routed")
        await store.writer.flush()
        assert len(await store.queries.deliveries(None, 10)) == 1
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION >= 5
        indexes = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE tbl_name = 'outbox' AND type = 'index'")}
    conn.close()
    assert "outbox_due" in indexes


async def _seed(data_dir: Path) -> None:
    store = await ReportStore.open(data_dir / "balagh.sqlite3")
    try:
        queue(store, "3356375:routed")
        queue(store, "3356375:answered")
        queue(store, "4400001:routed")
        await store.writer.flush()
        rows = await store.queries.due_deliveries(T0, 10)
        await store.outbox.delivery_done(rows[0].id, T0)
        await store.outbox.delivery_failed(rows[1].id, T0, "HTTP 500 Internal\nServer Error",
                                           T0 + timedelta(seconds=4), give_up=True)
    finally:
        await store.close()


def test_the_outbox_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    assert main(["outbox"]) == 0
    assert capsys.readouterr().out == "nothing pending or failed\n"
    asyncio.run(_seed(tmp_path))

    assert main(["outbox"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "status", "event", "reference", "url", "attempts",
                                "next", "attempt", "last", "error"]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["3", "pending", "routed", "4400001"], ["2", "failed", "answered", "3356375"]]
    assert "HTTP 500 Internal Server Error" in lines[2]
    assert "2026-03-01T13:00:00+04:00" in lines[1]  # 09:00 UTC, in the hotline's zone

    assert main(["outbox", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines[1:]] == ["pending", "failed", "delivered"]
    assert "delivered 2026-03-01T13:00:00+04:00" in lines[3]

    assert main(["outbox", "retry", "1", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 of the 2 given pending again")
    assert main(["outbox", "retry"]) == 0
    assert capsys.readouterr().out.startswith("0 failed deliveries pending again")
    assert main(["outbox"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines[1:]] == [["3", "pending"], ["2", "pending"]]
