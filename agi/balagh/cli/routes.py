"""`balagh routes check | explain | reload | history`: make editing config/routing.yaml safe.

`check` is `nginx -t` for the routing table (exit 0 ok, 1 on an error; `--strict` also
fails on warnings), for CI and pre-commit. `explain` is a dry run through the same code
a live call takes: which rule matches, why each rule above it did not, and where the
caller goes (queue, priority, announcement, overflow chain).

`reload` asks the running app to load the table again (SIGHUP); `history` lists every
load of the table, from the report database.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from balagh.config import Settings
from balagh.config.yamlsrc import ConfigError
from balagh.hotline import HotlineFiles, load_routing
from balagh.hotline.load import LOCATIONS
from balagh.localtime import shown
from balagh.pidfile import running_pid
from balagh.readmodel.reader import TableLoad, open_reader
from balagh.routing import (
    QueueState,
    Table,
    emirate_at,
    explain,
    locate,
    make_facts,
)
from balagh.routing.location import EMIRATE_QUESTION
from balagh.store.opening import exists, report_database

__all__ = ["locations_file", "parse_facts", "register"]

_QUEUE_FIELDS = ("logged_in", "available", "callers", "longest_wait")


def locations_file(routing_file: Path) -> Path:
    return routing_file.parent / LOCATIONS


def _load(settings: Settings, routing_file: Path) -> tuple[Table, Mapping[str, str] | None,
                                                           dict[str, frozenset[str]]]:
    """The table checked against the menu, and the prefix table if there is one: the
    routing part of the hotline, loaded as the app loads it."""
    routing = load_routing(HotlineFiles.of(settings).with_files(routing=routing_file))
    return routing.table, routing.prefixes, routing.answer_values


def _check(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else settings.routing_file
    try:
        table, prefixes, _ = _load(settings, path)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"{path}: FAILED", file=sys.stderr)
        return 1
    print(f"{path}: OK, {len(table.rules)} rules, default {table.default_queue}")
    if prefixes is not None:
        print(f"{locations_file(path)}: OK, {len(prefixes)} number prefixes")
    for warning in table.warnings:
        print(f"warning: {warning}")
    if table.warnings and args.strict:
        print(f"{path}: {len(table.warnings)} warning(s), and --strict fails on warnings",
              file=sys.stderr)
        return 1
    return 0


class UsageError(ValueError):
    """A key=value argument explain cannot use."""


@dataclass
class CallFacts:
    """What `explain` was told about the call, before the location is worked out."""

    answers: dict[str, str] = field(default_factory=dict)
    caller: str | None = None
    at: datetime | None = None
    geolocation: str | None = None
    queues: dict[str, QueueState] = field(default_factory=dict)


def parse_facts(pairs: list[str], table: Table,
                answer_values: Mapping[str, frozenset[str]]) -> CallFacts:
    """question=answer, caller=, at=, emirate_geo=, geo=LAT,LON, queue.NAME.FIELD=N."""
    facts = CallFacts()
    queue_fields: dict[str, dict[str, float]] = {}
    emirates = answer_values.get(EMIRATE_QUESTION)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"'{pair}': write key=value, e.g. age=child")
        if key == "caller":
            facts.caller = value
        elif key == "at":
            facts.at = _datetime(value)
        elif key == "emirate_geo":
            if emirates is not None and value not in emirates:
                raise UsageError(f"emirate_geo: unknown emirate '{value}' (emirates: "
                                 f"{', '.join(sorted(emirates))})")
            facts.geolocation = value
        elif key == "geo":
            facts.geolocation = _point(value)
        elif key.startswith("queue."):
            name, field_name, amount = _queue_field(key, value, table)
            queue_fields.setdefault(name, {})[field_name] = amount
        elif key in answer_values:
            if value not in answer_values[key]:
                raise UsageError(f"{key}: no answer '{value}' (it has: "
                                 f"{', '.join(sorted(answer_values[key]))})")
            facts.answers[key] = value
        else:
            raise UsageError(f"unknown key '{key}' (questions: {', '.join(answer_values)}; "
                             "or caller, at, emirate_geo, geo, queue.NAME.FIELD)")
    facts.queues = {name: _queue_state(given) for name, given in queue_fields.items()}
    return facts


def _datetime(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"at: not a date and time: '{value}' (e.g. at=2026-12-02T03:00, "
                         "local time in the table's time zone)") from None


def _point(value: str) -> str | None:
    try:
        lat, lon = (float(part) for part in value.split(","))
    except ValueError:
        raise UsageError(f"geo: write LAT,LON in degrees, e.g. geo=25.35,55.42; "
                         f"got '{value}'") from None
    return emirate_at(lat, lon)


def _queue_field(key: str, value: str, table: Table) -> tuple[str, str, float]:
    _, _, rest = key.partition(".")
    name, _, field_name = rest.rpartition(".")
    if name not in table.queues:
        raise UsageError(f"{key}: unknown queue '{name}' (queues: {', '.join(table.queues)})")
    if field_name not in _QUEUE_FIELDS:
        raise UsageError(f"{key}: unknown field '{field_name}' (fields: "
                         f"{', '.join(_QUEUE_FIELDS)})")
    try:
        amount = float(value)
    except ValueError:
        raise UsageError(f"{key}: not a number: '{value}'") from None
    if amount < 0:
        raise UsageError(f"{key}: must not be negative")
    return name, field_name, amount


def _queue_state(given: Mapping[str, float]) -> QueueState:
    # Fields not given: one agent logged in and free, nobody waiting.
    logged_in = int(given.get("logged_in", 1))
    return QueueState(logged_in=logged_in, available=int(given.get("available", logged_in)),
                      callers=int(given.get("callers", 0)),
                      longest_wait=given.get("longest_wait", 0.0))


def _explain(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else settings.routing_file
    table, prefixes, values = _load(settings, path)
    try:
        told = parse_facts(args.facts, table, values)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    now = told.at if told.at is not None else datetime.now(table.zone)
    location = locate(told.answers, told.caller, told.geolocation, prefixes or {},
                      table.country_code)
    facts = make_facts(told.answers, table.zone, caller=told.caller, location=location,
                       now=now, queues=told.queues, country_code=table.country_code)
    result = explain(facts, table)
    print(f"table:    {path}")
    print(result.text())
    return 0


# --------------------------------------------------------------- reload, history


def _reload(settings: Settings, args: argparse.Namespace) -> int:
    # Only a locked pid file names a running app: a stale one may name a stranger now.
    pid = running_pid(settings.pid_file)
    if pid is None:
        print(f"balagh run is not running (no locked pid file {settings.pid_file}); "
              "the table is read when it starts")
        return 1
    settings.reload_request.write_text(f"balagh routes reload by {getpass.getuser()}"
                                       f"@{socket.gethostname()}\n", encoding="utf-8")
    os.kill(pid, signal.SIGHUP)
    print(f"asked balagh run (pid {pid}) to reload {settings.routing_file}; "
          "`balagh routes history` shows the outcome")
    return 0


async def _history_rows(settings: Settings, limit: int) -> list[TableLoad]:
    async with open_reader(report_database(settings), busy_timeout_ms=2000) as reader:
        return await reader.list_reloads(limit)


def _history(settings: Settings, args: argparse.Namespace) -> int:
    if not exists(report_database(settings)):  # a server: the reader says if it answers
        print(f"no history yet ({settings.database} does not exist)")
        return 0
    rows = asyncio.run(_history_rows(settings, args.limit))
    if not rows:
        print("no routing table loads recorded yet")
    for row in rows:
        rules = "-" if row.rules is None else f"{row.rules} rules"
        sha = (row.sha256 or "-")[:12]
        print(f"{shown(row.at, settings.zone)}  {row.outcome:<8} {rules:<9} sha256 {sha}  "
              f"{row.trigger}")
        print(f"    {row.file}")
        if row.error:
            print(f"    error: {row.error}")
    return 0


# ----------------------------------------------------------------- parser


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `balagh routes check|explain|reload|history`."""
    routes = subparsers.add_parser("routes", help="check the routing table, or explain "
                                   "where a call would go")
    actions = routes.add_subparsers(dest="action", required=True)

    check = actions.add_parser("check", help="validate routing.yaml and the locations.yaml "
                               "next to it (exit 0 ok, 1 on an error)")
    check.add_argument("file", nargs="?", help="routing table (default: the configured one)")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.set_defaults(func=_check)

    dry_run = actions.add_parser(
        "explain", help="which rule a call matches and why the ones above did not",
        description="Keys: any IVR question id (age=child), caller=+9716..., "
        "at=2026-12-02T03:00 (local time in the table's time zone; default now), "
        "emirate_geo=dubai or geo=LAT,LON (the location the SIP INVITE carried), and live "
        "queue state queue.NAME.logged_in|available|callers|longest_wait=N (fields not "
        "given: 1 agent logged in and available, nobody waiting; queues not given: "
        "unknown, so their conditions do not match).")
    dry_run.add_argument("facts", nargs="*", metavar="key=value")
    dry_run.add_argument("--file", help="routing table (default: the configured one)")
    dry_run.set_defaults(func=_explain)

    reload = actions.add_parser("reload", help="ask the running app to load routing.yaml again "
                                "(SIGHUP); a bad file is refused and the old table kept")
    reload.set_defaults(func=_reload)

    history = actions.add_parser("history", help="every load of the routing table: when, "
                                 "file hash, outcome, who or what triggered it")
    history.add_argument("--limit", type=int, default=20)
    history.set_defaults(func=_history)
