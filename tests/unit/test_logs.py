"""Logs as the journal gets them: with --log-json every line is one JSON object (the
libraries' stdlib lines too), and each is written the moment it is logged, pipe or not."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

LIBRARIES_AND_OURS = """
import logging, structlog
from balagh.logs import setup_logging
setup_logging("info", json=True)
logging.getLogger("panoramisk").error("login failed for %s", "api_key=balagh:secret")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("asyncari").exception("reader crashed")
structlog.get_logger("balagh.test").warning("call.start", call_id="1.2")
"""


def test_every_json_log_line_parses_the_libraries_lines_too() -> None:
    result = subprocess.run([sys.executable, "-c", LIBRARIES_AND_OURS], capture_output=True,
                            text=True, timeout=60, check=True)
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(e["event"], e["level"]) for e in entries] == [
        ("login failed for api_key=[redacted]", "error"), ("reader crashed", "error"),
        ("call.start", "warning")]
    assert entries[0]["logger"] == "panoramisk"
    assert "ZeroDivisionError" in entries[1]["exception"]
    assert entries[2]["call_id"] == "1.2" and result.stdout == ""


def test_a_log_line_reaches_a_pipe_while_the_process_still_runs(tmp_path: Path) -> None:
    """What the journal (or `| jq`) sees of a long-running command: its lines as they
    happen, not when a buffer fills or the process ends. ARI is a closed port here."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "BALAGH_DATA_DIR": str(tmp_path),
           "BALAGH_ARI_URL": f"http://127.0.0.1:{port}/"}
    process = subprocess.Popen([sys.executable, "-m", "balagh", "--log-json", "watchdog"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        received = b""
        while b"\n" not in received and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stderr], [], [], 0.5)
            if ready:
                received += os.read(process.stderr.fileno(), 4096)
        assert process.poll() is None, "the watchdog ended: the line came at exit"
        entry = json.loads(received.split(b"\n", 1)[0])
        assert entry["event"] and entry["level"] and entry["timestamp"]
    finally:
        process.kill()  # not SIGTERM: what the test checks is the pipe, not the stop path
        process.wait()


# One scrubbing path for every line (issue 23): a library's stdlib line and ours, in
# plain and JSON mode, lose the ARI credentials, the caller's number and the place.
EVERY_KIND_OF_LINE = """
import logging, sys, structlog
from balagh.logs import setup_logging
setup_logging("info", json=sys.argv[1] == "json")
url = "http://127.0.0.1:8088/ari/events?app=balagh&api_key=balagh:secret"
logging.getLogger("aiohttp.client").error("GET %s failed for caller +971501234567", url)
logging.getLogger("asyncari").error("channel of 0501234567 at " + url)
try:
    raise RuntimeError("connect " + url + " from +971501234567")
except RuntimeError:
    logging.getLogger("panoramisk").exception("reader crashed")
log = structlog.get_logger("balagh.test")
log.error("ari.failed", error="GET " + url, note="from +971501234567", caller="+971501234567")
log.info("call.located", emirate="fujairah", source="answer", call_id="1765090000.42")
"""


@pytest.mark.parametrize("mode", ["plain", "json"])
def test_every_line_is_scrubbed_in_both_modes(mode: str) -> None:
    result = subprocess.run([sys.executable, "-c", EVERY_KIND_OF_LINE, mode],
                            capture_output=True, text=True, timeout=60, check=True)
    out = result.stderr
    assert len(out.splitlines()) >= 5, out
    for secret in ("balagh:secret", "secret", "+971501234567", "0501234567", "fujairah"):
        assert secret not in out, f"{secret!r} in {mode} output:\n{out}"
    assert "api_key=[redacted]" in out and "+9715****4567" in out
    assert "1765090000.42" in out  # Asterisk's ids stay readable
    if mode == "json":
        assert all(json.loads(line) for line in out.splitlines() if line.strip())
