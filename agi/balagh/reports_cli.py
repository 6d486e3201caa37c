"""`balagh reports`: the latest reports as a table, or one report in full."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from balagh.config import Settings
from balagh.store.reports import Report, ReportStore

COLUMNS = ("reference", "started_at", "status", "language", "queue", "priority",
           "queue_outcome", "wait_seconds", "caller", "location")


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


async def show_reports(settings: Settings, reference: str | None, limit: int) -> int:
    if not settings.database.exists():
        print(f"no reports yet ({settings.database} does not exist)")
        return 0
    store = await ReportStore.open(settings.database)
    try:
        if reference:
            report = await store.get_report(reference)
            if report is None:
                print(f"no report {reference}")
                return 1
            print_report(report)
            return 0
        rows = await store.list_reports(limit)
    finally:
        await store.close()
    table = [COLUMNS, *[[_cell(getattr(row, c)) for c in COLUMNS] for row in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


def print_report(report: Report) -> None:
    skip = {"answers", "answer_log", "id"}
    for column in fields(report):
        if column.name not in skip:
            print(f"{column.name:<14} {_cell(getattr(report, column.name))}")
    print("answers:")
    for answer in report.answer_log:
        print(f"  {answer.answered_at}  {answer.question:<10} {_cell(answer.value):<16}"
              f" key {_cell(answer.key)}  attempt {answer.attempt}")


async def apply_retention(settings: Settings, action: str, days: int, *,
                          dry_run: bool) -> int:
    """`balagh reports redact|purge --older-than DAYS`."""
    if days < 1:
        print("error: --older-than must be at least 1 day")
        return 1
    if not settings.database.exists():
        print(f"no reports ({settings.database} does not exist)")
        return 0
    before = datetime.now(UTC) - timedelta(days=days)
    store = await ReportStore.open(settings.database)
    try:
        if dry_run:
            count = await store.count_before(before)
            print(f"{count} report(s) started before {before:%Y-%m-%d %H:%M} UTC would be "
                  f"{'redacted' if action == 'redact' else 'deleted'}")
            return 0
        if action == "redact":
            count = await store.redact_before(before)
            print(f"redacted caller number and location of {count} report(s) started before "
                  f"{before:%Y-%m-%d %H:%M} UTC")
        else:
            count = await store.purge_before(before)
            print(f"deleted {count} report(s) started before {before:%Y-%m-%d %H:%M} UTC, "
                  "with their answers")
        return 1 if store.write_errors else 0
    finally:
        await store.close()
