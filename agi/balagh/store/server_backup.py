"""`balagh backup` on a PostgreSQL server: the server's own pg_dump, in its custom format
(restored with pg_restore, docs/scale.md), taken while calls go on.

The dump and the report count it is announced with are one snapshot: this process
exports it (pg_export_snapshot, in a repeatable-read transaction held open meanwhile)
and pg_dump reads with `--snapshot`. The password reaches pg_dump through PGPASSWORD in
its environment, never its argv (which any user can read in /proc). The file is made
0600 before pg_dump writes a byte: it holds callers' numbers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from .engine import PostgresEngine
from .maintenance import (
    BUSY_TIMEOUT,
    MaintenanceError,
    Run,
    backup_done,
    backup_failed,
    open_database,
)

__all__ = ["dump", "find_pg_dump"]

# Debian's versioned binaries, when no pg_dump is on PATH (postgresql-client's wrapper).
PG_BINARIES = Path("/usr/lib/postgresql")


def find_pg_dump() -> str | None:
    """pg_dump on PATH, else the newest of Debian's (a newer pg_dump reads older servers)."""
    found = shutil.which("pg_dump")
    if found:
        return found
    versions = [path for path in PG_BINARIES.glob("*/bin/pg_dump") if path.parent.parent.name
                .isdigit()]
    versions.sort(key=lambda path: int(path.parent.parent.name))
    return str(versions[-1]) if versions else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def dump(engine: PostgresEngine, target: Path, *, force: bool = False) -> Run:
    """pg_dump of the engine's database to `target` (replaced only when complete)."""
    if target.exists() and not force:
        raise MaintenanceError(f"{target} exists (--force to replace it)")
    program = find_pg_dump()
    if program is None:
        raise MaintenanceError("backup: pg_dump not found (install postgresql-client, of the "
                               "server's major version or newer)")
    began = time.monotonic()
    run = Run("backup")
    partial = target.with_name(target.name + ".part")
    db = open_database(engine, "backup", writes=False)  # a standby is dumped too
    try:
        try:
            db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = db.execute("SELECT pg_export_snapshot()").fetchone()[0]
            run.rows = int(db.execute("SELECT COUNT(*) FROM reports").fetchone()[0])
            partial.unlink(missing_ok=True)
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            env = dict(os.environ, PGCONNECT_TIMEOUT=str(int(BUSY_TIMEOUT)))
            env.pop("PGPASSWORD", None)
            if engine.password:
                env["PGPASSWORD"] = engine.password
            done = subprocess.run(
                [program, "--format=custom", f"--file={partial}", f"--snapshot={snapshot}",
                 "--no-password", f"--dbname={engine.url}"],
                env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            db.execute("COMMIT")
            if done.returncode != 0:
                raise MaintenanceError(f"backup failed: pg_dump: {_last_line(done.stderr)}")
            os.replace(partial, target)
        except (MaintenanceError, OSError, psycopg.Error) as exc:
            partial.unlink(missing_ok=True)
            with contextlib.suppress(psycopg.Error):  # none open: a warning only
                db.execute("ROLLBACK")
            backup_failed(db, run, exc)
        return backup_done(db, run, began, target)
    finally:
        db.close()
