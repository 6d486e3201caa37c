"""`balagh outbox [--all] | retry [ID ...]`: report events on their way to the units.

Lists the deliveries still pending and those that failed for good (or, with --all, the
delivered ones too), and puts failed ones back in the queue. The running app's worker
sends them within a few seconds; nothing is sent from here.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, tzinfo

from balagh.cli.common import report_store, table_lines
from balagh.config import Settings
from balagh.localtime import shown
from balagh.store.queries import Delivery

__all__ = ["register"]


async def _list(settings: Settings, show_all: bool, limit: int) -> int:
    async with report_store(settings) as store:
        if show_all:
            rows = await store.queries.deliveries(None, limit)
        else:
            rows = [*await store.queries.deliveries("pending", limit),
                    *await store.queries.deliveries("failed", limit)]
            rows = sorted(rows, key=lambda row: row.id, reverse=True)[:limit]
    if not rows:
        print("no deliveries" if show_all else "nothing pending or failed")
        return 0
    for line in table_lines(_rows(rows, settings.zone), right={0, 5}):
        print(line.rstrip())
    return 0


def _rows(rows: list[Delivery], zone: tzinfo) -> list[tuple[str, ...]]:
    header = ("id", "status", "event", "reference", "url", "attempts", "next attempt",
              "last error")
    lines: list[tuple[str, ...]] = [header]
    for row in rows:
        next_attempt = shown(row.next_attempt_at, zone) if row.status == "pending" else "-"
        if row.status == "delivered":
            next_attempt = f"delivered {shown(row.delivered_at, zone)}"
        lines.append((str(row.id), row.status, row.event, row.reference or "-", row.url,
                      str(row.attempts), next_attempt, _one_line(row.last_error)))
    return lines


def _one_line(text: str | None, width: int = 60) -> str:
    if not text:
        return "-"
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


async def _retry(settings: Settings, ids: list[int]) -> int:
    async with report_store(settings) as store:
        count = await store.outbox.retry_deliveries(ids or None, datetime.now(UTC))
    which = "failed deliveries" if not ids else f"of the {len(ids)} given"
    print(f"{count} {which} pending again; the running app sends them within a few seconds")
    if ids and count < len(ids):
        print("(the others are pending, delivered or unknown: only failed ones are retried)")
    return 0


def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "retry":
        return asyncio.run(_retry(settings, args.ids))
    return asyncio.run(_list(settings, args.all, args.limit))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "outbox", help="report events on their way to the units: pending, failed, retry",
        description="List the deliveries of report events to the units' endpoints "
        "(config/handover.yaml) that are pending or failed, or retry failed ones.")
    parser.add_argument("--all", action="store_true", help="delivered ones too")
    parser.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    actions = parser.add_subparsers(dest="action")
    retry = actions.add_parser("retry", help="send failed deliveries again (all, or these ids)")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID")
    parser.set_defaults(func=_outbox, action=None)
