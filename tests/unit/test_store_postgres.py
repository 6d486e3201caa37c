"""The report store on a PostgreSQL server: what SQLite's tests cannot show. The server killed
mid-burst (no report lost, each counted once after the spool replays), a commit whose answer
was lost replayed once, the server down at open, and the SQL translation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from balagh.status import ReportStatus
from balagh.store import ReportStore
from balagh.store.engine import PostgresEngine
from balagh.store.postgres import translate
from balagh.store.spool import Spool, SpooledWrite

from . import pg_cluster

BURST = 300  # calls, three writes each
DRAIN_WAIT = 120.0  # seconds: only a bound on a hang, never a measured figure


@pytest.fixture
def own_server() -> Iterator[pg_cluster.Cluster]:
    """A cluster of the test's own: it is killed, which the session's others must not see."""
    with pg_cluster.running() as cluster:
        yield cluster


def counts(url: str) -> tuple[int, int, int]:
    """(reports, distinct call ids, answers) as the server holds them."""
    with psycopg.connect(url) as conn:
        reports, calls = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT call_id) FROM reports").fetchone() or (0, 0)
        answers = (conn.execute("SELECT COUNT(*) FROM answers").fetchone() or (0,))[0]
    return int(reports), int(calls), int(answers)


async def test_postmaster_killed_mid_burst_loses_nothing_and_counts_once(
        own_server: pg_cluster.Cluster, tmp_path: Path) -> None:
    url = own_server.new_database()
    store = await ReportStore.open_server(PostgresEngine(url), tmp_path / "balagh.spool")
    drained = asyncio.Event()
    store.writer.on_drained.append(drained.set)
    try:
        for n in range(BURST):
            pg_cluster.one_call(store, n)
            if n == BURST // 3:
                await store.writer.flush()  # a third committed
            if n == 2 * BURST // 3:
                before = await asyncio.to_thread(counts, url)
                # SIGKILL while the writer commits the second third (it runs meanwhile).
                await asyncio.to_thread(own_server.kill)
        await store.writer.flush()
        assert 0 < before[0] < BURST  # it really was mid-burst
        assert store.writer.spooling  # the rest waits on disk, fsynced
        assert store.writer.write_errors == 0
        await asyncio.to_thread(own_server.start)
        await asyncio.wait_for(drained.wait(), DRAIN_WAIT)  # the writer's own probe replays
        await store.writer.flush()
        assert counts(url) == (BURST, BURST, BURST)
        report = await store.queries.get_report(f"burst-{BURST - 1}")  # the reader is back
        assert report is not None and report.status == ReportStatus.ROUTED
        assert store.writer.write_errors == 0
    finally:
        await store.close()


async def test_a_commit_whose_answer_was_lost_replays_once(
        pg_server: pg_cluster.Cluster, tmp_path: Path) -> None:
    """The server committed, the connection died before saying so, the writer spooled the
    write: its id, kept in the same transaction, makes the replay skip it."""
    url = pg_server.new_database()
    spool_file = tmp_path / "balagh.spool"
    engine = PostgresEngine(url)
    answer = ("INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
              " VALUES (?, ?, ?, ?, ?, ?)", ("c-1", "danger", "yes", "1", 1, "2025-03-01"))
    store = await ReportStore.open_server(engine, spool_file)
    store.writer.submit("record_answer", lambda: [answer], call_id="c-1")
    await store.writer.flush()
    await store.close()
    with psycopg.connect(url) as conn:
        ids = [row[0] for row in conn.execute(
            "SELECT id FROM spool_applied WHERE id != 'write-check'")]
    assert len(ids) == 1
    # The same write, as the writer would have spooled it had the COMMIT's answer not come.
    Spool(spool_file).append([SpooledWrite(ids[0], "record_answer", (answer,), {})])
    store = await ReportStore.open_server(engine, spool_file)
    try:
        await store.writer.flush()
        assert not store.writer.spooling and not spool_file.exists()
        assert counts(url)[2] == 1
        assert store.writer.write_errors == 0
    finally:
        await store.close()


async def test_server_down_at_open_spools_then_catches_up(
        own_server: pg_cluster.Cluster, tmp_path: Path) -> None:
    url = own_server.new_database()
    await asyncio.to_thread(own_server.stop)
    store = await ReportStore.open_server(PostgresEngine(url), tmp_path / "balagh.spool")
    drained = asyncio.Event()
    store.writer.on_drained.append(drained.set)
    try:
        assert store.writer.spooling
        pg_cluster.one_call(store, 1)
        await store.writer.flush()
        await asyncio.to_thread(own_server.start)
        await asyncio.wait_for(drained.wait(), DRAIN_WAIT)
        await store.writer.flush()
        assert counts(url) == (1, 1, 1)
        assert await store.queries.get_report("burst-1") is not None
    finally:
        await store.close()


@pytest.mark.parametrize(("sqlite", "postgresql"), [
    ("SELECT 1 FROM t WHERE a = ? AND b LIKE '%x'",
     "SELECT 1 FROM t WHERE a = %s AND b LIKE '%%x'"),
    ("INSERT OR IGNORE INTO outbox (key) VALUES (?)",
     "INSERT INTO outbox (key) VALUES (%s) ON CONFLICT DO NOTHING"),
    ("BEGIN IMMEDIATE", "BEGIN"),
    ("PRAGMA busy_timeout = 50", "SET lock_timeout = 50"),
    ("PRAGMA wal_checkpoint(TRUNCATE)", None),
    ("SELECT json_object('a', x)", "SELECT json_build_object('a', x)"),
])
def test_translation(sqlite: str, postgresql: str | None) -> None:
    assert translate(sqlite) == postgresql
