"""Benchmarks against the sandbox PBX; results are appended to bench/RESULTS.md.

  make bench            (as root: it starts the sandbox PBX and `balagh run` itself)

Measures what a caller and an operator feel: how fast a caller who types every
answer ahead reaches the queue, how a burst of simultaneous callers is served,
what the app costs in memory, and the pure parts' throughput. Numbers here are
for this machine only; they are not test assertions.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from balagh.config import CONFIG_DIR, load_settings
from balagh.ivr.check import check_menu
from balagh.ivr.menu import load_menu
from balagh.pbx.sandbox import Sandbox
from balagh.routing import decide, make_facts
from balagh.routing.load import load_table
from balagh.status import ReportStatus
from balagh.store.reports import ReportStore
from balagh.testcall import place_call

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SEQUENTIAL_CALLS = 10
BURST_CALLS = 20
HANDOVER_CALLS = 20
ADULT_WOMAN = ["2", "2", "2", "2", "1", "0"]


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    return (f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {mem_kb / 1048576:.0f} GiB, "
            f"Python {platform.python_version()}, {platform.platform()}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class UnitReceiver:
    """The unit's system for the handover benchmark: when each routed document arrived."""

    def __init__(self) -> None:
        self.routed_at: dict[str, datetime] = {}
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                arrived = datetime.now(UTC)
                document = json.loads(body)
                if document["event"] == "routed":
                    with receiver.arrived:
                        receiver.routed_at[document["report"]["reference"]] = arrived
                        receiver.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/reports"

    def routed(self, reference: str, timeout: float) -> datetime:
        with self.arrived:
            self.arrived.wait_for(lambda: reference in self.routed_at, timeout)
            return self.routed_at[reference]


def last_key_at(settings, reference: str) -> datetime:
    """When the app took the caller's last answer (its own clock, as stored)."""
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        stamp = db.execute("SELECT MAX(answers.answered_at) FROM answers JOIN reports"
                           " USING (call_id)"
                           " WHERE reference = ?", (reference,)).fetchone()[0]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def handover_latency(settings, out: list[str], unit: UnitReceiver) -> None:
    """The caller's last key -> the unit's system holding the routed document."""
    latencies = []
    for _ in range(HANDOVER_CALLS):
        result = await place_call(settings, settings.hotline, ADULT_WOMAN, ahead=True)
        assert result.reference, result
        arrived = await asyncio.to_thread(unit.routed, result.reference, 10)
        latencies.append((arrived - last_key_at(settings, result.reference)).total_seconds())
    out.append(f"| last key to the unit's system holding the routed document "
               f"({HANDOVER_CALLS} calls) | median {statistics.median(latencies):.3f} s, "
               f"p95 {pct(latencies, 0.95):.3f} s, max {max(latencies):.3f} s |")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


async def calls(settings, out: list[str], app_pid: int) -> None:
    times = []
    for _ in range(SEQUENTIAL_CALLS):
        result = await place_call(settings, settings.hotline, ADULT_WOMAN, ahead=True)
        assert result.queue == "women-protection", result
        times.append(result.seconds_to_queue or 0.0)
    out.append(f"| type-ahead caller, answer to queue join ({SEQUENTIAL_CALLS} calls) | "
               f"median {statistics.median(times):.2f} s, p90 {pct(times, 0.9):.2f} s, "
               f"max {max(times):.2f} s |")
    rss_before = rss_mib(app_pid)
    start = time.monotonic()
    results = await asyncio.gather(*(
        place_call(settings, settings.hotline, ADULT_WOMAN, ahead=True, timeout=120)
        for _ in range(BURST_CALLS)), return_exceptions=True)
    wall = time.monotonic() - start
    routed = [r for r in results if not isinstance(r, BaseException) and r.queue]
    burst = [r.seconds_to_queue or 0.0 for r in routed]
    out.append(f"| burst of {BURST_CALLS} simultaneous type-ahead callers | {len(routed)}/"
               f"{BURST_CALLS} routed in {wall:.1f} s; answer to queue median "
               f"{statistics.median(burst):.2f} s, max {max(burst):.2f} s |")
    out.append(f"| `balagh run` resident memory | {rss_before:.0f} MiB before the burst, "
               f"{rss_mib(app_pid):.0f} MiB after |")


async def store_throughput(out: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await ReportStore.open(Path(tmp) / "bench.sqlite3")
        now = datetime.now(UTC)
        n = 2000
        start = time.perf_counter()
        for i in range(n):
            call_id = f"bench-{i}"
            store.start_report(call_id=call_id, reference=store.new_reference(), channel="x",
                               caller="+97165550000", hotline="800700", started_at=now)
            for question in ("language", "danger", "age", "gender", "emirate", "condition"):
                store.record_answer(call_id=call_id, question=question, value="v", key="1",
                                    attempt=1, at=now)
            store.set_status(call_id=call_id, status=ReportStatus.ROUTED, at=now)
        enqueue = time.perf_counter() - start
        await store.flush()
        total = time.perf_counter() - start
        await store.close()
    out.append(f"| report store, {n} calls x 8 writes | call path enqueues in "
               f"{enqueue / n * 1e6:.0f} us per call; all committed in {total:.2f} s "
               f"({n / total:.0f} calls/s) |")


def pure(out: list[str]) -> None:
    menu = load_menu(CONFIG_DIR / "ivr.yaml")
    table = load_table(CONFIG_DIR / "routing.yaml", menu.answer_values())
    answers = {"language": "ar", "danger": "no", "age": "adult", "gender": "male",
               "emirate": "dubai", "condition": "none"}
    n = 100_000
    # The facts are made inside the loop, as a call does: comparable with earlier results.
    seconds = timeit.timeit(lambda: decide(make_facts(answers, table.zone), table), number=n)
    out.append(f"| decide() on the shipped table (default route, all rules tried) | "
               f"{seconds / n * 1e6:.2f} us per call |")
    start = time.perf_counter()
    result = check_menu(menu, table)
    out.append(f"| `balagh ivr check` walk of the shipped menu | {result.paths} paths in "
               f"{(time.perf_counter() - start) * 1000:.0f} ms |")


def main() -> int:
    out: list[str] = []
    pure(out)
    asyncio.run(store_throughput(out))
    unit = UnitReceiver()
    with tempfile.TemporaryDirectory() as data_dir:
        handover = Path(data_dir) / "handover.yaml"
        handover.write_text(f"endpoints:\n  '*':\n    - url: {unit.url}\n      secret: BENCH\n")
        settings = replace(load_settings(), data_dir=Path(data_dir))
        sandbox = Sandbox(settings)
        sandbox.install()
        started = sandbox.start()
        log = open(Path(data_dir) / "app.log", "wb")
        app = subprocess.Popen([sys.executable, "-m", "balagh", "--log-json", "run"],
                               stdout=log, stderr=log,
                               env={**os.environ, "BALAGH_DATA_DIR": data_dir,
                                    "BALAGH_HANDOVER_FILE": str(handover),
                                    "BALAGH_SECRET_BENCH": "bench-secret"})
        try:
            deadline = time.monotonic() + 30
            while b'"ari.connected"' not in (Path(data_dir) / "app.log").read_bytes():
                if time.monotonic() > deadline or app.poll() is not None:
                    raise RuntimeError("balagh run did not connect")
                time.sleep(0.1)
            asyncio.run(calls(settings, out, app.pid))
            asyncio.run(handover_latency(settings, out, unit))
        finally:
            app.terminate()
            app.wait(10)
            log.close()
            if started:
                sandbox.stop()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = [f"\n## {stamp}\n", f"Machine: {machine()}\n", "| what | result |", "|---|---|",
              *out, ""]
    text = "\n".join(report)
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nWritten by `make bench` "
                           "(bench/run.py); newest last.\n")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
