"""New calls a second through Kamailio: one node taking every call (active/standby, what
Balagh runs) vs two nodes sharing them (round robin), each node with its own `balagh run`.

  .venv/bin/python bench/nodes_rate.py [SECONDS] [CALLERS]     (root; default 60 s, 4)

Each of CALLERS lines calls again as soon as its call is answered and hung up (the app
answers: the IVR's first prompt), over loopback only. Holds the machine's PBX lock. The
nodes share this machine's cores, so round robin shows Kamailio's spreading, not the
capacity of a second box. Prints one Markdown table row per layout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from balagh.config import load_settings
from balagh.pbx.exclusive import exclusive_pbx
from balagh.pbx.nodes import ACTIVE_STANDBY, KAMAILIO_ADDRESS, ROUND_ROBIN, Nodes
from balagh.pbx.sandbox import Sandbox
from balagh.pbx.sipcall import call_once


def start_apps(nodes: Nodes, work: Path) -> list[subprocess.Popen[bytes]]:
    apps = []
    for node in nodes.nodes():
        data = work / node.name
        data.mkdir()
        log = (data / "app.log").open("ab")
        apps.append(subprocess.Popen([sys.executable, "-m", "balagh", "--log-json", "run"],
                                     stdout=log, stderr=log,
                                     env={**os.environ, **node.app_environment(data)}))
        deadline = time.monotonic() + 60
        while b'"ari.connected"' not in (data / "app.log").read_bytes():
            if apps[-1].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"balagh run beside {node.name} did not connect")
            time.sleep(0.1)
    return apps


def measure(seconds: float, callers: int) -> tuple[int, Counter[str], dict[str, int]]:
    """(answered, failed by code, answered per node) over `seconds` with `callers` lines."""
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    answered, failed, per_node = [0], Counter[str](), {}

    def line() -> None:
        while time.monotonic() < stop:
            outcome = call_once(KAMAILIO_ADDRESS, "800700", timeout=10)
            with lock:
                if outcome.answered and outcome.node:
                    answered[0] += 1
                    per_node[outcome.node] = per_node.get(outcome.node, 0) + 1
                else:
                    failed[str(outcome.code or "no reply")] += 1

    threads = [threading.Thread(target=line) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answered[0], failed, per_node


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    callers = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    settings = load_settings()
    print("| layout | seconds | callers | answered/s | failed | per node |")
    print("|---|---|---|---|---|---|")
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
                    apps = start_apps(nodes, Path(work))
                    answered, failed, per_node = measure(seconds, callers)
                    for app in apps:
                        app.terminate()
                        app.wait(10)
            finally:
                for app in apps:
                    if app.poll() is None:
                        app.kill()
                        app.wait()
                nodes.stop()
            print(f"| {label} | {seconds:.0f} | {callers} | {answered / seconds:.1f} | "
                  f"{dict(failed) or 0} | {per_node} |", flush=True)


if __name__ == "__main__":
    main()
