"""One view across nodes (issue 26, docs/scale.md "One view across nodes"): two sandbox
Asterisk nodes behind Kamailio, a `balagh run` beside each writing to one throwaway
PostgreSQL, and the people's tools given `nodes:` and the same `database_url`.

A caller waits on each node: `balagh reports` lists both, the console's board shows both
nodes' waiting callers in one queue with each node named; `balagh health` has each node's
lines (and a dead node's are DOWN); a listen clicked on the console rings the supervisor's
phone through node 2, where the call is, and the console's audit names node 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings
from balagh.console.accounts import Accounts
from balagh.pbx.nodes import Node, Nodes
from balagh.pbx.sandbox import Sandbox
from balagh.pbx.test_user import ami_for_tests
from unit import pg_cluster

from .conftest import AppProcess, app_environment, balagh, wait_for
from .console_browser import ConsoleProcess, add_user, http_login
from .legs import (
    CHILD_IN_DANGER,
    DANGER_TO_GENERAL,
    Leg,
    answered_call,
    hang_up,
    heard,
    originate,
)
from .tones import CALLER_HZ

PIN = "4321"  # typed by the sandbox's desk phone balagh-test-desk
PASSWORD = "nodes view test password"
LISTEN_SECONDS = 4.0  # the stretch of the supervisor's audio that is judged
HEARD = 2.0           # seconds of the caller's tone the supervisor must hear in it


@dataclass
class View:
    nodes: Nodes
    settings: Settings          # the people's tools: data folder, hotline files
    config: Path                # their balagh.yaml: nodes and database_url
    console: ConsoleProcess

    def node(self, number: int) -> Node:
        return self.nodes.node(number)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A `balagh` command as an operator beside the nodes runs it."""
        return subprocess.run([sys.executable, "-m", "balagh", *args], capture_output=True,
                              text=True, timeout=60, check=False,
                              env={**app_environment(self.settings),
                                   "BALAGH_CONFIG": str(self.config)})


def tools_config(path: Path, nodes: Nodes, database_url: str) -> Path:
    lines = ["nodes:"]
    for node in nodes.nodes():
        lines += [f"  - name: {node.name}", f"    ari_url: {node.ari_url}/",
                  f"    ami_host: {node.address}"]
    path.write_text("\n".join([*lines, f"database_url: {database_url}", ""]))
    return path


@pytest.fixture(scope="module")
def view(pbx: Sandbox, settings: Settings, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[View]:
    why = pg_cluster.missing()
    if why:
        pytest.skip(why)
    server = pg_cluster.start_cluster()
    nodes = Nodes(settings)
    nodes.stop()  # whatever a killed session left behind
    apps: list[AppProcess] = []
    console: ConsoleProcess | None = None
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute(b"CREATE DATABASE balagh")
        url = server.url("balagh")
        nodes.start(2, hold_lock=False)
        added = balagh(settings, "supervisors", "add", "Amina", "--phone", "201", "--phone",
                       "Local/201@balagh-test-desk", "--queues", "all", "--pin-stdin",
                       input=f"{PIN}\n")
        assert added.returncode == 0, added.stdout + added.stderr
        for node in nodes.nodes():
            data = tmp_path_factory.mktemp(f"view-{node.name}")
            apps.append(AppProcess(replace(settings, data_dir=data), data / "app.log",
                                   extra_env={**node.app_environment(data),
                                              "BALAGH_DATABASE_URL": url}))
            apps[-1].start()
        tools = replace(settings, data_dir=tmp_path_factory.mktemp("view-console"))
        config = tools_config(tools.data_dir / "balagh.yaml", nodes, url)
        add_user(tools, "amina", PASSWORD, "supervisor", "Amina")
        console = ConsoleProcess(tools, tools.data_dir / "console.log")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BALAGH_CONFIG", str(config))
            console.start()
        yield View(nodes, tools, config, console)
    finally:
        if console is not None:
            console.stop()
        for app in apps:
            app.stop()
        nodes.stop()
        pg_cluster.remove(server)
        settings.supervisors_file.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def node_ami(settings: Settings, node: Node) -> AsyncIterator[AmiSession]:
    """The tests' AMI login on one node."""
    ami = ami_for_tests(settings)
    async with AmiSession(replace(ami, host=node.address)) as session:
        yield session


@contextlib.asynccontextmanager
async def caller_waiting(settings: Settings, ami: AmiSession) -> AsyncIterator[str]:
    """A caller in danger waiting in the general queue of `ami`'s node (its agent
    paused): their reference; hung up and the agent back afterwards."""
    pause = {"Action": "QueuePause", "Queue": "balagh-general",
             "Interface": "Local/1007@balagh-agents/n"}
    joins = ami.listen(lambda e: e.get("Event") == "QueueCallerJoin")
    caller: Leg | None = None
    await ami.action({**pause, "Paused": "true", "Reason": "e2e"})
    try:
        caller = await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                 "balagh-test-caller", DANGER_TO_GENERAL)
        joined = await wait_for_event(
            joins, lambda e: e.get("Uniqueid") == f"{caller.uniqueid}-far", 60)
        reference = await ami.getvar(joined["Channel"], "BALAGH_REFERENCE")
        assert reference
        yield reference
    finally:
        ami.unlisten(joins)
        if caller is not None:
            await hang_up(ami, caller)
        await ami.action({**pause, "Paused": "false"})


def board(client: httpx.Client) -> dict[str, Any]:
    answer = client.get("/api/state")
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()
    return state


async def test_callers_on_both_nodes_are_one_board_and_one_set_of_reports(
        view: View, settings: Settings) -> None:
    client, _ = http_login(view.console.url, "amina", PASSWORD)
    try:
        async with node_ami(settings, view.node(1)) as ami1, \
                node_ami(settings, view.node(2)) as ami2, \
                caller_waiting(settings, ami1) as first, caller_waiting(settings, ami2) as second:

            def both_waiting() -> dict[str, Any] | None:
                state = board(client)
                general = next((q for q in state["queues"] if q["name"] == "general"), None)
                placed = {c["reference"]: c["node"] for c in state["calls"]}
                if general and general["waiting"] == 2 and \
                        placed.get(first) == "node1" and placed.get(second) == "node2":
                    return state
                return None

            state = await asyncio.to_thread(wait_for, both_waiting, timeout=20,
                                            what="both nodes' callers on the board")
            general = next(q for q in state["queues"] if q["name"] == "general")
            assert general["danger_waiting"] == 2
            assert general["by_node"]["node1"]["waiting"] == 1
            assert general["by_node"]["node2"]["waiting"] == 1
            assert state["nodes"] == [{"name": "node1", "pbx": "up"},
                                      {"name": "node2", "pbx": "up"}]
            listed = await asyncio.to_thread(view.run, "reports", "--limit", "50")
            assert listed.returncode == 0, listed.stdout + listed.stderr
            assert first in listed.stdout and second in listed.stdout, listed.stdout
    finally:
        client.close()


async def test_a_listen_from_the_console_rings_through_the_node_holding_the_call(
        view: View, settings: Settings) -> None:
    client, csrf = http_login(view.console.url, "amina", PASSWORD)
    try:
        async with node_ami(settings, view.node(2)) as ami2:
            desk = ami2.listen(lambda e: e.get("Event") == "Newchannel" and e.get(
                "Channel", "").startswith("Local/201@balagh-test-desk") and e.get(
                "Channel", "").endswith(";2"))
            snooped = ami2.listen(lambda e: e.get("Event") == "BridgeEnter" and e.get(
                "Channel", "").startswith("Snoop/"))
            try:
                async with answered_call(ami2, settings, CHILD_IN_DANGER) as (_, connect):
                    reference = await ami2.getvar(connect["Channel"], "BALAGH_REFERENCE")
                    assert reference

                    def talking() -> dict[str, Any] | None:
                        return next((c for c in board(client)["calls"] if c["reference"] ==
                                     reference and c["state"] == "talking"), None)

                    call = await asyncio.to_thread(wait_for, talking, timeout=20,
                                                   what="the answered call on the board")
                    assert call["node"] == "node2"
                    asked = client.post("/monitor", data={"reference": reference,
                                                          "mode": "listen"},
                                        headers={"X-CSRF-Token": csrf})
                    assert asked.status_code == 202, asked.text
                    far = await wait_for_event(desk, lambda e: True, 30)  # on node 2
                    await wait_for_event(snooped, lambda e: True, 30)
                    await asyncio.sleep(LISTEN_SECONDS)  # what the desk phone hears now
                    await ami2.action({"Action": "Hangup", "Channel": far["Channel"]})
                supervisor_heard = await heard(view.node(2).work / "spool/monitor" /
                                               f"supervisor-{far['Uniqueid']}-heard.wav")
            finally:
                ami2.unlisten(desk)
                ami2.unlisten(snooped)
    finally:
        client.close()
    print(f"\nthe supervisor's phone on node 2 heard (Hz: seconds) {supervisor_heard}")
    assert supervisor_heard[CALLER_HZ] >= HEARD, supervisor_heard
    rows = Accounts(view.settings.console_database).audit_rows(user="amina")
    requested = next(row for row in rows if row.action == "monitor-requested")
    assert (requested.detail["reference"], requested.detail["node"]) == (reference, "node2")

    def audited() -> str | None:
        shown = view.run("monitor", "--audit", "--reference", reference).stdout
        return shown if " start " in shown else None

    audit = await asyncio.to_thread(wait_for, audited, timeout=15,
                                    what="node 2's app's monitoring audit, on the server")
    assert "Amina" in audit and " listen " in audit


def test_health_has_each_node_s_lines_and_a_dead_node_is_down(view: View) -> None:
    checks = ["ari", "ami", "app"]
    lines = view.run("health", "--only", ",".join(checks))
    assert lines.returncode == 0, lines.stdout + lines.stderr
    status = {line.split()[0]: line.split()[1] for line in lines.stdout.splitlines()}
    assert {f"{c}@{n}" for c in checks for n in ("node1", "node2")} <= set(status)
    assert all(status[f"{c}@{n}"] == "ok" for c in checks for n in ("node1", "node2"))
    view.node(2).kill()
    lines = view.run("health", "--only", ",".join(checks))
    status = {line.split()[0]: line.split()[1] for line in lines.stdout.splitlines()}
    assert lines.returncode == 2, lines.stdout
    assert [status[f"{c}@node1"] for c in checks] == ["ok", "ok", "ok"], lines.stdout
    assert [status[f"{c}@node2"] for c in checks] == ["DOWN", "warn", "DOWN"], lines.stdout
    print(f"\n{lines.stdout}")
    assert os.environ.get("BALAGH_CONFIG") is None  # the operator's file only, not leaked
