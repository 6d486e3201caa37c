"""The console's event-to-screen delay with many calls in progress (run by hand, as root).

  .venv/bin/python bench/console_delay.py [--calls 50]

Holds the machine's sandbox lock (balagh.pbx.exclusive) while it uses the PBX. It starts
`balagh run` and `balagh console` in a data folder of its own, pauses the general line's
agent so callers wait, and places callers one after another until CALLS wait at once; then
hangs them up one by one. For each caller it times, on one clock, Asterisk's event as an
AMI client hears it (QueueCallerJoin; the hang-up sent) against the console's event stream
(/events, as a browser receives it) first showing the caller waiting, or no longer showing
it. The figures are appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings, load_settings
from balagh.pbx.exclusive import exclusive_pbx
from balagh.pbx.sandbox import Sandbox, in_chroot
from balagh.pbx.test_user import ami_for_tests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from children import die_with_parent, unwind_on_sigterm
from run import machine  # bench/run.py: the same machine line

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
DANGER_TO_GENERAL = "212170"  # English, in danger, adult, male, Fujairah: the general line
GENERAL = ("balagh-general", "Local/1007@balagh-agents/n")
PASSWORD = "benchmark password"
GAP_SECONDS = 0.4  # between two callers placed (and two hung up)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Screen:
    """The console's event stream as a browser gets it: when each reference was first
    shown waiting, and when it was first gone after that."""

    def __init__(self) -> None:
        self.shown: dict[str, float] = {}
        self.gone: dict[str, float] = {}
        self.messages = 0

    async def follow(self, client: httpx.AsyncClient) -> None:
        async with client.stream("GET", "/events", timeout=None) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data: "):
                    continue
                now = time.monotonic()
                self.messages += 1
                state = json.loads(line[6:])
                waiting = {c["reference"] for c in state["calls"] if c["state"] == "waiting"}
                for reference in waiting:
                    self.shown.setdefault(reference, now)
                for reference in set(self.shown) - waiting:
                    self.gone.setdefault(reference, now)


async def measure(settings: Settings, url: str, count: int, pbx: Sandbox) -> dict[str, object]:
    client = httpx.AsyncClient(base_url=url, timeout=10)
    page = await client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    answer = await client.post("/login", data={"csrf": token.group(1), "name": "bench",
                                               "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    screen = Screen()
    follower = asyncio.create_task(screen.follow(client))
    joined: dict[str, float] = {}
    hung_up: dict[str, float] = {}
    channels: dict[str, str] = {}
    pause = {"Action": "QueuePause", "Queue": GENERAL[0], "Interface": GENERAL[1]}
    async with AmiSession(ami_for_tests(settings)) as ami:
        await ami.action({**pause, "Paused": "true", "Reason": "bench"})
        joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
        try:
            for n in range(count):
                leg = f"bench-{os.getpid()}-{n}"
                await ami.action({
                    "Action": "Originate", "Async": "true",
                    "Channel": f"Local/{settings.hotline}@balagh-inbound/n",
                    "Context": "balagh-test-caller", "Exten": DANGER_TO_GENERAL,
                    "Priority": "1", "Timeout": "30000", "ChannelId": leg,
                    "OtherChannelId": f"{leg}-far"}, timeout=40)
                event = await wait_for_event(joins, lambda e, leg=leg: e.get("Uniqueid") ==
                                             f"{leg}-far", 60)
                at = time.monotonic()
                reference = await ami.getvar(event["Channel"], "BALAGH_REFERENCE")
                assert reference, event
                joined[reference] = at
                channels[reference] = await _channel_of(ami, leg)  # the caller's own half
                await asyncio.sleep(GAP_SECONDS)
            await asyncio.sleep(2)
            in_progress = len([r for r in joined if r in screen.shown and r not in screen.gone])
            for reference, channel in channels.items():
                hung_up[reference] = time.monotonic()
                await ami.action({"Action": "Hangup", "Channel": channel})
                await asyncio.sleep(GAP_SECONDS)
            await asyncio.sleep(3)
        finally:
            ami.unlisten(joins)
            await ami.action({**pause, "Paused": "false"})
    follower.cancel()
    with contextlib.suppress(BaseException):
        await follower
    await client.aclose()
    monitor = in_chroot(pbx.root, "/var/spool/asterisk/monitor")
    for path in monitor.glob(f"caller-bench-{os.getpid()}-*.wav"):
        path.unlink(missing_ok=True)
    shown = [screen.shown[r] - joined[r] for r in joined if r in screen.shown]
    gone = [screen.gone[r] - hung_up[r] for r in hung_up if r in screen.gone]
    return {"shown": shown, "gone": gone, "in_progress": in_progress, "count": count,
            "messages": screen.messages}


async def _channel_of(ami: AmiSession, leg: str) -> str:
    for entry in await ami.action_list({"Action": "CoreShowChannels"}):
        if entry.get("Uniqueid") == leg:
            return str(entry.get("Channel"))
    return ""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args(argv)
    unwind_on_sigterm()
    with exclusive_pbx(), tempfile.TemporaryDirectory() as data_dir:
        settings = replace(load_settings(), data_dir=Path(data_dir))
        sandbox = Sandbox(settings)
        sandbox.install()
        started = sandbox.start()
        env = {**os.environ, "BALAGH_DATA_DIR": data_dir,
               "BALAGH_CONSOLE_SECURE_COOKIES": "false"}
        added = subprocess.run([sys.executable, "-m", "balagh", "users", "add", "bench",
                                "--role", "admin", "--password-stdin"], input=PASSWORD + "\n",
                               text=True, env=env, capture_output=True, check=False)
        assert added.returncode == 0, added.stderr
        port = free_port()
        app_log = Path(data_dir) / "app.log"
        processes = []
        try:
            with app_log.open("wb") as log:
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "balagh", "--log-json", "run"], stdout=log,
                    stderr=log, env=env, preexec_fn=die_with_parent))
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "balagh", "--log-json", "console", "--port",
                     str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                    preexec_fn=die_with_parent))
            wait_until(lambda: b'"ari.connected"' in app_log.read_bytes(), 30, "balagh run")
            wait_until(lambda: _up(f"http://127.0.0.1:{port}/login"), 30, "balagh console")
            result = asyncio.run(measure(settings, f"http://127.0.0.1:{port}", args.calls,
                                         sandbox))
        finally:
            for process in processes:
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(10)
            if started:
                sandbox.stop()
    shown, gone = result["shown"], result["gone"]
    assert isinstance(shown, list) and isinstance(gone, list) and shown and gone
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## {stamp}: the console's event-to-screen delay (`bench/console_delay.py`)\n",
        f"Machine: {machine()}\n",
        f"Callers placed one by one (every {GAP_SECONDS} s) until {result['count']} waited at "
        f"once on the general line ({result['in_progress']} shown waiting together), then hung "
        "up one by one. Delay: from Asterisk's event as an AMI client hears it to the "
        "console's event stream (/events, as a browser receives it) showing the change.\n",
        "| what | samples | p50 | p95 | max |", "|---|---|---|---|---|",
        f"| caller joins the queue → shown waiting | {len(shown)} | "
        f"{statistics.median(shown):.3f} s | {pct(shown, 95):.3f} s | {max(shown):.3f} s |",
        f"| caller hangs up → gone from the list | {len(gone)} | "
        f"{statistics.median(gone):.3f} s | {pct(gone, 95):.3f} s | {max(gone):.3f} s |",
        ""]
    text = "\n".join(lines)
    print(text)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(text)
    return 0


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
