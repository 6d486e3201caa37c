"""What several `balagh` commands share: aligned output, and the report store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from balagh.config import Settings

if TYPE_CHECKING:
    from balagh.store.reports import ReportStore


def print_fields(fields: Mapping[str, object]) -> None:
    """One `name  value` line per field, the values lined up."""
    width = max(len(name) for name in fields)
    for name, value in fields.items():
        print(f"{name:<{width}}  {value}")


def table_lines(rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    """Rows of cells as lines of columns two spaces apart; `right` columns right-aligned."""
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    return [
        "  ".join(cell.rjust(width) if col in right else cell.ljust(width)
                  for col, (cell, width) in enumerate(zip(row, widths, strict=True)))
        for row in rows
    ]


@asynccontextmanager
async def report_store(settings: Settings) -> AsyncIterator[ReportStore]:
    """The report database, closed again however the command ends."""
    from balagh.store.reports import ReportStore

    store = await ReportStore.open(settings.database, settings.spool_file)
    try:
        yield store
    finally:
        await store.close()


__all__ = ["print_fields", "report_store", "table_lines"]
