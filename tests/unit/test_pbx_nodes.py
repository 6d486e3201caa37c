"""The sandbox nodes' own Asterisk trees (balagh/pbx/nodes.py), the OPTIONS ping
(balagh/pbx/sipcall.py) and the SIPp callers (balagh/pbx/sipp.py, config/sipp/) against a
real UDP peer on loopback; no PBX."""

from __future__ import annotations

import re
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from balagh.config import ASTERISK_CONFIG_DIR, DIALPLAN_DIR, load_settings
from balagh.pbx.nodes import Node, Nodes
from balagh.pbx.sandbox import SandboxError
from balagh.pbx.sipcall import options_ping, parse
from balagh.pbx.sipp import MENU_KEYS, SippError, call_once, parse_calls

# Debian's asterisk.conf, as far as the node's rewrite reads it.
DEBIAN_ASTERISK_CONF = """[directories](!)
astcachedir => /var/cache/asterisk
astetcdir => /etc/asterisk
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => /var/lib/asterisk
astdbdir => /var/lib/asterisk
astspooldir => /var/spool/asterisk
astrundir => /var/run/asterisk
astlogdir => /var/log/asterisk

[options]
;systemname = my_system_name
"""


@pytest.fixture
def node(tmp_path: Path) -> Node:
    deployed = tmp_path / "deployed"
    deployed.mkdir()
    for source in [*ASTERISK_CONFIG_DIR.glob("*.conf"), *DIALPLAN_DIR.glob("*.conf")]:
        shutil.copy(source, deployed / source.name)
    (deployed / "asterisk.conf").write_text(DEBIAN_ASTERISK_CONF)
    node = Node(2, tmp_path / "chroot")
    node.prepare(deployed)
    return node


def test_a_node_binds_every_service_to_its_own_address(node: Node) -> None:
    etc = node.work / "etc"
    assert node.address == "127.0.0.3"
    assert re.search(r"(?m)^bindaddr = 127\.0\.0\.3$", (etc / "http.conf").read_text())
    assert re.search(r"(?m)^bindaddr = 127\.0\.0\.3$", (etc / "manager.conf").read_text())
    pjsip = (etc / "pjsip.conf").read_text()
    assert "bind = 127.0.0.3:5060" in pjsip
    assert "media_address = 127.0.0.1" not in pjsip
    assert "agi://127.0.0.3:4573" in (etc / "extensions_balagh_dialplan.conf").read_text()
    # Clients on the host connect from 127.0.0.1 to any node; nothing beyond loopback.
    permits = re.findall(r"(?m)^permit\s*=\s*(.*)$", (etc / "manager.conf").read_text())
    assert permits and set(permits) == {"127.0.0.0/255.0.0.0"}


def test_a_node_takes_kamailio_calls_by_its_address_into_the_hotline(node: Node) -> None:
    pjsip = (node.work / "etc/pjsip.conf").read_text()
    section = pjsip[pjsip.index("[kamailio]\ntype = endpoint"):]
    assert "context = balagh-softphone" in section  # where 800700 goes to balagh-inbound
    assert "type = identify" in section and "match = 127.0.0.1" in section
    assert "media_address = 127.0.0.3" in section


def test_a_node_keeps_its_own_folders_and_system_name(node: Node) -> None:
    conf = (node.work / "etc/asterisk.conf").read_text()
    assert "[directories](!)" not in conf
    for key, folder in (("astetcdir", "etc"), ("astrundir", "run"), ("astlogdir", "log"),
                        ("astspooldir", "spool"), ("astdbdir", "db")):
        assert f"{key} => /var/lib/balagh-nodes/node2/{folder}" in conf
        assert (node.work / folder).is_dir()
    assert "astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules" in conf  # shared
    assert re.search(r"(?m)^\[options\]\nsystemname = node2$", conf)


@pytest.mark.parametrize("count", [0, 1, 4])
def test_nodes_refuse_a_count_outside_two_to_three(count: int) -> None:
    with pytest.raises(SandboxError, match="2 to 3"):
        Nodes(load_settings()).start(count, hold_lock=False)


class Peer:
    """A UDP peer on loopback answering each request with the replies a test gives."""

    def __init__(self, replies: dict[str, list[str]]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address: tuple[str, int] = self.sock.getsockname()
        self.replies = replies
        self.received: list[str] = []
        self.arrived = threading.Condition()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, sender = self.sock.recvfrom(65535)
            except OSError:
                return
            text = data.decode()
            with self.arrived:
                self.received.append(text)
                self.arrived.notify_all()
            method = text.split(" ", 1)[0]
            _, _, headers = parse(data)
            for reply in self.replies.get(method, []):
                lines = [f"SIP/2.0 {reply}"] + [f"Via: {v}" for v in headers["via"]] + [
                    f"From: {headers['from'][0]}", f"To: {headers['to'][0]};tag=uas",
                    f"Call-ID: {headers['call-id'][0]}", f"CSeq: {headers['cseq'][0]}",
                    f"Contact: <sip:{self.address[0]}:{self.address[1]}>",
                    f"Record-Route: <sip:{self.address[0]}:{self.address[1]};lr>",
                    "Content-Length: 0", "", ""]
                self.sock.sendto("\r\n".join(lines).encode(), sender)

    def methods(self, count: int) -> list[str]:
        """The methods of the first `count` requests, once that many have arrived."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=10)
            return [text.split(" ", 1)[0] for text in self.received]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def peer(request: pytest.FixtureRequest) -> Iterator[Peer]:
    running = Peer(request.param)
    yield running
    running.close()


@pytest.mark.parametrize("peer", [{"OPTIONS": ["200 OK"]}], indirect=True)
def test_options_ping_gives_the_reply_code(peer: Peer) -> None:
    assert options_ping(*peer.address, timeout=5) == 200
    assert peer.received[0].startswith(f"OPTIONS sip:{peer.address[0]}:{peer.address[1]} ")


def test_options_ping_to_nothing_gives_none() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert options_ping("127.0.0.1", port, timeout=0.5) is None


needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None,
                                reason="sipp missing: apt-get install sip-tester (make deps)")


@needs_sipp
@pytest.mark.parametrize("peer", [{"INVITE": ["100 Trying", "200 OK"], "INFO": ["200 OK"],
                                   "BYE": ["200 OK"]}], indirect=True)
def test_a_sipp_caller_answers_the_whole_menu_by_info_along_the_route(
        peer: Peer, tmp_path: Path) -> None:
    run = call_once(peer.address, "800700", tmp_path)
    assert (run.successful, run.failed) == (1, 0), run.errors
    assert run.answered_by == {"127.0.0.1": 1}
    assert peer.methods(9) == ["INVITE", "ACK", *["INFO"] * 6, "BYE"]
    route = f"Route: <sip:{peer.address[0]}:{peer.address[1]};lr>"
    assert all(route in text for text in peer.received[1:])  # in-dialog: the recorded route
    signals = [text.split("Signal=")[1][0] for text in peer.received[2:8]]
    assert "".join(signals) == MENU_KEYS
    assert all("application/dtmf-relay" in text for text in peer.received[2:8])
    assert peer.received[0].startswith(f"INVITE sip:800700@{peer.address[0]}:")
    assert "m=audio " in peer.received[0]
    [call] = run.calls.values()
    assert call.keys_taken == 6 and call.invited_at and call.answered_at
    assert call.answered_at >= call.invited_at


@needs_sipp
@pytest.mark.parametrize("peer", [{"INVITE": ["503 No Node Up"]}], indirect=True)
def test_a_refused_sipp_call_is_counted_failed(peer: Peer, tmp_path: Path) -> None:
    run = call_once(peer.address, "800700", tmp_path)
    assert (run.successful, run.failed) == (0, 1)
    assert run.answered_by == {}
    assert peer.methods(1)[0] == "INVITE"


def test_keys_that_are_not_keypad_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SippError, match="keys must be"):
        call_once(("127.0.0.1", 5070), "800700", tmp_path, keys="12a")


def test_a_scenario_log_gives_each_call_its_node_keys_and_times() -> None:
    log = ("call 2 invite at 1796648119.000000 250000.000000\n"
           "call 1 invite at 1796648118.000000 0.000000\n"
           "call 2 answered-by 127.0.0.3 at 1796648119.000000 750000.000000 contact x\n"
           "call 2 key 1 taken\ncall 2 key 2 taken\n"
           "call 2 ended node-gone at 1796648121.000000 500000.000000\n")
    calls = parse_calls(log)
    assert calls[1].node is None and calls[1].invited_at == 1796648118.0
    two = calls[2]
    assert (two.node, two.keys_taken, two.ended) == ("127.0.0.3", 2, "node-gone")
    assert two.answered_at is not None and two.invited_at is not None
    assert round(two.answered_at - two.invited_at, 3) == 0.5
    assert two.ended_at == 1796648121.5
