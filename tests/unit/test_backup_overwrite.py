"""`balagh backup --force`: asks before overwriting on a terminal, needs --yes elsewhere,
and a file it was not allowed to replace is left exactly as it was."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from balagh.store import ReportStore

from .test_maintenance import seed

OLD_COPY = b"yesterday's backup"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data folder with a database of 3 reports, and an earlier backup at out.sqlite3."""
    folder = tmp_path / "data"
    folder.mkdir()
    database = folder / "balagh.sqlite3"

    async def create() -> None:
        await (await ReportStore.open(database)).close()

    asyncio.run(create())
    seed(database, 3)
    (tmp_path / "out.sqlite3").write_bytes(OLD_COPY)
    return folder


def backup(data: Path, *argv: str, stdin: int) -> tuple[int, str, str]:
    env = {**os.environ, "BALAGH_DATA_DIR": str(data)}
    process = subprocess.Popen([sys.executable, "-m", "balagh", "backup", *argv], env=env,
                               stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    return process.returncode, out.decode(), err.decode()


def test_force_off_a_terminal_is_refused_naming_yes(data: Path) -> None:
    target = data.parent / "out.sqlite3"
    status, out, err = backup(data, str(target), "--force", stdin=subprocess.DEVNULL)
    assert status == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and str(target) in lines[0] and "--yes" in lines[0]
    assert target.read_bytes() == OLD_COPY


def test_force_with_yes_off_a_terminal_replaces_the_file(data: Path) -> None:
    target = data.parent / "out.sqlite3"
    status, out, err = backup(data, str(target), "--force", "--yes", stdin=subprocess.DEVNULL)
    assert status == 0, err
    assert "backed up 3 report(s)" in out and "[y/N]" not in err
    assert target.read_bytes().startswith(b"SQLite format 3")


@pytest.mark.parametrize(("answer", "status"), [("n", 1), ("", 1), ("y", 0)])
def test_force_on_a_terminal_asks_before_overwriting(data: Path, answer: str,
                                                     status: int) -> None:
    target = data.parent / "out.sqlite3"
    controller, terminal = pty.openpty()
    try:
        os.write(controller, f"{answer}\n".encode())
        code, out, err = backup(data, str(target), "--force", stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert code == status, err
    assert f"Overwrite {target}? [y/N]" in err
    replaced = target.read_bytes().startswith(b"SQLite format 3")
    assert replaced is (answer == "y")
    assert ("backed up 3 report(s)" in out) is (answer == "y")

