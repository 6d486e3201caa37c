"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from balagh.store import ReportStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ReportStore]:
    """An empty report store in its own directory (created by open), closed after the test."""
    store = await ReportStore.open(tmp_path / "data" / "balagh.db")
    yield store
    await store.close()
