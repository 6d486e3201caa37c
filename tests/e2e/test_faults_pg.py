"""Fault rows for the report store on PostgreSQL (issue 26): the primary is killed mid-burst
and its synchronous standby promoted with pg_promote(); the app's writer spools meanwhile
and replays into the new primary. No PBX is needed: the measurement is the store's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from balagh.pbx import postgres as pg
from balagh.store import ReportStore
from balagh.store.engine import PostgresEngine
from unit import pg_cluster

from .conftest import FaultRow

BURST = 600  # calls, three writes each
DRAIN_WAIT = 120.0  # seconds: a bound on a hang, the figure is measured below it


@pytest.fixture
def primary_and_standby(tmp_path: Path) -> Iterator[tuple[pg.Cluster, pg.Cluster]]:
    why = pg.missing()
    if why:
        pytest.skip(why)
    # Synchronous: a COMMIT is answered once the standby has the WAL, so a report the
    # writer saw committed is on the standby when it is promoted.
    primary = pg.start_cluster(options={"synchronous_standby_names": "*",
                                                "wal_level": "replica"})
    standby: pg.Cluster | None = None
    try:
        standby = pg.standby_of(primary)
        yield primary, standby
    finally:
        if standby is not None:
            pg.remove(standby)
        pg.remove(primary)


async def test_primary_killed_standby_promoted_nothing_lost(
        primary_and_standby: tuple[pg.Cluster, pg.Cluster],
        tmp_path: Path, fault_rows: list[FaultRow]) -> None:
    primary, standby = primary_and_standby
    name = "balagh"
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}".encode())
    # Both servers in one URL: libpq takes whichever accepts writes.
    url = (f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/{name}"
           "?target_session_attrs=read-write")
    store = await ReportStore.open_server(PostgresEngine(url), tmp_path / "balagh.spool")
    drained = asyncio.Event()
    store.writer.on_drained.append(drained.set)
    try:
        for n in range(BURST):
            pg_cluster.one_call(store, n, "fo")
            if n == BURST // 3:
                await store.writer.flush()
            if n == 2 * BURST // 3:
                await asyncio.to_thread(primary.kill)  # mid-burst, the writer committing
                killed = time.monotonic()
        await store.writer.flush()
        spooled = store.writer.spooling
        with psycopg.connect(standby.url(), autocommit=True) as conn:
            conn.execute(b"SELECT pg_promote(wait => true)")
        await asyncio.wait_for(drained.wait(), DRAIN_WAIT)
        recovered = time.monotonic() - killed
        await store.writer.flush()
        with psycopg.connect(standby.url(name)) as conn:
            reports, calls = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT call_id) FROM reports").fetchone() or (0, 0)
            answers = (conn.execute("SELECT COUNT(*) FROM answers").fetchone() or (0,))[0]
        assert spooled
        assert (reports, calls, answers) == (BURST, BURST, BURST)
        assert store.writer.write_errors == 0
    finally:
        await store.close()
    fault_rows.append(FaultRow(
        fault="PostgreSQL primary SIGKILLed mid-burst, synchronous standby promoted "
              "(pg_promote)",
        expected="calls go on; reports spooled, replayed into the new primary, each once",
        observed=f"{BURST} calls: {reports} reports, {answers} answers, 0 lost, 0 doubled",
        recovery_seconds=round(recovered, 2)))
