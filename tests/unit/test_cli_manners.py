"""Command-line manners: a closed pipe ends quietly, deleting jobs ask first (or need
--yes) and show progress, misspelt filter names are refused with the valid ones."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from balagh.cli import EXIT_READER_GONE, main
from balagh.store import ReportStore

from .test_maintenance import seed
from .test_reports_cli import _fill

OLD = datetime(2024, 1, 1, tzinfo=UTC)


def balagh(*argv: str, data: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BALAGH_DATA_DIR": str(data)}
    return subprocess.Popen([sys.executable, "-m", "balagh", *argv], env=env,
                            **kwargs)  # type: ignore[call-overload]


def reports_in(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return int(db.execute("SELECT COUNT(*) FROM reports").fetchone()[0])


@pytest.fixture
def old_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """1,200 reports from 2024 (three chunks of maintenance) in a data folder."""
    database = tmp_path / "balagh.sqlite3"

    async def create() -> None:
        await (await ReportStore.open(database)).close()

    asyncio.run(create())
    seed(database, 1200, started_at=OLD)
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    return database


# ------------------------------------------------------------------ closed pipe


@pytest.mark.parametrize("argv", [("sounds", "script", "--lang", "ar"), ("sounds", "check"),
                                  ("reports", "--format", "csv")])
def test_a_closed_pipe_ends_quietly(tmp_path: Path, argv: tuple[str, ...]) -> None:
    asyncio.run(_fill(tmp_path / "balagh.sqlite3"))
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (`| head`) has already gone: every write meets EPIPE
    try:
        process = balagh(*argv, data=tmp_path, stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    _, err = process.communicate(timeout=120)
    assert "Traceback" not in err.decode() and "BrokenPipe" not in err.decode(), err.decode()
    assert process.returncode == EXIT_READER_GONE


# ------------------------------------------------------- confirmation and progress


def test_purge_off_a_terminal_needs_yes_and_deletes_nothing(old_reports: Path) -> None:
    process = balagh("reports", "purge", "--older-than", "30", data=old_reports.parent,
                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2 and out == b""
    lines = err.decode().splitlines()
    assert len(lines) == 1 and "delete 1200 report(s)" in lines[0] and "--yes" in lines[0]
    assert reports_in(old_reports) == 1200


@pytest.mark.parametrize(("answer", "status", "left"), [("n", 1, 1200), ("y", 0, 0)])
def test_purge_on_a_terminal_asks_with_the_count(old_reports: Path, answer: str, status: int,
                                                 left: int) -> None:
    controller, terminal = pty.openpty()
    try:
        process = balagh("reports", "purge", "--older-than", "30", data=old_reports.parent,
                         stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.write(controller, f"{answer}\n".encode())
        out, err = process.communicate(timeout=120)
    finally:
        os.close(terminal)
        os.close(controller)
    assert process.returncode == status, err.decode()
    assert "Delete 1200 report(s) started before" in err.decode() and "[y/N]" in err.decode()
    assert reports_in(old_reports) == left
    assert ("deleted 1200 report(s)" in out.decode()) is (answer == "y")


def test_purge_shows_rows_done_of_total_on_stderr(old_reports: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reports", "purge", "--older-than", "30", "--yes"]) == 0
    said = capsys.readouterr()
    progress = said.err.splitlines()
    assert progress[0] == "purge balagh.sqlite3: 500/1200 rows (41%)"
    assert progress[-1] == "purge balagh.sqlite3: 1200/1200 rows (100%)"
    assert "deleted 1200 report(s)" in said.out and "rows" not in said.out
    assert reports_in(old_reports) == 0


def test_redact_counts_only_what_is_left_to_forget(old_reports: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reports", "redact", "--older-than", "30", "--yes"]) == 0
    assert "1200/1200 rows" in capsys.readouterr().err
    assert main(["reports", "redact", "--older-than", "30", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("0 report(s)")


def test_rotate_key_off_a_terminal_needs_yes(old_reports: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    key = old_reports.parent / "keys" / "caller-hash.key"
    assert main(["callers", "check-key"]) == 0
    before = key.read_bytes()
    assert main(["callers", "rotate-key"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert key.read_bytes() == before


# ------------------------------------------------------------------ unknown names


@pytest.mark.parametrize(("argv", "message", "listed"), [
    (["--queue", "child-protcetion"], "unknown queue 'child-protcetion'; valid: ",
     "child-protection"),
    (["--emirate", "dubay"], "unknown emirate 'dubay'; valid: ", "umm-al-quwain"),
    (["--language", "fr"], "unknown language 'fr'; valid: ar, en", "en"),
])
def test_an_unknown_filter_name_is_refused_with_the_valid_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        argv: list[str], message: str, listed: str) -> None:
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    asyncio.run(_fill(tmp_path / "balagh.sqlite3"))
    assert main(["reports", *argv]) == 2
    said = capsys.readouterr()
    assert said.err.startswith(f"error: {message}") and listed in said.err
    assert said.out == ""
    assert main(["reports", "--queue", "women-protection", "--emirate", "dubai"]) == 0
    assert "1000009" in capsys.readouterr().out
