"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from balagh.store import ReportStore

from . import pg_cluster

ENGINES = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_engines: run the test's `store` on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
            "both_engines"):
        metafunc.parametrize("store", ENGINES, indirect=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg_cluster.Cluster]:
    """One PostgreSQL 15 cluster for the session; each test takes a database of its own."""
    with pg_cluster.running() as cluster:
        yield cluster


@pytest.fixture
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ReportStore]:
    """An empty report store in its own directory (created by open), closed after the test:
    SQLite, or (tests marked both_engines) each engine in turn."""
    engine = getattr(request, "param", "sqlite")
    if engine == "postgresql":
        from balagh.store.engine import PostgresEngine

        server: pg_cluster.Cluster = request.getfixturevalue("pg_server")
        store = await ReportStore.open_server(PostgresEngine(server.new_database()),
                                              tmp_path / "data" / "balagh.spool")
    else:
        store = await ReportStore.open(tmp_path / "data" / "balagh.db")
    yield store
    await store.close()
