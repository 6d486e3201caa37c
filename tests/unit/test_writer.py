"""The single writer on its own: it applies any statements, in order, and never raises."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from balagh.store import writer as writes
from balagh.store.writer import Writer


@pytest.fixture
async def writer(tmp_path: Path):
    db = await writes.connect(tmp_path / "w.db", busy_timeout_ms=1)
    await db.execute("CREATE TABLE t (n INTEGER NOT NULL UNIQUE)")
    writer = Writer(db)
    writer.start("test-writer")
    yield writer
    await writer.close()


def rows(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [n for (n,) in conn.execute("SELECT n FROM t ORDER BY rowid")]


async def test_writes_in_order_and_flush_waits_for_them(writer: Writer, tmp_path: Path) -> None:
    for n in range(500):  # more than one batch
        writer.submit("insert", lambda n=n: [("INSERT INTO t (n) VALUES (?)", (n,))])
    await writer.flush()
    assert rows(tmp_path / "w.db") == list(range(500))
    assert writer.write_errors == 0


async def test_a_build_that_raises_is_counted_not_raised(writer: Writer) -> None:
    def broken() -> list[writes.Statement]:
        raise ValueError("bad argument")

    writer.submit("broken", broken, call_id="c1")
    await writer.flush()
    assert writer.write_errors == 1


async def test_the_statements_of_one_write_commit_together(
    writer: Writer, tmp_path: Path
) -> None:
    writer.submit("pair", lambda: [("INSERT INTO t (n) VALUES (1)", ()),
                                   ("INSERT INTO t (n) VALUES (1)", ())])  # breaks UNIQUE
    writer.submit("single", lambda: [("INSERT INTO t (n) VALUES (2)", ())])
    await writer.flush()
    assert rows(tmp_path / "w.db") == [2]
    assert writer.write_errors == 1


async def test_close_drains_the_queue_then_refuses(writer: Writer, tmp_path: Path) -> None:
    for n in range(10):
        writer.submit("insert", lambda n=n: [("INSERT INTO t (n) VALUES (?)", (n,))])
    await writer.close()
    assert rows(tmp_path / "w.db") == list(range(10))
    writer.submit("late", lambda: [("INSERT INTO t (n) VALUES (99)", ())])
    await asyncio.wait_for(writer.flush(), timeout=1)  # returns at once
    assert writer.write_errors == 1
