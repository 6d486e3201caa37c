"""`balagh health` against the sandbox PBX: the lines an operator reads, and the exit code.

App and watchdog up: exit 0, every line ok. The watchdog stopped: a warning (exit 1). The
app stopped: its heartbeat stands still, the app line says so, exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from balagh.config import Settings

from .conftest import AppProcess, balagh
from .test_watchdog import WatchdogProcess


@pytest.fixture
def health_watchdog(settings: Settings, data_dir: Path) -> Iterator[WatchdogProcess]:
    process = WatchdogProcess(settings, data_dir / "health-watchdog.log")
    process.start()
    yield process
    process.stop()


def lines_by_name(output: str) -> dict[str, str]:
    """`name  status  summary` lines by name."""
    return {line.split()[0]: line for line in output.splitlines() if line.strip()}


def status_of(line: str) -> str:
    return line.split()[1]


def test_all_well_with_the_app_and_the_watchdog_running(
        settings: Settings, running_app: AppProcess,
        health_watchdog: WatchdogProcess) -> None:
    services = ("ari", "ami", "app", "watchdog", "store", "menu", "routing")
    # Without the prompts line: the sandbox's prompts are placeholders, a warning by
    # design (test_the_sandbox_prompts_are_readable_placeholders).
    result = balagh(settings, "health", "--only", ",".join(services))
    lines = lines_by_name(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in services:
        assert status_of(lines[name]) == "ok", lines[name]
    assert "beating" in lines["app"] and "call(s) in progress" in lines["app"]
    assert f"{settings.ari.app}-watchdog beating" in lines["watchdog"]
    assert "Asterisk 22" in lines["ari"]
    document = json.loads(balagh(settings, "health", "--json", "--only",
                                 ",".join(services)).stdout)
    assert document["exit_code"] == 0 and document["checks"]["app"]["beating"] is True


def test_the_sandbox_prompts_are_readable_placeholders(settings: Settings) -> None:
    result = balagh(settings, "health", "--only", "prompts")
    line = lines_by_name(result.stdout)["prompts"]
    assert result.returncode == 1 and status_of(line) == "warn", result.stdout
    assert "/usr/share/asterisk/sounds (the sandbox's asterisk.conf), readable by " \
        "asterisk" in line and "synthetic placeholders" in line
    document = json.loads(balagh(settings, "health", "--json", "--only", "prompts").stdout)
    prompts = document["checks"]["prompts"]
    assert prompts["missing"] == [] and prompts["unreadable"] == []
    assert prompts["placeholders"] == prompts["prompts"] > 100


def test_the_watchdog_not_running_is_a_warning(settings: Settings,
                                               running_app: AppProcess) -> None:
    result = balagh(settings, "health")
    lines = lines_by_name(result.stdout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert [status_of(lines[name]) for name in ("ari", "ami", "app")] == ["ok", "ok", "ok"]
    assert status_of(lines["watchdog"]) == "warn"
    assert "not running" in lines["watchdog"] or "not beating" in lines["watchdog"]


def test_a_stopped_app_is_down(settings: Settings, running_app: AppProcess) -> None:
    running_app.stop()
    try:
        result = balagh(settings, "health", "--only", "ari,app")
    finally:
        running_app.start()
    lines = lines_by_name(result.stdout)
    assert result.returncode == 2, result.stdout + result.stderr
    assert status_of(lines["ari"]) == "ok"
    assert status_of(lines["app"]) == "DOWN" and "not beating" in lines["app"], lines["app"]
