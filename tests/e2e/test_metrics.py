"""A real Prometheus scrapes `balagh run` on the sandbox and an alert fires.

Debian's prometheus (make deps) on loopback, its data in a temporary folder, scraping the
app every second with the shipped rules, the danger rule's threshold and `for:` shortened.
A caller in danger waits on the general line, whose agent is paused: through Prometheus's
HTTP API the callers-in-danger gauge reaches 1, the calls counter goes up and the alert
BalaghDangerCallerWaiting fires; after the hang-up the gauge is 0 and the abandon counted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings

from .conftest import AppProcess, stop_process
from .console_browser import free_port
from .legs import DANGER_TO_GENERAL, general_agent_away, hang_up, originate, until

PROMETHEUS = "/usr/bin/prometheus"
RULES = Path(__file__).resolve().parents[2] / "config" / "prometheus" / "balagh-alerts.yml"
DANGER_RULE = "BalaghDangerCallerWaiting"
DANGER_SECONDS = 3  # the test's threshold (the shipped example says 30)

pytestmark = pytest.mark.skipif(shutil.which(PROMETHEUS) is None,
                                reason="make deps installs Debian's prometheus")


def shortened_rules(folder: Path) -> Path:
    """The shipped rules, the danger rule's threshold and `for:` made short."""
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for rule in rules["groups"][0]["rules"]:
        if rule["alert"] == DANGER_RULE:
            rule["expr"] = rule["expr"].replace("> 30", f"> {DANGER_SECONDS}")
            assert str(DANGER_SECONDS) in rule["expr"]
            rule["for"] = "1s"
    path = folder / "rules.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    return path


class Prometheus:
    def __init__(self, folder: Path, target: str) -> None:
        self.port = free_port()
        config = folder / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(shortened_rules(folder))],
            "scrape_configs": [{"job_name": "balagh",
                                "static_configs": [{"targets": [target]}]}]}),
            encoding="utf-8")
        self.log = (folder / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=self.log)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
            return json.loads(r.read()) if r.headers.get_content_type() == "application/json" \
                else r.read()

    def value(self, expr: str) -> float | None:
        answer = self.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        result = answer["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def ready(self) -> bool:
        try:
            self.get("/-/ready")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()


@pytest.fixture
def metered(settings: Settings, data_dir: Path, app: AppProcess) -> Iterator[AppProcess]:
    """The app with metrics_listen set (the session's app stopped; the next test's
    running_app starts it again)."""
    app.stop()
    process = AppProcess(settings, data_dir / "app-metrics.log",
                         {"BALAGH_METRICS_LISTEN": f"127.0.0.1:{free_port()}"})
    process.log_path.write_bytes(b"")
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def prometheus(metered: AppProcess, tmp_path: Path) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path, metered.extra_env["BALAGH_METRICS_LISTEN"])
    try:
        yield server
    finally:
        server.stop()


async def test_prometheus_sees_a_danger_caller_wait_and_the_alert_fire(
        settings: Settings, metered: AppProcess, prometheus: Prometheus,
        ami: AmiSession) -> None:
    await until(prometheus.ready, timeout=60, what="prometheus ready")
    await until(lambda: prometheus.value('up{job="balagh"}') == 1, timeout=30,
                what="prometheus scraping the app")
    await until(lambda: prometheus.value('balagh_queue_callers_in_danger{queue="general"}')
                == 0, timeout=30, what="the general queue's gauges")
    calls = 'sum(balagh_queue_calls_total{queue="general"}) or vector(0)'
    before = prometheus.value(calls)
    firing = f'ALERTS{{alertname="{DANGER_RULE}",alertstate="firing",queue="general"}}'
    assert prometheus.value(firing) is None
    joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
    try:
        async with general_agent_away(ami):
            caller = await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                     "balagh-test-caller", DANGER_TO_GENERAL)
            try:
                await wait_for_event(
                    joins, lambda e: e.get("Uniqueid") == f"{caller.uniqueid}-far", 60)
                joined = time.monotonic()
                await until(lambda: prometheus.value(
                    'balagh_queue_callers_in_danger{queue="general"}') == 1,
                    timeout=30, what="one caller in danger waiting, seen by prometheus")
                seen = time.monotonic() - joined
                await until(lambda: (prometheus.value(calls) or 0) > (before or 0),
                            timeout=30, what="the calls counter up")
                await until(lambda: prometheus.value(firing) == 1, timeout=60,
                            what="the danger-waiting alert firing")
                fired = time.monotonic() - joined
            finally:
                await hang_up(ami, caller)
    finally:
        ami.unlisten(joins)
    await until(lambda: prometheus.value(
        'balagh_queue_callers_in_danger{queue="general"}') == 0,
        timeout=30, what="nobody in danger waiting after the hang-up")
    await until(lambda: (prometheus.value(
        'balagh_queue_outcomes_total{queue="general",outcome="abandoned"}') or 0) >= 1,
        timeout=30, what="the abandon counted")
    scrape = prometheus.value('max_over_time(scrape_duration_seconds{job="balagh"}[5m])')
    print(f"\nlongest scrape of the app {scrape * 1000:.1f} ms" if scrape else "")
    print(f"\ndanger caller seen {seen:.1f} s after joining; alert (> {DANGER_SECONDS} s, "
          f"for 1 s) firing {fired:.1f} s after joining")
