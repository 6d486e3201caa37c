"""Maintenance beside a live app, at scale: `make faults` (no PBX needed).

Seeds N reports (default 1,000,000, each with an answer and a timeline event),
then runs purge, redact and backup while an app store keeps writing one call
every 10 ms, and measures what a call would feel: how long each write waits for
its commit, whether any is lost or spooled. For comparison, the old way (one
DELETE statement through the app's own writer) is timed on a copy. Numbers are
for this machine only; results are appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from balagh.store import ReportStore, maintenance

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
OLD = datetime(2024, 1, 1, tzinfo=UTC)
NUMBER = "+971501234567"


def seed(path: Path, count: int) -> None:
    when = OLD.isoformat()
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA synchronous = OFF")
        for start in range(0, count, 100_000):
            rows = range(start, min(count, start + 100_000))
            with db:
                db.executemany(
                    "INSERT INTO reports (call_id, reference, channel, caller, status,"
                    " started_at, updated_at, location, location_source) VALUES"
                    " (?, ?, 'PJSIP/trunk', ?, 'ended', ?, ?, 'dubai', 'answer')",
                    ((f"s{n}", f"S{n:08d}", NUMBER, when, when) for n in rows))
                db.executemany(
                    "INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
                    " VALUES (?, 'danger', 'no', '2', 1, ?)", ((f"s{n}", when) for n in rows))
                db.executemany("INSERT INTO report_events (call_id, at, kind) VALUES (?, ?, 'end')",
                               ((f"s{n}", when) for n in rows))
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def beside_live_writes(path: Path, job: Callable[[], maintenance.Run]
                             ) -> tuple[dict[str, float], maintenance.Run]:
    """Run `job` in a thread while a live store writes a call every 10 ms."""
    store = await ReportStore.open(path)
    waits: list[float] = []
    began = time.monotonic()
    done = asyncio.ensure_future(asyncio.to_thread(job))
    n = 0
    while not done.done():
        t0 = time.monotonic()
        store.calls.start_report(call_id=f"live{n}-{began}", reference=store.calls.new_reference(),
                                 channel="PJSIP/x", caller=None, hotline=None,
                                 started_at=datetime.now(UTC))
        await store.writer.flush()
        waits.append(time.monotonic() - t0)
        n += 1
        await asyncio.sleep(0.01)
    run = await done
    spooled = store.writer.spooling
    await store.close()
    waits.sort()
    return {"seconds": time.monotonic() - began, "writes": n, "lost": store.writer.write_errors,
            "spooled": float(spooled), "max_wait": waits[-1] if waits else 0.0,
            "p99_wait": waits[int(len(waits) * 0.99)] if waits else 0.0,
            "median_wait": statistics.median(waits) if waits else 0.0}, run


async def old_single_statement(path: Path) -> float:
    """The lock time of the pre-chunking purge: one DELETE through the app's writer."""
    store = await ReportStore.open(path)
    when = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    t0 = time.monotonic()
    store.writer.submit("purge", lambda: [
        ("DELETE FROM answers WHERE call_id IN (SELECT call_id FROM reports"
         " WHERE started_at < ?)", (when,)),
        ("DELETE FROM reports WHERE started_at < ?", (when,))])
    await store.writer.flush()
    held = time.monotonic() - t0
    await store.close()
    return held


def row(what: str, stats: dict[str, float], run: maintenance.Run) -> str:
    done = (f"{run.rows:,} reports copied in {run.seconds:.1f} s (a read snapshot: no write "
            "lock)" if run.action == "backup" else
            f"{run.rows:,} rows in {run.seconds:.1f} s, {run.chunks} chunks, "
            f"longest lock {run.longest_lock * 1000:.0f} ms")
    return (f"| {what} | {done} | {int(stats['writes'])} live writes,"
            f" lost {int(stats['lost'])}, commit wait median {stats['median_wait'] * 1000:.1f} ms,"
            f" p99 {stats['p99_wait'] * 1000:.1f} ms, max {stats['max_wait'] * 1000:.0f} ms |")


async def main(count: int, compare: bool) -> list[str]:
    folder = Path(tempfile.mkdtemp(prefix="balagh-faults-"))
    try:
        path = folder / "balagh.sqlite3"
        await (await ReportStore.open(path)).close()
        t0 = time.monotonic()
        seed(path, count)
        print(f"seeded {count:,} reports in {time.monotonic() - t0:.1f} s "
              f"({path.stat().st_size / 1e6:.0f} MB)")
        pristine = folder / "pristine.sqlite3"
        shutil.copyfile(path, pristine)
        os.sync()  # the seeding's dirty pages must not be flushed during the measurements
        lines = []
        cut = datetime.now(UTC) - timedelta(days=1)
        copy = folder / "backup.sqlite3"
        for what, job in (
            ("backup", lambda: maintenance.backup(path, copy)),
            ("redact", lambda: maintenance.redact(path, cut)),
            ("purge", lambda: maintenance.purge(path, cut)),
        ):
            stats, run = await beside_live_writes(path, job)
            lines.append(row(f"{what} of {count:,} reports beside a live writer", stats, run))
            print(lines[-1])
        if compare:
            shutil.copyfile(pristine, path)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(str(path) + "-wal")
            held = await old_single_statement(path)
            lines.append(f"| before: one purge statement through the writer | held the lock "
                         f"{held:.1f} s | a live writer waits that long, then drops |")
            print(lines[-1])
        return lines
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--no-compare", action="store_true")
    parser.add_argument("--no-record", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    lines = asyncio.run(main(args.reports, not args.no_compare))
    if not args.no_record:
        cpus = os.cpu_count()
        with RESULTS.open("a") as out:
            out.write(f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: maintenance beside a live "
                      f"app (`make faults`)\n\nMachine: {cpus} cores, Python "
                      f"{platform.python_version()}\n\n| what | maintenance | the live app |\n"
                      "|---|---|---|\n" + "\n".join(lines) + "\n")
