"""`balagh monitor`: supervisors listening in on calls.

For now only the audit: `balagh monitor --audit [--reference REF] [--limit N]` lists
who was refused, who listened in on which report, in which mode, and when it ended,
newest first. Listening in from the command line is added to this same parser.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from balagh.cli.common import report_store, table_lines
from balagh.config import Settings
from balagh.store.queries import MonitorEvent

__all__ = ["AUDIT_COLUMNS", "audit_lines", "register", "show_audit"]

AUDIT_COLUMNS = ("at", "supervisor", "phone", "action", "reference", "agent", "mode", "detail")


def _cell(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def audit_lines(events: Sequence[MonitorEvent], columns: Sequence[str] = AUDIT_COLUMNS,
                ) -> list[str]:
    """The events as an aligned table, a header line first."""
    rows = [tuple(columns)]
    rows += [tuple(_cell(getattr(event, column)) for column in columns) for event in events]
    return [line.rstrip() for line in table_lines(rows)]


async def show_audit(settings: Settings, reference: str | None, limit: int) -> int:
    if not settings.database.exists():
        print(f"no monitoring yet ({settings.database} does not exist)")
        return 0
    async with report_store(settings) as store:
        events = await store.monitor_events(reference=reference, limit=limit)
    if not events:
        print("no monitoring" + (f" of report {reference}" if reference else "") + " recorded")
        return 0
    for line in audit_lines(events):
        print(line)
    return 0


def _monitor(settings: Settings, args: argparse.Namespace) -> int:
    """Dispatch: --audit lists; other modes are added beside it."""
    if args.audit:
        if args.limit < 1:
            print("error: --limit must be at least 1", file=sys.stderr)
            return 1
        return asyncio.run(show_audit(settings, args.audit_reference or args.reference,
                                      args.limit))
    print("error: give --audit (listening in from the command line is not available yet)",
          file=sys.stderr)
    return 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "monitor", help="supervisors listening in: the audit of who listened to what",
        description="balagh monitor --audit [--reference REF] [--limit N]: the monitoring "
        "audit, newest first.")
    parser.add_argument("reference", nargs="?", help="a report's reference number")
    parser.add_argument("--audit", action="store_true",
                        help="list the monitoring audit (refusals, PIN checks, start, mode, end)")
    parser.add_argument("--reference", dest="audit_reference", metavar="REF",
                        help="with --audit: only this report's")
    parser.add_argument("--limit", type=int, default=50, help="with --audit: at most N lines")
    parser.set_defaults(func=_monitor)
