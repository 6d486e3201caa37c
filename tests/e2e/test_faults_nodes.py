"""Two sandbox Asterisk nodes behind Kamailio (issue 26, docs/scale.md), each with its own
`balagh run`; calls placed by a real SIP user agent over UDP through Kamailio.

A call reaches a queue on the active node; the active node's Asterisk SIGKILLed while idle:
the next calls succeed on the standby (time and failed calls measured, a fault row each);
the node back up takes calls again, nothing else restarted.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from balagh.config import Settings
from balagh.pbx.nodes import KAMAILIO_ADDRESS, Node, Nodes
from balagh.pbx.sandbox import Sandbox
from balagh.pbx.sipcall import CallOutcome, SipCall, call_once

from .conftest import AppProcess, FaultRow, wait_for

HOTLINE = "800700"
# Arabic, in danger, child, female, Sharjah, no condition (test_call_path's first call).
KEYS = "111230"
FAILOVER_GOAL_SECONDS = 5.0
CALL_INTERVAL = 0.2  # seconds between new calls in the steady stream (5 a second)


@dataclass
class Cluster:
    nodes: Nodes
    apps: dict[int, AppProcess]
    settings: dict[int, Settings]

    def node(self, number: int) -> Node:
        return self.nodes.node(number)


@pytest.fixture(scope="module")
def cluster(pbx: Sandbox, settings: Settings, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Cluster]:
    """Node 1 (active) and node 2 (standby), Kamailio, a `balagh run` beside each.

    The `pbx` fixture holds the machine's PBX lock for the session, so the nodes run under
    it (hold_lock=False: a second flock from this process would wait for itself)."""
    nodes = Nodes(settings)
    nodes.stop()  # whatever a killed session left behind
    apps: dict[int, AppProcess] = {}
    node_settings: dict[int, Settings] = {}
    try:
        nodes.start(2, hold_lock=False)
        for node in nodes.nodes():
            data = tmp_path_factory.mktemp(f"balagh-{node.name}")
            node_settings[node.number] = replace(settings, data_dir=data)
            apps[node.number] = AppProcess(node_settings[node.number], data / "app.log",
                                           extra_env=node.app_environment(data))
            apps[node.number].start()
        yield Cluster(nodes, apps, node_settings)
    finally:
        for app in apps.values():
            app.stop()
        nodes.stop()


@pytest.fixture
def healthy(cluster: Cluster) -> Cluster:
    """Every node up and node 1 taking the calls, whatever an earlier test left."""
    for node in cluster.nodes.nodes():
        if node.pid() is None:
            node.start()
    wait_for(lambda: call_once(KAMAILIO_ADDRESS, HOTLINE).node == cluster.node(1).address,
             timeout=30, what="a call answered by node 1")
    for app in cluster.apps.values():
        wait_for(app.connected_now, timeout=30, what="each node's app connected")
    return cluster


def routed_reports(settings: Settings) -> list[tuple[str, str]]:
    """(call id, queue) of every routed report in a node's own SQLite file."""
    if not settings.database.exists():
        return []
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        return [(row[0], row[1]) for row in db.execute(
            "SELECT call_id, queue FROM reports WHERE queue IS NOT NULL ORDER BY id")]


def call_until_answered(timeout: float) -> tuple[CallOutcome, list[CallOutcome]]:
    """Calls one after the other until one is answered: (that one, every one before it)."""
    failed: list[CallOutcome] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = call_once(KAMAILIO_ADDRESS, HOTLINE, timeout=10)
        if outcome.answered:
            return outcome, failed
        failed.append(outcome)
    raise AssertionError(f"no call answered within {timeout:.0f} s: {failed}")


def test_a_call_through_kamailio_reaches_a_queue_on_the_active_node(healthy: Cluster) -> None:
    cluster = healthy
    active = cluster.node(1)
    before = len(routed_reports(cluster.settings[1]))
    with SipCall(KAMAILIO_ADDRESS, HOTLINE) as call:
        outcome = call.invite()
        assert outcome.answered, outcome
        assert outcome.node == active.address  # the active node, not its standby
        call.press(KEYS)
        reports = wait_for(lambda: routed_reports(cluster.settings[1])[before:], timeout=30,
                           what="the call's report routed to a queue on node 1")
    call_id, queue = reports[-1]
    assert call_id.startswith("node1-")  # systemname: unique ids never clash across nodes
    assert queue == "child-protection", reports
    assert routed_reports(cluster.settings[2]) == []


def test_the_active_node_killed_while_idle_the_standby_takes_the_next_call(
        healthy: Cluster, fault_rows: list[FaultRow]) -> None:
    active, standby = healthy.node(1), healthy.node(2)
    active.kill()
    killed = time.monotonic()
    outcome, failed = call_until_answered(timeout=30)
    seconds = time.monotonic() - killed
    assert outcome.node == standby.address
    fault_rows.append(FaultRow(
        fault="the active Asterisk node SIGKILLed while idle (2 nodes behind Kamailio)",
        expected=f"the next call answered by the standby within {FAILOVER_GOAL_SECONDS:.0f} s, "
                 "no call lost",
        observed=f"first call after the kill answered by node 2 after {seconds:.2f} s "
                 f"(its INVITE waited {outcome.seconds:.2f} s); {len(failed)} calls failed",
        recovery_seconds=round(seconds, 2)))
    assert seconds < FAILOVER_GOAL_SECONDS, (seconds, failed)
    assert failed == []
    # Once marked down, node 1 is skipped: no wait for the calls after the first.
    assert call_once(KAMAILIO_ADDRESS, HOTLINE).node == standby.address


def test_the_node_back_up_takes_calls_again_without_restarting_others(
        cluster: Cluster, fault_rows: list[FaultRow]) -> None:
    active, standby = cluster.node(1), cluster.node(2)
    if active.pid() is not None:  # run alone: take it down first
        active.kill()
    kamailio, standby_pid = cluster.nodes.kamailio_pid(), standby.pid()
    active.start()
    started = time.monotonic()
    # The pings find it up again; calls go back to it (highest priority).
    wait_for(lambda: call_once(KAMAILIO_ADDRESS, HOTLINE).node == active.address,
             timeout=30, what="a call answered by node 1 again")
    seconds = time.monotonic() - started
    assert (cluster.nodes.kamailio_pid(), standby.pid()) == (kamailio, standby_pid)
    fault_rows.append(FaultRow(
        fault="the killed Asterisk node started again (Kamailio, node 2 untouched)",
        expected="calls go to it again once a ping finds it up; nothing else restarted",
        observed=f"a call answered by node 1 {seconds:.2f} s after its Asterisk had booted",
        recovery_seconds=round(seconds, 2)))
    # Its app reconnected by itself: a call there is served by the app, not the fallback.
    before = len(routed_reports(cluster.settings[1]))
    wait_for(cluster.apps[1].connected_now, timeout=30, what="node 1's app reconnected")
    with SipCall(KAMAILIO_ADDRESS, HOTLINE) as call:
        assert call.invite().node == active.address
        call.press(KEYS)
        wait_for(lambda: routed_reports(cluster.settings[1])[before:], timeout=30,
                 what="a report routed on node 1 after its return")


def test_status_shows_kamailio_and_each_node_answering_on_its_own_address(
        healthy: Cluster) -> None:
    status = healthy.nodes.status()
    assert status["nodes"] == "2"
    assert "sip:127.0.0.1:5070, OPTIONS 200" in status["kamailio"], status
    for node in healthy.nodes.nodes():
        assert f"sip:{node.address}:5060, ari http://{node.address}:8088, OPTIONS 200" in \
            status[node.name], status


@dataclass
class Placed:
    started: float
    outcome: CallOutcome

    @property
    def answered_at(self) -> float:
        return self.started + self.outcome.seconds


def steady_calls(stop: threading.Event, placed: list[Placed]) -> None:
    """A new call every CALL_INTERVAL seconds, each on its own thread, until `stop`."""
    calls: list[threading.Thread] = []

    def one() -> None:
        started = time.monotonic()
        placed.append(Placed(started, call_once(KAMAILIO_ADDRESS, HOTLINE, timeout=10)))

    while not stop.wait(CALL_INTERVAL):
        calls.append(threading.Thread(target=one))
        calls[-1].start()
    for call in calls:
        call.join()


@pytest.mark.skipif(not os.environ.get("BALAGH_FAULTS_REPORT"),
                    reason="long (about a minute): run by `make faults`")
def test_the_active_node_killed_under_steady_calls_five_times(
        healthy: Cluster, fault_rows: list[FaultRow]) -> None:
    """A new call every CALL_INTERVAL s while node 1 is killed, five times: the window from
    the kill to the first new call answered by node 2 (its 200 OK), the new calls that
    failed, and the calls caught half set up on node 1 (lost with it)."""
    active, standby = healthy.node(1), healthy.node(2)
    windows: list[float] = []
    failed_new: list[CallOutcome] = []
    caught = 0
    for _ in range(5):
        placed: list[Placed] = []
        stop = threading.Event()
        stream = threading.Thread(target=steady_calls, args=(stop, placed))
        stream.start()
        try:
            wait_for(lambda placed=placed: len(placed) >= 3, timeout=30, what="calls flowing")
            active.kill()
            killed = time.monotonic()
            first = wait_for(lambda placed=placed, killed=killed: min(
                (p.answered_at for p in placed if p.started > killed
                 and p.outcome.node == standby.address), default=None),
                timeout=30, what="a new call answered by node 2")
        finally:
            stop.set()
            stream.join()
        windows.append(first - killed)
        failed_new += [p.outcome for p in placed if p.started > killed and not p.outcome.answered]
        caught += len([p for p in placed if p.started <= killed and not p.outcome.answered])
        active.start()
        wait_for(lambda: call_once(KAMAILIO_ADDRESS, HOTLINE).node == active.address,
                 timeout=30, what="node 1 taking calls again")
    windows.sort()
    fault_rows.append(FaultRow(
        fault=f"the active Asterisk node SIGKILLed with a new call every {CALL_INTERVAL} s, "
              "5 times",
        expected=f"new calls answered by the standby within {FAILOVER_GOAL_SECONDS:.0f} s of "
                 "the kill, none refused; calls being set up on the killed node are lost",
        observed=f"kill to the first new call answered by node 2: {windows[0]:.2f} / "
                 f"{windows[2]:.2f} / {windows[-1]:.2f} s (min / median / max, the INVITE's "
                 f"wait included); {len(failed_new)} new calls failed; {caught} calls caught "
                 "half set up on the killed node lost",
        recovery_seconds=round(windows[-1], 2)))
    assert windows[-1] < FAILOVER_GOAL_SECONDS, windows
    assert failed_new == []
