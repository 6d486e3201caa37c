"""`balagh console` start-up: a taken port ends it at once with one line; it says where
it listens; a non-loopback address is warned about; SIGTERM ends it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from balagh.cli.console import is_loopback


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def console(tmp_path: Path, *argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, "BALAGH_DATA_DIR": str(tmp_path), "BALAGH_PBX_DIR": str(tmp_path),
           "BALAGH_AMI_PORT": str(_free_port()), "BALAGH_CONSOLE_SECURE_COOKIES": "false",
           "BALAGH_SUPERVISORS_FILE": str(tmp_path / "supervisors.yaml")}
    return subprocess.Popen([sys.executable, "-m", "balagh", "console", *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as holder:  # listening: the port is taken
        yield int(holder.getsockname()[1])


def test_a_taken_port_fails_at_once_with_one_line(tmp_path: Path, taken_port: int) -> None:
    process = console(tmp_path, "--port", str(taken_port))
    try:
        _, err = process.communicate(timeout=60)  # the old console never ended
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1
    assert err.splitlines() == [f"cannot listen on 127.0.0.1:{taken_port}: "
                                "Address already in use"]


def _lines_until(process: subprocess.Popen[str], wanted: str) -> list[str]:
    """Its stderr up to the line with `wanted`; a console that never says it is ended
    (a bound against a hang, not a timing: a start takes about a second)."""
    assert process.stderr is not None
    seen: list[str] = []
    guard = threading.Timer(60, process.kill)
    guard.start()
    try:
        for line in process.stderr:
            seen.append(line)
            if wanted in line:
                return seen
    finally:
        guard.cancel()
    raise AssertionError(f"the console ended without {wanted!r}: {''.join(seen)}")


@pytest.mark.parametrize(("host", "shown", "warned"), [
    ("127.0.0.1", "127.0.0.1", False), ("0.0.0.0", "0.0.0.0", True)])
def test_it_logs_where_it_listens_and_ends_on_sigterm(tmp_path: Path, host: str, shown: str,
                                                      warned: bool) -> None:
    port = _free_port()
    process = console(tmp_path, "--host", host, "--port", str(port))
    try:
        said = "".join(_lines_until(process, f"listening on http://{shown}:{port}"))
        assert ("behind the TLS reverse proxy" in said) is warned
        process.send_signal(signal.SIGTERM)
        # uvicorn re-raises the SIGTERM it caught once shut down: ended by the signal
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_loopback_is_told_apart() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.7")
    assert not is_loopback("console.example")
