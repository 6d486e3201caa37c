"""`balagh db migrate`: bring the report database to this version's schema beside the app.

The Debian package runs it on an upgrade before it restarts the services (debian/postinst),
so the old app keeps answering calls while the database changes and the new one starts at
once. The work is store/live_migration.py's; this module is argparse and printing only.
"""

from __future__ import annotations

import argparse
import sys
import time

from balagh.config import Settings
from balagh.store import live_migration
from balagh.store.schema import VERSION

__all__ = ["register"]

PROGRESS_EVERY = 5.0  # seconds between progress lines


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    database = settings.database
    if not database.exists():
        print(f"no database at {database} yet: the app creates it at schema v{VERSION}")
        return 0
    shown = [time.monotonic()]

    def progress(step: int, counted: int, total: int) -> None:
        if time.monotonic() - shown[0] >= PROGRESS_EVERY or counted == total:
            shown[0] = time.monotonic()
            print(f"  v{step}: {counted:,} of {total:,} report(s) counted", file=sys.stderr)

    run = live_migration.migrate_beside(database, chunk=args.chunk, progress=progress)
    if not run.steps:
        print(f"{database}: schema v{run.after}, nothing to migrate")
        return 0
    print(f"{database}: schema v{run.before} -> v{run.after} in {run.seconds:.1f} s "
          f"beside the running app ({run.reports_counted:,} report(s) counted in "
          f"{run.chunks} chunk(s); longest write lock {run.longest_lock * 1000:.0f} ms)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("db", help="the report database's schema")
    commands = parser.add_subparsers(dest="db_command", required=True)
    migrate = commands.add_parser(
        "migrate", help="migrate the report database now, beside the running app",
        description="Apply this version's schema migrations to the report database in small "
        "steps while the running app keeps answering calls and writing reports, so the app "
        "started after it has nothing left to migrate. Safe to run again; a run stopped "
        "half-way is redone from its last complete step.")
    migrate.add_argument("--chunk", type=int, default=live_migration.CHUNK,
                         help="reports counted per write (default %(default)s)")
    migrate.set_defaults(func=_migrate)
