"""The systemd units in systemd/: valid for systemd (`systemd-analyze verify`), hardened,
logging JSON to the journal, and a watchdog that does not need the app to be up.

systemd is not PID 1 on every test machine, so the units are not started here; what the
hardening would do to Python is checked directly where it can be: MemoryDenyWriteExecute
is the kernel's PR_SET_MDWE (Linux 6.3+), set on a child before it runs Balagh.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from .shipped import REPO

UNITS = REPO / "systemd"
SERVICES = ("balagh.service", "balagh-watchdog.service", "balagh-backup.service",
            "balagh-console.service")
INSTALLED = "/opt/balagh/bin/balagh"  # where docs/operators.md installs Balagh
HARDENING = {
    "User": "balagh", "Group": "balagh", "UMask": "0077", "NoNewPrivileges": "yes",
    "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes", "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
    "SystemCallFilter": "@system-service", "StandardOutput": "journal",
    "EnvironmentFile": "/etc/balagh/balagh.env", "CapabilityBoundingSet": "",
}


def parse(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections of (key, value) in file order; a key may repeat (Environment=)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None and "=" in line, f"{path.name}: stray line {line!r}"
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(path: Path, section: str, key: str) -> list[str]:
    return [value for name, value in parse(path).get(section, []) if name == key]


def one(path: Path, section: str, key: str) -> str:
    found = values(path, section, key)
    assert len(found) == 1, f"{path.name}: [{section}] {key}= {found}"
    return found[0]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_is_hardened_and_runs_as_the_balagh_user(name: str) -> None:
    unit = UNITS / name
    for key, expected in HARDENING.items():
        assert one(unit, "Service", key) == expected, f"{name}: {key}"
    assert "/var/lib/balagh" in values(unit, "Service", "ReadWritePaths")
    assert one(unit, "Service", "StateDirectory") == "balagh"
    assert "BALAGH_DATA_DIR=/var/lib/balagh" in values(unit, "Service", "Environment")


@pytest.mark.parametrize(("name", "command"), [("balagh.service", "run"),
                                               ("balagh-watchdog.service", "watchdog"),
                                               ("balagh-console.service", "console")])
def test_the_long_running_services_restart_and_log_json(name: str, command: str) -> None:
    unit = UNITS / name
    assert one(unit, "Service", "ExecStart") == f"{INSTALLED} --log-json {command}"
    assert one(unit, "Service", "Restart") == "on-failure"
    assert float(one(unit, "Service", "RestartSec")) <= 2
    assert int(one(unit, "Unit", "StartLimitBurst")) > 1
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_the_watchdog_does_not_depend_on_the_app() -> None:
    watchdog = parse(UNITS / "balagh-watchdog.service")["Unit"]
    for key, value in watchdog:
        assert "balagh.service" not in value, f"{key}={value}: the watchdog must outlive the app"
    assert one(UNITS / "balagh-watchdog.service", "Unit", "After") == \
        "network-online.target asterisk.service"


def test_the_backup_timer_starts_a_dated_backup_nightly() -> None:
    backup = UNITS / "balagh-backup.service"
    assert one(backup, "Service", "Type") == "oneshot"
    assert "backup /var/backups/balagh/balagh-$$(date +%%F-%%H%%M).sqlite3" in \
        one(backup, "Service", "ExecStart")
    assert "/var/backups/balagh" in values(backup, "Service", "ReadWritePaths")
    timer = UNITS / "balagh-backup.timer"
    assert one(timer, "Timer", "OnCalendar") == "*-*-* 02:30"
    assert one(timer, "Timer", "Persistent") == "true"


def test_the_backup_unit_s_command_writes_a_dated_copy(tmp_path: Path) -> None:
    """Its ExecStart= as systemd would run it ($$ and %% unescaped), the paths moved here."""
    from balagh.store import ReportStore

    data, backups = tmp_path / "data", tmp_path / "backups"
    backups.mkdir()

    async def make_database() -> None:
        await (await ReportStore.open(data / "balagh.sqlite3")).close()

    asyncio.run(make_database())
    command = one(UNITS / "balagh-backup.service", "Service", "ExecStart")
    command = command.replace("$$", "$").replace("%%", "%")
    command = command.replace(INSTALLED, str(Path(sys.executable).parent / "balagh"))
    command = command.replace("/var/backups/balagh", str(backups))
    env = {"PATH": "/usr/bin:/bin", "BALAGH_DATA_DIR": str(data), "HOME": str(tmp_path)}
    result = subprocess.run(shlex.split(command), capture_output=True, text=True, env=env,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (copy,) = backups.iterdir()
    assert re.fullmatch(r"balagh-\d{4}-\d{2}-\d{2}-\d{4}\.sqlite3", copy.name)
    assert copy.name[7:17] == datetime.now().strftime("%Y-%m-%d")


@pytest.fixture
def verifiable(tmp_path: Path) -> Iterator[Path]:
    """Copies of the units whose ExecStart is this checkout's balagh: verify checks that
    the command exists, and /opt/balagh is only there on an installed machine."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    balagh = Path(sys.executable).parent / "balagh"
    assert balagh.exists(), balagh
    for unit in UNITS.iterdir():
        (tmp_path / unit.name).write_text(
            unit.read_text(encoding="utf-8").replace(INSTALLED, str(balagh)), encoding="utf-8")
    yield tmp_path


@pytest.mark.parametrize("name", [*SERVICES, "balagh-backup.timer"])
def test_systemd_analyze_verify_finds_nothing(verifiable: Path, name: str) -> None:
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(verifiable / name)],
                            capture_output=True, text=True, timeout=60, check=False)
    # Warnings (an unknown key, a bad value) leave the exit status 0: stderr must be empty.
    assert (result.returncode, result.stderr) == (0, "")


MDWE = """
import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, REFUSE_EXEC_GAIN
    sys.exit(77)
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


def test_python_and_balagh_run_under_memory_deny_write_execute(tmp_path: Path) -> None:
    def under_mdwe(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin", "BALAGH_DATA_DIR": str(tmp_path),
               "BALAGH_ARI_URL": "http://127.0.0.1:9/", "HOME": str(tmp_path)}
        return subprocess.run([sys.executable, "-c", MDWE, *args], capture_output=True,
                              text=True, env=env, timeout=120, check=False)

    probe = under_mdwe("-c", "import mmap; mmap.mmap(-1, 4096, prot=7)")
    if probe.returncode == 77:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3+)")
    assert "Permission denied" in probe.stderr  # the restriction is really on
    imports = under_mdwe("-c", "import balagh.app, balagh.watchdog.service, balagh.cli, "
                         "balagh.console.web, uvicorn")
    assert imports.returncode == 0, imports.stderr
    # SQLite, YAML, httpx and asyncio for real: the database is missing, ARI unreachable.
    health = under_mdwe("-m", "balagh", "health", "--only", "ari,store,menu,routing")
    assert health.returncode == 2, health.stdout + health.stderr
    assert "menu     ok" in health.stdout and "routing  ok" in health.stdout


def test_the_long_running_services_have_descriptors_for_their_own_links() -> None:
    # fdlimit.py asks for WANTED_FDS; under the usual 1024 a connection flood took them all.
    from balagh.fdlimit import WANTED_FDS

    for name in ("balagh.service", "balagh-watchdog.service", "balagh-console.service"):
        assert values(UNITS / name, "Service", "LimitNOFILE") == [str(WANTED_FDS)], name
