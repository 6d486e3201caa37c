"""Issue 14 on the sandbox PBX: nothing listens beyond loopback during a call, the app's
AMI user cannot run commands, the dialplan logs no number, and the app still works."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from balagh.ami.client import AmiSession
from balagh.config import Settings
from balagh.pbx.sandbox import Sandbox, in_chroot
from balagh.pbx.test_user import USERNAME as TEST_USER
from balagh.pbx.test_user import ami_for_tests
from balagh.testcall import place_call

from .conftest import report_by_call

CHILD_IN_DANGER = ["1", "1", "1", "2", "3", "0"]
CALLER_NUMBER = "+97165551234"  # place_call's default caller ID
LOOPBACK_HOSTS = ("127.", "[::1]", "::1", "[::ffff:127.")


# The services: SIP, ARI's HTTP, AMI and the RTP range (config/asterisk/rtp.conf).
SERVICE_PORTS = frozenset({5060, 8088, 5038, *range(10000, 11000)})


def non_loopback_sockets(process_names: tuple[str, ...], pids: set[int]) -> list[str]:
    """Lines of `ss -H -lunpt` (listening UDP and TCP, with processes) that belong to the
    named processes or pids and are bound to anything but loopback."""
    out = subprocess.run(["ss", "-H", "-lunpt"], capture_output=True, text=True,
                         check=True).stdout
    bad = []
    for line in out.splitlines():
        columns = line.split()
        if len(columns) < 7:
            continue
        local, process = columns[4], " ".join(columns[6:])
        ours = any(f'(("{name}"' in process for name in process_names) or any(
            f"pid={pid}," in process for pid in pids)
        if ours and not local.startswith(LOOPBACK_HOSTS):
            bad.append(line)
    return bad


def serves(line: str) -> bool:
    """A TCP listener, or a UDP socket on a service port: something a peer is meant to reach.
    (Asterisk 22 also keeps an unconnected UDP socket pair on an ephemeral port, bound to
    every address, with no service behind it; it is reported, not counted here.)"""
    columns = line.split()
    port = columns[4].rsplit(":", 1)[-1]
    return columns[0] == "tcp" or (port.isdigit() and int(port) in SERVICE_PORTS)


async def test_nothing_listens_beyond_loopback_during_a_call(settings: Settings,
                                                             running_app) -> None:
    assert running_app.process is not None
    call = asyncio.create_task(place_call(settings, settings.hotline, CHILD_IN_DANGER,
                                          wait_agent=True))
    try:
        # Sockets of the call are open from the answer to the agent's hang-up.
        await asyncio.sleep(3)
        assert not call.done(), "the call ended before the sockets were read"
        found = await asyncio.to_thread(non_loopback_sockets, ("asterisk", "python"),
                                        {running_app.process.pid})
        print("\nnot on loopback:\n" + "\n".join(found))
        assert [line for line in found if serves(line)] == [], "\n".join(found)
        assert not any("python" in line or f"pid={running_app.process.pid}," in line
                       for line in found)  # Balagh itself binds nothing at all
    finally:
        result = await call
    assert result.queue == "child-protection" and result.agent_answered


def test_rtp_is_bound_to_the_media_address(pbx: Sandbox) -> None:
    """Local-channel test calls carry no RTP: prove the PJSIP endpoint's settings instead
    (a softphone call shows the sockets themselves, see docs/security.md)."""
    shown = pbx.cli("pjsip show endpoint softphone")
    options = {}
    for line in shown.splitlines():
        name, _, value = line.strip().partition(":")
        options[name.strip()] = value.strip()
    assert options.get("media_address") == "127.0.0.1", shown[-2000:]
    assert options.get("bind_rtp_to_media_address") == "true", shown[-2000:]
    rtp = pbx.cli("rtp show settings")
    assert "10000" in rtp and "10999" in rtp, rtp


@pytest.mark.parametrize("action", [
    {"Action": "Command", "Command": "core show version"},
    {"Action": "UpdateConfig", "SrcFilename": "manager.conf", "DstFilename": "manager.conf",
     "Reload": "no", "Action-000000": "NewCat", "Cat-000000": "balagh-intruder"},
    {"Action": "DBPut", "Family": "balagh-test", "Key": "intruder", "Val": "1"},
    {"Action": "Originate", "Channel": "Local/1001@balagh-agents/n",
     "Application": "System", "Data": "touch /tmp/balagh-intruder", "Async": "true"},
], ids=["Command", "UpdateConfig", "DBPut", "Originate-System"])
async def test_the_apps_ami_user_is_refused_a_shell(settings: Settings, pbx: Sandbox,
                                                    action: dict[str, str]) -> None:
    async with AmiSession(settings.ami) as ami:
        answer = await ami.action(action)
    assert answer.get("Response") == "Error", answer
    # "Permission denied"; for an Originate of System without the system class, Asterisk 22
    # says "Originate Access Forbidden: app or data blacklisted" (older ones: "privilege").
    message = answer.get("Message", "").lower()
    assert any(word in message for word in ("permission denied", "privilege", "forbidden")), \
        answer
    assert not in_chroot(pbx.root, "/tmp/balagh-intruder").exists()


async def test_the_tests_use_their_own_ami_user(settings: Settings, pbx: Sandbox) -> None:
    tests = ami_for_tests(settings)
    assert settings.ami.username == "balagh" and tests.username == TEST_USER
    assert tests.secret and tests.secret != settings.ami.secret
    async with AmiSession(tests) as ami:
        answer = await ami.action({"Action": "Command", "Command": "core show version"})
    # Not even the tests' user may run CLI commands.
    assert answer.get("Response") == "Error", answer


async def test_the_dialplan_logs_no_caller_number(settings: Settings, pbx: Sandbox,
                                                  running_app) -> None:
    messages = in_chroot(pbx.root, "/var/log/asterisk/messages.log")
    before = messages.stat().st_size if messages.exists() else 0
    result = await place_call(settings, settings.hotline, CHILD_IN_DANGER)
    assert result.queue == "child-protection"
    with messages.open("rb") as log:
        log.seek(before)
        written = log.read().decode("utf-8", "replace")
    assert "800700@balagh-inbound" in written, "no dialplan lines logged for the call"
    assert CALLER_NUMBER not in written, [line for line in written.splitlines()
                                          if CALLER_NUMBER in line][:5]
    report = report_by_call(settings, result.hotline_id)
    assert report is not None and report["caller"] == CALLER_NUMBER  # the report keeps it
