"""`balagh callers check-key | rotate-key`: the caller-hash key that recognises repeat callers.

rotate-key: a new key hashes new calls; the previous one is kept for the repeat window
(then dropped), and the reports of that window that still hold their number are hashed
again with the new key, so their callers are still recognised.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from balagh.cli.confirm import Progress, Refused, add_yes_argument, confirm
from balagh.config import Settings
from balagh.handover import callers
from balagh.store import maintenance
from balagh.store.opening import report_database
from balagh.vocabulary import REPEAT_WINDOW

__all__ = ["register"]


def _check(settings: Settings, args: argparse.Namespace) -> int:
    del args
    try:
        keys = callers.caller_keys(settings.data_dir)
    except (callers.CallerKeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    where = (callers.KEY_ENV if os.environ.get(callers.KEY_ENV)
             else str(callers.key_path(settings.data_dir)))
    print(f"caller-hash key: {where} ({len(keys.current) // 2} bytes)")
    if keys.previous_until:
        print(f"previous key kept until {keys.previous_until.isoformat()}")
    return 0


def _rotate(settings: Settings, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    window = timedelta(days=args.window_days)
    database = report_database(settings)
    # A server always has its reports; a site's SQLite file may not exist yet.
    reports = not isinstance(database, Path) or database.exists()
    try:
        count = maintenance.pending(database, "rehash", now - window) if reports else 0
        confirm(f"replace the caller-hash key and hash again {count} report(s) of the "
                f"last {args.window_days} days", yes=args.yes)
    except maintenance.MaintenanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Refused as exc:
        print(exc, file=sys.stderr)
        return exc.status
    try:
        keys = callers.rotate_caller_key(settings.data_dir, now, window)
    except (callers.CallerKeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"new caller-hash key in {callers.key_path(settings.data_dir)}; the previous one is "
          f"kept until {(now + window).isoformat(timespec='seconds')}")
    if reports:
        progress = Progress("rehash", count)
        try:
            run = maintenance.rehash_callers(database, now - window,
                                             lambda number: callers.caller_hash(keys.current,
                                                                                number),
                                             progress=progress)
        except maintenance.MaintenanceError as exc:
            print(f"error: the key is rotated but the recent reports were not hashed again: "
                  f"{exc}; run `balagh callers rotate-key` again after fixing it",
                  file=sys.stderr)
            return 1
        progress.finish(run.rows)
        print(f"hashed again with the new key: {run.rows} report(s) of the last "
              f"{args.window_days} days that still hold their number")
    print("restart balagh and balagh-watchdog: they hash with the key they started with")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "callers", help="the caller-hash key (repeat callers)",
        description="Check or rotate the caller-hash key (<data_dir>/keys/caller-hash.key) "
        "that recognises repeat callers without keeping their numbers.")
    commands = parser.add_subparsers(dest="callers_command", required=True)
    check = commands.add_parser("check-key", help="check the key (length, form, where)")
    check.set_defaults(func=_check)
    rotate = commands.add_parser(
        "rotate-key", help="a new key for new calls; the previous one kept for the window",
        description="Write a new random key; keep the previous one for the repeat window, "
        "then drop it; hash again with the new key the window's reports that still hold "
        "their number. Restart balagh and balagh-watchdog afterwards.")
    rotate.add_argument("--window-days", type=int, default=REPEAT_WINDOW.days,
                        metavar="DAYS", help="how long the previous key is kept (default "
                        "%(default)s, the repeat window)")
    add_yes_argument(rotate)
    rotate.set_defaults(func=_rotate)
