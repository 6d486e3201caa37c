"""Write docs/reliability.md from the rows the e2e fault tests recorded (`make faults`).

Each fault test appends one JSON line (fault, expected, observed, recovery_seconds) to
the file named by BALAGH_FAULTS_REPORT; this renders them as one table, with the
machine and the date, so the page says what was observed, where and when.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"

INTRO = """\
# Reliability: what happens when things break

Each row is one fault injected on the sandbox PBX by the end-to-end fault suite
(`tests/e2e/test_faults*.py`, `tests/e2e/test_spool.py`, `tests/e2e/test_watchdog.py`),
with the caller observed from Asterisk's side (AMI), or on the store by
`tests/unit/test_store_spool.py` (a SIGKILL during another process's write lock). `make
faults` runs the suite and writes this page; the store's other faults (a locked,
read-only, full or deleted database, a purge of 1 M reports beside a live app) are in
`tests/unit/test_store_spool.py` and `tests/unit/test_maintenance.py`, with figures in
`bench/RESULTS.md`.

How the pieces fit: the app beats a heartbeat into Asterisk every second and checks it
comes back on its websocket (a half-open link is noticed within 10 s and re-made); every
ARI request has a timeout and waits up to 5 s for a reconnect; `balagh watchdog` moves
the callers of an app whose heartbeat has stopped for 5 s, by their stored answers; an
app that comes back takes back only callers still in its Stasis, after a fence.
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def asterisk_version() -> str:
    """The sandbox's Asterisk, as it says itself (if it is running)."""
    from balagh.config import load_settings
    from balagh.pbx.sandbox import Sandbox

    try:
        words = Sandbox(load_settings()).cli("core show version").split()
    except OSError:
        return "unknown"
    return words[1] if len(words) > 1 and words[0] == "Asterisk" else "unknown"


def render(rows: list[dict[str, object]]) -> str:
    lines = [INTRO, f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; "
             f"Asterisk {asterisk_version()}.", "",
             "| fault | expected | observed | time to recover |", "|---|---|---|---|"]
    for row in rows:
        seconds = row.get("recovery_seconds")
        recover = f"{seconds:.1f} s" if isinstance(seconds, int | float) else "-"
        lines.append(f"| {row['fault']} | {row['expected']} | {row['observed']} | {recover} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rows", type=Path, help="the JSON lines the fault tests wrote")
    parser.add_argument("--page", type=Path, default=PAGE)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.rows.read_text().splitlines() if line.strip()]
    if not rows:
        print(f"{args.rows}: no rows (did the fault tests run?)")
        return 1
    args.page.write_text(render(rows), encoding="utf-8")
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
