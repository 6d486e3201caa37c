"""`balagh routes reload` and `balagh routes history`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import socket

from balagh.config import Settings
from balagh.store.reports import ReportStore, TableLoad


def _reload(settings: Settings, args: argparse.Namespace) -> int:
    try:
        pid = int(settings.pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        print(f"balagh run is not running (no live pid in {settings.pid_file}); "
              "the table is read when it starts")
        return 1
    settings.reload_request.write_text(f"balagh routes reload by {getpass.getuser()}"
                                       f"@{socket.gethostname()}\n", encoding="utf-8")
    os.kill(pid, signal.SIGHUP)
    print(f"asked balagh run (pid {pid}) to reload {settings.routing_file}; "
          "`balagh routes history` shows the outcome")
    return 0


async def _history_rows(settings: Settings, limit: int) -> list[TableLoad]:
    store = await ReportStore.open(settings.database)
    try:
        return await store.list_reloads(limit)
    finally:
        await store.close()


def _history(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.database.exists():
        print(f"no history yet ({settings.database} does not exist)")
        return 0
    rows = asyncio.run(_history_rows(settings, args.limit))
    if not rows:
        print("no routing table loads recorded yet")
    for row in rows:
        rules = "-" if row.rules is None else f"{row.rules} rules"
        sha = (row.sha256 or "-")[:12]
        print(f"{row.at}  {row.outcome:<8} {rules:<9} sha256 {sha}  {row.trigger}")
        print(f"    {row.file}")
        if row.error:
            print(f"    error: {row.error}")
    return 0


def add_actions(actions: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add reload and history under `balagh routes`."""
    reload = actions.add_parser("reload", help="ask the running app to load routing.yaml again "
                                "(SIGHUP); a bad file is refused and the old table kept")
    reload.set_defaults(func=_reload)
    history = actions.add_parser("history", help="every load of the routing table: when, "
                                 "file hash, outcome, who or what triggered it")
    history.add_argument("--limit", type=int, default=20)
    history.set_defaults(func=_history)
