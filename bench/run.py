"""Benchmarks against the sandbox PBX; results are appended to bench/RESULTS.md.

  make bench            (as root: it starts the sandbox PBX and `balagh run` itself)

Measures what a caller and an operator feel, for Balagh and, in the same run, a
native-dialplan IVR of the same menu (bench/native/): typed-ahead, first-time and
silent callers, 1/50/200 simultaneous callers, the highest new-call rate, the app's
CPU, memory and event-loop stalls (bench/ivr_load.py); then the unit handover and
the pure parts' throughput. Holds the machine's PBX lock (exclusive_pbx) while it uses
the sandbox. BENCH_QUICK=1: short steps, for development. Numbers here are for this
machine only; they are not test assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
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

import native_ivr
from children import die_with_parent, unwind_on_sigterm
from figures import percentile, summarise
from ivr_load import QUICK, IvrBench

from balagh import eventloop
from balagh.config import CONFIG_DIR, load_settings
from balagh.ivr.check import check_menu
from balagh.ivr.menu import load_menu
from balagh.pbx.exclusive import exclusive_pbx
from balagh.pbx.sandbox import Sandbox
from balagh.routing import decide, make_facts
from balagh.routing.load import load_table
from balagh.status import ReportStatus
from balagh.store.reports import ReportStore
from balagh.testcall import place_call

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HANDOVER_CALLS = 10
HANDOVER_LIMIT_SECONDS = 120
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
    out.append(f"Last key to the unit's system holding the routed document "
               f"({HANDOVER_CALLS} typed-ahead calls, place_call): median "
               f"{statistics.median(latencies):.3f} s, p95 {percentile(latencies, 95):.3f} s, "
               f"max {max(latencies):.3f} s.")


async def store_throughput(out: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await ReportStore.open(Path(tmp) / "bench.sqlite3")
        now = datetime.now(UTC)
        n = 2000

        def one_report(i: int) -> None:
            call_id = f"bench-{i}"
            store.calls.start_report(call_id=call_id, reference=store.calls.new_reference(),
                                     channel="x", caller="+97165550000", hotline="800700",
                                     started_at=now)
            for question in ("language", "danger", "age", "gender", "emirate", "condition"):
                store.calls.record_answer(call_id=call_id, question=question, value="v", key="1",
                                          attempt=1, at=now)
            store.calls.set_status(call_id=call_id, status=ReportStatus.ROUTED, at=now)

        start = time.perf_counter()
        for i in range(n):
            one_report(i)
        enqueue = time.perf_counter() - start
        await store.writer.flush()
        total = time.perf_counter() - start
        # One report at a time, from the call path's enqueue to its commit.
        latencies = []
        for i in range(n, n + 300):
            begun = time.perf_counter()
            one_report(i)
            await store.writer.flush()
            latencies.append(time.perf_counter() - begun)
        await store.close()
    out.append(f"| report store, {n} calls x 8 writes | call path enqueues in "
               f"{enqueue / n * 1e6:.0f} us per call; all committed in {total:.2f} s "
               f"({n / total:.0f} reports/s) |")
    lat = summarise(latencies)
    assert lat is not None
    out.append(f"| report write latency, enqueue to commit, one report at a time "
               f"(300 reports) | {lat.text('ms', 1000, 1)} |")


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


def app_log_stalls(path: Path) -> str:
    """The event loop's largest stall, from looplag's lines in the app's JSON log."""
    largest, stalls = 0.0, 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"loop.' not in line:
            continue
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            largest = max(largest, float(event.get("seconds", 0.0)))
            stalls += event.get("event") == "loop.stall"
    return f"largest {largest * 1000:.0f} ms; {stalls} stalls over 250 ms"


def pbx_benchmarks(out: list[str], notes: list[str], versions: list[str]) -> None:
    unit = UnitReceiver()
    with tempfile.TemporaryDirectory() as data_dir, exclusive_pbx():
        handover = Path(data_dir) / "handover.yaml"
        handover.write_text(f"endpoints:\n  '*':\n    - url: {unit.url}\n      secret: BENCH\n")
        settings = replace(load_settings(), data_dir=Path(data_dir))
        sandbox = Sandbox(settings)
        sandbox.install()
        started = sandbox.start()
        versions.append(sandbox.cli("core show version").strip())
        native_ivr.deploy(sandbox)
        log_path = Path(data_dir) / "app.log"
        log = open(log_path, "wb")
        app = subprocess.Popen([sys.executable, "-m", "balagh", "--log-json", "run"],
                               stdout=log, stderr=log,
                               env={**os.environ, "BALAGH_DATA_DIR": data_dir,
                                    "BALAGH_HANDOVER_FILE": str(handover),
                                    "BALAGH_SECRET_BENCH": "bench-secret"},
                               preexec_fn=die_with_parent)
        try:
            deadline = time.monotonic() + 30
            while b'"ari.connected"' not in log_path.read_bytes():
                if time.monotonic() > deadline or app.poll() is not None:
                    raise RuntimeError("balagh run did not connect")
                time.sleep(0.1)
            # BENCH_PROFILE_DIR keeps py-spy's stacks after the run (they go with data_dir).
            profiles = Path(os.environ.get("BENCH_PROFILE_DIR", data_dir))
            profiles.mkdir(parents=True, exist_ok=True)
            bench = IvrBench(settings, sandbox, app.pid, profiles)
            # The load process on uvloop too: it must not be the limit of what it measures.
            results = eventloop.run(bench.run())
            for row in results.rows:
                out.append(f"| {row.figure} | {row.balagh} | {row.native} | {row.ratio} | "
                           f"{row.target} | {row.verdict} |")
            notes.extend(results.notes)
            if "handover" in os.environ.get("BENCH_PHASES", "handover"):
                # Last, and never at the cost of the figures above.
                try:
                    asyncio.run(asyncio.wait_for(handover_latency(settings, notes, unit),
                                                 HANDOVER_LIMIT_SECONDS))
                except Exception as exc:
                    notes.append(f"Handover latency not measured: {exc!r}.")
        finally:
            app.terminate()
            app.wait(10)
            log.close()
            notes.append(f"Event loop of `balagh run` over the whole bench (looplag): "
                         f"{app_log_stalls(log_path)}.")
            tp = sandbox.cli("core show taskprocessors")
            notes.append(f"Asterisk taskprocessors at the end: {max_depth(tp)}.")
            native_ivr.remove(sandbox)
            if started:
                sandbox.stop()


def max_depth(text: str) -> str:
    """The deepest queue `core show taskprocessors` reports (its Max Depth column)."""
    deepest, name = 0, "-"
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 6 and all(f.isdigit() for f in fields[1:6]):
            if int(fields[3]) > deepest:
                deepest, name = int(fields[3]), fields[0]
    return f"deepest queue {deepest} ({name})"


def main() -> int:
    out: list[str] = []
    notes: list[str] = []
    versions: list[str] = []
    began = time.monotonic()
    unwind_on_sigterm()
    pbx_benchmarks(out, notes, versions)
    other: list[str] = []
    pure(other)
    asyncio.run(store_throughput(other))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = [f"\n## {stamp}: Balagh and a native-dialplan IVR side by side\n",
              f"Machine: {machine()}; {versions[0] if versions else 'Asterisk ?'}. "
              f"Commit {git_commit()}. `make bench`{' (BENCH_QUICK=1)' if QUICK else ''}, "
              f"{(time.monotonic() - began) / 60:.0f} min. Times from Asterisk's own event "
              "timestamps (ARI, every channel); callers are Local channels originated "
              "through AMI, hung up at the queue join.\n",
              "| figure | Balagh | native dialplan | Balagh/native | target | |",
              "|---|---|---|---|---|---|", *out, "",
              *(f"- {note}" for note in notes), "",
              "| what | result |", "|---|---|", *other, ""]
    text = "\n".join(report)
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nWritten by `make bench` "
                           "(bench/run.py); newest last.\n")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(text)
    return 0


def git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False, cwd=RESULTS.parent)
    return result.stdout.strip() or "?"


if __name__ == "__main__":
    raise SystemExit(main())
