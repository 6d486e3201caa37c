"""Faults on the sandbox PBX, one test each, the caller always observed from Asterisk's side.

The app's ARI and AMI links go through a loopback fault proxy (proxy.py) where a test
needs to break them; the callers dial the sandbox directly. Each test adds a row to the
reliability table (`make faults` writes docs/reliability.md from them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox, in_chroot
from balagh.pbx.test_user import ami_for_tests
from balagh.testcall import place_call
from balagh.watchdog.service import REASON

from .conftest import (
    AppProcess,
    FaultRow,
    answers_after,
    last_report_id,
    report_by_call,
    wait_for,
)
from .legs import Leg, finish_menus, originate
from .proxy import HTTP, WEBSOCKET, FaultProxy, websocket_text
from .test_watchdog import WatchdogProcess

CHILD_IN_DANGER = ["1", "1", "1", "2", "3", "0"]  # Arabic, in danger, ...: child-protection


@pytest.fixture
def proxied(settings: Settings, data_dir: Path, app: AppProcess
            ) -> Iterator[tuple[AppProcess, FaultProxy, FaultProxy]]:
    """The app with its ARI and AMI links through fault proxies (the session's app stopped;
    the next test's running_app starts it again)."""
    app.stop()
    ari = FaultProxy(urlsplit(settings.ari.url).port or 8088).start()
    ami = FaultProxy(settings.ami.port).start()
    process = AppProcess(settings, data_dir / "app-proxied.log", {
        "BALAGH_ARI_URL": f"http://127.0.0.1:{ari.port}/",
        "BALAGH_AMI_PORT": str(ami.port)})
    process.log_path.write_bytes(b"")
    process.start()
    try:
        yield process, ari, ami
    finally:
        process.stop()
        ari.stop()
        ami.stop()


def connects(app: AppProcess) -> int:
    return len(app.events("ari.connected"))


async def served(settings: Settings, digits: list[str] = CHILD_IN_DANGER) -> str:
    """A typed-ahead call reaches child protection; its report is routed. Its reference."""
    result = await place_call(settings, "800700", digits, ahead=True, timeout=60)
    assert (result.queue, result.priority) == ("child-protection", 10), result
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report is not None
    return str(result.reference)


async def test_a_frozen_websocket_is_noticed_and_replaced(
        settings: Settings, proxied: tuple[AppProcess, FaultProxy, FaultProxy],
        fault_rows: list[FaultRow]) -> None:
    app, ari, _ = proxied
    assert ari.count(WEBSOCKET) == 1
    frozen = time.monotonic()
    ari.freeze(WEBSOCKET)  # no close, no reset: a NAT that forgot the connection
    await asyncio.to_thread(wait_for, lambda: connects(app) >= 2, timeout=30,
                            what="the app to connect again")
    recovered = time.monotonic() - frozen
    lost = app.last_event("connection.lost", link="ari")
    assert lost is not None and "no event on the websocket" in str(lost.get("error"))
    await served(settings)
    fault_rows.append(FaultRow(
        "ARI websocket frozen (half-open, no close)",
        "heartbeat echo notices within 10 s; reconnect; next call served",
        f"noticed and reconnected in {recovered:.1f} s; next call routed", recovered))


async def test_ten_callers_mid_menu_survive_a_dropped_websocket(
        settings: Settings, pbx: Sandbox,
        proxied: tuple[AppProcess, FaultProxy, FaultProxy],
        fault_rows: list[FaultRow]) -> None:
    app, ari, _ = proxied
    count = 10
    before = last_report_id(settings)
    async with AmiSession(ami_for_tests(settings)) as ami:  # PlayDTMF, Hangup: the tests' user
        joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
        # English, not in danger; then they stop at the age question.
        legs = [await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                "balagh-test-caller", "22") for _ in range(count)]
        await asyncio.to_thread(wait_for, lambda: answers_after(settings, before) >= 2 * count,
                                timeout=60, what=f"{count} callers two answers in")
        cut = time.monotonic()
        assert ari.cut(WEBSOCKET) == 1
        await asyncio.to_thread(wait_for, lambda: connects(app) >= 2, timeout=10,
                                what="the app to connect again")
        reconnected = time.monotonic() - cut
        # The rest of their answers come after the drop: a child, female, Dubai, none.
        queued = await finish_menus(ami, legs, "1220", joins)
        hotline_legs = set(queued)
        ami.unlisten(joins)
    remove_test_recordings(pbx)
    reports = [report_by_call(settings, hotline, status="routed") for hotline in hotline_legs]
    print(f"\nwebsocket cut: reconnected in {reconnected:.2f} s; queues {set(queued.values())}")
    assert set(queued.values()) == {"balagh-child-protection"}
    assert all(r is not None and r["answers"] == {
        "language": "en", "danger": "no", "age": "child", "gender": "female",
        "emirate": "dubai", "condition": "none"} for r in reports), reports
    fault_rows.append(FaultRow(
        f"ARI websocket cut while {count} callers are mid-menu",
        "reconnect at once; the callers go on with the menu; all reach their queue",
        f"reconnected in {reconnected:.2f} s; keys pressed after the drop were heard; "
        f"{count}/{count} in child-protection with all six answers", reconnected))


async def test_hanging_ari_requests_the_watchdog_moves_the_caller(
        settings: Settings, data_dir: Path,
        proxied: tuple[AppProcess, FaultProxy, FaultProxy],
        fault_rows: list[FaultRow]) -> None:
    app, ari, _ = proxied
    watchdog = WatchdogProcess(settings, data_dir / "watchdog-faults.log")
    watchdog.start()
    try:
        before = last_report_id(settings)
        call = asyncio.create_task(place_call(settings, "800700", ["2", "2", "1"], timeout=120))
        await asyncio.to_thread(wait_for, lambda: answers_after(settings, before) >= 3,
                                timeout=60, what="three answers stored")
        hung = time.monotonic()
        ari.hold_requests()  # Asterisk gets them, the app never hears back
        ari.freeze(HTTP)
        result = await call
        moved = time.monotonic() - hung
        assert (result.queue, result.priority) == ("child-protection", 0)
        ari.thaw()
        # The app goes on by itself (over its link, or a new one if it gave that up) and
        # serves the next caller.
        await asyncio.to_thread(wait_for, app.connected_now, timeout=60,
                                what="the app connected")
        await served(settings)
        report = report_by_call(settings, result.hotline_id, status="routed")
        assert report is not None and report["status_detail"] == REASON
    finally:
        watchdog.stop()
    fault_rows.append(FaultRow(
        "ARI requests never answered (HTTP hung) mid-menu",
        "caller continued to their queue; app recovers when ARI answers again",
        f"watchdog routed the caller {moved:.1f} s after the hang; once ARI answered again "
        "the app served the next call", moved))


async def test_malformed_and_unexpected_events_do_not_take_the_app_down(
        settings: Settings, proxied: tuple[AppProcess, FaultProxy, FaultProxy],
        fault_rows: list[FaultRow]) -> None:
    app, ari, ami = proxied
    odd = [{"no": "type"}, {"type": "StasisStart"},
           {"type": "StasisStart", "channel": {"id": 5}, "args": "x"},
           {"type": "ChannelDtmfReceived", "channel": {"id": "nobody"}, "digit": "1"},
           {"type": "PlaybackFinished", "playback": "not a mapping"},
           {"type": "SomethingNew", "application": "balagh"}, "[1, 2, 3]", "this is not json"]
    session_ends = 0
    started = time.monotonic()
    for payload in odd:
        # One at a time, each into the link of the moment: did it end the session?
        await asyncio.to_thread(wait_for, lambda: ari.count(WEBSOCKET) == 1, timeout=15,
                                what="the app connected")
        before = connects(app)
        ari.inject(WEBSOCKET, websocket_text(payload))
        await asyncio.sleep(0.5)
        if connects(app) > before or ari.count(WEBSOCKET) != 1:
            session_ends += 1
    for garbage in (b"Event: Nonsense\r\nFoo: bar\r\n\r\n", b"no colon at all\r\n\r\n",
                    b"Event: QueueCallerJoin\r\nQueue: \r\nUniqueid: \r\n\r\n",
                    b"Event: AgentConnect\r\n\r\n", b"Event: AgentComplete\r\nTalkTime: x\r\n\r\n",
                    b"Event: UserEvent\r\nUserEvent: BalaghOverflow\r\n\r\n"):
        ami.inject("any", garbage)
    await asyncio.to_thread(wait_for, lambda: app.connected_now(), timeout=15,
                            what="the app connected")
    recovered = time.monotonic() - started
    await served(settings)
    assert app.process is not None and app.process.poll() is None
    fault_rows.append(FaultRow(
        "malformed and unexpected ARI and AMI events",
        "ignored, or the ARI link re-made at once; the app keeps serving",
        f"{len(odd)} odd ARI frames: {session_ends} ended the session (a frame that is "
        "not a JSON event is logged and skipped; only a websocket error or a frame over "
        "8 MiB ends the link, re-made at once); 6 AMI blocks ignored; app alive, next call "
        "routed", recovered))


async def test_asterisk_restarted_under_the_app(
        settings: Settings, pbx: Sandbox, running_app: AppProcess,
        fault_rows: list[FaultRow]) -> None:
    before = connects(running_app)
    await asyncio.to_thread(pbx.stop)
    await asyncio.to_thread(pbx.start)
    back = time.monotonic()
    await asyncio.to_thread(wait_for, lambda: connects(running_app) > before, timeout=60,
                            what="the app to reconnect")
    reference = await served(settings)
    recovered = time.monotonic() - back
    fault_rows.append(FaultRow(
        "Asterisk restarted under the app",
        "the app reconnects by itself; next call served",
        f"next call (ref {reference}) routed {recovered:.1f} s after Asterisk was up",
        recovered))


async def test_fifty_callers_in_flight_while_the_app_is_killed_and_restarted(
        settings: Settings, pbx: Sandbox, running_app: AppProcess,
        fault_rows: list[FaultRow]) -> None:
    count = 50
    before = last_report_id(settings)
    async with AmiSession(ami_for_tests(settings)) as ami:  # PlayDTMF, Hangup: the tests' user
        joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
        gate = asyncio.Semaphore(10)

        async def caller() -> Leg:
            async with gate:
                # English, not in danger; then silence at the age question.
                return await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                       "balagh-test-caller", "22")

        legs = await asyncio.gather(*(caller() for _ in range(count)))
        await asyncio.to_thread(wait_for, lambda: answers_after(settings, before) >= 2 * count,
                                timeout=120, what=f"{count} callers two answers in")
        killed = time.monotonic()
        await asyncio.to_thread(running_app.crash)
        await asyncio.to_thread(running_app.start)
        hotline_legs = {f"{leg.uniqueid}-far" for leg in legs}  # the halves in the queue
        joined: set[str] = set()
        while len(joined) < count:
            event = await wait_for_event(joins, lambda e: True, 90)
            if event.get("Uniqueid") in hotline_legs:
                joined.add(event["Uniqueid"])
        recovered = time.monotonic() - killed
        for leg in legs:
            await ami.action({"Action": "Hangup", "Channel": leg.channel})
        ami.unlisten(joins)
        left = await leftovers(settings)
    remove_test_recordings(pbx)
    # The restarted app queues each report's final status for its writer: the caller is
    # in the queue before the row is committed, so the test waits for the rows to settle.
    rows = await asyncio.to_thread(
        wait_for, lambda: settled(reports_since(settings, before), count), timeout=30,
        what=f"{count} reports to leave the menu's status")
    print(f"\n{count} callers: all in a queue {recovered:.1f} s after the kill; {left}")
    assert len(rows) == count and all(status == "routed" for status, _ in rows)
    assert all(detail == "resumed after the app restarted" for _, detail in rows)
    assert left == {"channels": 0, "bridges": 0}
    fault_rows.append(FaultRow(
        f"{count} callers mid-menu, app killed (SIGKILL) and restarted",
        f"{count} reach a queue, {count} reports routed, nothing left behind",
        f"{count}/{count} joined a queue {recovered:.1f} s after the kill; {count} reports "
        "routed (resumed); 0 channels, 0 bridges left", recovered))


def remove_test_recordings(pbx: Sandbox) -> None:
    """What the sandbox's test callers recorded (they record everything they hear)."""
    for path in in_chroot(pbx.root, "/var/spool/asterisk/monitor").glob("*-balagh-sup-*.wav"):
        path.unlink(missing_ok=True)


def count_leftovers(settings: Settings) -> dict[str, int]:
    with httpx.Client(auth=(settings.ari.username, settings.ari.password), timeout=5) as web:
        return {"channels": len(web.get(f"{settings.ari.url}ari/channels").json()),
                "bridges": len(web.get(f"{settings.ari.url}ari/bridges").json())}


async def leftovers(settings: Settings) -> dict[str, int]:
    """Channels and bridges still in Asterisk once every test call has hung up."""
    nothing = {"channels": 0, "bridges": 0}
    try:
        await asyncio.to_thread(wait_for, lambda: count_leftovers(settings) == nothing,
                                timeout=30, what="every channel and bridge gone")
    except AssertionError:
        pass
    return await asyncio.to_thread(count_leftovers, settings)


def settled(rows: list[tuple[str, str | None]], count: int) -> list[tuple[str, str | None]]:
    """`rows` once all `count` reports are there and none is still in the menu, else []."""
    done = len(rows) >= count and all(status != "in_ivr" for status, _ in rows)
    return rows if done else []


def reports_since(settings: Settings, report_id: int) -> list[tuple[str, str | None]]:
    import sqlite3

    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        return [(str(status), detail) for status, detail in db.execute(
            "SELECT status, status_detail FROM reports WHERE id > ?", (report_id,))]
