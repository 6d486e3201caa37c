"""End-to-end fixtures: the real sandbox Asterisk, the real app process, a real SQLite file.

The PBX is started if it is not running (and stopped again at the end); the app runs
as `balagh run` in a subprocess with its own data folder, exactly as an operator runs it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from balagh.ami.client import AmiSession
from balagh.config import Settings, load_settings
from balagh.pbx.exclusive import exclusive_pbx
from balagh.pbx.sandbox import Sandbox, in_chroot
from balagh.pbx.test_user import ami_for_tests
from unit.handover_receiver import Receiver

pytestmark = pytest.mark.e2e

T = TypeVar("T")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("balagh-data")


@pytest.fixture(scope="session")
def pbx() -> Iterator[Sandbox]:
    """The sandbox PBX, installed and started before any settings are read.

    Its secrets are made on install; reading settings earlier would hold empty
    passwords on a machine where the sandbox was never built."""
    if os.geteuid() != 0:
        pytest.skip("the sandbox PBX needs root")
    with exclusive_pbx():  # a second checkout's session waits for this one
        sandbox = Sandbox(load_settings())
        sandbox.install()
        started = sandbox.start()
        # A session killed before its teardown (Ctrl-C, a timeout) can leave callers
        # waiting in Wait(120) with the sandbox's one agent busy: start with none.
        sandbox.cli("channel request hangup all")
        yield sandbox
        if started:
            sandbox.stop()


# The unit's system the app hands reports to: a real HTTP server on 127.0.0.1. (The same
# receiver as the unit tests'; pytest puts tests/ on the path, so `unit` imports.)
HOOK_SECRET_NAME = "E2E_UNIT"
HOOK_SECRET = secrets.token_hex(16)


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    unit = Receiver().start()
    yield unit
    unit.stop()


@pytest.fixture(scope="session")
def settings(pbx: Sandbox, data_dir: Path, receiver: Receiver) -> Settings:
    # Read after the PBX is set up, so the sandbox's secrets are there.
    # The app routes by a copy of the shipped table, so reload tests can edit it.
    shipped = load_settings()
    assert shipped.ari.password and shipped.ami.secret, "no ARI/AMI secrets after install"
    config = data_dir / "config"
    config.mkdir(exist_ok=True)
    for name in ("routing.yaml", "locations.yaml"):
        if (shipped.routing_file.parent / name).exists():
            shutil.copy(shipped.routing_file.parent / name, config / name)
    (config / "handover.yaml").write_text(
        f"endpoints:\n  '*':\n    - url: {receiver.url}\n      secret: {HOOK_SECRET_NAME}\n")
    return replace(shipped, data_dir=data_dir, routing_file=config / "routing.yaml",
                   supervisors_file=config / "supervisors.yaml",
                   handover_file=config / "handover.yaml")


def app_environment(settings: Settings) -> dict[str, str]:
    """The environment under which `balagh` commands see the test app's settings."""
    return {**os.environ, "BALAGH_DATA_DIR": str(settings.data_dir),
            "BALAGH_ROUTING_FILE": str(settings.routing_file),
            "BALAGH_SUPERVISORS_FILE": str(settings.supervisors_file),
            "BALAGH_HANDOVER_FILE": str(settings.handover_file),
            f"BALAGH_SECRET_{HOOK_SECRET_NAME}": HOOK_SECRET}


class AppProcess:
    """`balagh run` as a child process, started and stopped by the tests."""

    def __init__(self, settings: Settings, log_path: Path,
                 extra_env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.log_path = log_path
        self.extra_env = extra_env or {}  # e.g. the ARI URL of a fault proxy
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        env = {**app_environment(self.settings), **self.extra_env}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "balagh", "--log-json", "run"],
            stdout=log, stderr=log, env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"balagh run exited: {self.log_path.read_text()[-2000:]}")
            if b'"ari.connected"' in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"balagh run did not connect: {self.log_path.read_text()[-2000:]}")

    def crash(self) -> None:
        """SIGKILL: no shutdown path runs, as in a real crash or power cut."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stop()

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
        # Forget the connect line so the next start waits for its own.
        self.log_path.write_bytes(self.log_path.read_bytes().replace(b'"ari.connected"',
                                                                     b'"ari.connected-old"'))

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def connected_now(self) -> bool:
        """Whether the app's latest ARI session is up (connected after its last loss)."""
        up = self.events("ari.connected")
        down = [e for e in self.events("connection.lost") if e.get("link") == "ari"] + \
            [e for e in self.events("connection.failed") if e.get("link") == "ari"]
        return bool(up) and (not down or up[-1]["timestamp"] > down[-1]["timestamp"])

    def events(self, event: str) -> list[dict[str, Any]]:
        """Every JSON log line of `event` the app wrote, oldest first."""
        return log_events(self.log_path, event)

    def last_event(self, event: str, **fields: object) -> dict[str, Any] | None:
        """The app's latest JSON log line of `event` with these field values, if any."""
        matching = [entry for entry in self.events(event)
                    if all(entry.get(k) == v for k, v in fields.items())]
        return matching[-1] if matching else None


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, as systemd stops it; SIGKILL if it has not gone within 10 s."""
    if process and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_events(path: Path, event: str) -> list[dict[str, Any]]:
    """Every JSON log line of `event` in a process's log file, oldest first."""
    found = []
    for line in path.read_text(errors="replace").splitlines():
        if f'"{event}"' in line:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == event:
                found.append(entry)
    return found


@pytest.fixture(scope="session")
def app(pbx: Sandbox, settings: Settings, data_dir: Path) -> Iterator[AppProcess]:
    process = AppProcess(settings, data_dir / "app.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def running_app(app: AppProcess) -> AppProcess:
    """The app, started again if an earlier test stopped it."""
    if app.process is None or app.process.poll() is not None:
        app.start()
    return app


@dataclass
class FaultRow:
    """One row of the reliability table (docs/reliability.md), written by `make faults`."""

    fault: str
    expected: str
    observed: str
    recovery_seconds: float | None = None


@pytest.fixture(scope="session")
def fault_rows() -> Iterator[list[FaultRow]]:
    rows: list[FaultRow] = []
    yield rows
    target = os.environ.get("BALAGH_FAULTS_REPORT")
    if target and rows:
        with open(target, "a", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(asdict(row)) + "\n")


def wait_for(condition: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Poll `condition` until it is true (and return it); fail naming `what` after `timeout`.

    For states only visible from outside (a database row, a log line): the tests wait for
    the state itself, never for a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def last_report_id(settings: Settings) -> int:
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM reports").fetchone()[0])


def answers_after(settings: Settings, report_id: int) -> int:
    """How many answers the reports newer than `report_id` hold."""
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        return int(db.execute(
            "SELECT COUNT(*) FROM reports JOIN answers USING (call_id) "
            "WHERE reports.id > ? AND answers.value IS NOT NULL", (report_id,)).fetchone()[0])


def report_row(settings: Settings, reference: str, *, wait: float = 5.0,
               routed: bool = False) -> dict | None:
    """The report as stored, read straight from the SQLite file. `routed`: once its routing
    decision is stored, so with every answer before it (the caller can reach the queue a
    moment before the app's writer has committed them)."""
    deadline = time.monotonic() + wait
    while True:
        with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM reports WHERE reference = ?", (reference,)).fetchone()
            if row is not None:
                report = dict(row)
                report["answers"] = {
                    a["question"]: a["value"] for a in db.execute(
                        "SELECT question, value FROM answers WHERE call_id = ? ORDER BY id",
                        (report["call_id"],))
                }
                if not routed or report["queue"] is not None:
                    return report
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def report_by_call(settings: Settings, call_id: str, *, status: str | None = None,
                   wait: float = 5.0, where=None) -> dict | None:
    deadline = time.monotonic() + wait
    while True:
        with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT reference FROM reports WHERE call_id = ?",
                             (call_id,)).fetchone()
        if row is not None:
            report = report_row(settings, row["reference"])
            if report and (status is None or report["status"] == status) and (
                    where is None or where(report)):
                return report
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


@pytest.fixture
def table_file(settings, running_app) -> Iterator:
    original = settings.routing_file.read_text()
    yield settings.routing_file
    if settings.routing_file.read_text() != original:
        settings.routing_file.write_text(original)
        reload_and_wait(settings, "applied")


def balagh(settings, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "balagh", *args], capture_output=True,
                          text=True, env=app_environment(settings), timeout=60, check=False,
                          input=input)


def reload_and_wait(settings, outcome: str) -> str:
    """`balagh routes reload`, then wait until the history shows this outcome on top."""
    before = balagh(settings, "routes", "history", "--limit", "1").stdout
    done = balagh(settings, "routes", "reload")
    assert done.returncode == 0, done.stdout + done.stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        history = balagh(settings, "routes", "history", "--limit", "1").stdout
        if history != before:
            assert f" {outcome} " in history.splitlines()[0], history
            return history
        time.sleep(0.2)
    raise AssertionError(f"no reload recorded: {before}")


@pytest.fixture
async def ami(settings: Settings, pbx: Sandbox) -> AsyncIterator[AmiSession]:
    """An AMI session for a test, with the sandbox agents recording what they hear."""
    # The sandbox's test user: DBPut/DBDel need `system`, which the app's user lacks.
    async with AmiSession(ami_for_tests(settings)) as session:
        # The sandbox agents record what they hear only while this key is set.
        await session.action({"Action": "DBPut", "Family": "balagh-test", "Key": "record",
                              "Val": "1"})
        try:
            yield session
        finally:
            await session.action({"Action": "DBDel", "Family": "balagh-test", "Key": "record"})
            # Whatever a failed test left behind (a passing one removes its own).
            monitor = in_chroot(pbx.root, "/var/spool/asterisk/monitor")
            for path in [*monitor.glob("*-balagh-sup-*.wav"), *monitor.glob("agent-*.wav")]:
                path.unlink(missing_ok=True)
