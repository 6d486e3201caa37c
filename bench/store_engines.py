"""Report commits on SQLite and on PostgreSQL 15, side by side (no PBX needed).

For each engine, through the app's own ReportStore and writer:
- commit latency: one report row submitted, then flush() awaited (what a call's first write
  costs until it is durable), COMMITS times in a row: p50, p99, max;
- throughput: BURST calls (start, answer, routed: three writes each) submitted at once,
  then flushed: writes per second, the writer batching as it does under load.
PostgreSQL runs as a throwaway cluster on loopback with fsync on and synchronous_commit on
(as a site must run it); SQLite as the app opens it (WAL, synchronous=NORMAL). Both keep
their files in the same folder (--dir), so they meet the same disk. Figures are for this
machine only; appended to bench/RESULTS.md with --record.

    .venv/bin/python bench/store_engines.py [--commits 2000] [--burst 5000] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.unit import pg_cluster  # noqa: E402

from balagh.status import ReportStatus  # noqa: E402
from balagh.store import ReportStore  # noqa: E402
from balagh.store.engine import PostgresEngine  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def one_call(store: ReportStore, name: str, n: int, *, whole: bool) -> None:
    call_id = f"{name}-{n}"
    when = T0 + timedelta(milliseconds=n)
    store.calls.start_report(call_id=call_id, reference=store.calls.new_reference(),
                             channel=f"PJSIP/trunk-{n}", caller="+971500000001",
                             hotline="800111", started_at=when)
    if whole:
        store.calls.record_answer(call_id=call_id, question="danger", value="yes", key="1",
                                  attempt=1, at=when)
        store.calls.set_status(call_id=call_id, status=ReportStatus.ROUTED, at=when)


async def measure(store: ReportStore, commits: int, burst: int) -> dict[str, float]:
    latencies = []
    for n in range(commits):
        began = time.perf_counter()
        one_call(store, "lat", n, whole=False)
        await store.writer.flush()
        latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    began = time.perf_counter()
    for n in range(burst):
        one_call(store, "burst", n, whole=True)
    await store.writer.flush()
    seconds = time.perf_counter() - began
    assert store.writer.write_errors == 0 and not store.writer.spooling
    return {"p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "max": latencies[-1], "writes_per_s": burst * 3 / seconds}


async def run(folder: Path, commits: int, burst: int) -> dict[str, dict[str, float]]:
    figures = {}
    store = await ReportStore.open(folder / "balagh.sqlite3")
    try:
        figures["SQLite (WAL, synchronous=NORMAL)"] = await measure(store, commits, burst)
    finally:
        await store.close()
    cluster = await asyncio.to_thread(pg_cluster.start_cluster, folder, fsync=True)
    try:
        url = await asyncio.to_thread(cluster.new_database)
        store = await ReportStore.open_server(PostgresEngine(url), folder / "pg.spool")
        try:
            figures["PostgreSQL 15 (loopback, fsync on)"] = await measure(store, commits, burst)
        finally:
            await store.close()
    finally:
        await asyncio.to_thread(pg_cluster.remove, cluster)
    return figures


def table(figures: dict[str, dict[str, float]], commits: int, burst: int) -> str:
    lines = [f"commit latency over {commits} single-report commits; throughput over "
             f"{burst} calls x 3 writes ({platform.node()}, {platform.python_version()})", "",
             "| engine | commit p50 ms | commit p99 ms | max ms | writes/s (burst) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, f in figures.items():
        lines.append(f"| {name} | {f['p50']:.2f} | {f['p99']:.2f} | {f['max']:.1f} | "
                     f"{f['writes_per_s']:,.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--dir", type=Path, default=None, help="where both databases live")
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="balagh-engines-", dir=args.dir))
    folder.chmod(0o755)  # the cluster inside runs as the postgres user
    try:
        figures = asyncio.run(run(folder, args.commits, args.burst))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = table(figures, args.commits, args.burst)
    print(text)
    if args.record:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(f"\n## Report store engines ({datetime.now(UTC):%Y-%m-%d})\n\n{text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
