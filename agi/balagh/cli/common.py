"""What several `balagh` commands share: aligned output, and the report store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from balagh.config import Settings
from balagh.readmodel.table import table_lines

if TYPE_CHECKING:
    from balagh.store.reports import ReportStore


def print_fields(fields: Mapping[str, object]) -> None:
    """One `name  value` line per field, the values lined up."""
    width = max(len(name) for name in fields)
    for name, value in fields.items():
        print(f"{name:<{width}}  {value}")


@asynccontextmanager
async def report_store(settings: Settings) -> AsyncIterator[ReportStore]:
    """The report database, closed again however the command ends."""
    from balagh.store.opening import open_store

    store = await open_store(settings)
    try:
        yield store
    finally:
        await store.close()


__all__ = ["print_fields", "report_store", "table_lines"]
