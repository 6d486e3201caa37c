"""`balagh reports`: reports found by filters as a table, CSV or JSON; one report in full
with its timeline; or retention.

Callers' numbers are masked unless --show-numbers is given; each such use is recorded in
maintenance_runs (and logged) before a number is shown, and refused if it cannot be.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, Any

import structlog

from balagh.cli.common import report_store
from balagh.cli.confirm import Progress, Refused, add_yes_argument, confirm
from balagh.cli.names import refuse_unknown
from balagh.config import Settings
from balagh.localtime import shown
from balagh.readmodel.reader import MonitorEvent, reader_of
from balagh.readmodel.rows import (
    FORMATS,
    TIME_COLUMNS,
    WRITERS,
    cell,
    report_consent,
    shown_detail,
    shown_number,
)
from balagh.readmodel.search import QUEUE_OUTCOMES, ReportSearch, parse_moment
from balagh.readmodel.timeline import timeline_lines
from balagh.status import ReportStatus
from balagh.store import maintenance
from balagh.store.disclosures import Disclosures
from balagh.store.events import TimelineEvent
from balagh.store.opening import report_database
from balagh.store.queries import Report
from balagh.vocabulary import REPEAT_WINDOW

log = structlog.get_logger(__name__)

MONITOR_EVENTS = 1000  # monitoring lines shown with one report
TABLE_LIMIT = 20  # reports in the table when no --limit is given (exports: all)
REPEAT_DAYS = REPEAT_WINDOW.days  # the same window as the repeat count agents are told


class NotRecorded(Exception):
    """--show-numbers could not be recorded, so no number is shown."""


def _reports(settings: Settings, args: argparse.Namespace) -> int:
    if args.reference in ("redact", "purge"):
        if args.older_than is None:
            print(f"error: reports {args.reference} needs --older-than DAYS", file=sys.stderr)
            return 2
        return asyncio.run(apply_retention(settings, args.reference, args.older_than,
                                           dry_run=args.dry_run, vacuum=args.vacuum,
                                           yes=args.yes))
    try:
        search = search_from(args, settings.zone)
        refuse_unknown(settings, {"queue": args.queue, "emirate": args.emirate,
                                  "language": args.language})
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.reference:
        return asyncio.run(show_report(settings, args.reference, args.show_numbers))
    return asyncio.run(list_reports(settings, search, args.format, args.output,
                                    args.show_numbers))


def search_from(args: argparse.Namespace, zone: tzinfo) -> ReportSearch:
    """The command line's filters as a search."""
    limit = args.limit
    if limit is None:
        limit = TABLE_LIMIT if args.format == "table" else None
    elif limit < 1:
        raise ValueError("--limit must be at least 1")
    if args.repeat is not None and args.repeat < 1:
        raise ValueError("--repeat must be at least 1 day")
    return ReportSearch(
        since=parse_moment(args.since, zone) if args.since else None,
        until=parse_moment(args.until, zone, end_of_day=True) if args.until else None,
        queue=args.queue, status=args.status, outcome=args.outcome, danger=args.danger,
        emirate=args.emirate, language=args.language, repeat_days=args.repeat, limit=limit)


async def disclose(disclosures: Disclosures, filters: dict[str, Any], rows: int) -> None:
    """Record (and wait for) a use of --show-numbers before any number is shown."""
    user = getpass.getuser()
    if not await disclosures.numbers_shown(at=datetime.now(UTC), user=user, filters=filters,
                                           rows=rows):
        raise NotRecorded("the use of --show-numbers could not be recorded")
    log.warning("reports.numbers_shown", user=user, filters=filters, rows=rows)


async def list_reports(settings: Settings, search: ReportSearch, format: str,
                       output: Path | None, show_numbers: bool) -> int:
    if not settings.database_url and not settings.database.exists():
        print(f"no reports yet ({settings.database} does not exist)")
        return 0
    async with report_store(settings) as store:
        reports = await reader_of(store).search_reports(search)
        if show_numbers:
            try:
                await disclose(store.disclosures, {"format": format, **search.described()},
                               len(reports))
            except NotRecorded as exc:
                print(f"error: {exc}; numbers not shown", file=sys.stderr)
                return 1
    with _opened(output) as out:
        WRITERS[format](reports, out, show_numbers, settings.zone)
    if output is not None:
        print(f"{len(reports)} report(s) written to {output}")
    return 0


@contextmanager
def _opened(output: Path | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


async def show_report(settings: Settings, reference: str, show_numbers: bool) -> int:
    if not settings.database_url and not settings.database.exists():
        print(f"no reports yet ({settings.database} does not exist)")
        return 0
    async with report_store(settings) as store:
        reader = reader_of(store)
        report = await reader.get_report(reference)
        if report is None:
            print(f"no report {reference}")
            return 1
        if show_numbers:
            try:
                await disclose(store.disclosures, {"reference": report.reference}, 1)
            except NotRecorded as exc:
                print(f"error: {exc}; numbers not shown", file=sys.stderr)
                return 1
        events = await reader.monitor_events(reference=report.reference, limit=MONITOR_EVENTS)
        timeline = await reader.timeline(report.call_id)
    print_report(report, list(reversed(events)), timeline, show_numbers=show_numbers,
                 zone=settings.zone)
    return 0


def print_report(report: Report, monitoring: Sequence[MonitorEvent] = (),
                 timeline: Sequence[TimelineEvent] = (), *, show_numbers: bool = False,
                 zone: tzinfo = UTC) -> None:
    """The report's fields, its answers, its timeline and who listened in (oldest first);
    times in the hotline's `zone`."""
    skip = {"answers", "answer_log", "id", "caller_hash"}
    for column in fields(report):
        if column.name in skip:
            continue
        value = getattr(report, column.name)
        if column.name == "caller":
            value = shown_number(value, show_numbers)
        elif column.name == "status_detail":
            value = shown_detail(value)
        elif column.name in TIME_COLUMNS:
            value = shown(value, zone)
        print(f"{column.name:<14} {cell(value)}")
    # yes only when the caller said so on a number we still have (balagh.consent)
    print(f"{'consent':<14} {report_consent(report)}")
    print("answers:")
    for answer in report.answer_log:
        print(f"  {shown(answer.answered_at, zone)}  {answer.question:<10} {cell(answer.value):<16}"
              f" key {cell(answer.key)}  attempt {answer.attempt}")
    print("timeline:" if timeline else "timeline: none")
    for line in timeline_lines(report.started_at, timeline, zone):
        print(line)
    print("monitoring:" if monitoring else "monitoring: none")
    for event in monitoring:
        parts = [shown(event.at, zone), cell(event.supervisor), event.action]
        parts += [f"{name} {value}" for name, value in (
            ("mode", event.mode), ("agent", event.agent), ("phone", event.phone),
            ("detail", event.detail)) if value]
        print("  " + "  ".join(parts))


async def apply_retention(settings: Settings, action: str, days: int, *,
                          dry_run: bool, vacuum: bool = False, yes: bool = False) -> int:
    """`balagh reports redact|purge --older-than DAYS [--vacuum] [--yes]`: asked for first
    (or --yes), then in small chunks beside the running app, with progress on stderr;
    non-zero, with the reason, when the database was not changed."""
    if days < 1:
        print("error: --older-than must be at least 1 day")
        return 1
    database = report_database(settings)
    if isinstance(database, Path) and not database.exists():
        print(f"no reports ({database} does not exist)")
        return 0
    before = datetime.now(UTC) - timedelta(days=days)
    verb = "redact" if action == "redact" else "delete"
    try:
        count = maintenance.pending(database, action, before)
    except maintenance.MaintenanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    what = f"{count} report(s) started before {shown(before, settings.zone)}"
    if dry_run:
        print(f"{what} would be {'redacted' if action == 'redact' else 'deleted'}")
        return 0
    try:
        confirm(f"{verb} {what}", yes=yes)
    except Refused as exc:
        print(exc, file=sys.stderr)
        return exc.status
    run = maintenance.redact if action == "redact" else maintenance.purge
    progress = Progress(f"{action} {database.name}", count)
    try:
        done = await asyncio.to_thread(run, database, before, vacuum=vacuum,
                                       progress=progress)
    except maintenance.MaintenanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    progress.finish(done.rows)
    from balagh.console.dispositions import apply_retention as dispositions_retention

    notes = dispositions_retention(settings.console_database, action, before)
    if notes:
        print(f"{'emptied the notes of' if action == 'redact' else 'deleted'} {notes} agent "
              f"disposition(s) saved before {shown(before, settings.zone)}")
    if action == "redact":
        print(f"redacted caller number and location of {done.rows} report(s) started before "
              f"{shown(before, settings.zone)} (in answers, timeline and outbox too)")
    else:
        print(f"deleted {done.rows} report(s) started before {shown(before, settings.zone)}, "
              f"with {done.detail.get('answers', 0)} answer(s) and "
              f"{done.detail.get('report_events', 0)} timeline event(s)")
    if done.detail.get("checkpoint") == "server":
        if not done.detail.get("vacuum"):
            print("note: on PostgreSQL the old row versions stay in the tables' files until "
                  "autovacuum clears them (--vacuum to clear them now), and in the WAL, "
                  "standbys and dumps until those are recycled")
    elif done.detail.get("checkpoint") != "complete":
        print("note: the WAL could not be emptied while the app reads; old values may stay "
              "in balagh.sqlite3-wal until the next checkpoint (run again when quiet, or "
              "with --vacuum)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reports = subparsers.add_parser(
        "reports", help="find reports, export them, show one with its timeline, or apply "
        "retention",
        description="balagh reports [filters] [--format table|csv|json] [--output FILE]; "
        "balagh reports REFERENCE; balagh reports redact --older-than DAYS "
        "(forget caller numbers and locations); balagh reports purge --older-than DAYS "
        "(delete reports and their answers)")
    reports.add_argument("reference", nargs="?", help="a reference number, or redact / purge")
    reports.add_argument("--limit", type=int,
                         help=f"at most N reports (default {TABLE_LIMIT} in the table, "
                         "all in CSV/JSON)")
    reports.add_argument("--older-than", type=int, metavar="DAYS",
                         help="with redact or purge: reports started more than DAYS ago")
    reports.add_argument("--dry-run", action="store_true",
                         help="with redact or purge: only count")
    reports.add_argument("--vacuum", action="store_true",
                         help="with redact or purge: rewrite the file afterwards (holds the "
                         "lock for the whole rewrite; the app spools meanwhile); on "
                         "PostgreSQL a plain VACUUM of the tables changed (no lock held)")
    add_yes_argument(reports)
    filters = reports.add_argument_group("filters (listing and export)")
    filters.add_argument("--since", metavar="WHEN",
                         help="started at or after: YYYY-MM-DD or YYYY-MM-DDTHH:MM, in the "
                         "hotline's time zone (balagh.yaml `timezone`) unless it says +HH:MM")
    filters.add_argument("--until", metavar="WHEN",
                         help="started before; a bare date includes that whole day")
    filters.add_argument("--queue", help="routed to, or last waited in, this queue")
    filters.add_argument("--status", choices=[str(status) for status in ReportStatus])
    filters.add_argument("--outcome", choices=QUEUE_OUTCOMES,
                         help="the queue's side: answered by an agent, or abandoned")
    filters.add_argument("--danger", action=argparse.BooleanOptionalAction, default=None,
                         help="only callers in danger (--no-danger: only the others)")
    filters.add_argument("--emirate")
    filters.add_argument("--language")
    filters.add_argument("--repeat", type=int, nargs="?", const=REPEAT_DAYS, metavar="DAYS",
                         help="only callers who had called in the DAYS before "
                         f"(default {REPEAT_DAYS})")
    out = reports.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default="table")
    out.add_argument("--output", type=Path, metavar="FILE",
                     help="write the table, CSV or JSON here instead of to the screen")
    out.add_argument("--show-numbers", action="store_true",
                     help="callers' numbers in full (recorded, with your user name)")
    reports.set_defaults(func=_reports)
