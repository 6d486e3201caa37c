"""No caller is left in a dead app: `balagh watchdog` on the sandbox PBX.

The app is killed (SIGKILL) while callers are mid-menu. If it stays dead, the watchdog
routes them by their stored answers within its grace; if it comes back first, it takes
them back itself; and when it comes back just as the watchdog acts, each caller is
moved by exactly one of the two (observed from Asterisk: one queue join per caller).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from balagh.ami.client import AmiSession
from balagh.config import Settings
from balagh.testcall import place_call
from balagh.watchdog.service import REASON

from .conftest import (
    AppProcess,
    FaultRow,
    answers_after,
    app_environment,
    last_report_id,
    log_events,
    report_by_call,
    wait_for,
)

GRACE = 5.0


class WatchdogProcess:
    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.write_bytes(b"")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "balagh", "--log-json", "watchdog", "--grace", str(GRACE)],
            stdout=log, stderr=log, env=app_environment(self.settings))
        wait_for(lambda: b'"watchdog.started"' in self.log_path.read_bytes()
                 or self.process is None or self.process.poll() is not None,
                 timeout=30, what="the watchdog to start")
        assert self.process.poll() is None, self.log_path.read_text()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def events(self, event: str) -> list[dict[str, Any]]:
        return log_events(self.log_path, event)


@pytest.fixture
def watchdog(settings: Settings, data_dir: Path) -> Iterator[WatchdogProcess]:
    process = WatchdogProcess(settings, data_dir / "watchdog.log")
    process.start()
    yield process
    process.stop()


async def callers_mid_menu(settings: Settings, count: int) -> list[asyncio.Task[Any]]:
    """`count` callers who said English, not in danger, a child, then wait in the menu."""
    before = last_report_id(settings)
    calls = [asyncio.create_task(place_call(settings, "800700", ["2", "2", "1"], timeout=120))
             for _ in range(count)]
    await asyncio.to_thread(wait_for, lambda: answers_after(settings, before) >= 3 * count,
                            timeout=90, what=f"{count} callers' three answers stored")
    return calls


def taken_back_by_app(app: AppProcess) -> set[str]:
    return {str(e.get("call_id")) for e in log_events(app.log_path, "ari.orphan_taken_back")}


async def test_a_dead_app_s_callers_are_routed_by_the_watchdog(
        settings: Settings, running_app: AppProcess, watchdog: WatchdogProcess,
        fault_rows: list[FaultRow]) -> None:
    (call,) = await callers_mid_menu(settings, 1)
    killed = time.monotonic()
    await asyncio.to_thread(running_app.crash)
    try:
        result = await call
        moved_after = time.monotonic() - killed
    finally:
        await asyncio.to_thread(running_app.start)
    print(f"\nwatchdog: caller in a queue {moved_after:.1f} s after the app died")
    assert (result.queue, result.priority) == ("child-protection", 0)
    assert moved_after < GRACE + 5  # the grace, a check interval, the move itself
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report["status_detail"] == REASON
    assert report["answers"] == {"language": "en", "danger": "no", "age": "child"}
    assert [e["call_id"] for e in watchdog.events("watchdog.moved")] == [result.hotline_id]
    # The app, back, finds nothing of it to take back.
    await asyncio.sleep(4)  # its reconcile runs a fence after it connects
    assert result.hotline_id not in taken_back_by_app(running_app)
    fault_rows.append(FaultRow(
        "app killed (SIGKILL) mid-question and not restarted",
        f"the watchdog routes the caller by their answers within the grace ({GRACE:g} s) "
        "and a check",
        f"caller in child-protection {moved_after:.1f} s after the kill; report routed "
        "by the watchdog; the app, back later, left it alone", moved_after))


async def test_an_app_back_within_the_grace_keeps_its_callers(
        settings: Settings, running_app: AppProcess, watchdog: WatchdogProcess,
        fault_rows: list[FaultRow]) -> None:
    (call,) = await callers_mid_menu(settings, 1)
    killed = time.monotonic()
    await asyncio.to_thread(running_app.crash)
    await asyncio.to_thread(running_app.start)
    result = await call
    recovered = time.monotonic() - killed
    assert (result.queue, result.priority) == ("child-protection", 0)
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report["status_detail"] == "resumed after the app restarted"
    assert result.hotline_id in taken_back_by_app(running_app)
    assert watchdog.events("watchdog.moved") == []
    fault_rows.append(FaultRow(
        "app killed (SIGKILL) mid-question and restarted at once",
        "the new app takes the caller back and routes by the stored answers; the watchdog "
        "stays out", f"caller in child-protection {recovered:.1f} s after the kill; report "
        "routed (resumed); watchdog moved nobody", recovered))


@pytest.mark.parametrize("back_after", [GRACE - 2.5, GRACE - 2.0, GRACE - 1.5])
async def test_app_and_watchdog_never_both_move_a_caller(
        settings: Settings, running_app: AppProcess, watchdog: WatchdogProcess,
        back_after: float, fault_rows: list[FaultRow]) -> None:
    """The app comes back about when the watchdog acts: whoever moves a caller, only one."""
    joins: list[dict[str, str]] = []
    async with AmiSession(settings.ami) as ami:
        queue = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
        calls = await callers_mid_menu(settings, 4)
        killed = time.monotonic()
        await asyncio.to_thread(running_app.crash)
        # A fixed offset on purpose: this is the fault being injected, not a wait.
        await asyncio.sleep(max(0.0, back_after - (time.monotonic() - killed)))
        await asyncio.to_thread(running_app.start)
        results = await asyncio.gather(*calls)
        await asyncio.sleep(1)  # a second join would come at once
        while not queue.empty():
            joins.append(queue.get_nowait())
        ami.unlisten(queue)
    ids = {result.hotline_id for result in results}
    by_watchdog = {str(e["call_id"]) for e in watchdog.events("watchdog.moved")}
    by_app = taken_back_by_app(running_app) & ids
    print(f"\nback after {back_after:.1f} s: watchdog moved {len(by_watchdog)}, "
          f"app took back {len(by_app)}")
    assert by_watchdog | by_app == ids
    assert by_watchdog & by_app == set()
    for result in results:
        assert [j["Uniqueid"] for j in joins].count(result.hotline_id) == 1, result.hotline_id
        assert (result.queue, result.priority) == ("child-protection", 0)
        report = report_by_call(settings, result.hotline_id, status="routed")
        expected = REASON if result.hotline_id in by_watchdog else \
            "resumed after the app restarted"
        assert report["status_detail"] == expected
    fault_rows.append(FaultRow(
        f"app killed with 4 callers mid-menu, restarted {back_after:g} s later (near the "
        "watchdog's grace)", "each caller moved once, by the app or the watchdog",
        f"watchdog moved {len(by_watchdog)}, app took back {len(by_app)}; one queue join "
        "each", None))
