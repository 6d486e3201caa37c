"""The read model's own connection, the console's feed and health's store line on both
engines: the SQLite file, or the PostgreSQL server `database_url` names."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.config import Settings
from balagh.console.feed import Feed
from balagh.health.probes import routing_check, store_check
from balagh.health.report import Status
from balagh.readmodel.reader import open_reader
from balagh.readmodel.search import ReportSearch
from balagh.status import ReportStatus
from balagh.store import ReportStore, postgres_schema, schema
from balagh.store.engine import PostgresEngine
from balagh.store.opening import report_database
from balagh.store.postgres_sync import connect_sync
from balagh.vocabulary import ReloadAttempt

from . import pg_cluster


def _call(store: ReportStore, call_id: str, at: datetime, *, queue: str = "general") -> str:
    reference = store.calls.new_reference()
    store.calls.start_report(call_id=call_id, reference=reference, channel="PJSIP/x-1",
                             caller="+97165559876", hotline="800700", started_at=at)
    store.calls.record_answer(call_id=call_id, question="danger", value="yes", key="1",
                              attempt=1, at=at)
    store.calls.record_decision(call_id=call_id, rule="default", queue=queue, priority=10,
                                at=at, danger=True)
    store.calls.set_status(call_id=call_id, status=ReportStatus.ROUTED, at=at)
    return reference


def _database(store: ReportStore) -> Path | PostgresEngine:
    return store.engine if store.engine is not None else store.path


def _settings(store: ReportStore, tmp_path: Path) -> Settings:
    """Settings that name the store's database: its server, or its file's folder."""
    if store.engine is not None:
        return Settings(data_dir=tmp_path / "app", database_url=store.engine.url)
    return Settings(data_dir=tmp_path / "app")


# ------------------------------------------------------------------ the read model

@pytest.mark.both_engines
async def test_open_reader_reads_reports_timelines_and_hours(store: ReportStore) -> None:
    at = datetime(2026, 11, 1, 10, tzinfo=UTC)
    reference = _call(store, "c1", at)
    _call(store, "c2", at + timedelta(hours=2), queue="child-protection")
    await store.writer.flush()
    async with open_reader(_database(store), busy_timeout_ms=1000) as reader:
        found = await reader.get_report(reference)
        assert found is not None and found.answers == {"danger": "yes"}
        assert [r.call_id for r in await reader.search_reports(
            ReportSearch(queue="child-protection"))] == ["c2"]
        assert [e.kind.value for e in await reader.timeline(reference)][:1] == ["started"]
        hours = await reader.calls_per_hour(at, at + timedelta(days=1), UTC)
        assert (hours[10], hours[12], sum(hours)) == (1, 1, 2)


@pytest.mark.both_engines
async def test_data_version_moves_when_another_connection_commits(store: ReportStore) -> None:
    async with open_reader(_database(store), busy_timeout_ms=1000) as reader:
        before = await reader.data_version()
        assert before is not None
        assert await reader.data_version() == before  # nothing written: it stands still
        _call(store, "c1", datetime(2026, 11, 1, 10, tzinfo=UTC))
        await store.writer.flush()
        assert await reader.data_version() != before


@pytest.mark.both_engines
async def test_the_console_feed_shows_live_calls_and_today(store: ReportStore,
                                                           tmp_path: Path) -> None:
    settings = _settings(store, tmp_path)
    if store.engine is None:  # the file the settings name
        store = await ReportStore.open(settings.database)
    now = datetime.now(UTC).replace(microsecond=0)
    reference = _call(store, "live-1", now)
    await store.writer.flush()
    feed = Feed(settings, ["danger"])
    try:
        await feed.rebuild()
        snapshot = feed.snapshot
        assert [call["reference"] for call in snapshot["calls"]] == [reference]
        assert snapshot["today"]["calls"] == 1
    finally:
        await feed.stop()
        if store.engine is None:
            await store.close()


def test_report_database_follows_database_url(tmp_path: Path) -> None:
    assert report_database(Settings(data_dir=tmp_path)) == tmp_path / "balagh.sqlite3"
    server = report_database(Settings(data_dir=tmp_path,
                                      database_url="postgresql://balagh@db1:5432/balagh",
                                      database_password="pw"))
    assert isinstance(server, PostgresEngine) and server.name == "postgresql://db1:5432/balagh"


# ------------------------------------------------------------------ health's store line

@pytest.mark.both_engines
async def test_the_store_line_shows_schema_spool_and_outbox(store: ReportStore,
                                                            tmp_path: Path) -> None:
    settings = _settings(store, tmp_path)
    if store.engine is None:
        store = await ReportStore.open(settings.database)
    at = datetime(2026, 11, 1, 10, tzinfo=UTC)
    store.outbox.queue_delivery(key="k1", url="http://unit.example/x", event="routed",
                                reference="1", body="{}", at=at)
    store.calls.record_reload(ReloadAttempt(file="routing.yaml", sha256=None, trigger="start",
                                            outcome="applied", rules=3, error=None, at=at))
    await store.writer.flush()
    if store.engine is None:
        await store.close()
    check = store_check(settings)
    version = schema.VERSION if store.engine is None else postgres_schema.VERSION
    assert check.status is Status.OK, check.summary
    assert f"writable (schema {version}), spool empty, outbox 1 pending, 0 failed" in check.summary
    name = str(settings.database) if store.engine is None else store.engine.name
    assert check.summary.startswith(name)
    assert "the app's last load: applied" in routing_check(settings).summary


async def test_a_read_only_server_is_not_writable(pg_server: pg_cluster.Cluster,
                                                  tmp_path: Path) -> None:
    """What a standby (or a demoted primary) answers: reads, but no write."""
    url = pg_server.new_database()
    store = await ReportStore.open_server(PostgresEngine(url), tmp_path / "balagh.spool")
    await store.close()
    conn = connect_sync(url, read_only=False)
    conn.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET default_transaction_read_only"
                 " = on")
    conn.close()
    check = store_check(Settings(data_dir=tmp_path, database_url=url))
    assert check.status is Status.DEGRADED
    assert "NOT writable: cannot execute INSERT in a read-only transaction" in check.summary


def test_a_server_that_is_down_is_down_in_one_line_without_its_password(
        tmp_path: Path) -> None:
    port = pg_cluster._free_port()  # nothing listens there
    url = f"postgresql://balagh@127.0.0.1:{port}/balagh"
    began = time.monotonic()
    check = store_check(Settings(data_dir=tmp_path, database_url=url,
                                 database_password="s3cret-word"))
    assert check.status is Status.DOWN
    assert check.summary.startswith(f"postgresql://127.0.0.1:{port}/balagh is unreachable: ")
    assert "\n" not in check.summary and "s3cret-word" not in check.summary
    assert "balagh@" not in check.summary
    assert time.monotonic() - began < 30  # bounded by its own connect timeout, not a hang


# ------------------------------------------------------------------ the routing table's history

@pytest.mark.both_engines
async def test_routes_history_reads_the_database_the_settings_name(
        store: ReportStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from balagh.cli import main

    store.calls.record_reload(ReloadAttempt(
        file="/etc/balagh/routing.yaml", sha256="ab" * 32, trigger="sighup", outcome="applied",
        rules=7, error=None, at=datetime(2026, 11, 1, 10, tzinfo=UTC)))
    await store.writer.flush()
    if store.engine is not None:
        monkeypatch.setenv("BALAGH_DATABASE_URL", store.engine.url)
        monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path / "app"))
    else:
        (tmp_path / "app").mkdir()
        (tmp_path / "app" / "balagh.sqlite3").symlink_to(store.path)
        monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path / "app"))
    assert await asyncio.to_thread(main, ["routes", "history"]) == 0
    out = capsys.readouterr().out
    assert "applied  7 rules" in out and "/etc/balagh/routing.yaml" in out
