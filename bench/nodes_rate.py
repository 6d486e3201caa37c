"""New calls a second held with the whole menu through Kamailio: one node taking every call
(active/standby, what Balagh runs) vs two nodes sharing them (round robin), each node with
its own `balagh run`. The callers are SIPp (config/sipp/hotline_call.xml).

  .venv/bin/python bench/nodes_rate.py [SECONDS] [RATE ...]   (root; default 60 s; 10 20 30 40)

For each layout, each RATE in turn (lowest first) for SECONDS: SIPp starts RATE new calls
a second; each is answered by the app, answers the six questions by SIP INFO (language,
danger, age, gender, emirate, condition), waits a second in the child-protection queue and
hangs up. A rate is held when SIPp counts no failed call and every call's report is routed
in its node's SQLite file; the first rate not held ends that layout. Loopback only; holds
the machine's PBX lock. The nodes share this machine's cores, so round robin shows
Kamailio's spreading, not the capacity of a second box. Prints Markdown table rows.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from balagh.config import load_settings
from balagh.pbx.exclusive import exclusive_pbx
from balagh.pbx.nodes import ACTIVE_STANDBY, HOTLINE, KAMAILIO_ADDRESS, ROUND_ROBIN, Nodes
from balagh.pbx.sandbox import Sandbox
from balagh.pbx.sipp import run_calls

HOLD_MS = 1000  # in the queue before hanging up


def start_apps(nodes: Nodes, work: Path) -> tuple[list[subprocess.Popen[bytes]], list[Path]]:
    apps, databases = [], []
    for node in nodes.nodes():
        data = work / node.name
        data.mkdir()
        log = (data / "app.log").open("ab")
        apps.append(subprocess.Popen([sys.executable, "-m", "balagh", "--log-json", "run"],
                                     stdout=log, stderr=log,
                                     env={**os.environ, **node.app_environment(data)}))
        databases.append(data / "balagh.sqlite3")
        deadline = time.monotonic() + 60
        while b'"ari.connected"' not in (data / "app.log").read_bytes():
            if apps[-1].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"balagh run beside {node.name} did not connect")
            time.sleep(0.1)
    return apps, databases


def routed(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM reports WHERE queue IS NOT NULL")
                   .fetchone()[0])


def wait_routed(databases: list[Path], before: int, expected: int) -> int:
    """Routed reports since `before`, once they stop growing (the writers' last batch)."""
    last, steady_since = -1, time.monotonic()
    while time.monotonic() - steady_since < 3:
        now = sum(routed(db) for db in databases) - before
        if now != last:
            last, steady_since = now, time.monotonic()
        if now >= expected:
            return now
        time.sleep(0.2)
    return last


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    rates = [float(rate) for rate in sys.argv[2:]] or [10.0, 20.0, 30.0, 40.0]
    settings = load_settings()
    print(f"# {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start; "
          f"{seconds:.0f} s per rate, {HOLD_MS} ms in the queue")
    print("| layout | new calls/s asked | calls | answered (SIPp) | failed | routed reports "
          "| per node | held |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    with exclusive_pbx():
        Sandbox(settings).install()
        for label, algorithm in (("1 node takes all (active/standby)", ACTIVE_STANDBY),
                                 ("2 nodes share (round robin)", ROUND_ROBIN)):
            nodes = Nodes(settings)
            nodes.stop()
            apps: list[subprocess.Popen[bytes]] = []
            try:
                nodes.start(2, hold_lock=False, algorithm=algorithm)
                with tempfile.TemporaryDirectory(prefix="balagh-nodes-bench-") as work:
                    apps, databases = start_apps(nodes, Path(work))
                    for rate in rates:
                        calls = int(rate * seconds)
                        before = sum(routed(db) for db in databases)
                        run = run_calls(KAMAILIO_ADDRESS, HOTLINE,
                                        Path(work) / f"sipp-{algorithm}-{rate:g}",
                                        calls=calls, rate=rate, hold_ms=HOLD_MS,
                                        timeout=seconds + 120)
                        reports = wait_routed(databases, before, calls)
                        held = run.failed == 0 and run.successful == calls == reports
                        print(f"| {label} | {rate:g} | {calls} | {run.successful} | "
                              f"{run.failed} | {reports} | {dict(run.answered_by)} | "
                              f"{'yes' if held else 'no'} |", flush=True)
                        for node in nodes.nodes():  # callers a failed rate left waiting
                            node.cli("channel request hangup all")
                        if not held:
                            break
                    for app in apps:
                        app.terminate()
                        app.wait(10)
            finally:
                for app in apps:
                    if app.poll() is None:
                        app.kill()
                        app.wait()
                nodes.stop()


if __name__ == "__main__":
    main()
