"""Issue 14: callers' data readable by Balagh's user only; a damaged or newer database,
and a stale pid file, handled without a traceback or a stranger signalled."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import structlog

from balagh.app import check_permissions
from balagh.cli import build_parser, main
from balagh.config import Settings
from balagh.pidfile import PidFile, PidFileHeld, running_pid
from balagh.status import ReportStatus
from balagh.store.permissions import data_files, loose_files, private_umask
from balagh.store.reports import ReportStore
from balagh.store.schema import SchemaError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The umask most shells have (022): what the store must not rely on."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def _one_report(database: Path) -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 3, 1, tzinfo=UTC)
    store = await ReportStore.open(database)
    try:
        store.calls.start_report(call_id="c1", reference="1000004", channel="PJSIP/t-1",
                                 caller="+971501234567", hotline="800700", started_at=at)
        store.calls.set_status(call_id="c1", status=ReportStatus.ROUTED, at=at)
        await store.writer.flush()
        # While open, the WAL and shm exist beside the database.
        files = data_files(database)
        assert {path.name for path in files} >= {"balagh.sqlite3", "balagh.sqlite3-wal",
                                                 "balagh.sqlite3-shm"}
        for path in files:
            assert mode(path) == 0o600, path
    finally:
        await store.close()


def test_the_store_creates_a_private_folder_and_files_whatever_the_umask(tmp_path,
                                                                          open_umask):
    database = tmp_path / "data" / "balagh.sqlite3"
    asyncio.run(_one_report(database))
    assert mode(database.parent) == 0o700
    assert mode(database) == 0o600


def test_the_cli_sets_a_private_umask(tmp_path, monkeypatch, open_umask):
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path / "data"))
    assert main(["reports", "--format", "json"]) == 0
    assert os.umask(0o022) == 0o077


def test_private_umask_makes_new_files_private(tmp_path, open_umask):
    private_umask()
    (tmp_path / "f").write_text("x")
    assert mode(tmp_path / "f") == 0o600


def test_loosened_files_are_named_at_start(tmp_path):
    data = tmp_path / "data"
    asyncio.run(_one_report(data / "balagh.sqlite3"))
    settings = replace(Settings(), data_dir=data)
    assert loose_files(data, data_files(settings.database)) == []
    data.chmod(0o755)
    settings.database.chmod(0o644)
    loose = {path.name: found for path, found in
             loose_files(data, data_files(settings.database))}
    assert loose == {"data": "0755", "balagh.sqlite3": "0644"}
    with structlog.testing.capture_logs() as logs:
        check_permissions(settings)
    warned = [entry for entry in logs if entry["event"] == "store.permissions_loose"]
    assert [entry["mode"] for entry in warned] == ["0755", "0644"]
    assert "chmod 600" in warned[1]["hint"]


# -- a database Balagh cannot use: one line ------------------------------------------


def test_a_newer_schema_is_one_line(tmp_path, monkeypatch, capsys):
    database = tmp_path / "balagh.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA user_version = 99")
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    assert main(["reports"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {database}: database schema version 99 is newer")
    assert not any("Traceback" in line for line in err)
    with pytest.raises(SchemaError, match="newer than this Balagh"):
        asyncio.run(ReportStore.open(database))


def test_run_stops_at_a_newer_schema_in_one_line(tmp_path, monkeypatch, capsys):
    database = tmp_path / "balagh.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA user_version = 99")
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    # No PBX: a live app on the shared sandbox would refuse this run first (oneapp.py).
    monkeypatch.setenv("BALAGH_ARI_URL", "http://127.0.0.1:9/")
    assert main(["run"]) == 1  # before any connection to the PBX
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"error: {database}: database schema")


def test_a_damaged_database_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "balagh.sqlite3").write_bytes(os.urandom(8192))
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    assert main(["reports"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"error: {tmp_path / 'balagh.sqlite3'}: ")


# -- the pid file --------------------------------------------------------------------


def test_a_stale_pid_file_naming_a_live_stranger_is_not_signalled(tmp_path, capsys):
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        settings = replace(Settings(), data_dir=tmp_path)
        # What a SIGKILLed `balagh run` leaves behind, its pid now reused by another process.
        settings.pid_file.write_text(f"{stranger.pid}\n")
        args = build_parser().parse_args(["routes", "reload"])
        assert args.func(settings, args) == 1
        assert "not running" in capsys.readouterr().out
        assert stranger.poll() is None, "the stranger was signalled"
    finally:
        stranger.send_signal(signal.SIGKILL)
        stranger.wait()


def test_the_running_app_holds_its_pid_file(tmp_path):
    path = tmp_path / "balagh.pid"
    held = PidFile.acquire(path)
    try:
        assert running_pid(path) == os.getpid()
        assert mode(path) == 0o600
        with pytest.raises(PidFileHeld):
            PidFile.acquire(path)
    finally:
        held.release()
    assert running_pid(path) is None and not path.exists()


def test_reload_signals_the_app_that_holds_the_lock(tmp_path, capsys):
    """A real child holding the lock (as `balagh run` does) gets the SIGHUP."""
    path = tmp_path / "balagh.pid"
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import signal, sys, time\n"
         "from pathlib import Path\n"
         "from balagh.pidfile import PidFile\n"
         f"held = PidFile.acquire(Path({str(path)!r}))\n"
         "signal.signal(signal.SIGHUP, lambda *_: sys.exit(42))\n"
         "print('ready', flush=True)\n"
         "time.sleep(30)\n"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        settings = replace(Settings(), data_dir=tmp_path)
        args = build_parser().parse_args(["routes", "reload"])
        assert args.func(settings, args) == 0
        assert child.wait(timeout=10) == 42
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
