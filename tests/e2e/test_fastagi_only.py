"""A FastAGI-only site (ari.enabled false) on the sandbox PBX: `balagh run` routes a real
call through the dialplan-only path (the pure-dialplan menu, 800701), `balagh health` is
green, and the app never connects to ARI nor logs a line about it.

The session's ARI app (if another test started it) is stopped first: both would listen on
the FastAGI port the sandbox's dialplan calls.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from balagh.config import Settings
from balagh.testcall import place_call

from .conftest import AppProcess, app_environment, report_by_call, stop_process, wait_for

MENU = "800701"
ENTRY = "balagh-softphone"
FASTAGI_ONLY = {"BALAGH_ARI_ENABLED": "0"}


@pytest.fixture
def fastagi_only(app: AppProcess, settings: Settings, data_dir: Path) -> Iterator[Path]:
    """`balagh run` with ARI disabled; its JSON log's path."""
    app.stop()
    log_path = data_dir / "fastagi-only.log"
    log_path.write_bytes(b"")
    with log_path.open("ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "balagh", "--log-json", "run"],
                                   stdout=log, stderr=log,
                                   env={**app_environment(settings), **FASTAGI_ONLY})
    try:
        started = time.monotonic()
        wait_for(lambda: process.poll() is not None or b'"fastagi.listening"'
                 in log_path.read_bytes(), timeout=30, what="the FastAGI listener")
        assert process.poll() is None, log_path.read_text()[-2000:]
        print(f"\nFastAGI-only app listening {time.monotonic() - started:.1f} s after start")
        yield log_path
    finally:
        stop_process(process)


def events(log_path: Path) -> list[dict[str, object]]:
    lines = log_path.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


async def test_a_fastagi_only_site_routes_a_call_and_is_healthy(settings, fastagi_only):
    started = time.monotonic()
    result = await place_call(settings, MENU, "1,1,1,2,3,0".split(","), ahead=True,
                              context=ENTRY, read_variables=("BALAGH_ERROR", "BALAGH_RULE"),
                              timeout=60)
    print(f"call to its queue through FastAGI: {time.monotonic() - started:.1f} s")
    assert (result.queue, result.priority) == ("child-protection", 10)
    assert result.fallback is None and result.variables["BALAGH_ERROR"] is None
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report is not None and report["queue"] == "child-protection"

    started = time.monotonic()
    health = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "balagh", "health"], capture_output=True,
        text=True, timeout=60, check=False, env={**app_environment(settings), **FASTAGI_ONLY})
    print(f"balagh health: {time.monotonic() - started:.1f} s\n{health.stdout}")
    lines = {line.split()[0]: line for line in health.stdout.splitlines()}
    # Every line well but the prompts', which warns that the sandbox's are espeak-ng
    # placeholders (a production site records them): that is its one complaint.
    assert all(line.split()[1] == "ok" for name, line in lines.items()
               if name not in ("prompts", "health")), health.stdout + health.stderr
    assert "placeholders" in lines["prompts"] and "missing" not in lines["prompts"], \
        lines["prompts"]
    assert health.returncode == 1, health.stdout + health.stderr
    assert "FastAGI at agi://127.0.0.1:4573 served a session" in lines["app"]
    assert "disabled" in lines["ari"]

    logged = events(fastagi_only)
    names = {str(entry.get("event")) for entry in logged}
    assert "app.fastagi_only" in names
    ari_lines = [entry for entry in logged if str(entry.get("event")).startswith("ari.")
                 or entry.get("link") == "ari" or "liveness" in str(entry.get("event"))]
    assert ari_lines == []
