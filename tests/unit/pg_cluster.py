"""A throwaway PostgreSQL 15 cluster for tests: initdb in a temporary folder (as the
postgres user when run as root: initdb refuses root), listening on 127.0.0.1 and a free
port, fsync off for speed; stopped by pid at the end. Debian's postgresql-15 (the
Makefile's deps) provides it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from balagh.status import ReportStatus
from balagh.store import ReportStore

BIN = Path("/usr/lib/postgresql/15/bin")
START_TIMEOUT = 60.0  # seconds for a cold start on a loaded machine


T0 = datetime(2026, 1, 1, tzinfo=UTC)  # the calls' start: a fixed, plain day


def missing() -> str | None:
    """Why no cluster can be started here, or None."""
    if not (BIN / "initdb").exists():
        return "postgresql-15 is not installed (make deps installs it)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class Cluster:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    options: dict[str, str] = field(default_factory=dict)  # more -c settings

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(_as_owner([str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                  "--auth=trust", "--no-sync", "-E", "UTF8"]),
                       check=True, capture_output=True)

    def start(self, *, fsync: bool = False) -> None:
        """Start the postmaster (its pid is ours: a test may SIGKILL it) and wait for it.
        fsync=True: durable as a real site's (bench/store_engines.py)."""
        self.process = subprocess.Popen(
            _as_owner([str(BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
                       # fsync off: the OS keeps what a killed server wrote. Never
                       # synchronous_commit off: it answers COMMIT before the WAL is
                       # written, and a killed server loses commits the store was told of.
                       "-c", "listen_addresses=127.0.0.1",
                       "-c", f"fsync={'on' if fsync else 'off'}",
                       "-c", f"unix_socket_directories={self.folder}",
                       *[arg for key, value in self.options.items()
                         for arg in ("-c", f"{key}={value}")]]),
            stdout=subprocess.DEVNULL, stderr=(self.folder / "log").open("ab"))
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(
                        f"postgres exited: {(self.folder / 'log').read_text()}") from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would: no shutdown checkpoint. Its backends
        notice their parent gone and exit; the next start recovers from the WAL."""
        assert self.process is not None
        pid = self.process.pid
        if os.geteuid() == 0:  # runuser's child is the postmaster
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._wait_backends_gone(pid)

    @staticmethod
    def _wait_backends_gone(postmaster: int) -> None:
        # A new postmaster refuses to start while old backends hold the shared memory.
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            out = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True)
            if not out.stdout.split():
                return
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        subprocess.run(_as_owner([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                  "-w", "stop"]), capture_output=True)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def new_database(self) -> str:
        """A fresh, empty database of its own for one test; its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}".encode())
        return self.url(name)


def start_cluster(folder: Path | None = None, *, fsync: bool = False,
                  options: dict[str, str] | None = None) -> Cluster:
    where = Path(tempfile.mkdtemp(prefix="balagh-pg-", dir=folder))
    cluster = Cluster(where, _free_port(), options=dict(options or {}))
    cluster.init()
    cluster.start(fsync=fsync)
    return cluster


def standby_of(primary: Cluster, folder: Path | None = None) -> Cluster:
    """A streaming standby of `primary` (pg_basebackup -R), started on a port of its own."""
    standby = Cluster(Path(tempfile.mkdtemp(prefix="balagh-pg-standby-", dir=folder)),
                      _free_port(), options={key: value for key, value in primary.options.items()
                                             if key != "synchronous_standby_names"})
    if os.geteuid() == 0:
        shutil.chown(standby.folder, "postgres", "postgres")
    try:
        subprocess.run(_as_owner([str(BIN / "pg_basebackup"), "-h", "127.0.0.1",
                                  "-p", str(primary.port), "-U", "postgres",
                                  "-D", str(standby.data), "-R", "--wal-method=stream",
                                  "--checkpoint=fast"]),
                       check=True, capture_output=True)
        standby.start()
    except BaseException:
        remove(standby)
        raise
    return standby


def remove(cluster: Cluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.folder, ignore_errors=True)


@contextmanager
def running() -> Iterator[Cluster]:
    """A cluster of its own for the `with` block (the test is skipped, saying why, where
    postgresql-15 is not installed); removed after it, by its pid."""
    why = missing()
    if why:
        pytest.skip(why)
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        remove(cluster)


def one_call(store: ReportStore, n: int, prefix: str = "burst") -> None:
    """A caller in danger, routed: three writes of the call path."""
    call_id = f"{prefix}-{n}"
    when = T0 + timedelta(seconds=n)
    store.calls.start_report(call_id=call_id, reference=store.calls.new_reference(),
                             channel=f"PJSIP/trunk-{n}", caller="+971500000001",
                             hotline="800111", started_at=when)
    store.calls.record_answer(call_id=call_id, question="danger", value="yes", key="1",
                              attempt=1, at=when)
    store.calls.set_status(call_id=call_id, status=ReportStatus.ROUTED, at=when)
