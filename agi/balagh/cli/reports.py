"""`balagh reports`: the latest reports as a table, one report in full, or retention."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from balagh.cli.common import report_store, table_lines
from balagh.config import Settings
from balagh.store import maintenance
from balagh.store.reports import MonitorEvent, Report

MONITOR_EVENTS = 1000  # monitoring lines shown with one report
COLUMNS = ("reference", "started_at", "status", "language", "queue", "priority",
           "queue_outcome", "wait_seconds", "caller", "location")


def _reports(settings: Settings, args: argparse.Namespace) -> int:
    if args.reference in ("redact", "purge"):
        if args.older_than is None:
            print(f"error: reports {args.reference} needs --older-than DAYS", file=sys.stderr)
            return 2
        return asyncio.run(apply_retention(settings, args.reference, args.older_than,
                                           dry_run=args.dry_run, vacuum=args.vacuum))
    return asyncio.run(show_reports(settings, args.reference, args.limit))


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


async def show_reports(settings: Settings, reference: str | None, limit: int) -> int:
    if not settings.database.exists():
        print(f"no reports yet ({settings.database} does not exist)")
        return 0
    async with report_store(settings) as store:
        if reference:
            report = await store.get_report(reference)
            if report is None:
                print(f"no report {reference}")
                return 1
            events = await store.monitor_events(reference=report.reference,
                                                limit=MONITOR_EVENTS)
            print_report(report, list(reversed(events)))
            return 0
        rows = await store.list_reports(limit)
    cells = [[_cell(getattr(row, column)) for column in COLUMNS] for row in rows]
    for line in table_lines([COLUMNS, *cells]):
        print(line)
    return 0


def print_report(report: Report, monitoring: Sequence[MonitorEvent] = ()) -> None:
    """The report's fields, its answers, and who listened in on it (oldest first)."""
    skip = {"answers", "answer_log", "id"}
    for column in fields(report):
        if column.name not in skip:
            print(f"{column.name:<14} {_cell(getattr(report, column.name))}")
    print("answers:")
    for answer in report.answer_log:
        print(f"  {answer.answered_at}  {answer.question:<10} {_cell(answer.value):<16}"
              f" key {_cell(answer.key)}  attempt {answer.attempt}")
    print("monitoring:" if monitoring else "monitoring: none")
    for event in monitoring:
        parts = [event.at, _cell(event.supervisor), event.action]
        parts += [f"{name} {value}" for name, value in (
            ("mode", event.mode), ("agent", event.agent), ("phone", event.phone),
            ("detail", event.detail)) if value]
        print("  " + "  ".join(parts))


async def apply_retention(settings: Settings, action: str, days: int, *,
                          dry_run: bool, vacuum: bool = False) -> int:
    """`balagh reports redact|purge --older-than DAYS [--vacuum]`: in small chunks beside
    the running app; non-zero, with the reason, when the database was not changed."""
    if days < 1:
        print("error: --older-than must be at least 1 day")
        return 1
    if not settings.database.exists():
        print(f"no reports ({settings.database} does not exist)")
        return 0
    before = datetime.now(UTC) - timedelta(days=days)
    if dry_run:
        async with report_store(settings) as store:
            count = await store.count_before(before)
        print(f"{count} report(s) started before {before:%Y-%m-%d %H:%M} UTC would be "
              f"{'redacted' if action == 'redact' else 'deleted'}")
        return 0
    run = maintenance.redact if action == "redact" else maintenance.purge
    try:
        done = await asyncio.to_thread(run, settings.database, before, vacuum=vacuum)
    except maintenance.MaintenanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if action == "redact":
        print(f"redacted caller number and location of {done.rows} report(s) started before "
              f"{before:%Y-%m-%d %H:%M} UTC")
    else:
        print(f"deleted {done.rows} report(s) started before {before:%Y-%m-%d %H:%M} UTC, "
              f"with {done.detail.get('answers', 0)} answer(s) and "
              f"{done.detail.get('report_events', 0)} timeline event(s)")
    if done.detail.get("checkpoint") != "complete":
        print("note: the WAL could not be emptied while the app reads; old values may stay "
              "in balagh.sqlite3-wal until the next checkpoint (run again when quiet, or "
              "with --vacuum)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reports = subparsers.add_parser(
        "reports", help="list recent reports, show one, or apply retention",
        description="balagh reports [REFERENCE]; balagh reports redact --older-than DAYS "
        "(forget caller numbers and locations); balagh reports purge --older-than DAYS "
        "(delete reports and their answers)")
    reports.add_argument("reference", nargs="?", help="a reference number, or redact / purge")
    reports.add_argument("--limit", type=int, default=20)
    reports.add_argument("--older-than", type=int, metavar="DAYS",
                         help="with redact or purge: reports started more than DAYS ago")
    reports.add_argument("--dry-run", action="store_true",
                         help="with redact or purge: only count")
    reports.add_argument("--vacuum", action="store_true",
                         help="with redact or purge: rewrite the file afterwards (holds the "
                         "lock for the whole rewrite; the app spools meanwhile)")
    reports.set_defaults(func=_reports)
