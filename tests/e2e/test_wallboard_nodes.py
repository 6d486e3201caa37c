"""The wallboard and the live list across nodes, in a real browser (chromium) on a real
`balagh console` process, no PBX needed: each node is a small AMI server on loopback,
and a node down is what a dead box looks like to the console, a port nobody answers on.

With two nodes (node2 down): the live list has a node column (node1's waiting caller
says node1, node2's caller "not known"); a banner names node2 and since when, in
English and in Arabic (right to left); the queue tile's live counts say they leave
node2 out. node2's AMI comes up on its port: the banner goes and its caller gets its
node. With one box (no `nodes:`): no node column and no banner, as before."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from balagh.config import Settings
from balagh.console.pages import LIVE_COLUMNS
from balagh.status import ReportStatus
from balagh.store import ReportStore
from unit.fake_asterisk import RecordingAmi, ami_session

from .console_browser import ConsoleProcess, add_user, browser_login, free_port, new_browser, poll

PASSWORD = "a long enough password"
GENERAL = "balagh-general"


class AmiThread:
    """RecordingAmi servers on given loopback ports, served by an event loop of their
    own (the test's code is synchronous), each started when the test says."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.servers: list[asyncio.Server] = []

    def __enter__(self) -> AmiThread:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        async def close() -> None:
            for server in self.servers:
                server.close()
                await server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def serve(self, ami: RecordingAmi, port: int) -> None:
        async def start() -> None:
            self.servers.append(await asyncio.start_server(ami_session(ami.answer),
                                                           "127.0.0.1", port))
        asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)


def _waiting(uniqueid: str) -> dict[str, str]:
    return {"Event": "QueueEntry", "Queue": GENERAL, "Uniqueid": uniqueid, "Wait": "20"}


def _seed_reports(settings: Settings) -> None:
    """A caller waiting in `general` on each node (node1-... and node2-... call ids)."""
    async def seed() -> None:
        store = await ReportStore.open(settings.database)
        now = datetime.now(UTC)
        for reference, call_id in (("4001", "node1-4001.1"), ("4002", "node2-4002.1")):
            store.calls.start_report(call_id=call_id, reference=reference,
                                     channel="PJSIP/k-1", caller="+97165551234",
                                     hotline="800700", started_at=now)
            store.calls.record_decision(call_id=call_id, rule="general", queue="general",
                                        priority=1, at=now)
            store.calls.set_status(call_id=call_id, status=ReportStatus.ROUTED, at=now)
            store.calls.queue_joined(call_id=call_id, queue="general", at=now)
        await store.close()
    asyncio.run(seed())


def _console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str) -> ConsoleProcess:
    settings = Settings(data_dir=tmp_path)
    (tmp_path / "balagh.yaml").write_text(config)
    monkeypatch.setenv("BALAGH_CONFIG", str(tmp_path / "balagh.yaml"))
    monkeypatch.setenv("BALAGH_AMI_SECRET", "secret")
    monkeypatch.setenv("BALAGH_ARI_PASSWORD", "secret")
    _seed_reports(settings)
    add_user(settings, "admin", PASSWORD, "admin")
    console = ConsoleProcess(settings, tmp_path / "console.log")
    console.start()
    return console


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = new_browser()
    yield driver
    driver.quit()


def _cells(driver: Any, row_id: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [cell.text for cell in driver.find_element(By.ID, row_id)
            .find_elements(By.TAG_NAME, "td")]


def _banner(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, "nodes-down").text)


def test_two_nodes_name_each_call_s_node_and_a_down_node_until_it_is_back(
        browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.common.by import By

    member = {"Event": "QueueMember", "Queue": GENERAL, "Name": "agent-1", "Status": "1",
              "Paused": "0"}
    one = RecordingAmi(entries=[_waiting("node1-4001.1"), member], channels=["node1-4001.1"])
    two = RecordingAmi(entries=[_waiting("node2-4002.1")], channels=["node2-4002.1"])
    port1, port2 = free_port(), free_port()  # nothing answers on port2 yet: node2 is down
    with AmiThread() as amis:
        amis.serve(one, port1)
        console = _console(tmp_path, monkeypatch, (
            "nodes:\n"
            f"  - {{name: node1, ari_url: 'http://127.0.0.1:9/', ami_host: 127.0.0.1,"
            f" ami_port: {port1}}}\n"
            f"  - {{name: node2, ari_url: 'http://127.0.0.1:9/', ami_host: 127.0.0.1,"
            f" ami_port: {port2}}}\n"))
        try:
            browser_login(browser, console.url, "admin", PASSWORD)
            browser.get(f"{console.url}/live?lang=en")
            poll(lambda: "node1" in _cells(browser, "call-4001"), 20, "node1's caller")
            header = [th.text for th in browser.find_elements(By.CSS_SELECTOR,
                                                              "#calls thead th")]
            assert header[2:4] == ["queue", "node"], header
            assert _cells(browser, "call-4001")[3] == "node1"
            assert _cells(browser, "call-4002")[3] == "not known"
            banner = poll(lambda: _banner(browser), 10, "the banner on the live list")
            assert banner.startswith("Node node2 cannot be reached since ")
            assert "not known" in banner and "node1" not in banner

            browser.get(f"{console.url}/?lang=en")
            # node1's caller; node2's share not known (the tile reads "-" until the page's
            # first state has arrived: wait for the figure, not the element)
            poll(lambda: _waiting_figure(browser) == "1 +?", 10, "the tile's partial count")
            tile = browser.find_element(By.ID, "queue-general")
            assert "partial" in str(tile.get_attribute("class"))
            assert "Not known on node2" in tile.text
            assert "agents on node2 are not known" in browser.find_element(
                By.ID, "agents-note").text
            assert _banner(browser).startswith("Node node2 cannot be reached")

            browser.get(f"{console.url}/?lang=ar")
            arabic = poll(lambda: _banner(browser), 10, "the Arabic banner")
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
            assert arabic.startswith("تعذر الوصول إلى العقدة node2 منذ "), arabic

            amis.serve(two, port2)  # node2 is back
            poll(lambda: not _banner(browser), 30, "the banner gone with node2 back")
            poll(lambda: _waiting_figure(browser) == "2", 10, "both nodes' callers counted")
            tile = browser.find_element(By.ID, "queue-general")
            assert "partial" not in str(tile.get_attribute("class"))
            browser.get(f"{console.url}/live?lang=en")
            poll(lambda: _cells(browser, "call-4002")[3] == "node2", 10, "node2's caller")
            assert not _banner(browser)
        finally:
            console.stop()


def _waiting_figure(browser: Any) -> str | None:
    """The general tile's waiting figure as shown, None before the tile is drawn."""
    from selenium.common.exceptions import NoSuchElementException
    from selenium.webdriver.common.by import By

    try:
        return str(browser.find_element(
            By.CSS_SELECTOR, '#queue-general [data-figure="waiting"] .value').text)
    except NoSuchElementException:
        return None


def test_one_box_has_no_node_column_and_no_banner(
        browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.common.by import By

    one = RecordingAmi(entries=[_waiting("node1-4001.1")], channels=["node1-4001.1"])
    port = free_port()
    with AmiThread() as amis:
        amis.serve(one, port)
        console = _console(tmp_path, monkeypatch,
                           f"ami:\n  host: 127.0.0.1\n  port: {port}\n")
        try:
            browser_login(browser, console.url, "admin", PASSWORD)
            browser.get(f"{console.url}/live?lang=en")
            poll(lambda: browser.find_element(By.ID, "call-4001"), 20, "the waiting caller")
            header = browser.find_elements(By.CSS_SELECTOR, "#calls thead th")
            assert len(header) == len(LIVE_COLUMNS)
            assert len(_cells(browser, "call-4001")) == len(LIVE_COLUMNS)
            assert not _banner(browser)
            browser.get(f"{console.url}/?lang=en")
            poll(lambda: _waiting_figure(browser) == "1", 10, "the tile's count")
            assert not _banner(browser)
            assert not browser.find_element(By.ID, "agents-note").is_displayed()
        finally:
            console.stop()
