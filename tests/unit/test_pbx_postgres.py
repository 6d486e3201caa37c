"""`balagh pbx db` (balagh/pbx/postgres_pair.py over pbx/postgres.py): the sandbox's
PostgreSQL primary and synchronous standby on loopback, real clusters on free ports,
promoted and rebuilt, stopped by pid."""

from __future__ import annotations

import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from balagh.cli import main
from balagh.config.secrets import read_env_file
from balagh.pbx.postgres import PostgresError, free_port, missing
from balagh.pbx.postgres_pair import PASSWORD_KEY, SandboxDatabase


@pytest.fixture
def sandbox_db(tmp_path: Path) -> Iterator[SandboxDatabase]:
    why = missing()
    if why:
        pytest.skip(why)
    # Not under pytest's tmp_path: its parent is 0700 root's, which postgres cannot enter.
    folder = Path(tempfile.mkdtemp(prefix="balagh-pbxdb-"))
    folder.chmod(0o755)
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text("BALAGH_ARI_PASSWORD=kept\n", encoding="utf-8")
    database = SandboxDatabase(folder, secrets_file, (free_port(), free_port()), fsync=False)
    try:
        yield database
    finally:
        database.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _connect(database: SandboxDatabase, password: str | None) -> psycopg.Connection:
    return psycopg.connect(database.database_url(), password=password, connect_timeout=5,
                           autocommit=True)


def test_primary_standby_promote_and_rebuild(sandbox_db: SandboxDatabase) -> None:
    done = sandbox_db.start(standby=True)
    assert [line.split(":")[0] for line in done] == ["db1", "db1", "db2", "db2"]
    secrets = read_env_file(sandbox_db.secrets_file)
    password = secrets[PASSWORD_KEY]
    assert secrets["BALAGH_ARI_PASSWORD"] == "kept"  # the PBX's keys stay beside ours
    assert stat.S_IMODE(sandbox_db.secrets_file.stat().st_mode) == 0o600
    url = sandbox_db.database_url()
    db1, db2 = (sandbox_db.members[name].port for name in ("db1", "db2"))
    assert url == (f"postgresql://balagh@127.0.0.1:{db1},127.0.0.1:{db2}/balagh"
                   "?target_session_attrs=read-write")
    status = sandbox_db.status()
    assert status["db1"].startswith("primary") and status["db1"].endswith("answers")
    assert status["db2"].startswith("standby")
    assert status["replication"].startswith("streaming sync")
    assert password not in "".join(status.values())
    with pytest.raises(psycopg.OperationalError, match="password"):
        _connect(sandbox_db, None)  # TCP asks the app for its password
    with _connect(sandbox_db, password) as conn:  # committed once the standby has it
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (1)")

    assert sandbox_db.start(standby=True) == []  # all running: nothing to do
    assert sandbox_db.promote() == ["db1: stopped (fenced) before the promote",
                                    "db2: promoted, now the primary"]
    assert sandbox_db.members["db1"].pid() is None
    assert sandbox_db.database_url() == url  # what a site copied stays right
    with psycopg.connect(url, password=password, autocommit=True) as conn:  # unchanged URL
        assert conn.execute("SELECT pg_is_in_recovery(), count(*) FROM kept"
                            ).fetchone() == (False, 1)
        conn.execute("INSERT INTO kept VALUES (2)")  # no standby: the commit does not wait

    done = sandbox_db.start(standby=True)  # the old primary comes back as db2's standby
    assert done == ["db1: the old primary, removed to be rebuilt", "db1: copied from db2",
                    f"db1: standby started on 127.0.0.1:{db1}"]
    status = sandbox_db.status()
    assert sandbox_db.database_url() == url
    assert list(status)[:2] == ["db2", "db1"]
    assert status["db2"].startswith("primary") and status["db1"].startswith("standby")
    assert status["replication"].startswith("streaming sync")
    with psycopg.connect(url, password=password, autocommit=True) as conn:
        conn.execute("INSERT INTO kept VALUES (3)")
    with sandbox_db.members["db1"].connect() as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)

    assert sandbox_db.stop() == ["db1: stopped", "db2: stopped"]
    assert not any(member.pid() for member in sandbox_db.members.values())
    assert not sandbox_db.primary_answers()
    assert sandbox_db.start() == ["db2: primary started on 127.0.0.1:" + str(db2),
                                  f"db1: standby started on 127.0.0.1:{db1}"]
    with psycopg.connect(url, password=password, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (3,)


def test_promote_without_a_standby_says_what_to_do(sandbox_db: SandboxDatabase) -> None:
    sandbox_db.start()
    assert sandbox_db.status()["replication"] == "none (no standby streaming)"
    assert sandbox_db.database_url().endswith(
        f":{sandbox_db.members['db1'].port}/balagh")  # one host, no query
    with pytest.raises(PostgresError, match=r"no standby is running: balagh pbx db start "
                       "--standby"):
        sandbox_db.promote()


def test_cli_usage_and_status_of_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    pbx_dir = Path(tempfile.mkdtemp(prefix="balagh-pbxdb-"))  # postgres may enter it
    pbx_dir.chmod(0o755)
    monkeypatch.setenv("BALAGH_PBX_DIR", str(pbx_dir))
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path / "data"))
    assert main(["pbx", "db", "stop", "--standby"]) == 2
    assert main(["pbx", "db", "restart"]) == 2
    assert capsys.readouterr().out.count(
        "usage: balagh pbx db start [--standby] | stop | status | promote") == 2
    assert main(["pbx", "db", "status"]) == 3
    fields = dict(line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines())
    assert fields == {"db1": "not made", "db2": "not made",
                      "replication": "unknown (the primary does not answer)",
                      "database_url": "postgresql://balagh@127.0.0.1:5433/balagh",
                      "folder": str(pbx_dir / "postgres")}
    assert main(["pbx", "db", "stop"]) == 0
    assert capsys.readouterr().out == "PostgreSQL was not running\n"
    shutil.rmtree(pbx_dir)
