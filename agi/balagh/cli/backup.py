"""`balagh backup FILE [--force [--yes]] [--with-keys]`: a consistent copy of the report
database.

SQLite's online backup over one read snapshot (store/maintenance.py): the running
app goes on writing meanwhile. The copy is one self-contained file. With
`database_url`, the server's own pg_dump in its custom format (store/server_backup.py;
restored with pg_restore, docs/scale.md). The caller-hash key
(<data_dir>/keys) stays out of it: a backup that leaks with its key lets anyone try every
number against the hashes. --with-keys copies the keys to FILE.keys/ on purpose.

--force replaces an existing FILE (the new copy is written beside it and renamed over it
only once complete): on a terminal it asks first; elsewhere (cron, a script) nobody can
answer, so it needs --yes, and --force alone is refused before anything is read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from balagh.cli.confirm import Refused, add_yes_argument, confirm
from balagh.config import Settings
from balagh.handover import callers
from balagh.store import maintenance
from balagh.store.opening import report_database

__all__ = ["register"]


def _may_overwrite(target: Path, *, yes: bool) -> None:
    """--force's question: asked on a terminal when FILE is there; off a terminal --force
    needs --yes whether or not FILE is there today, so a script fails on its first run,
    not on the night its file happens to exist."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise Refused(f"error: --force replaces {target} if it exists, and there is no "
                      "terminal to ask on: add --yes (--force --yes) to do it", 2)
    if target.exists():
        confirm(f"overwrite {target}", yes=False)


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    target: Path = args.file
    if args.force:
        try:
            _may_overwrite(target, yes=args.yes)
        except Refused as exc:
            print(exc, file=sys.stderr)
            return exc.status
    database = report_database(settings)
    if isinstance(database, Path) and not database.exists():
        print(f"error: no database at {database}", file=sys.stderr)
        return 1
    try:
        if isinstance(database, Path):
            run = maintenance.backup(database, target, force=args.force)
        else:
            from balagh.store.server_backup import dump

            run = dump(database, target, force=args.force)
    except maintenance.MaintenanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    size = run.detail["bytes"]
    print(f"backed up {run.rows} report(s) to {target} ({size / 1e6:.1f} MB, "
          f"{run.seconds:.1f} s)")
    if args.with_keys:
        keys = target.with_name(target.name + ".keys")
        try:
            copied = callers.copy_keys(settings.data_dir, keys)
        except OSError as exc:
            print(f"error: the database is backed up but the keys are not: {exc}",
                  file=sys.stderr)
            return 1
        print(f"copied {len(copied)} key file(s) to {keys}: keep them apart from the backup")
    else:
        print("the caller-hash key is not in the backup (--with-keys to copy it)")
    if run.detail.get("unrecorded"):
        print("note: the database is not writable, so this backup is not in maintenance_runs; "
              "see `balagh health`")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "backup", help="copy the report database consistently while calls run",
        description="Write a consistent copy of the report database to FILE using SQLite's "
        "online backup, or on a PostgreSQL server (database_url) its own pg_dump in the "
        "custom format (restore with pg_restore); the running app is not stopped. Refuses "
        "to replace FILE without --force; --force asks on a terminal and needs --yes "
        "elsewhere. Each backup is recorded in the database (maintenance_runs).")
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--force", action="store_true",
                        help="replace FILE if it exists (asks on a terminal; needs --yes "
                        "elsewhere)")
    add_yes_argument(parser)
    parser.add_argument("--with-keys", action="store_true",
                        help="also copy the caller-hash key(s) to FILE.keys/ (kept out by "
                        "default: a backup with its key lets the numbers be guessed)")
    parser.set_defaults(func=_backup)
