"""Nothing lost when SQLite cannot be written, with live calls on the sandbox PBX.

Another process holds the database's write lock far longer than the app's retries (a
purge run the old way, a backup tool, a stuck sqlite3 shell). Callers must be routed as
usual meanwhile; their reports wait in the spool and land in SQLite exactly once when
the lock goes, even when the app is killed (SIGKILL) before that.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Iterator

import pytest

from balagh.config import Settings
from balagh.store.spool import depth
from balagh.testcall import place_call

from .conftest import AppProcess, FaultRow, report_by_call, wait_for

CHILD_IN_DANGER = ["1", "1", "1", "2", "3", "0"]


@contextlib.contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """The database's write lock, held by another connection until the block ends."""
    db = sqlite3.connect(settings.database, timeout=30, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        yield
    finally:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        db.close()


def answers_of(settings: Settings, call_id: str) -> list[str]:
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        return [row[0] for row in db.execute(
            "SELECT question FROM answers WHERE call_id = ? ORDER BY id", (call_id,))]


@pytest.mark.parametrize("killed", [False, True], ids=["app-running", "app-killed"])
async def test_calls_go_on_while_the_database_is_locked_and_every_report_lands_once(
        settings: Settings, running_app: AppProcess, killed: bool,
        fault_rows: list[FaultRow]) -> None:
    spool = settings.spool_file
    with write_lock(settings):
        started = time.monotonic()
        results = await asyncio.gather(*(
            place_call(settings, "800700", CHILD_IN_DANGER, ahead=True, timeout=60)
            for _ in range(3)))
        routed_in = time.monotonic() - started
        # Past the writer's retries, every write of these calls is in the spool on disk.
        await asyncio.to_thread(wait_for, lambda: spool.exists() and depth(spool) > 0,
                                timeout=60, what="the reports' writes in the spool")
        if killed:
            # Writes queued behind the first spooled batch follow it at once.
            await asyncio.to_thread(wait_for, lambda: depth(spool) >= 3 * 8, timeout=30,
                                    what="the three calls' writes spooled")
            await asyncio.to_thread(running_app.crash)
    if killed:
        await asyncio.to_thread(running_app.start)  # replays the spool at start-up
    for result in results:
        assert (result.queue, result.priority) == ("child-protection", 10)
    for result in results:
        report = await asyncio.to_thread(report_by_call, settings, result.hotline_id,
                                         status="routed", wait=60)
        assert report is not None, result.hotline_id
        assert answers_of(settings, result.hotline_id) == [
            "language", "danger", "age", "gender", "emirate", "condition"]  # once each
    await asyncio.to_thread(wait_for, lambda: not spool.exists() or depth(spool) == 0,
                            timeout=30, what="the spool drained")
    fault_rows.append(FaultRow(
        "database write-locked by another process, 3 live calls"
        + (", app killed (SIGKILL) with writes in the spool" if killed else ""),
        "callers routed as usual; every report and answer in SQLite exactly once after",
        f"3/3 routed in {routed_in:.1f} s under the lock; 3 reports with 6 answers each "
        f"once the lock went{' and the restarted app replayed the spool' if killed else ''}",
        None))
