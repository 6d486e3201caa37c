"""/metrics: the figures from QueueStatus and queue events, the listener, the console's
route, the settings, and the shipped alert rules (promtool)."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from balagh.ami.client import AmiSession
from balagh.ari.app import AriApplication
from balagh.ari.call import AriCall
from balagh.ari.router import Entry, StasisRouter, first_arg_is
from balagh.config import AmiSettings, AriSettings, ConfigError, load_settings
from balagh.console.metrics_route import console_registry, metrics_endpoint
from balagh.ivr.port import CallInfo
from balagh.metrics.app_metrics import menu_count
from balagh.metrics.collector import AppCollector, AppState
from balagh.metrics.queue_events import QueueCounters
from balagh.metrics.queue_status import QueueStatusPoller, agent_state, parse_status
from balagh.metrics.server import MetricsServer
from balagh.metrics.store_sample import StoreSample, StoreSampler, spool_lines
from balagh.store.queries import Queries

RULES = Path(__file__).resolve().parents[2] / "config" / "prometheus" / "balagh-alerts.yml"
QUEUES = frozenset({"child", "women"})

STATUS = [
    {"Event": "QueueParams", "Queue": "balagh-child"},
    {"Event": "QueueMember", "Queue": "balagh-child", "Status": "1", "Paused": "0"},
    {"Event": "QueueMember", "Queue": "balagh-child", "Status": "2", "Paused": "0"},
    {"Event": "QueueMember", "Queue": "balagh-child", "Status": "1", "Paused": "1"},
    {"Event": "QueueMember", "Queue": "balagh-child", "Status": "5", "Paused": "1"},
    {"Event": "QueueEntry", "Queue": "balagh-child", "Uniqueid": "c1", "Wait": "40"},
    {"Event": "QueueEntry", "Queue": "balagh-child", "Uniqueid": "c2", "Wait": "12"},
    {"Event": "QueueParams", "Queue": "balagh-women"},
    {"Event": "QueueEntry", "Queue": "sales", "Uniqueid": "x", "Wait": "99"},  # not ours
    {"Event": "QueueStatusComplete"},
]


class StatusAmi(AmiSession):
    """An AMI session whose QueueStatus answer is given (no Asterisk)."""

    def __init__(self, events: list[dict[str, str]]) -> None:
        super().__init__(AmiSettings())
        self.events = events
        self.connected.set()

    async def action_list(self, action: dict[str, str], timeout: float = 10.0) -> list[Any]:
        assert action == {"Action": "QueueStatus"}
        return list(self.events)


def test_agent_states_follow_device_state_and_pause() -> None:
    assert agent_state({"Status": "1", "Paused": "0"}) == "free"
    assert agent_state({"Status": "0", "Paused": "0"}) == "free"  # unknown: still rung
    assert agent_state({"Status": "6", "Paused": "0"}) == "busy"  # ringing
    assert agent_state({"Status": "1", "Paused": "0", "InCall": "1"}) == "busy"
    assert agent_state({"Status": "2", "Paused": "1"}) == "paused"
    assert agent_state({"Status": "5", "Paused": "1"}) == "unavailable"


def test_queue_status_keeps_balagh_queues_only() -> None:
    queues = parse_status(STATUS)
    assert set(queues) == {"child", "women"}
    assert queues["child"].agents == {"free": 1, "busy": 1, "paused": 1, "unavailable": 1}
    assert [w.call_id for w in queues["child"].waiting] == ["c1", "c2"]
    assert queues["women"].waiting == []


def scrape(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


async def collector_over(events: list[dict[str, str]], danger: set[str],
                         queues: frozenset[str] = QUEUES) -> CollectorRegistry:
    asked: list[str] = []

    async def in_danger(call_id: str) -> bool:
        asked.append(call_id)
        return call_id in danger

    poller = QueueStatusPoller(StatusAmi(events), in_danger)
    await poller.poll()
    await poller.poll()  # a caller's report is read once while they wait
    assert sorted(asked) == ["c1", "c2"]
    store = StoreSampler.__new__(StoreSampler)
    store.last = StoreSample(outbox_pending=3, outbox_failed=1, spool_depth=2)
    registry = CollectorRegistry()
    registry.register(AppCollector(AppState(
        queues=lambda: queues, callers_in_menu=lambda: 4, queue_status=poller,
        store=store, max_loop_stall=lambda: 0.3, heartbeat_age=lambda: 1.5)))
    return registry


async def test_gauges_count_callers_in_danger_and_agents_per_queue() -> None:
    registry = await collector_over(STATUS, danger={"c2"})
    value = registry.get_sample_value
    assert value("balagh_queue_callers", {"queue": "child"}) == 2
    assert value("balagh_queue_callers_in_danger", {"queue": "child"}) == 1
    assert value("balagh_queue_longest_wait_seconds", {"queue": "child"}) == 40
    assert value("balagh_queue_longest_danger_wait_seconds", {"queue": "child"}) == 12
    assert value("balagh_queue_agents", {"queue": "child", "state": "paused"}) == 1
    assert value("balagh_queue_agents", {"queue": "women", "state": "free"}) == 0
    assert value("balagh_callers_in_menu") == 4
    assert value("balagh_outbox_pending") == 3
    assert value("balagh_outbox_failed") == 1
    assert value("balagh_spool_writes") == 2
    assert value("balagh_heartbeat_age_seconds") == 1.5
    assert value("balagh_ami_up") == 1
    assert value("balagh_build_info", {"version": _label(registry, "version"),
                                       "python": _label(registry, "python")}) == 1
    assert 'queue="sales"' not in scrape(registry)


def _label(registry: CollectorRegistry, name: str) -> str:
    for metric in registry.collect():
        if metric.name == "balagh_build_info":
            return str(metric.samples[0].labels[name])
    raise AssertionError("no balagh_build_info")


async def test_a_queue_the_hotline_dropped_is_not_a_label() -> None:
    registry = await collector_over(STATUS, danger=set(), queues=frozenset({"women"}))
    assert registry.get_sample_value("balagh_queue_callers", {"queue": "child"}) is None
    assert registry.get_sample_value("balagh_queue_callers", {"queue": "women"}) == 0


async def test_a_stale_poll_offers_no_queue_gauges() -> None:
    now = [100.0]
    poller = QueueStatusPoller(StatusAmi(STATUS), _never_danger, clock=lambda: now[0])
    await poller.poll()
    assert poller.snapshot()[0]
    now[0] += poller.max_age + 1
    assert poller.snapshot() == ({}, {})


async def _never_danger(_call_id: str) -> bool:
    return False


async def test_a_caller_whose_report_is_not_written_yet_is_asked_about_again() -> None:
    written: dict[str, bool] = {}

    async def in_danger(call_id: str) -> bool | None:
        return written.get(call_id)

    poller = QueueStatusPoller(StatusAmi(STATUS), in_danger)
    await poller.poll()
    assert poller.snapshot()[1] == {}
    written.update(c1=True, c2=False)
    await poller.poll()
    assert poller.snapshot()[1] == {"c1": True, "c2": False}


def test_the_spool_is_counted_by_lines_without_reading_them(tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    assert spool_lines(spool) == 0
    spool.write_bytes(b'{"id":"a"}\n' * 3 + b"torn")
    assert spool_lines(spool) == 3


async def test_queue_events_count_outcomes_waits_and_the_menu_time() -> None:
    registry = CollectorRegistry()
    started = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

    async def started_at(call_id: str) -> datetime | None:
        return started if call_id == "c1" else None

    counters = QueueCounters(registry, lambda: QUEUES, started_at,
                             clock=lambda: started + timedelta(seconds=17))
    for event in (
        {"Event": "QueueCallerJoin", "Queue": "balagh-child", "Uniqueid": "c1"},
        {"Event": "QueueCallerJoin", "Queue": "balagh-child", "Uniqueid": "c2"},
        {"Event": "AgentConnect", "Queue": "balagh-child", "Uniqueid": "c1", "HoldTime": "8"},
        {"Event": "QueueCallerAbandon", "Queue": "balagh-child", "Uniqueid": "c2",
         "HoldTime": "50"},
        {"Event": "UserEvent", "UserEvent": "BalaghOverflow", "From": "child",
         "To": "queue:women:30", "Uniqueid": "c3"},
        {"Event": "QueueCallerJoin", "Queue": "balagh-sales", "Uniqueid": "c4"},
    ):
        await counters.count(event)
    value = registry.get_sample_value
    assert value("balagh_queue_calls_total", {"queue": "child"}) == 2
    assert value("balagh_queue_calls_total", {"queue": "other"}) == 1
    assert value("balagh_queue_outcomes_total", {"queue": "child", "outcome": "answered"}) == 1
    assert value("balagh_queue_outcomes_total", {"queue": "child", "outcome": "abandoned"}) == 1
    assert value("balagh_queue_outcomes_total", {"queue": "child", "outcome": "overflow"}) == 1
    assert value("balagh_queue_wait_seconds_bucket",
                 {"queue": "child", "outcome": "abandoned", "le": "45.0"}) == 0
    assert value("balagh_queue_wait_seconds_sum",
                 {"queue": "child", "outcome": "abandoned"}) == 50
    assert value("balagh_answer_to_queue_seconds_sum", {"queue": "child"}) == 17
    assert value("balagh_answer_to_queue_seconds_count", {"queue": "child"}) == 1


async def test_the_store_sample_reads_a_real_database(tmp_path: Path) -> None:
    from balagh.store.reports import ReportStore

    store = await ReportStore.open(tmp_path / "reports.sqlite3", tmp_path / "spool.jsonl")
    try:
        (tmp_path / "spool.jsonl").write_text(
            '{"id":"a","op":"x","context":{},"statements":[]}\n', encoding="utf-8")
        queries: Queries = store.queries
        sample = await StoreSampler(queries, tmp_path / "spool.jsonl").sample()
        assert sample == StoreSample(outbox_pending=0, outbox_failed=0, spool_depth=1)
    finally:
        await store.close()


def test_the_listener_serves_metrics_over_http_and_stops() -> None:
    registry = CollectorRegistry()
    QueueCounters(registry, lambda: QUEUES).joined.labels("child").inc()
    server = MetricsServer("127.0.0.1:0", registry)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as r:
            body = r.read().decode()
        assert 'balagh_queue_calls_total{queue="child"} 1.0' in body
    finally:
        server.stop()


def _console(client: tuple[str, int]) -> TestClient:
    return TestClient(Starlette(routes=[metrics_endpoint(console_registry())]), client=client)


def test_the_console_answers_loopback_scrapers_only() -> None:
    assert "balagh_build_info" in _console(("127.0.0.1", 5000)).get("/metrics").text
    assert _console(("192.0.2.7", 5000)).get("/metrics").status_code == 403
    forwarded = _console(("127.0.0.1", 5000)).get(
        "/metrics", headers={"X-Forwarded-For": "192.0.2.7"})
    assert forwarded.status_code == 403


@pytest.mark.parametrize("listen", ["0.0.0.0:9464", "192.0.2.1:9464", "127.0.0.1", "x:y"])
def test_metrics_listen_is_loopback_host_and_port(tmp_path: Path, listen: str) -> None:
    config = tmp_path / "balagh.yaml"
    config.write_text(f'metrics_listen: "{listen}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="metrics_listen"):
        load_settings(config, {})


def test_metrics_listen_default_off_and_loopback_accepted(tmp_path: Path) -> None:
    assert load_settings(None, {}).metrics_listen == ""
    environ = {"BALAGH_METRICS_LISTEN": "[::1]:9464"}
    assert load_settings(None, environ).metrics_listen == "[::1]:9464"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="make deps installs prometheus")
def test_the_shipped_alert_rules_pass_promtool() -> None:
    result = subprocess.run(["promtool", "check", "rules", str(RULES)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr



async def test_callers_in_the_menu_leave_out_snoops_and_supervisors() -> None:
    async def serve(_call: AriCall) -> None:
        return None

    router = StasisRouter(default=serve)
    router.register(Entry("snoop", first_arg_is("snoop"), serve))
    application = AriApplication(AriSettings(), router)
    count = menu_count(application)
    assert count() == 0
    for call_id, args in (("a", ("800700",)), ("b", ("snoop",)), ("c", ())):
        application.calls[call_id] = AriCall(
            CallInfo(call_id, f"PJSIP/x-{call_id}", None, "800700", args),
            application.rest)
    assert count() == 2
    assert menu_count(None)() == 0


@pytest.mark.skipif(shutil.which("promtool") is None, reason="make deps installs prometheus")
def test_the_alert_rules_fire_on_the_series_they_are_for() -> None:
    cases = Path(__file__).parent / "data" / "prometheus" / "balagh-alerts-test.yml"
    result = subprocess.run(["promtool", "test", "rules", str(cases)], capture_output=True,
                            text=True, timeout=60, check=False, cwd=cases.parent)
    assert result.returncode == 0, result.stdout + result.stderr
