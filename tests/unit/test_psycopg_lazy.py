"""psycopg is loaded only where a PostgreSQL server is used: `balagh run`'s import graph,
and a store opened on SQLite, leave it out (about 5 MiB of RSS on every one-box site)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from balagh.cli import build_parser
    import balagh.app, balagh.eventloop, balagh.oneapp, balagh.pidfile  # `run`'s imports
    from balagh.config import load_settings
    from balagh.store.opening import open_store

    build_parser("run")
    settings = load_settings(None)
    assert not settings.database_url, settings.database_url

    async def opened() -> None:
        await (await open_store(settings)).close()

    asyncio.run(opened())
    print(sorted(name for name in sys.modules if name.split(".")[0] == "psycopg"))
""")


def test_balagh_run_on_sqlite_does_not_load_psycopg(tmp_path: Path) -> None:
    # The shipped settings (no BALAGH_CONFIG, none in /etc here), the data in tmp_path.
    env = {"BALAGH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]", done.stdout
    assert (tmp_path / "balagh.sqlite3").is_file()  # the store really opened, on SQLite
