"""Faults on the app's own line (issue 23), on the sandbox PBX: a second `balagh run` for
the same ARI application, and a flood of FastAGI connections. Each adds a row to the
reliability table."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path

from balagh.ami.client import AmiSession
from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox
from balagh.pbx.test_user import ami_for_tests
from balagh.testcall import place_call

from .conftest import (
    AppProcess,
    FaultRow,
    answers_after,
    app_environment,
    last_report_id,
    report_by_call,
    wait_for,
)
from .legs import finish_menus, originate
from .test_faults import remove_test_recordings

ALL_SIX = {"language": "en", "danger": "no", "age": "child", "gender": "female",
           "emirate": "dubai", "condition": "none"}


def second_run(env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """`balagh run` started beside the live app: what it said, and how long it took."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "balagh", "run"], env=env, text=True,
                            capture_output=True, timeout=60)
    return result, time.monotonic() - started


def ari_drops(app: AppProcess) -> int:
    return len([e for e in app.events("connection.lost") + app.events("connection.failed")
                if e.get("link") == "ari"])


async def test_a_second_app_refuses_to_start_and_the_first_keeps_serving(
        settings: Settings, pbx: Sandbox, running_app: AppProcess, tmp_path: Path,
        fault_rows: list[FaultRow]) -> None:
    app = running_app
    count = 8
    before = last_report_id(settings)
    connects, drops = len(app.events("ari.connected")), ari_drops(app)
    async with AmiSession(ami_for_tests(settings)) as ami:
        joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
        # English, not in danger; then they wait at the age question.
        legs = [await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                "balagh-test-caller", "22") for _ in range(count)]
        await asyncio.to_thread(wait_for, lambda: answers_after(settings, before) >= 2 * count,
                                timeout=60, what=f"{count} callers two answers in")
        # The forgotten second app: same data folder (its pid file is held) ...
        same, same_seconds = await asyncio.to_thread(second_run, app_environment(settings))
        # ... and one with a folder of its own, for the same ARI application.
        other_env = {**app_environment(settings), "BALAGH_DATA_DIR": str(tmp_path / "second")}
        other, other_seconds = await asyncio.to_thread(second_run, other_env)
        queued = await finish_menus(ami, legs, "1220", joins)  # a child, female, Dubai, none
        hotline_legs = set(queued)
        ami.unlisten(joins)
    remove_test_recordings(pbx)
    said = [same.stderr.strip().splitlines(), other.stderr.strip().splitlines()]
    print(f"\nsecond app, same folder: exit {same.returncode} in {same_seconds:.1f} s: {said[0]}"
          f"\nsecond app, own folder: exit {other.returncode} in {other_seconds:.1f} s: "
          f"{said[1]}")
    assert same.returncode == 1 and len(said[0]) == 1
    assert said[0][0].startswith("error: balagh run: another app is running")
    assert other.returncode == 1 and len(said[1]) == 1
    assert "is already served by a live balagh run" in said[1][0]
    assert len(app.events("ari.connected")) == connects and ari_drops(app) == drops
    reports = [report_by_call(settings, hotline, status="routed") for hotline in hotline_legs]
    assert set(queued.values()) == {"balagh-child-protection"}
    assert all(r is not None and r["answers"] == ALL_SIX for r in reports), reports
    fault_rows.append(FaultRow(
        f"second `balagh run` started while {count} callers are mid-menu",
        "the second refuses to start, one line, exit 1 (pid file held; or, from another "
        "data folder, the application's heartbeat advancing); the first keeps serving",
        f"refused in {same_seconds:.1f} s (pid file) and {other_seconds:.1f} s (heartbeat); "
        f"the first app's websocket never dropped; {count}/{count} callers in "
        "child-protection with all six answers", None))


FLOOD = 2000


async def hold_flood(port: int, count: int, stop: asyncio.Event, opened: list[int],
                     refused: list[int]) -> None:
    """Keep `count` idle connections to the FastAGI port open until `stop`: one the app
    closes is opened again a moment later. `refused`: those closed within 1 s (the app
    keeps an idle session 5 s, waiting for its headers)."""
    async def one() -> None:
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.2)
                continue
            opened.append(1)
            at = time.monotonic()
            with contextlib.suppress(Exception):
                read = asyncio.ensure_future(reader.read())
                done = asyncio.ensure_future(stop.wait())
                await asyncio.wait({read, done}, return_when=asyncio.FIRST_COMPLETED)
                if read.done() and time.monotonic() - at < 1.0:
                    refused.append(1)
                read.cancel()
                done.cancel()
            writer.close()
            await asyncio.sleep(1.0)  # a flood, not a busy loop on the test's own core

    await asyncio.gather(*(one() for _ in range(count)))


async def test_a_fastagi_flood_does_not_reach_the_callers(
        settings: Settings, running_app: AppProcess, fault_rows: list[FaultRow]) -> None:
    app = running_app
    drops = ari_drops(app)
    stop = asyncio.Event()
    opened: list[int] = []
    refused: list[int] = []
    flood = asyncio.create_task(hold_flood(settings.fastagi.port, FLOOD, stop, opened, refused))
    try:
        await asyncio.to_thread(wait_for, lambda: app.events("fastagi.over_capacity"),
                                timeout=60, what="the app to refuse connections over its cap")
        started = time.monotonic()
        result = await place_call(settings, settings.hotline, ["1", "1", "1", "2", "3", "0"],
                                  ahead=True, timeout=60)
        served = time.monotonic() - started
    finally:
        stop.set()
        await flood
    limit = app.last_event("app.fd_limit") or {}
    print(f"\nfastagi flood: {FLOOD} held, {len(opened)} connections opened, {len(refused)} "
          f"closed at once; app fd limit {limit.get('soft')}, cap "
          f"{limit.get('fastagi_sessions')}; caller served in {served:.1f} s")
    assert (result.queue, result.priority) == ("child-protection", 10), result
    assert report_by_call(settings, str(result.hotline_id), status="routed") is not None
    assert ari_drops(app) == drops
    assert "Too many open files" not in app.log_text()
    fault_rows.append(FaultRow(
        f"FastAGI flood: {FLOOD} idle connections held open while a caller is served",
        "sessions capped (descriptor limit minus a reserve); the rest closed at once, "
        "logged once per 10 s; the app's own ARI/AMI/SQLite links unharmed",
        f"cap {limit.get('fastagi_sessions')} of fd limit {limit.get('soft')}; "
        f"{len(opened)} connections, {len(refused)} closed at once; the caller reached "
        f"child-protection in {served:.1f} s; no EMFILE, no ARI drop", None))
