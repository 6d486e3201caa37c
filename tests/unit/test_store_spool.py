"""Nothing lost: writes SQLite cannot take go to the spool and land exactly once later.

Real SQLite files in tmp_path. We run as root, so chmod does not stop a write: a
read-only file or folder is made with `chattr +i` (immutable, refused even to root),
a full disk with a small tmpfs; both skip with the reason when not permitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest
from structlog.testing import capture_logs

from balagh.config import spool_path
from balagh.store import ReportStore
from balagh.store.spool import Spool, SpooledWrite, depth
from balagh.store.writer import Writer

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up on a lock in a fraction of a second (the app waits ~8 s) and probe often."""
    monkeypatch.setattr(ReportStore, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(Writer, "RETRIES", 1)
    monkeypatch.setattr(Writer, "RETRY_DELAY", 0.01)
    monkeypatch.setattr(Writer, "PROBE_MIN", 0.05)
    monkeypatch.setattr(Writer, "PROBE_MAX", 0.2)
    monkeypatch.setattr(Writer, "PROBE_BUSY_MS", 20)


def call(store: ReportStore, n: int) -> None:
    """One caller: the report, an answer, then an update that needs the insert first."""
    call_id = f"c{n}"
    store.calls.start_report(call_id=call_id, reference=f"R{n:06d}", channel="PJSIP/t", caller=None,
                             hotline="800700", started_at=T0)
    store.calls.record_answer(call_id=call_id, question="danger", value="no", key="2", attempt=1,
                              at=T0)
    store.calls.set_language(call_id=call_id, language="ar")


def counts(path: Path) -> tuple[int, int, int]:
    """(reports, answers, reports with their language set) read straight from the file."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        reports = db.execute("SELECT COUNT(*), COUNT(DISTINCT call_id) FROM reports").fetchone()
        assert reports[0] == reports[1]  # nothing twice
        answers = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        language = db.execute("SELECT COUNT(*) FROM reports WHERE language = 'ar'").fetchone()[0]
    return reports[0], answers, language


async def drained(store: ReportStore, timeout: float = 10) -> None:
    await store.writer.flush()
    async with asyncio.timeout(timeout):
        while store.writer.spooling:
            await asyncio.sleep(0.02)
            await store.writer.flush()


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """The file or folder refuses every write, even root's, until the block ends."""
    result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"chattr +i not permitted here: {result.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


# ------------------------------------------------------------------ the spool file


def test_spool_appends_reads_and_skips_a_torn_line(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "x.spool")
    one = SpooledWrite("a" * 32, "op", (("INSERT INTO t VALUES (?, ?)", (1, "é")),), {"k": "v"})
    spool.append([one])
    with open(spool.path, "a") as torn:
        torn.write('{"id": "half')  # a crash in the middle of an append
    spool.append([SpooledWrite("b" * 32, "op", (), {})])
    assert [w.id for w in spool.read()] == ["a" * 32, "b" * 32]
    assert spool.read()[0] == one
    assert depth(spool.path) == 2
    spool.remove()
    assert not spool.path.exists() and spool.read() == []


# ------------------------------------------------------------------ failures


async def test_lock_held_longer_than_the_retries(tmp_path: Path) -> None:
    path = tmp_path / "balagh.sqlite3"
    store = await ReportStore.open(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. a long maintenance job elsewhere
    with capture_logs() as logs:
        try:
            for n in range(300):  # more than one batch
                call(store, n)
            await store.writer.flush()
            assert store.writer.spooling
            assert depth(spool_path(path)) > 0
        finally:
            other.execute("ROLLBACK")
            other.close()
        for n in range(300, 310):
            call(store, n)
        await drained(store)
    events = [entry["event"] for entry in logs]
    assert events.count("store.spool_in_use") == 1 and events.count("store.spool_drained") == 1
    assert "store.write_dropped" not in events
    assert counts(path) == (310, 310, 310)
    assert store.writer.write_errors == 0
    assert not spool_path(path).exists()
    await store.close()


async def test_read_only_file_at_start(tmp_path: Path) -> None:
    path = tmp_path / "balagh.sqlite3"
    await (await ReportStore.open(path)).close()
    with immutable(path):
        store = await ReportStore.open(path)  # opens anyway, and says so
        assert store.writer.spooling
        for n in range(20):
            call(store, n)
        await store.writer.flush()
        assert depth(spool_path(path)) == 60
    await drained(store)  # writable again: replayed without a restart
    assert counts(path) == (20, 20, 20)
    await store.close()


async def test_read_only_folder_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = data / "balagh.sqlite3"
    await (await ReportStore.open(path)).close()
    spool_file = tmp_path / "elsewhere" / "balagh.spool"  # the folder takes no new file
    with immutable(data):
        store = await ReportStore.open(path, spool_file)
        assert store.writer.spooling
        for n in range(5):
            call(store, n)
        await store.writer.flush()
        assert depth(spool_file) == 15
    await drained(store)
    assert counts(path) == (5, 5, 5)
    await store.close()


async def test_folder_removed_under_the_running_app(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = data / "balagh.sqlite3"
    store = await ReportStore.open(path)
    call(store, 0)
    await store.writer.flush()
    shutil.rmtree(data)  # someone cleans up the wrong folder
    for n in range(1, 11):
        call(store, n)
    await drained(store)  # noticed, a new database made and the writes replayed into it
    assert counts(path) == (10, 10, 10)
    assert await store.queries.get_report("c10") is not None  # the reader follows the new file
    assert store.writer.write_errors == 0
    await store.close()


async def test_database_file_replaced_under_the_running_app(tmp_path: Path) -> None:
    path = tmp_path / "balagh.sqlite3"
    store = await ReportStore.open(path)
    call(store, 0)
    await store.writer.flush()
    restored = tmp_path / "restored.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db, \
            contextlib.closing(sqlite3.connect(restored)) as copy:
        db.backup(copy)  # e.g. an operator restores a backup over the live file
    os.replace(restored, path)
    for n in range(1, 6):
        call(store, n)
    await drained(store)
    assert counts(path) == (6, 6, 6)
    await store.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    # Unbuffered: a buffered file would flush its last partial block again when it closes
    # (outside the suppress), raising ENOSPC whenever the free space is not a whole block.
    with open(filler, "wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
    return filler


async def test_full_disk(small_disk: Path, tmp_path: Path) -> None:
    path = small_disk / "balagh.sqlite3"
    spool_file = tmp_path / "spool" / "balagh.spool"  # the spool on another filesystem
    store = await ReportStore.open(path, spool_file)
    call(store, 0)
    await store.writer.flush()
    filler = fill(small_disk)
    for n in range(1, 200):
        call(store, n)  # ~600 writes: more than the last free pages take
    await store.writer.flush()
    assert store.writer.spooling and depth(spool_file) > 0
    filler.unlink()
    await drained(store)
    assert counts(path) == (200, 200, 200)
    assert store.writer.write_errors == 0
    await store.close()


async def test_spool_unwritable_too_counts_the_write_lost(small_disk: Path) -> None:
    path = small_disk / "balagh.sqlite3"
    store = await ReportStore.open(path)  # database and spool on the same full disk
    filler = fill(small_disk)
    for n in range(200):
        call(store, n)
    await store.writer.flush()
    lost = store.writer.write_errors
    assert lost > 0  # said, not silent
    filler.unlink()
    call(store, 999)
    await drained(store)
    reports, _, _ = counts(path)
    assert reports + lost // 3 >= 200  # everything not counted lost is there
    assert await store.queries.get_report("c999") is not None
    await store.close()


# ------------------------------------------------------------------ exactly once


async def test_a_replay_cut_short_applies_each_write_once(tmp_path: Path) -> None:
    path = tmp_path / "balagh.sqlite3"
    await (await ReportStore.open(path)).close()
    spool = Spool(spool_path(path))
    writes = [SpooledWrite(f"{n:032x}", "insert", ((
        "INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
        " VALUES (?, 'q', 'v', '1', 1, '2026-01-01')", (f"c{n}",)),), {}) for n in range(50)]
    spool.append(writes)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        # The app died after replaying the first 20 (committed with their ids).
        for write in writes[:20]:
            db.execute(write.statements[0][0], write.statements[0][1])
            db.execute("INSERT INTO spool_applied VALUES (?, 'x')", (write.id,))
    store = await ReportStore.open(path)  # replays at start-up
    await store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT call_id) FROM answers"
                          ).fetchone() == (50, 50)
    assert not spool.path.exists()


async def test_a_bad_spooled_write_is_dropped_not_replayed_forever(tmp_path: Path) -> None:
    path = tmp_path / "balagh.sqlite3"
    await (await ReportStore.open(path)).close()
    Spool(spool_path(path)).append([
        SpooledWrite("1" * 32, "bad", (("INSERT INTO nowhere VALUES (1)", ()),), {}),
        SpooledWrite("2" * 32, "good", (("INSERT INTO spool_applied VALUES ('m', 'x')", ()),),
                     {})])
    store = await ReportStore.open(path)
    assert not store.writer.spooling and store.writer.write_errors == 1
    await store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*) FROM spool_applied WHERE id = 'm'").fetchone() == (1,)


KILLED = textwrap.dedent("""
    import asyncio, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from balagh.store import ReportStore
    from balagh.store.writer import Writer

    ReportStore.BUSY_TIMEOUT_MS = 100
    Writer.RETRIES = 0
    T0 = datetime(2026, 3, 1, tzinfo=UTC)

    async def main() -> None:
        store = await ReportStore.open(Path(sys.argv[1]))
        for n in range(int(sys.argv[2])):
            store.calls.start_report(call_id=f"k{n}", reference=f"K{n:06d}", channel="x",
                                     caller=None, hotline=None, started_at=T0)
            store.calls.record_answer(call_id=f"k{n}", question="q", value="v", key="1",
                                      attempt=1, at=T0)
        await store.writer.flush()
        print("spooled", store.writer.spooling, flush=True)
        await asyncio.sleep(60)  # killed here, the writes never reached SQLite

    asyncio.run(main())
""")


def run_until_spooled_then_kill(path: Path, writes: int) -> str:
    """Start an app process that spools `writes` calls, then kill -9 it; its last word."""
    app = subprocess.Popen([sys.executable, "-c", KILLED, str(path), str(writes)],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout is not None
        said = next((line for line in app.stdout if line.startswith("spooled")), "")
        app.send_signal(signal.SIGKILL)
        app.wait(timeout=5)
        return said.strip()
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


async def test_kill_9_while_writes_wait_in_the_spool(tmp_path: Path) -> None:
    path = tmp_path / "balagh.sqlite3"
    await (await ReportStore.open(path)).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the database stays locked while the app runs
    try:
        said = await asyncio.wait_for(asyncio.to_thread(run_until_spooled_then_kill, path, 500),
                                      timeout=20)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert said == "spooled True"
    store = await ReportStore.open(path)  # the next start replays the spool
    await store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT call_id) FROM reports"
                          ).fetchone() == (500, 500)
        assert db.execute("SELECT COUNT(*) FROM answers").fetchone() == (500,)


LOCKED_THEN_KILLED = textwrap.dedent("""
    import asyncio, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from balagh.store import ReportStore

    T0 = datetime(2026, 3, 1, tzinfo=UTC)

    async def main() -> None:
        store = await ReportStore.open(Path(sys.argv[1]))  # the app's own tunables
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # another connection holds the lock now
        for n in range(int(sys.argv[2])):
            call_id = f"d{n}"
            store.calls.start_report(call_id=call_id, reference=f"D{n:06d}", channel="x",
                                     caller=None, hotline=None, started_at=T0)
            store.calls.record_answer(call_id=call_id, question="danger", value="yes", key="1",
                                      attempt=1, at=T0)
            store.calls.record_answer(call_id=call_id, question="age_group", value="child",
                                      key="1", attempt=1, at=T0)
        print("heard", flush=True)
        await asyncio.sleep(60)  # killed here

    asyncio.run(main())
""")

REPORTS_HEARD = 20


def kill_during_a_write_lock(path: Path, kill_after: float) -> None:
    """An app process hears REPORTS_HEARD reports while another connection holds the
    write lock; SIGKILL `kill_after` seconds into the lock, which is released after."""
    app = subprocess.Popen([sys.executable, "-c", LOCKED_THEN_KILLED, str(path),
                            str(REPORTS_HEARD)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        assert app.stdin is not None and app.stdout is not None
        assert said(app.stdout, "ready")
        other.execute("BEGIN IMMEDIATE")  # e.g. a backup or a purge in another process
        locked_at = time.monotonic()
        app.stdin.write("go\n")
        app.stdin.flush()
        assert said(app.stdout, "heard")
        time.sleep(max(0.0, locked_at + kill_after - time.monotonic()))
        app.send_signal(signal.SIGKILL)
        app.wait(timeout=5)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


def said(stdout: IO[str], word: str) -> bool:
    """Whether the process printed `word` on a line of its own (its logs go there too)."""
    return any(line.strip() == word for line in stdout)


@pytest.mark.parametrize("kill_after", [1, 4, 7, 12])
async def test_killed_during_a_write_lock_no_answer_heard_is_lost(
        tmp_path: Path, kill_after: float) -> None:
    path = tmp_path / "balagh.sqlite3"
    await (await ReportStore.open(path)).close()
    await asyncio.wait_for(asyncio.to_thread(kill_during_a_write_lock, path, kill_after),
                           timeout=kill_after + 30)
    store = await ReportStore.open(path)  # the restart replays the spool
    await store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT call_id) FROM reports"
                          ).fetchone() == (REPORTS_HEARD, REPORTS_HEARD)
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT call_id || question) FROM answers "
                          "WHERE question IN ('danger', 'age_group')"
                          ).fetchone() == (2 * REPORTS_HEARD, 2 * REPORTS_HEARD)
    assert not spool_path(path).exists()
    fault_row(f"app killed (SIGKILL) {kill_after:g} s into another process's write lock, "
              f"{REPORTS_HEARD} reports heard",
              "every report and answer already heard in SQLite exactly once after the restart",
              f"{REPORTS_HEARD}/{REPORTS_HEARD} reports and {2 * REPORTS_HEARD} answers, once "
              "each; the spool replayed and gone")


def fault_row(fault: str, expected: str, observed: str) -> None:
    """A row of the reliability table (docs/reliability.md) when `make faults` asks for it."""
    target = os.environ.get("BALAGH_FAULTS_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"fault": fault, "expected": expected, "observed": observed,
                                  "recovery_seconds": None}) + "\n")


# ------------------------------------------------------------------ a clean stop


async def test_after_close_the_main_file_alone_holds_every_report(tmp_path: Path) -> None:
    path = tmp_path / "balagh.sqlite3"
    store = await ReportStore.open(path)
    for n in range(100):
        call(store, n)
    await store.close()
    copy = tmp_path / "copy" / "balagh.sqlite3"
    copy.parent.mkdir()
    shutil.copyfile(path, copy)  # only the main file: no -wal, no -shm
    assert counts(copy) == (100, 100, 100)
