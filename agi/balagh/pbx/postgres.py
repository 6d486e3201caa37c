"""Throwaway PostgreSQL 15 clusters on loopback, one implementation for the tests
(tests/unit/pg_cluster.py) and the sandbox's primary + synchronous standby (`balagh pbx db`,
pbx/postgres_pair.py, docs/scale.md).

A cluster is Debian's postgresql-15 (the Makefile's deps): initdb in a folder of its own
(as the postgres user when run as root: initdb refuses root), listening on 127.0.0.1 and
its port, its socket in that folder; stopped by its postmaster's pid. psycopg is imported
in the functions that connect only: a SQLite site never loads it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

__all__ = ["BIN", "HOST", "Cluster", "PostgresError", "as_owner", "base_backup", "free_port",
           "missing", "remove", "standby_of", "start_cluster"]

BIN = Path("/usr/lib/postgresql/15/bin")
HOST = "127.0.0.1"
START_TIMEOUT = 60.0  # seconds for a cold start on a loaded machine


class PostgresError(RuntimeError):
    """A cluster could not be made, started or promoted: one line, what to do or read."""


def missing() -> str | None:
    """Why no cluster can be started here, or None."""
    if not (BIN / "initdb").exists():
        return "postgresql-15 is not installed (make deps installs it)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _own_folder(path: Path) -> None:
    """A folder only the server's user enters (it holds the superuser's socket)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(as_owner(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise PostgresError(f"{what} failed: {last}")


@dataclass
class Cluster:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    options: dict[str, str] = field(default_factory=dict)  # more -c settings

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "log"

    def url(self, database: str = "postgres") -> str:
        """The superuser over TCP (the tests' clusters trust loopback; the sandbox's not)."""
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """The superuser through the socket in the cluster's own folder."""
        return f"host={self.folder} port={self.port} user=postgres dbname={database}"

    def connect(self, database: str = "postgres", timeout: int = 2) -> psycopg.Connection:
        import psycopg

        return psycopg.connect(self.conninfo(database), connect_timeout=timeout,
                               autocommit=True)

    @property
    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def init(self, hba: str | None = None) -> None:
        """initdb; `hba`: pg_hba.conf's text instead of initdb's trust-everything."""
        _own_folder(self.folder)
        _run([str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
              "--no-sync", "-E", "UTF8"], "initdb")
        if hba is not None:
            (self.data / "pg_hba.conf").write_text(hba, encoding="utf-8")

    def start(self, *, fsync: bool = False, detach: bool = False) -> None:
        """Start the postmaster and wait for it. fsync=True: durable as a real site's
        (bench/store_engines.py, the sandbox). detach: a session of its own, to outlive
        the command that started it (`balagh pbx db start`); else a test may SIGKILL it."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                as_owner([str(BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
                          # fsync off: the OS keeps what a killed server wrote. Never
                          # synchronous_commit off: it answers COMMIT before the WAL is
                          # written, and a killed server loses commits the store was told of.
                          "-c", f"listen_addresses={HOST}",
                          "-c", f"fsync={'on' if fsync else 'off'}",
                          "-c", f"unix_socket_directories={self.folder}",
                          *[arg for key, value in self.options.items()
                            for arg in ("-c", f"{key}={value}")]]),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=detach)
        self.wait_ready()

    def wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with self.connect():
                    return
            except psycopg.OperationalError:
                if self.process is not None and self.process.poll() is not None:
                    raise PostgresError(f"postgres exited at start: see {self.log}") from None
                if time.monotonic() > deadline:
                    raise PostgresError(f"postgres not ready in {START_TIMEOUT:.0f} s: "
                                        f"see {self.log}") from None
                time.sleep(0.05)

    def pid(self) -> int | None:
        """The postmaster's pid while it runs (its postmaster.pid, checked alive)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            return None
        return pid if b"postgres" in cmdline else None  # not a reused pid

    def answers(self) -> bool:
        import psycopg

        try:
            with self.connect(timeout=2):
                return True
        except (psycopg.Error, OSError):
            return False

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would: no shutdown checkpoint. Its backends
        notice their parent gone and exit; the next start recovers from the WAL."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)  # runuser, or the postmaster itself
        _wait_gone(pid)
        _wait_backends_gone(pid)

    def stop(self, *, fast: bool = False) -> bool:
        """Stop the postmaster by its pid: immediate (the tests: no checkpoint), or fast
        (the sandbox: a clean shutdown). True if it ran."""
        pid = self.pid()
        if pid is None:
            self._reap()
            return False
        os.kill(pid, signal.SIGINT if fast else signal.SIGQUIT)
        if not _wait_gone(pid, 30):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 10)
        _wait_backends_gone(pid)
        self._reap()
        return True

    def _reap(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def new_database(self) -> str:
        """A fresh, empty database of its own for one test; its URL."""
        from balagh.store.server_admin import create_database

        name = "t_" + uuid.uuid4().hex[:12]
        with self.connect() as conn:
            create_database(conn, name)
        return self.url(name)


def _wait_gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z"):
                return True  # a zombie: gone, its parent reaps it
        except OSError:
            return True
        time.sleep(0.05)
    return False


def _wait_backends_gone(postmaster: int) -> None:
    # A new postmaster refuses to start while old backends hold the shared memory.
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        out = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True,
                             check=False)
        if not out.stdout.split():
            return
        time.sleep(0.05)


def start_cluster(folder: Path | None = None, *, fsync: bool = False,
                  options: dict[str, str] | None = None) -> Cluster:
    where = Path(tempfile.mkdtemp(prefix="balagh-pg-", dir=folder))
    cluster = Cluster(where, free_port(), options=dict(options or {}))
    try:
        cluster.init()
        cluster.start(fsync=fsync)
    except BaseException:
        remove(cluster)
        raise
    return cluster


def base_backup(primary: Cluster, standby: Cluster) -> None:
    """`standby`'s data: a copy of `primary` streaming from it through its socket
    (pg_basebackup -R). A copied synchronous_standby_names is dropped: a standby that
    has it waits forever on its commits once promoted, with no standby of its own."""
    _own_folder(standby.folder)
    _run([str(BIN / "pg_basebackup"), "-h", str(primary.folder), "-p", str(primary.port),
          "-U", "postgres", "-D", str(standby.data), "-R", "--wal-method=stream",
          "--checkpoint=fast"], "pg_basebackup")
    auto = standby.data / "postgresql.auto.conf"
    kept = [line for line in auto.read_text(encoding="utf-8").splitlines()
            if not line.strip().startswith("synchronous_standby_names")]
    auto.write_text("\n".join(kept) + "\n", encoding="utf-8")


def standby_of(primary: Cluster, folder: Path | None = None) -> Cluster:
    """A streaming standby of `primary`, started on a port of its own."""
    standby = Cluster(Path(tempfile.mkdtemp(prefix="balagh-pg-standby-", dir=folder)),
                      free_port(), options={key: value for key, value in primary.options.items()
                                            if key != "synchronous_standby_names"})
    try:
        base_backup(primary, standby)
        standby.start()
    except BaseException:
        remove(standby)
        raise
    return standby


def remove(cluster: Cluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.folder, ignore_errors=True)
