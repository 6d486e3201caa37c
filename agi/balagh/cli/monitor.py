"""`balagh monitor`: supervisors listening in on calls, from the command line.

- `balagh monitor REFERENCE --phone PJSIP/sup1 --mode listen|whisper|barge` rings the
  supervisor's phone into that call (the supervisor still gives their PIN on it);
- `balagh monitor --live` lists the calls that can be monitored (numbers masked);
- `balagh monitor --audit [--reference REF] [--limit N]` lists who was refused, who
  listened in on which report, in which mode, and when it ended, newest first.

With `nodes:` in balagh.yaml the phone is rung through the node holding the call, and
`--live` lists every node's calls with the node.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import tzinfo

from balagh.ami.client import AmiSession
from balagh.cli.common import report_store, table_lines
from balagh.config import Settings, nodes_of
from balagh.localtime import shown
from balagh.readmodel.reader import MonitorEvent, reader_of
from balagh.supervise.modes import Mode
from balagh.supervise.ring import (
    LiveRow,
    live_calls,
    node_holding,
    node_sessions,
    ring_supervisor,
)

__all__ = ["AUDIT_COLUMNS", "audit_columns", "audit_lines", "register", "show_audit"]

AUDIT_COLUMNS = ("at", "supervisor", "phone", "action", "reference", "agent", "mode", "detail")


def _cell(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def audit_columns(events: Sequence[MonitorEvent]) -> tuple[str, ...]:
    """The node only where there are several (`nodes:`): one box's table stays as it was."""
    return (*AUDIT_COLUMNS, "node") if any(event.node for event in events) else AUDIT_COLUMNS


def audit_lines(events: Sequence[MonitorEvent], zone: tzinfo,
                columns: Sequence[str] = AUDIT_COLUMNS) -> list[str]:
    """The events as an aligned table, a header line first; times in the hotline's zone."""
    rows = [tuple(columns)]
    rows += [tuple(_cell(shown(event.at, zone) if column == "at" else getattr(event, column))
                   for column in columns) for event in events]
    return [line.rstrip() for line in table_lines(rows)]


async def show_audit(settings: Settings, reference: str | None, limit: int) -> int:
    if not settings.database_url and not settings.database.exists():
        print(f"no monitoring yet ({settings.database} does not exist)")
        return 0
    async with report_store(settings) as store:
        events = await reader_of(store).monitor_events(reference=reference, limit=limit)
    if not events:
        print("no monitoring" + (f" of report {reference}" if reference else "") + " recorded")
        return 0
    for line in audit_lines(events, settings.zone, audit_columns(events)):
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
    if args.live:
        return asyncio.run(show_live(settings))
    if args.reference and args.phone:
        return asyncio.run(ring(settings, args.reference, args.phone, Mode(args.mode)))
    print("error: give REFERENCE --phone PHONE [--mode MODE], --live or --audit",
          file=sys.stderr)
    return 2


async def show_live(settings: Settings) -> int:
    if not settings.database_url and not settings.database.exists():
        print(f"no calls yet ({settings.database} does not exist)")
        return 0
    if not settings.nodes:
        async with AmiSession(settings.ami) as ami, report_store(settings) as store:
            rows = await live_calls(ami, reader_of(store), settings.zone)
    else:
        rows = await _live_on_nodes(settings)
    if not rows:
        print("no call is being answered right now")
        return 0
    table: list[tuple[str, ...]] = [("reference", "queue", "agent", "talking since", "caller")]
    table += [(r.reference, r.queue, r.agent, r.talking_since, r.caller) for r in rows]
    if settings.nodes:
        table = [(*row, node) for row, node in zip(table, ["node", *(r.node for r in rows)],
                                                   strict=True)]
    for line in table_lines(table):
        print(line.rstrip())
    return 0


async def _live_on_nodes(settings: Settings) -> list[LiveRow]:
    async with node_sessions(nodes_of(settings)) as found, report_store(settings) as store:
        for name, why in found.unreachable.items():
            print(f"warning: node {name} not reached ({why}): its calls are not listed",
                  file=sys.stderr)
        rows: list[LiveRow] = []
        for name, ami in found.sessions.items():
            rows += await live_calls(ami, reader_of(store), settings.zone, name)
    return rows


async def ring(settings: Settings, reference: str, phone: str, mode: Mode) -> int:
    if not reference.isdigit():
        print(f"error: not a reference number: {reference}", file=sys.stderr)
        return 2
    if settings.nodes:
        return await _ring_on_its_node(settings, reference, phone, mode)
    async with AmiSession(settings.ami) as ami:
        await ring_supervisor(ami, phone, reference, mode)
    print(f"ringing {phone} into report {reference} ({mode.value}); the supervisor gives "
          "their PIN on the phone. `balagh monitor --audit` shows how it went.")
    return 0


async def _ring_on_its_node(settings: Settings, reference: str, phone: str,
                            mode: Mode) -> int:
    """Several nodes: the snoop must be made where the call is, so ring through it."""
    async with report_store(settings) as store:
        report = await reader_of(store).get_report(reference)
    if report is None:
        print(f"error: no report {reference}", file=sys.stderr)
        return 1
    async with node_sessions(nodes_of(settings)) as found:
        node = await node_holding(found.sessions, report.call_id)
        if node is None:
            unread = "; not reached: " + ", ".join(found.unreachable) \
                if found.unreachable else ""
            print(f"error: report {reference}'s call is on no node now{unread}",
                  file=sys.stderr)
            return 1
        await ring_supervisor(found.sessions[node], phone, reference, mode)
    print(f"ringing {phone} into report {reference} ({mode.value}) through node {node}; "
          "the supervisor gives their PIN on the phone. `balagh monitor --audit` shows how "
          "it went.")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "monitor", help="supervisors listening in: ring a phone into a call, live calls, audit",
        description="balagh monitor REFERENCE --phone PHONE [--mode listen|whisper|barge]; "
        "balagh monitor --live; balagh monitor --audit [--reference REF] [--limit N]")
    parser.add_argument("reference", nargs="?", help="a report's reference number")
    parser.add_argument("--audit", action="store_true",
                        help="list the monitoring audit (refusals, PIN checks, start, mode, end)")
    parser.add_argument("--reference", dest="audit_reference", metavar="REF",
                        help="with --audit: only this report's")
    parser.add_argument("--limit", type=int, default=50, help="with --audit: at most N lines")
    parser.add_argument("--live", action="store_true",
                        help="list the calls being answered now, which can be monitored")
    parser.add_argument("--phone", help="with REFERENCE: the supervisor's phone to ring "
                        "(an Asterisk dial string, e.g. PJSIP/sup1)")
    parser.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.LISTEN.value,
                        help="with REFERENCE: listen (default), whisper or barge")
    parser.set_defaults(func=_monitor)
