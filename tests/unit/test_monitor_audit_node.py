"""The app's own monitoring audit names the node whose Asterisk carried the session
when balagh.yaml lists `nodes:`, and no node on a one-box site (as before)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

import pytest
from structlog.testing import capture_logs

from balagh.config import Settings
from balagh.config.nodes import NodeSettings
from balagh.store import ReportStore
from balagh.supervise.node import app_node
from balagh.supervise.session import Request

from .fakes import HANGUP, FakeRest
from .test_supervise_session import PHONE, Phone, answered_report, asterisk_snoops, supervision

NODES = (NodeSettings("node1", "http://127.0.0.2:8088/", "127.0.0.2"),
         NodeSettings("node2", "http://127.0.0.3:8088/", "127.0.0.3"))


async def audit_nodes(store: ReportStore) -> list[tuple[str, str | None]]:
    await store.writer.flush()
    async with store.queries.db.execute(
            "SELECT action, node FROM monitor_audit ORDER BY id") as cursor:
        return [(row[0], row[1]) async for row in cursor]


@pytest.mark.both_engines
@pytest.mark.parametrize("node", ["node2", None])
async def test_every_row_of_a_session_names_the_apps_node(store: ReportStore,
                                                          node: str | None) -> None:
    await answered_report(store)
    rest = FakeRest()
    sup = replace(supervision(store, rest=rest), node=node)
    asterisk_snoops(sup, rest)
    await sup.serve(Phone(["4", "3", "2", "1", "#", "5", HANGUP], info=PHONE),
                    Request.from_args(PHONE.args))
    refused = Phone([], info=replace(PHONE, caller="299", channel="PJSIP/lobby-1"))
    await sup.serve(refused, Request.from_args(PHONE.args))
    assert await audit_nodes(store) == [("pin-ok", node), ("start", node), ("mode", node),
                                        ("end", node), ("refused", node)]


@pytest.mark.parametrize(("ari_url", "node"), [
    ("http://127.0.0.3:8088/", "node2"),
    ("http://127.0.0.3:8088", "node2"),       # the slash is no difference
    ("HTTP://127.0.0.2:8088/", "node1"),
])
def test_the_apps_node_is_the_entry_with_its_ari_url(ari_url: str, node: str) -> None:
    settings = replace(Settings(), nodes=NODES)
    assert app_node(replace(settings, ari=replace(settings.ari, url=ari_url))) == node


def test_a_one_box_site_names_no_node() -> None:
    assert app_node(Settings()) is None


def test_an_app_on_no_listed_node_names_none_and_says_so() -> None:
    settings = replace(Settings(), nodes=NODES)
    with capture_logs() as logs:
        found = app_node(replace(settings, ari=replace(settings.ari,
                                                       url="http://127.0.0.9:8088/")))
    assert found is None
    assert [entry["event"] for entry in logs] == ["monitor.node_unknown"]



@pytest.mark.parametrize("node", ["node2", None])
async def test_the_audit_read_shows_the_node_only_where_there_are_several(
        store: ReportStore, node: str | None) -> None:
    from balagh.cli.monitor import audit_columns, audit_lines
    from balagh.readmodel.reader import reader_of

    await answered_report(store)
    rest = FakeRest()
    sup = replace(supervision(store, rest=rest), node=node)
    asterisk_snoops(sup, rest)
    await sup.serve(Phone(["4", "3", "2", "1", "#", HANGUP], info=PHONE),
                    Request.from_args(PHONE.args))
    await store.writer.flush()
    events = await reader_of(store).monitor_events()
    assert {event.node for event in events} == {node}
    lines = audit_lines(events, UTC, audit_columns(events))
    assert lines[0].split()[-1] == ("node" if node else "detail")
    if node:
        assert all(line.endswith(" node2") for line in lines[1:])
