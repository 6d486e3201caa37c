"""A unit whose system answers slowly and with a huge body, beside a unit that is fine:
the real app on the sandbox PBX. The other unit's danger alert goes at once, the slow
unit still gets every event, and the app's memory stays flat. One row of the reliability
table (`make faults`)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from balagh.ami.client import AmiSession
from balagh.config import Settings

from .conftest import HOOK_SECRET_NAME, AppProcess, FaultRow, Receiver, wait_for
from .legs import danger_caller_hangs_up_waiting

BODY = 1536 * 2**20  # the Content-Length the slow unit declares: 1.5 GB


class SlowHugeUnit:
    """Holds every POST HOLD seconds, then answers 200 with a 1.5 GB body it streams
    until the client goes away; counts what it managed to send."""

    HOLD = 5.0  # a slow unit (the outbox gives an attempt 10 s)
    CHUNK = b"x" * 2**20

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self.answered: list[str] = []
        self.sent = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/slow-unit"

    def start(self) -> SlowHugeUnit:
        unit = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                with unit._lock:
                    unit.arrived.append(key)
                time.sleep(unit.HOLD)  # the fault: a unit's system answering slowly
                self.send_response(200)
                self.send_header("Content-Length", str(BODY))
                self.end_headers()
                with unit._lock:
                    unit.answered.append(key)
                sent = 0
                try:
                    while sent < BODY:
                        self.wfile.write(unit.CHUNK)
                        sent += len(unit.CHUNK)
                except OSError:
                    pass  # the client closed the connection
                finally:
                    with unit._lock:
                        unit.sent += sent
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def beside_a_slow_unit(settings: Settings, data_dir: Path, app: AppProcess,
                       receiver: Receiver) -> Iterator[tuple[AppProcess, SlowHugeUnit]]:
    """The app with every queue's events going to the session's receiver and to the slow
    unit (the session's app stopped; the next test's running_app starts it again)."""
    app.stop()
    unit = SlowHugeUnit().start()
    handover = data_dir / "config" / "handover-slow-unit.yaml"
    handover.write_text(
        f"endpoints:\n  '*':\n    - url: {receiver.url}\n      secret: {HOOK_SECRET_NAME}\n"
        f"    - url: {unit.url}\n      secret: {HOOK_SECRET_NAME}\n")
    process = AppProcess(settings, data_dir / "app-slow-unit.log",
                         {"BALAGH_HANDOVER_FILE": str(handover)})
    process.log_path.write_bytes(b"")
    process.start()
    try:
        yield process, unit
    finally:
        process.stop()
        unit.stop()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def test_a_slow_huge_body_unit_holds_no_other_unit_s_alert(
        settings: Settings, beside_a_slow_unit: tuple[AppProcess, SlowHugeUnit],
        receiver: Receiver, ami: AmiSession, fault_rows: list[FaultRow]) -> None:
    app, unit = beside_a_slow_unit
    assert app.process is not None
    reference, _ = await danger_caller_hangs_up_waiting(settings, ami)
    hung_up = time.monotonic()
    alert_key = f"{reference}:abandoned"

    def alert_at_the_other_unit() -> bool:
        return alert_key in receiver.keys()

    await asyncio.to_thread(wait_for, alert_at_the_other_unit, timeout=30,
                            what="the alert at the other unit")
    alert_after = time.monotonic() - hung_up
    # ... while the slow unit still holds the report's first event (the alert, or the
    # routed event if it came first): the alert did not wait for it.
    with unit._lock:
        held = [key for key in unit.arrived if key.startswith(f"{reference}:")]
        answered = [key for key in unit.answered if key.startswith(f"{reference}:")]
    assert len(held) == 1 and answered == [], (held, answered)

    def slow_unit_has_both() -> bool:
        with unit._lock:
            return {f"{reference}:routed", alert_key} <= set(unit.answered)

    await asyncio.to_thread(wait_for, slow_unit_has_both, timeout=60,
                            what="both events at the slow unit")
    rss = peak_rss_mb(app.process.pid)
    assert rss < 400, rss  # a 1.5 GB body read whole would take the app past 3 GB
    fault_rows.append(FaultRow(
        "a unit's system answers 5 s late with a 1.5 GB body",
        "another unit's danger alert is not delayed; the slow unit gets every event; "
        "the body is not read",
        f"alert at the other unit {alert_after:.2f} s after hang-up while the slow unit "
        f"still held the first event; both events delivered to the slow unit; "
        f"{unit.sent / 2**20:.0f} MB of its bodies left it; app peak RSS {rss:.0f} MB",
        alert_after))
