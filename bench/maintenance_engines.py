"""Redact then purge beside a writer that keeps writing, on SQLite and on PostgreSQL 15.

For each engine: REPORTS old reports (number, emirate answer, location, two outbox rows
each) through the app's own store; then `redact` and `purge` (store/maintenance.py, 500
reports a chunk) while a new call's report is submitted and flushed every 2 ms, as calls
would arrive. Shows each job's reports per second and longest chunk transaction, and
the app's commit latency (submit to flushed) meanwhile: p50, p99, max, how many of those
writes went to the spool (a lock held over the writer's 50 ms: replayed later) and how
many were lost (none may be). PostgreSQL runs as a throwaway cluster with
fsync and synchronous_commit on; SQLite as the app opens it.

    .venv/bin/python bench/maintenance_engines.py [--reports 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.unit import pg_cluster  # noqa: E402

from balagh.store import ReportStore, maintenance  # noqa: E402
from balagh.store.engine import PostgresEngine  # noqa: E402
from balagh.vocabulary import EMIRATE_QUESTION  # noqa: E402

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=100)


def old_call(store: ReportStore, n: int) -> None:
    call_id, reference = f"old-{n}", store.calls.new_reference()
    store.calls.start_report(call_id=call_id, reference=reference, channel="PJSIP/trunk",
                             caller="+971500000001", hotline="800700", started_at=OLD)
    store.calls.record_answer(call_id=call_id, question=EMIRATE_QUESTION, value="dubai",
                              key="1", attempt=1, at=OLD)
    store.calls.set_location(call_id=call_id, emirate="dubai", source="answer", at=OLD)
    body = json.dumps({"report": {"reference": reference, "caller": "+971500000001",
                                  "emirate": "dubai", "location_source": "answer"}})
    for event in ("routed", "ended"):
        store.outbox.queue_delivery(key=f"{reference}:{event}", url="http://unit.invalid/",
                                    event=event, reference=reference, body=body, at=OLD)


async def beside_writes(store: ReportStore, database: Path | PostgresEngine,
                        action: str) -> tuple[maintenance.Run, list[float], int]:
    job = maintenance.redact if action == "redact" else maintenance.purge
    running = asyncio.ensure_future(asyncio.to_thread(job, database, NOW - timedelta(days=30)))
    commits: list[float] = []
    spooled = n = 0
    while not running.done():
        began = time.perf_counter()
        store.calls.start_report(call_id=f"{action}-{n}", reference=f"{action[0].upper()}{n:07d}",
                                 channel="PJSIP/x", caller=None, hotline=None, started_at=NOW)
        await store.writer.flush()
        commits.append((time.perf_counter() - began) * 1000)
        spooled += store.writer.spooling  # flushed into the spool, not the database
        n += 1
        await asyncio.sleep(0.002)
    return await running, commits, spooled


async def run_engine(name: str, store: ReportStore, database: Path | PostgresEngine,
                     reports: int) -> None:
    for n in range(reports):
        old_call(store, n)
        if n % 1000 == 999:
            await store.writer.flush()
    await store.writer.flush()
    for action in ("redact", "purge"):
        run, commits, spooled = await beside_writes(store, database, action)
        commits.sort()
        print(f"| {name} | {action} | {run.rows:,} | {run.rows / run.seconds:,.0f} |"
              f" {run.longest_lock * 1000:.1f} | {statistics.median(commits):.2f} |"
              f" {commits[int(len(commits) * 0.99)]:.2f} | {commits[-1]:.1f} |"
              f" {spooled} of {len(commits)} | {store.writer.write_errors} |")


async def main(reports: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="balagh-bench-maint-"))
    print("| engine | job | reports | reports/s | longest chunk ms | app commit p50 ms |"
          " p99 ms | max ms | app writes spooled | app writes lost |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    try:
        path = folder / "balagh.sqlite3"
        store = await ReportStore.open(path)
        try:
            await run_engine("SQLite", store, path, reports)
        finally:
            await store.close()
        cluster = pg_cluster.start_cluster(fsync=True)  # its own folder, postgres's
        try:
            engine = PostgresEngine(cluster.new_database())
            store = await ReportStore.open_server(engine, folder / "balagh.spool")
            try:
                await run_engine("PostgreSQL 15", store, engine, reports)
            finally:
                await store.close()
        finally:
            pg_cluster.remove(cluster)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().reports))
