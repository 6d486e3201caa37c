"""`balagh backup FILE [--force] [--with-keys]`: a consistent copy of the report database.

SQLite's online backup over one read snapshot (store/maintenance.py): the running
app goes on writing meanwhile. The copy is one self-contained file. With
`database_url`, the server's own pg_dump in its custom format (store/server_backup.py;
restored with pg_restore, docs/scale.md). The caller-hash key
(<data_dir>/keys) stays out of it: a backup that leaks with its key lets anyone try every
number against the hashes. --with-keys copies the keys to FILE.keys/ on purpose.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from balagh.config import Settings
from balagh.handover import callers
from balagh.store import maintenance
from balagh.store.opening import report_database

__all__ = ["register"]


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    database = report_database(settings)
    if isinstance(database, Path) and not database.exists():
        print(f"error: no database at {database}", file=sys.stderr)
        return 1
    target: Path = args.file
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
        "to replace FILE without --force. Each backup is recorded in the database "
        "(maintenance_runs).")
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    parser.add_argument("--with-keys", action="store_true",
                        help="also copy the caller-hash key(s) to FILE.keys/ (kept out by "
                        "default: a backup with its key lets the numbers be guessed)")
    parser.set_defaults(func=_backup)
