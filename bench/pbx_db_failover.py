"""The sandbox's PostgreSQL by hand, timed (`balagh pbx db`'s own code, no PBX needed):
`start --standby` (initdb, primary, base backup, standby streaming synchronously), `promote`
until the first write through the unchanged two-host URL, and the old primary rebuilt as
the new one's standby. fsync on, as the command runs it; free ports, a folder of its own,
stopped and removed after each run.

    .venv/bin/python bench/pbx_db_failover.py [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import psycopg

from balagh.config.secrets import read_env_file
from balagh.pbx.postgres import free_port, missing
from balagh.pbx.postgres_pair import PASSWORD_KEY, SandboxDatabase


def one_run() -> tuple[float, float, float]:
    folder = Path(tempfile.mkdtemp(prefix="balagh-pbxdb-bench-"))
    folder.chmod(0o755)  # the postgres user enters it to reach its own member folders
    database = SandboxDatabase(folder, folder / "secrets.env", (free_port(), free_port()))
    try:
        began = time.monotonic()
        database.start(standby=True)
        started = time.monotonic()
        url = database.database_url()
        password = read_env_file(database.secrets_file)[PASSWORD_KEY]
        with psycopg.connect(url, password=password, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int)")
        promoting = time.monotonic()
        database.promote()
        with psycopg.connect(url, password=password, autocommit=True) as conn:
            conn.execute("INSERT INTO kept VALUES (1)")
        written = time.monotonic()
        database.start(standby=True)
        rebuilt = time.monotonic()
    finally:
        database.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return started - began, written - promoting, rebuilt - written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    why = missing()
    if why:
        print(why)
        return 1
    for run in range(1, args.runs + 1):
        start, promote, rebuild = one_run()
        print(f"run {run}: start --standby {start:.2f} s; promote to the first write through "
              f"the same URL {promote:.2f} s; old primary rebuilt {rebuild:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
