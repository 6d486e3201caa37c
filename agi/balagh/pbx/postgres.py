"""Throwaway PostgreSQL 15 clusters on loopback: the tests' (tests/unit/pg_cluster.py) and
the sandbox's primary + synchronous standby (`balagh pbx db`, docs/scale.md).

A cluster is Debian's postgresql-15 (the Makefile's deps): initdb in a folder of its own
(as the postgres user when run as root: initdb refuses root), listening on 127.0.0.1 and
its port, its socket in that folder; stopped by its postmaster's pid. psycopg is imported
in the functions that connect only: a SQLite site never loads it.
"""

from __future__ import annotations

import os
import secrets
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

from balagh.config.secrets import read_env_file

if TYPE_CHECKING:
    import psycopg

__all__ = ["BIN", "Cluster", "PostgresError", "SandboxDatabase", "free_port", "missing",
           "remove", "sandbox_folder", "standby_of", "start_cluster"]

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
        name = "t_" + uuid.uuid4().hex[:12]
        with self.connect() as conn:
            conn.execute(f"CREATE DATABASE {name}".encode())
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


# ---------------------------------------------------------------------- the sandbox's

MEMBERS = ("db1", "db2")
PORTS = (5433, 5434)  # beside a site's own server on 5432
DATABASE = ROLE = "balagh"
PASSWORD_KEY = "BALAGH_DATABASE_PASSWORD"
# The app over TCP with its password; the superuser (status, promote, replication) only
# through the socket, in a folder only the postgres user (and root) may enter.
SANDBOX_HBA = f"""# Generated by `balagh pbx db`: the sandbox's PostgreSQL, loopback only.
local   all          postgres                 trust
local   replication  postgres                 trust
host    {DATABASE}   {ROLE}    {HOST}/32     scram-sha-256
"""


def sandbox_folder(pbx_dir: Path) -> Path:
    """Where the sandbox's clusters live: <pbx_dir>/postgres, unless the postgres user
    cannot reach it (root's home is 0700), then in that user's own Debian home."""
    wanted = pbx_dir / "postgres"
    if os.geteuid() != 0:
        return wanted
    existing = next(folder for folder in (pbx_dir, *pbx_dir.parents) if folder.exists())
    probe = subprocess.run(as_owner(["test", "-x", str(existing)]), check=False,
                           capture_output=True)
    return wanted if probe.returncode == 0 else Path("/var/lib/postgresql/balagh-sandbox")


class SandboxDatabase:
    """db1 and db2: a primary and, on request, its synchronous standby. Which one is the
    primary is kept in <folder>/primary (db1 until a promote)."""

    def __init__(self, folder: Path, secrets_file: Path, ports: tuple[int, int] = PORTS,
                 *, fsync: bool = True) -> None:
        self.folder = folder
        self.secrets_file = secrets_file
        self.fsync = fsync
        self.members = {name: Cluster(folder / name, port)
                        for name, port in zip(MEMBERS, ports, strict=True)}

    # -------------------------------------------------------------- who is who

    @property
    def primary(self) -> Cluster:
        return self.members[self.primary_name]

    @property
    def primary_name(self) -> str:
        try:
            name = (self.folder / "primary").read_text(encoding="utf-8").strip()
        except OSError:
            return MEMBERS[0]
        return name if name in self.members else MEMBERS[0]

    @property
    def standby_name(self) -> str:
        return next(name for name in MEMBERS if name != self.primary_name)

    @property
    def standby(self) -> Cluster:
        return self.members[self.standby_name]

    def _is_standby_copy(self) -> bool:
        return (self.standby.data / "standby.signal").exists()

    def database_url(self) -> str:
        """For balagh.yaml's database_url (or BALAGH_DATABASE_URL): both servers when a
        standby exists, libpq taking whichever accepts writes, so a promotion needs no
        change; the password is the secrets file's BALAGH_DATABASE_PASSWORD. Every member
        made, in a fixed order: the URL a site copied stays right across promotions."""
        hosts = [member for member in self.members.values() if member.initialised]
        hosts = hosts or [self.primary]
        listed = ",".join(f"{HOST}:{member.port}" for member in hosts)
        query = "?target_session_attrs=read-write" if len(hosts) > 1 else ""
        return f"postgresql://{ROLE}@{listed}/{DATABASE}{query}"

    # -------------------------------------------------------------- lifecycle

    def start(self, *, standby: bool = False) -> list[str]:
        """Start what is made and not running; make the primary (and the standby) first
        when absent. Returns one line per thing done."""
        why = missing()
        if why:
            raise PostgresError(why)
        self.folder.mkdir(mode=0o755, parents=True, exist_ok=True)
        done: list[str] = []
        primary = self.primary
        if not primary.initialised:
            primary.init(hba=SANDBOX_HBA)
            done.append(f"{self.primary_name}: made in {primary.data}")
        if primary.pid() is None:
            primary.start(fsync=self.fsync, detach=True)
            done.append(f"{self.primary_name}: primary started on {HOST}:{primary.port}")
        copy = self.standby
        if standby and copy.initialised and not self._is_standby_copy():
            # The primary before a promote: its WAL went on without the new one's. It
            # comes back as a fresh copy of the new primary, never as a second primary.
            copy.stop(fast=True)
            shutil.rmtree(copy.folder)
            done.append(f"{self.standby_name}: the old primary, removed to be rebuilt")
        if standby and not copy.initialised:
            base_backup(primary, copy)
            done.append(f"{self.standby_name}: copied from {self.primary_name}")
        if self._is_standby_copy() and copy.pid() is None:
            copy.start(fsync=self.fsync, detach=True)
            done.append(f"{self.standby_name}: standby started on {HOST}:{copy.port}")
        # A primary waiting on a standby that is no more would never answer a COMMIT.
        self._synchronous(primary, "*" if self._is_standby_copy() else "")
        if self._is_standby_copy():
            self._wait_synchronous(primary)
        # Last: with a synchronous standby set, this commit waits for it to stream.
        self._ensure_role()
        return done

    def stop(self) -> list[str]:
        """Stop both by their pids, the standby first (a clean shutdown each)."""
        return [f"{name}: stopped" for name in (self.standby_name, self.primary_name)
                if self.members[name].stop(fast=True)]

    def promote(self) -> list[str]:
        """pg_promote() on the standby. The old primary is stopped first if it still
        runs: two primaries would each take writes the other never sees."""
        copy, old = self.standby, self.primary
        if not self._is_standby_copy() or copy.pid() is None:
            raise PostgresError("no standby is running: balagh pbx db start --standby")
        done = []
        if old.stop(fast=True):
            done.append(f"{self.primary_name}: stopped (fenced) before the promote")
        with copy.connect() as conn:
            row = conn.execute("SELECT pg_promote(wait => true, wait_seconds => 60)"
                               ).fetchone()
        if not row or not row[0]:
            raise PostgresError(f"{self.standby_name} did not finish its promotion in "
                                f"60 s: see {copy.log}")
        new = self.standby_name
        (self.folder / "primary").write_text(f"{new}\n", encoding="utf-8")
        done.append(f"{new}: promoted, now the primary")
        return done

    def status(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        for name in (self.primary_name, self.standby_name):
            member = self.members[name]
            fields[name] = self._member_line(name, member)
        fields["replication"] = self._replication()
        fields["database_url"] = self.database_url()
        fields["folder"] = str(self.folder)
        return fields

    def primary_answers(self) -> bool:
        return self.primary.answers() and self._in_recovery(self.primary) is False

    # -------------------------------------------------------------- helpers

    def _member_line(self, name: str, member: Cluster) -> str:
        if not member.initialised:
            return "not made"
        pid = member.pid()
        if pid is None:
            return f"stopped (port {member.port})"
        recovery = self._in_recovery(member)
        if recovery is None:
            return f"pid {pid}, port {member.port}, does not answer (see {member.log})"
        return f"{'standby' if recovery else 'primary'}, pid {pid}, port {member.port}, answers"

    @staticmethod
    def _in_recovery(member: Cluster) -> bool | None:
        import psycopg

        try:
            with member.connect() as conn:
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        except (psycopg.Error, OSError):
            return None
        return bool(row and row[0])

    def _replication(self) -> str:
        """pg_stat_replication of the primary: each standby's state and sync mode."""
        import psycopg

        try:
            with self.primary.connect() as conn:
                rows = conn.execute(
                    "SELECT state, sync_state, "
                    "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) "
                    "FROM pg_stat_replication").fetchall()
        except (psycopg.Error, OSError):
            return "unknown (the primary does not answer)"
        if not rows:
            return "none (no standby streaming)"
        return "; ".join(f"{state} {sync}, {lag or 0} bytes behind"
                         for state, sync, lag in rows)

    def _synchronous(self, primary: Cluster, names: str) -> None:
        # Set at run time after the copy is made, so the copy never holds it.
        with primary.connect() as conn:
            conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{names}'".encode())
            conn.execute(b"SELECT pg_reload_conf()")

    def _wait_synchronous(self, primary: Cluster) -> None:
        """Until the standby streams as the synchronous one (the reload is taken, and
        the standby caught up, a moment after the start)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with primary.connect() as conn:
                if conn.execute("SELECT 1 FROM pg_stat_replication WHERE state = "
                                "'streaming' AND sync_state = 'sync'").fetchone():
                    return
            if time.monotonic() > deadline:
                raise PostgresError(f"{self.standby_name} is not streaming synchronously "
                                    f"after {START_TIMEOUT:.0f} s: see {self.standby.log}")
            time.sleep(0.05)

    def _password(self) -> str:
        """The app's password, from the secrets file, made (0600) when absent."""
        values = read_env_file(self.secrets_file)
        if values.get(PASSWORD_KEY):
            return values[PASSWORD_KEY]
        password = secrets.token_urlsafe(18)
        lines = []
        if self.secrets_file.exists():
            lines = [line for line in self.secrets_file.read_text(encoding="utf-8")
                     .splitlines() if not line.startswith(f"{PASSWORD_KEY}=")]
        lines.append(f"{PASSWORD_KEY}={password}")
        self.secrets_file.parent.mkdir(parents=True, exist_ok=True)
        # A whole new file put in place: a crash never leaves the PBX's keys half written.
        fresh = self.secrets_file.with_name(self.secrets_file.name + ".new")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(fresh, self.secrets_file)
        return password

    def _ensure_role(self) -> None:
        """The app's role (its password the secrets file's) and database."""
        from psycopg import sql

        password = self._password()
        with self.primary.connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                  (ROLE,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            # Its SCRAM verifier made here: the password itself never reaches the server,
            # so no server log can show it.
            verifier = conn.pgconn.encrypt_password(password.encode(), ROLE.encode(),
                                                    b"scram-sha-256").decode()
            conn.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(ROLE), sql.Literal(verifier)))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (DATABASE,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(DATABASE), sql.Identifier(ROLE)))
