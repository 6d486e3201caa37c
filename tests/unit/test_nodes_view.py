"""One view across Asterisk nodes (`nodes:` in balagh.yaml): the setting, the board built
from every node's AMI, health's lines per node, and a ring through the node that holds
the call. Real servers on loopback (fake_asterisk.py's ARI, a small recording AMI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from balagh.ari.liveness import heartbeat_variable
from balagh.config import AmiSettings, AriSettings, ConfigError, Settings, load_settings, nodes_of
from balagh.config.nodes import MAX_NODES, NodeSettings
from balagh.console import board
from balagh.console.feed import Feed
from balagh.health.probes import run_probes
from balagh.health.report import Status, exit_code
from balagh.status import ReportStatus
from balagh.supervise.modes import Mode

from .fake_asterisk import PASSWORD, USER, FakeAri, RecordingAmi, ami_session, fake_ami
from .test_console import NOW, QUESTIONS, report
from .test_health import closed_port

# ------------------------------------------------------------------ the setting

NODES_YAML = """\
nodes:
  - name: node1
    ari_url: http://127.0.0.2:8088/
    ami_host: 127.0.0.2
  - name: node2
    ari_url: http://127.0.0.3:8088/
    ami_host: 127.0.0.3
    ami_port: 5039
"""


def settings_from(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "balagh.yaml"
    path.write_text(text)
    return load_settings(path, environ={"BALAGH_AMI_SECRET": "am1", "BALAGH_ARI_PASSWORD": "ar1"})


def test_nodes_are_read_with_the_site_s_credentials(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, NODES_YAML)
    assert settings.nodes == (NodeSettings("node1", "http://127.0.0.2:8088/", "127.0.0.2"),
                              NodeSettings("node2", "http://127.0.0.3:8088/", "127.0.0.3", 5039))
    one, two = nodes_of(settings)
    assert (two.name, two.ari.url, two.ami.host, two.ami.port) == (
        "node2", "http://127.0.0.3:8088/", "127.0.0.3", 5039)
    assert (one.ari.password, one.ami.secret, two.ami.username) == ("ar1", "am1", "balagh")


def test_no_nodes_is_the_one_box_of_ari_and_ami(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "ami:\n  port: 5040\n")
    [node] = nodes_of(settings)
    assert (node.name, node.ari, node.ami) == ("", settings.ari, settings.ami)


@pytest.mark.parametrize(("text", "key", "says"), [
    ("nodes: node1\n", "nodes", "must be a list"),
    ("nodes: []\n", "nodes", "must be a list"),
    ("nodes:\n  - name: n1\n    ari_url: ftp://x/\n    ami_host: h\n", "ari_url", "http"),
    ("nodes:\n  - name: N 1\n    ari_url: http://x/\n    ami_host: h\n", "name", "a-z"),
    ("nodes:\n  - name: n1\n    ari_url: http://x/\n    ami_host: h\n    ami_port: 70000\n",
     "ami_port", "65535"),
    ("nodes:\n  - name: n1\n    ari_url: http://x/\n    ami_host: h\n    secret: s\n",
     "secret", "unknown key"),
    ("nodes:\n  - name: n1\n    ari_url: http://x/\n", "ami_host", "missing"),
    ("nodes:\n  - {name: n1, ari_url: 'http://x/', ami_host: h}\n"
     "  - {name: n1, ari_url: 'http://y/', ami_host: h}\n", "name", "named twice"),
    ("nodes:\n" + "".join(f"  - {{name: n{i}, ari_url: 'http://x/', ami_host: h}}\n"
                          for i in range(MAX_NODES + 1)), "nodes", f"at most {MAX_NODES}"),
])
def test_a_bad_node_is_refused_naming_its_line_and_key(tmp_path: Path, text: str, key: str,
                                                       says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_from(tmp_path, text)
    message = str(refused.value)
    assert "balagh.yaml:" in message and key in message and says in message, message


# ------------------------------------------------------------------ the board

SAFE = report("2001", call_id="node1-2001", status=ReportStatus.ROUTED, queue="general",
              joined_queue="general", routed_at="2026-11-25T08:58:00.000Z",
              answers={"danger": "no"})
DANGER = report("2002", call_id="node2-2002", status=ReportStatus.ROUTED, queue="general",
                joined_queue="general", routed_at="2026-11-25T08:59:30.000Z",
                answers={"danger": "yes"})
ON_DOWN_NODE = report("2003", call_id="node3-2003", answers={"language": "en"})


def waiting(uniqueid: str, wait: int) -> dict[str, str]:
    return {"Event": "QueueEntry", "Queue": "balagh-general", "Uniqueid": uniqueid,
            "Wait": str(wait)}


def two_nodes() -> list[board.NodeReading]:
    member = {"Event": "QueueMember", "Queue": "balagh-general", "Status": "1", "Paused": "0"}
    return [board.NodeReading("node1", True, [waiting("node1-2001", 60), member],
                              {"node1-2001"}),
            board.NodeReading("node2", True, [waiting("node2-2002", 30)], {"node2-2002"})]


def test_one_queue_across_nodes_with_each_node_s_share_and_danger_first() -> None:
    built = board.build(nodes=two_nodes(), reports=[SAFE, DANGER], questions=QUESTIONS,
                        today=board.Today(), now=NOW, queues=["general"])
    [general] = built["queues"]
    assert (general["waiting"], general["danger_waiting"], general["available"]) == (2, 1, 1)
    assert general["by_node"]["node1"]["waiting"] == 1 == general["by_node"]["node2"]["waiting"]
    assert general["by_node"]["node2"]["danger_waiting"] == 1
    assert general["oldest_danger_node"] == "node2"
    assert general["longest_since"] == NOW - 60
    # The caller in danger on node 2 comes before the one who waited longer on node 1.
    assert [(c["reference"], c["node"]) for c in built["calls"]] == [("2002", "node2"),
                                                                     ("2001", "node1")]
    assert built["pbx"] == "up"
    assert built["nodes"] == [{"name": "node1", "pbx": "up"}, {"name": "node2", "pbx": "up"}]


def test_a_node_that_cannot_be_read_is_down_and_its_calls_are_kept_unplaced() -> None:
    nodes = [*two_nodes(), board.NodeReading("node3", False)]
    built = board.build(nodes=nodes, reports=[SAFE, DANGER, ON_DOWN_NODE],
                        questions=QUESTIONS, today=board.Today(), now=NOW)
    assert built["pbx"] == "partial"
    assert built["nodes"][2] == {"name": "node3", "pbx": "down"}
    assert {c["reference"]: c["node"] for c in built["calls"]} == {
        "2001": "node1", "2002": "node2", "2003": None}
    # With every node read, a call none of them holds is over.
    built = board.build(nodes=two_nodes(), reports=[SAFE, ON_DOWN_NODE], questions=QUESTIONS,
                        today=board.Today(), now=NOW)
    assert [c["reference"] for c in built["calls"]] == ["2001"]


# ------------------------------------------------------------------ a recording AMI


@asynccontextmanager
async def recording_ami(ami: RecordingAmi) -> AsyncIterator[int]:
    server = await asyncio.start_server(ami_session(ami.answer), "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def nodes_settings(tmp_path: Path, ami_ports: list[int], ari_urls: list[str]) -> Settings:
    return Settings(
        ari=AriSettings(url=ari_urls[0], app="balagh", username=USER, password=PASSWORD),
        ami=AmiSettings(username=USER, secret=PASSWORD), data_dir=tmp_path,
        pbx_dir=tmp_path / "no-sandbox",
        nodes=tuple(NodeSettings(f"node{k + 1}", url, "127.0.0.1", port)
                    for k, (port, url) in enumerate(zip(ami_ports, ari_urls, strict=True))))


async def test_the_feed_reads_every_node_and_rings_through_the_call_s_node(
        tmp_path: Path) -> None:
    one = RecordingAmi(entries=[waiting("node1-2001", 60)], channels=["node1-2001"])
    two = RecordingAmi(entries=[waiting("node2-2002", 30)], channels=["node2-2002"])
    async with recording_ami(one) as port1, recording_ami(two) as port2:
        settings = nodes_settings(tmp_path, [port1, port2], ["http://127.0.0.1:9/"] * 2)
        feed = Feed(settings, QUESTIONS, ["general"])
        for ami in feed.amis.values():
            await ami.connect(timeout=5)
        feed._live_reports = lambda now: _reports(SAFE, DANGER)  # type: ignore[method-assign]
        try:
            await feed.rebuild()
            [general] = feed.snapshot["queues"]
            assert general["waiting"] == 2 and set(general["by_node"]) == {"node1", "node2"}
            assert {c["reference"]: c["node"] for c in feed.snapshot["calls"]} == {
                "2001": "node1", "2002": "node2"}
            assert feed.node_of("2002") == "node2"
            feed.ring("PJSIP/sup1", "2002", Mode.LISTEN)
            await asyncio.wait_for(two.originated.wait(), 10)
            await asyncio.gather(*feed.rings)
        finally:
            await feed.stop()
    [originate] = [a for a in two.actions if a.get("Action") == "Originate"]
    assert originate["Exten"] == "*2242002" and originate["Channel"] == "PJSIP/sup1"
    assert not any(a.get("Action") == "Originate" for a in one.actions)


async def _reports(*found: object) -> list[object]:
    return list(found)


# ------------------------------------------------------------------ health


async def test_health_has_a_line_per_node_and_a_dead_node_is_down(tmp_path: Path) -> None:
    live = FakeAri().start()
    try:
        live.beating.update({heartbeat_variable("balagh"), heartbeat_variable("balagh-watchdog")})
        live.channels["balagh"] = []
        async with fake_ami() as port:
            settings = nodes_settings(tmp_path, [port, closed_port()],
                                      [live.url, f"http://127.0.0.1:{closed_port()}/"])
            checks = await run_probes(settings, ["ari", "ami", "app", "watchdog"])
    finally:
        live.stop()
    assert [(c.name, c.status) for c in checks] == [
        ("ari@node1", Status.OK), ("ami@node1", Status.OK), ("app@node1", Status.OK),
        ("watchdog@node1", Status.OK),
        ("ari@node2", Status.DOWN), ("ami@node2", Status.DEGRADED), ("app@node2", Status.DOWN),
        ("watchdog@node2", Status.DEGRADED)]
    assert exit_code(checks) == 2
    assert replace(checks[0]).summary.endswith(f"at {live.url} as {USER}")


# ------------------------------------------------------------------ balagh monitor


async def test_monitor_rings_through_the_node_holding_the_call(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from balagh.cli.monitor import ring
    from balagh.store import ReportStore

    store = await ReportStore.open(tmp_path / "balagh.sqlite3")
    store.calls.start_report(call_id="node2-77.1", reference="3001", channel="PJSIP/k-1",
                             caller="+97165551234", hotline="800700",
                             started_at=datetime.now(UTC))
    await store.close()
    one, two = RecordingAmi(channels=["node1-5.1"]), RecordingAmi(channels=["node2-77.1"])
    async with recording_ami(one) as port1, recording_ami(two) as port2:
        settings = nodes_settings(tmp_path, [port1, port2, closed_port()],
                                  ["http://127.0.0.1:9/"] * 3)
        assert await ring(settings, "3001", "PJSIP/sup1", Mode.LISTEN) == 0
        assert "through node node2" in capsys.readouterr().out
        assert [a["Exten"] for a in two.actions if a.get("Action") == "Originate"] == [
            "*2243001"]
        assert not any(a.get("Action") == "Originate" for a in one.actions)
        two.channels = []  # the call ended
        assert await ring(settings, "3001", "PJSIP/sup1", Mode.LISTEN) == 1
        assert "on no node now; not reached: node3" in capsys.readouterr().err
