"""A second `balagh run` for the same ARI application refuses to start, with one line.

The real command in a subprocess, against a real HTTP stand-in for ARI (fake_asterisk):
a heartbeat that advances is a live app; one that stands still (a SIGKILLed app's) is not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from balagh.ari.liveness import heartbeat_variable
from balagh.config import AriSettings
from balagh.oneapp import AppAlreadyServing, refuse_if_served
from balagh.pidfile import PidFile

from .fake_asterisk import PASSWORD, USER, FakeAri

APP = "balagh-second"


@pytest.fixture
def ari() -> Iterator[FakeAri]:
    fake = FakeAri().start()
    yield fake
    fake.stop()


def settings_of(ari: FakeAri) -> AriSettings:
    return AriSettings(url=ari.url, app=APP, username=USER, password=PASSWORD)


def balagh_run(data_dir: Path, ari: FakeAri) -> subprocess.CompletedProcess[str]:
    """`balagh run` until it refuses (the test fails by timeout if it starts instead)."""
    env = {**os.environ, "BALAGH_DATA_DIR": str(data_dir), "BALAGH_ARI_URL": ari.url,
           "BALAGH_ARI_APP": APP, "BALAGH_ARI_USERNAME": USER,
           "BALAGH_ARI_PASSWORD": PASSWORD, "BALAGH_FASTAGI_ENABLED": "false"}
    return subprocess.run([sys.executable, "-m", "balagh", "run"], env=env, text=True,
                          capture_output=True, timeout=30)


def test_a_held_pid_file_refuses_a_second_app(tmp_path: Path, ari: FakeAri) -> None:
    first = PidFile.acquire(tmp_path / "balagh.pid")  # the first app, alive
    try:
        second = balagh_run(tmp_path, ari)
    finally:
        first.release()
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: balagh run: another app is running")
    assert f"pid {os.getpid()}" in lines[0]
    assert not (tmp_path / "balagh.sqlite3").exists()  # refused before opening anything


def test_an_advancing_heartbeat_refuses_a_second_app(tmp_path: Path, ari: FakeAri) -> None:
    ari.beating.add(heartbeat_variable(APP))  # a live app elsewhere, other data folder
    second = balagh_run(tmp_path, ari)
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith(f"error: balagh run: ARI application '{APP}' is already served")
    assert not (tmp_path / "balagh.pid").exists()  # released on the way out


async def test_a_stale_heartbeat_does_not_refuse(ari: FakeAri) -> None:
    ari.variables[heartbeat_variable(APP)] = "4242-abcdef-17"  # left by a SIGKILLed app
    await refuse_if_served(settings_of(ari), window=0.6)


async def test_an_unreachable_asterisk_does_not_refuse(ari: FakeAri) -> None:
    ari.stop()  # the app starts and keeps trying to connect, as before
    await refuse_if_served(settings_of(ari), window=0.6)


async def test_an_advancing_heartbeat_is_seen(ari: FakeAri) -> None:
    ari.beating.add(heartbeat_variable(APP))
    with pytest.raises(AppAlreadyServing, match="already served"):
        await refuse_if_served(settings_of(ari))
