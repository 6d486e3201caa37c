"""`balagh watchdog`: move callers out of an app that has stopped answering."""

from __future__ import annotations

import argparse
import asyncio
import sys

from balagh.config import Settings


def _watchdog(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.watchdog.service import run_watchdog

    if not settings.ari.enabled:
        # Nothing to watch: callers never wait in an ARI app there; a FastAGI route that
        # fails leaves the caller to the dialplan's own fallback (the general queue).
        print("balagh watchdog: ari.enabled is false (a FastAGI-only site): no caller ever "
              "waits in the app, so there is nothing to watch; exiting", file=sys.stderr)
        return 0
    if args.grace <= 0 or args.interval <= 0:
        raise SystemExit("balagh watchdog: --grace and --interval must be more than 0 seconds")
    return asyncio.run(run_watchdog(settings, grace=args.grace, interval=args.interval))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from balagh.watchdog.monitor import DEFAULT_GRACE_SECONDS, DEFAULT_INTERVAL_SECONDS

    command = subparsers.add_parser(
        "watchdog", help="route callers held in the app when it stops answering",
        description="Runs beside `balagh run` (its own service). When the app's heartbeat "
                    "has stopped for --grace seconds, every caller still held in the app is "
                    "routed by the answers given so far and sent on to its queue.")
    command.add_argument("--grace", type=float, default=DEFAULT_GRACE_SECONDS,
                         help="seconds without a heartbeat before callers are moved "
                              f"(default {DEFAULT_GRACE_SECONDS:g})")
    command.add_argument("--interval", type=float, default=DEFAULT_INTERVAL_SECONDS,
                         help=f"seconds between checks (default {DEFAULT_INTERVAL_SECONDS:g})")
    command.set_defaults(func=_watchdog)
