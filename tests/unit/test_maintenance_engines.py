"""Retention, redaction, rehash and backup on both engines (issue 26): the same chunked
maintenance on a PostgreSQL server as on the SQLite file, through the store's part and
through `balagh reports redact|purge`, `balagh callers rotate-key` and `balagh backup`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from balagh.cli import main
from balagh.store import ReportStore, maintenance
from balagh.store.engine import PostgresEngine
from balagh.vocabulary import EMIRATE_QUESTION

from . import pg_cluster
from .handover_receiver import eventually_async

NUMBER = "+971501234567"
PLACE = "fujairah"
NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=100)


def a_call(store: ReportStore, n: int, at: datetime, number: str = NUMBER,
           place: str = PLACE) -> str:
    """A report with the number and place everywhere the call path writes them: the
    report, the emirate answer and their timeline rows, and two outbox documents (one
    delivered, one pending). Returns the reference."""
    call_id, reference = f"call-{n}", store.calls.new_reference()
    store.calls.start_report(call_id=call_id, reference=reference, channel=f"PJSIP/{number}-1",
                             caller=number, hotline="800700", started_at=at)
    store.calls.record_answer(call_id=call_id, question=EMIRATE_QUESTION, value=place, key="7",
                              attempt=1, at=at)
    store.calls.set_location(call_id=call_id, emirate=place, source="answer", at=at)
    body = json.dumps({"event": "routed", "report": {"reference": reference, "caller": number,
                                                     "emirate": place,
                                                     "location_source": "answer"}})
    for event in ("routed", "ended"):
        store.outbox.queue_delivery(key=f"{reference}:{event}", url="http://unit.invalid/",
                                    event=event, reference=reference, body=body, at=at)
    return reference


async def text_cells(store: ReportStore) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text cell of every table, on either engine."""
    db = store.queries.db
    if store.engine is not None:
        listing = ("SELECT table_name, column_name FROM information_schema.columns WHERE"
                   " table_schema = 'public' AND data_type = 'text'")
    else:
        listing = ("SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p"
                   " WHERE m.type = 'table'")
    async with db.execute(listing) as cursor:
        columns = [(row[0], row[1]) for row in await cursor.fetchall()]
    cells = []
    for table, column in columns:
        async with db.execute(f'SELECT "{column}" FROM "{table}"') as cursor:
            cells += [(table, column, str(row[0])) for row in await cursor.fetchall()
                      if row[0] is not None]
    return cells


def holding(cells: list[tuple[str, str, str]], *words: str) -> list[tuple[str, str, str]]:
    return [cell for cell in cells if any(word in cell[2] for word in words)]


@pytest.mark.both_engines
async def test_redact_leaves_neither_number_nor_place_in_any_text_column(store):
    old = a_call(store, 1, OLD)
    a_call(store, 2, NOW, number="+971509999999", place="ajman")  # a recent call: kept
    await store.writer.flush()
    routed = [row for row in await store.queries.deliveries(None, 10)
              if row.key == f"{old}:routed"]
    await store.outbox.delivery_done(routed[0].id, OLD)
    before = holding(await text_cells(store), NUMBER, PLACE)
    assert {table for table, _, _ in before} >= {"reports", "answers", "report_events",
                                                 "outbox"}

    assert await store.retention.redact_before(NOW - timedelta(days=30)) == 1

    cells = await text_cells(store)
    assert holding(cells, NUMBER, PLACE) == []
    kept = holding(cells, "+971509999999", "ajman")
    assert {table for table, _, _ in kept} >= {"reports", "answers", "report_events",
                                               "outbox"}
    async with store.queries.db.execute(
            "SELECT status, body FROM outbox WHERE key >= ? AND key < ?",
            (f"{old}:", f"{old};")) as cursor:
        rows = await cursor.fetchall()
    # The delivered copy is gone; the pending one still goes, without the place.
    assert [row[0] for row in rows] == ["pending"]
    report = json.loads(rows[0][1])["report"]
    assert (report["caller"], report["emirate"], report["location_source"]) == \
        (None, None, "redacted")
    assert (await store.queries.get_report("call-2")).caller == "+971509999999"
    # Run again: nothing left to do, each report at most once.
    assert await store.retention.redact_before(NOW - timedelta(days=30)) == 0


@pytest.mark.both_engines
async def test_purge_and_rehash_in_chunks(store):
    for n in range(7):
        a_call(store, n, OLD if n < 5 else NOW)
    await store.writer.flush()
    database = store.engine if store.engine is not None else store.path
    seen: list[int] = []
    run = await asyncio.to_thread(maintenance.rehash_callers, database, NOW - timedelta(days=1),
                                  lambda number: f"new-{number[-4:]}", chunk=1, pause=0,
                                  progress=seen.append)
    assert (run.rows, seen) == (2, [1, 2])
    assert maintenance.pending(database, "purge", NOW - timedelta(days=30)) == 5
    run = await asyncio.to_thread(maintenance.purge, database, NOW - timedelta(days=30),
                                  chunk=2, pause=0)
    assert (run.rows, run.chunks) == (5, 3)
    assert run.detail["answers"] == 5 and run.detail["report_events"] == 15
    async with store.queries.db.execute(
            "SELECT call_id, caller_hash FROM reports ORDER BY call_id") as cursor:
        assert [tuple(row) for row in await cursor.fetchall()] == \
            [("call-5", "new-4567"), ("call-6", "new-4567")]
    async with store.queries.db.execute(
            "SELECT action, rows, outcome FROM maintenance_runs ORDER BY id") as cursor:
        assert [tuple(row) for row in await cursor.fetchall()] == \
            [("rehash", 2, "done"), ("purge", 5, "done")]


# ------------------------------------------------------------------ the commands on a server


@pytest.fixture
def server(pg_server: pg_cluster.Cluster, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own on the session's cluster, two old reports and one recent in
    it, and the settings (environment) naming it; its URL."""
    url = pg_server.new_database()

    async def seed() -> None:
        store = await ReportStore.open_server(PostgresEngine(url), tmp_path / "balagh.spool")
        try:
            for n, at in enumerate((OLD, OLD, NOW)):
                a_call(store, n, at)
            await store.writer.flush()
        finally:
            await store.close()

    asyncio.run(seed())
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BALAGH_DATABASE_URL", url)
    monkeypatch.delenv("BALAGH_CALLER_HASH_KEY", raising=False)
    yield url


def scalar(url: str, sql: str) -> object:
    with psycopg.connect(url) as db:
        row = db.execute(sql.encode()).fetchone()
    assert row is not None
    return row[0]


def test_reports_redact_and_purge_commands_work_on_the_server(server, capsys):
    assert main(["reports", "redact", "--older-than", "30", "--yes"]) == 0
    said = capsys.readouterr().out
    assert "redacted caller number and location of 2 report(s)" in said
    assert "old row versions" in said  # what a server keeps until VACUUM, said
    assert scalar(server, f"SELECT count(*) FROM reports WHERE caller = '{NUMBER}'") == 1
    assert main(["reports", "purge", "--older-than", "30", "--yes", "--vacuum"]) == 0
    said = capsys.readouterr().out
    assert "deleted 2 report(s)" in said and "old row versions" not in said
    assert scalar(server, "SELECT count(*) FROM reports") == 1
    assert not (Path(os.environ["BALAGH_DATA_DIR"]) / "balagh.sqlite3").exists()


def test_rotate_key_hashes_the_servers_recent_reports_again(server, capsys):
    before = scalar(server, "SELECT caller_hash FROM reports WHERE call_id = 'call-2'")
    assert main(["callers", "rotate-key", "--yes"]) == 0
    assert "hashed again with the new key: 1 report(s)" in capsys.readouterr().out
    after = scalar(server, "SELECT caller_hash FROM reports WHERE call_id = 'call-2'")
    assert after is not None and after != before


def test_backup_is_the_servers_pg_dump_restorable_with_pg_restore(server, pg_server, tmp_path,
                                                                  capsys):
    target = tmp_path / "reports.dump"
    assert main(["backup", str(target), "--with-keys"]) == 0
    said = capsys.readouterr().out
    assert f"backed up 3 report(s) to {target}" in said
    assert "copied" in said and "keep them apart from the backup" in said  # as on SQLite
    assert target.stat().st_mode & 0o777 == 0o600
    assert not target.with_name("reports.dump.part").exists()
    from balagh.store import server_backup

    fresh = pg_server.new_database()
    restore = server_backup.find_pg_dump()
    assert restore is not None
    subprocess.run([str(Path(restore).with_name("pg_restore")), "--no-owner",
                    f"--dbname={fresh}", str(target)], check=True, capture_output=True)
    assert scalar(fresh, "SELECT count(*) FROM reports") == 3
    assert scalar(server, "SELECT rows FROM maintenance_runs WHERE action = 'backup'") == 3
    assert main(["backup", str(target)]) == 1  # no --force: kept
    assert "exists (--force to replace it)" in capsys.readouterr().err


def a_pg_dump(folder: Path, script: str) -> None:
    folder.mkdir()
    program = folder / "pg_dump"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(0o755)


def test_backup_gives_pg_dump_the_password_in_its_environment_not_argv(
        server, tmp_path, monkeypatch, capsys):
    seen = tmp_path / "seen"
    a_pg_dump(tmp_path / "bin", f'echo "$@" > {seen}.argv; echo "$PGPASSWORD" > {seen}.env\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("BALAGH_DATABASE_PASSWORD", "s3cret-word")  # trust auth ignores it
    assert main(["backup", str(tmp_path / "out.dump")]) == 0, capsys.readouterr().err
    argv = Path(f"{seen}.argv").read_text()
    assert "s3cret-word" not in argv and "--format=custom" in argv and "--snapshot=" in argv
    assert Path(f"{seen}.env").read_text().strip() == "s3cret-word"


def test_backup_failures_are_one_line_and_exit_1(server, pg_server, tmp_path, monkeypatch,
                                                 capsys):
    target = tmp_path / "out.dump"
    a_pg_dump(tmp_path / "failing", "echo 'pg_dump: warning: first' >&2\n"
              "echo 'pg_dump: error: the server said no' >&2\nexit 1\n")
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", f"{tmp_path / 'failing'}:{path}")
    assert main(["backup", str(target)]) == 1
    assert capsys.readouterr().err == \
        "error: backup failed: pg_dump: pg_dump: error: the server said no\n"
    assert not target.exists() and not target.with_name("out.dump.part").exists()
    assert scalar(server, "SELECT outcome FROM maintenance_runs WHERE action = 'backup'") == \
        "failed"

    from balagh.store import server_backup

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(server_backup, "PG_BINARIES", tmp_path / "empty")
    assert main(["backup", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: backup: pg_dump not found") and err.count("\n") == 1

    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("BALAGH_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/balagh")
    assert main(["backup", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: backup: cannot open postgresql://127.0.0.1:1/balagh: ")
    assert err.count("\n") == 1, err


@pytest.mark.both_engines
async def test_redact_then_purge_beside_a_writer_that_keeps_writing_loses_nothing(store):
    for n in range(1_200):
        a_call(store, n, OLD)
    await store.writer.flush()
    written = 0
    for job in (store.retention.redact_before, store.retention.purge_before):
        running = asyncio.ensure_future(job(NOW - timedelta(days=30)))
        while not running.done():  # calls arriving all through the job
            store.calls.start_report(call_id=f"live-{written}", reference=f"L{written:07d}",
                                     channel="PJSIP/x", caller=NUMBER, hotline=None,
                                     started_at=NOW)
            written += 1
            await asyncio.sleep(0.002)
        assert await running == 1_200
    # A write that met a chunk's lock for over 50 ms went to the spool (SQLite's whole
    # file, a server's row): replayed once the chunk let go, never lost.
    async def replayed() -> bool:
        await store.writer.flush()
        return not store.writer.spooling

    await eventually_async(replayed, what="the spool replayed")
    assert store.writer.write_errors == 0 and written > 10
    async with store.queries.db.execute("SELECT COUNT(*), COUNT(caller) FROM reports") as cursor:
        assert tuple(await cursor.fetchone()) == (written, written)
