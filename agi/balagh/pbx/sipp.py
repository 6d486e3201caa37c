"""Callers of the hotline played by SIPp (Debian's sip-tester), through Kamailio.

The scenarios are config/sipp/*.xml: INVITE, the answer, the menu's keys as SIP INFO,
then either a hold in the queue and BYE (`run_calls`, many calls at a rate) or a wait
until the node hangs up or is gone (`Caller`, one SIPp per caller, its RTP counted by a
socket of its own). Loopback only; every SIPp process is ended by its pid.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from balagh.config import CONFIG_DIR

SCENARIOS = CONFIG_DIR / "sipp"
CALL = SCENARIOS / "hotline_call.xml"
WAIT = SCENARIOS / "hotline_wait.xml"
MID_MENU = SCENARIOS / "hotline_mid_menu.xml"
# Arabic, in danger, child, female, Sharjah, no condition: a report for child protection.
MENU_KEYS = "111230"


class SippError(RuntimeError):
    pass


def sipp_binary() -> str:
    found = shutil.which("sipp")
    if found is None:
        raise SippError("sipp is missing: apt-get install sip-tester (make deps)")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sipp_command(scenario: Path, proxy: tuple[str, int], number: str, keys: str,
                 work: Path, *extra: str) -> list[str]:
    """The SIPp command line for `scenario` against `proxy`, its logs in `work`."""
    if not re.fullmatch(r"[0-9*#]{1,6}", keys):
        raise SippError(f"keys must be 1 to 6 of 0-9 * #, not {keys!r}")
    args = [sipp_binary(), f"{proxy[0]}:{proxy[1]}", "-sf", str(scenario), "-s", number,
            "-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", str(_free_port()),
            # A recv's own timeout counts only once the call reaches it: a call waiting on an
            # optional 100/180 would wait for ever. Every wait fails after 20 s instead.
            "-recv_timeout", "20000",
            "-nostdin", "-aa", "-trace_logs", "-log_file", str(work / "calls.log"),
            "-trace_err", "-error_file", str(work / "errors.log")]
    for position, key in enumerate(keys.ljust(6, "0"), start=1):
        args += ["-key", f"key{position}", key]
    return [*args, *extra]


@dataclass
class CallRecord:
    """One call as the scenario's log lines tell it (times: the wall clock, time.time())."""

    number: int
    invited_at: float | None = None
    answered_at: float | None = None
    node: str | None = None
    keys_taken: int = 0
    ended: str | None = None  # node-hung-up or node-gone (wait scenarios)
    ended_at: float | None = None


_LINE = re.compile(r"call (\d+) (invite|answered-by ([\d.]+)|key \d taken|ended (\S+))"
                   r"(?: at ([\d.]+) ([\d.]+))?")


def parse_calls(text: str) -> dict[int, CallRecord]:
    """The calls of a scenario's log (its <log> lines), by SIPp's call number."""
    calls: dict[int, CallRecord] = {}
    for found in _LINE.finditer(text):
        number = int(found.group(1))
        call = calls.setdefault(number, CallRecord(number))
        at = float(found.group(5)) + float(found.group(6)) / 1e6 if found.group(5) else None
        what = found.group(2)
        if what == "invite":
            call.invited_at = at
        elif what.startswith("answered-by"):
            call.node, call.answered_at = found.group(3), at
        elif what.startswith("key"):
            call.keys_taken += 1
        else:
            call.ended, call.ended_at = found.group(4), at
    return calls


@dataclass
class CallsRun:
    """What `run_calls` saw: SIPp's own counts and each call's log."""

    successful: int
    failed: int
    calls: dict[int, CallRecord]
    seconds: float
    errors: str = ""

    @property
    def total(self) -> int:
        return self.successful + self.failed

    @property
    def answered_by(self) -> Counter[str]:
        return Counter(call.node for call in self.calls.values() if call.node)


def _last_stats(stats: Path) -> dict[str, str]:
    with stats.open(newline="") as rows:
        table = list(csv.reader(rows, delimiter=";"))
    if len(table) < 2:
        raise SippError(f"SIPp wrote no statistics in {stats}")
    return dict(zip(table[0], table[-1], strict=False))


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def run_calls(proxy: tuple[str, int], number: str, work: Path, *, calls: int,
              rate: float, hold_ms: int, limit: int = 2000, keys: str = MENU_KEYS,
              timeout: float | None = None) -> CallsRun:
    """`calls` callers at `rate` new calls a second, each the whole menu, `hold_ms` in the
    queue, then BYE. Blocks until SIPp is done (or `timeout` s, then it is killed)."""
    work.mkdir(parents=True, exist_ok=True)
    stats = work / "stats.csv"
    command = sipp_command(CALL, proxy, number, keys, work, "-m", str(calls),
                           "-r", f"{rate:g}", "-l", str(limit), "-d", str(hold_ms),
                           "-trace_stat", "-stf", str(stats), "-fd", "1")
    started = time.monotonic()
    with (work / "sipp.out").open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            returncode = process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise SippError(f"SIPp still running after {timeout} s; see {work}") from None
    seconds = time.monotonic() - started
    if returncode not in (0, 1):  # 0 all calls succeeded, 1 some failed; else SIPp failed
        raise SippError(f"sipp exited {returncode}: "
                        f"{(work / 'sipp.out').read_text(errors='replace')[-1500:]}")
    last = _last_stats(stats)
    errors = work / "errors.log"
    return CallsRun(successful=int(last["SuccessfulCall(C)"]),
                    failed=int(last["FailedCall(C)"]),
                    calls=parse_calls(_read(work / "calls.log")), seconds=seconds,
                    errors=errors.read_text(errors="replace")[-3000:] if errors.exists() else "")


def call_once(proxy: tuple[str, int], number: str, work: Path, *,
              keys: str = MENU_KEYS, hold_ms: int = 0) -> CallsRun:
    """One caller through the whole menu: did the hotline take it, and which node?"""
    return run_calls(proxy, number, work, calls=1, rate=1, hold_ms=hold_ms, keys=keys,
                     timeout=60)


@dataclass
class Caller:
    """One caller who waits (in the queue, or mid-menu) until the node hangs up or is gone.

    Its offer's audio points at a socket of its own: the last RTP packet from the node
    is when the caller heard it last."""

    proxy: tuple[str, int]
    number: str
    work: Path
    scenario: Path = WAIT
    keys: str = MENU_KEYS
    last_rtp_at: float | None = None
    rtp_packets: int = 0
    exited_at: float | None = None
    returncode: int | None = None
    _process: subprocess.Popen[bytes] | None = None
    _rtp: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self._rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._rtp.bind(("127.0.0.1", 0))
        self._rtp.settimeout(0.2)
        command = sipp_command(self.scenario, self.proxy, self.number, self.keys, self.work,
                               "-m", "1", "-base_cseq", "100", "-key", "rtp_port",
                               str(self._rtp.getsockname()[1]))
        out = (self.work / "sipp.out").open("wb")
        self._process = subprocess.Popen(command, stdout=out, stderr=out,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self._threads = [threading.Thread(target=self._count_rtp, daemon=True),
                         threading.Thread(target=self._watch_exit, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _count_rtp(self) -> None:
        assert self._rtp is not None
        while self.exited_at is None:
            try:
                self._rtp.recv(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            self.rtp_packets += 1
            self.last_rtp_at = time.time()  # the wall clock, as the scenario's log lines

    def _watch_exit(self) -> None:
        assert self._process is not None
        self.returncode = self._process.wait()
        self.exited_at = time.time()

    def record(self) -> CallRecord:
        """This caller's call as its log tells it so far."""
        calls = parse_calls(_read(self.work / "calls.log"))
        return calls.get(1, CallRecord(1))

    def errors(self) -> str:
        return _read(self.work / "errors.log")[-3000:]

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return self.exited_at is not None

    def stop(self) -> None:
        """End SIPp by its pid (its process group) if it still runs; close the socket."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
        self.wait(10)
        if self._rtp is not None:
            self._rtp.close()
