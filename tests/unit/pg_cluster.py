"""A throwaway PostgreSQL 15 cluster for tests: the sandbox's own implementation
(balagh/pbx/postgres.py: initdb as the postgres user when run as root, 127.0.0.1 on a free
port, fsync off for speed, stopped by pid), with the tests' manners: a test is skipped,
saying why, where postgresql-15 is not installed, and `one_call` writes a call's reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from balagh.pbx.postgres import (
    BIN,
    START_TIMEOUT,
    Cluster,
    free_port,
    missing,
    remove,
    standby_of,
    start_cluster,
)
from balagh.status import ReportStatus
from balagh.store import ReportStore

__all__ = ["BIN", "START_TIMEOUT", "T0", "Cluster", "missing", "one_call", "remove",
           "running", "standby_of", "start_cluster"]

_free_port = free_port  # the name some tests use

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # the calls' start: a fixed, plain day


@contextmanager
def running() -> Iterator[Cluster]:
    """A cluster of its own for the `with` block (the test is skipped, saying why, where
    postgresql-15 is not installed); removed after it, by its pid."""
    why = missing()
    if why:
        pytest.skip(why)
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        remove(cluster)


def one_call(store: ReportStore, n: int, prefix: str = "burst") -> None:
    """A caller in danger, routed: three writes of the call path."""
    call_id = f"{prefix}-{n}"
    when = T0 + timedelta(seconds=n)
    store.calls.start_report(call_id=call_id, reference=store.calls.new_reference(),
                             channel=f"PJSIP/trunk-{n}", caller="+971500000001",
                             hotline="800111", started_at=when)
    store.calls.record_answer(call_id=call_id, question="danger", value="yes", key="1",
                              attempt=1, at=when)
    store.calls.set_status(call_id=call_id, status=ReportStatus.ROUTED, at=when)
