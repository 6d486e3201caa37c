"""How long `balagh stats` and `balagh report-pack` take over 1,000,000 generated reports.

  make bench-stats      (no PBX needed; the first run generates the data, a few minutes)

Generates the reports once (bench/generate_reports.py, into a file under /tmp kept for
the next run), then times each command as a user runs it: a fresh process, best and
median of three runs, wall clock and CPU. Then the same with the index the statistics
would like on answers (added to this generated file only, dropped again after), since
the schema is not this script's to change. The section in bench/RESULTS.md is written
again on each run. Numbers are for this machine at that moment: the load average is
noted because the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
BALAGH = Path(sys.executable).with_name("balagh")
HEADING = "## Statistics and the periodic report over generated reports"
MONTH = "2026-11"
GROUPINGS = ("day", "queue", "category", "emirate", "language")
RUNS = 3
# What the statistics would like: the danger answers found without reading every answer.
INDEX = "CREATE INDEX bench_answers_danger ON answers (question, value, call_id)"


def machine() -> str:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        text = ""
    fields = dict(re.findall(r"^([^:\n]+):\s*(.+)$", text, re.MULTILINE))
    model = fields.get("Model name", "unknown cpu")
    cores = fields.get("CPU(s)", str(os.cpu_count()))
    return (f"{model}, {cores} CPU(s), Python {sys.version.split()[0]},"
            f" SQLite {sqlite3.sqlite_version}")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} / {five:.1f}"


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, threads included) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(argv: list[str]) -> str:
    runs = [timed(argv) for _ in range(RUNS)]
    walls = sorted(wall for wall, _ in runs)
    cpu = statistics.median(cpu for _, cpu in runs)
    return f"{walls[0]:.2f} s best, {statistics.median(walls):.2f} s median ({cpu:.2f} s CPU)"


def rows_for(database: Path, out: Path) -> list[tuple[str, str]]:
    base = [str(BALAGH), "stats", "--month", MONTH, "--database", str(database)]
    rows = [(f"`balagh stats --month {MONTH} --by {by}`", measure([*base, "--by", by]))
            for by in GROUPINGS]
    rows.append((f"`balagh stats --month {MONTH} --plot stats.png`",
                 measure([*base, "--plot", str(out / "stats.png")])))
    for language in ("ar", "en"):
        page = out / f"report-{language}.html"
        rows.append((f"`balagh report-pack --month {MONTH} --language {language}`",
                     measure([str(BALAGH), "report-pack", "--month", MONTH, "--database",
                              str(database), "--language", language, "-o", str(page)])
                     + f", {page.stat().st_size // 1024} KiB"))
    return rows


def write_section(lines: list[str]) -> None:
    """Replace this script's section in RESULTS.md (or add it at the end)."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = "\n".join(lines) + "\n"
    start = text.find(HEADING)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(HEADING))
        text = text[:start] + section + ("" if end < 0 else text[end:])
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, default=Path("/tmp/balagh-bench-1m.sqlite3"),
                        help="generated once, reused after (default %(default)s)")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/balagh-bench-stats"),
                        help="where the PNG and the pages go")
    args = parser.parse_args(argv)
    if not args.database.exists():
        print(f"generating {args.count} reports into {args.database} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(HERE / "generate_reports.py"), str(args.database),
                        "-n", str(args.count), "--month", MONTH], check=True)
    args.out.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    started_load = load()
    plain = rows_for(args.database, args.out)
    with sqlite3.connect(args.database) as conn:
        conn.execute("DROP INDEX IF EXISTS bench_answers_danger")
        conn.execute(INDEX)
    try:
        indexed = rows_for(args.database, args.out)
    finally:
        with sqlite3.connect(args.database) as conn:
            conn.execute("DROP INDEX IF EXISTS bench_answers_danger")
    lines = [HEADING, "",
             f"Written by `make bench-stats` (bench/bench_stats.py), {when}; {args.count:,}"
             f" reports over {MONTH} from bench/generate_reports.py"
             f" ({args.database.stat().st_size / 2**30:.1f} GiB file).",
             "",
             f"Machine: {machine()}; load average (1 / 5 min) {started_load} at the start,"
             f" {load()} at the end. Targets: stats under 2 s, the report file under 10 s.",
             "Each figure: a fresh `balagh` process, best and median of"
             f" {RUNS} runs, wall clock, and its CPU time (two threads).",
             "", "| command | schema as shipped | with an index on answers"
             " (question, value, call_id) |", "|---|---|---|"]
    lines += [f"| {name} | {a} | {b} |"
              for (name, a), (_, b) in zip(plain, indexed, strict=True)]
    write_section(lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
