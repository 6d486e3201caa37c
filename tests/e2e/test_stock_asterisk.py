"""Issue 25: Balagh on Debian's *stock* Asterisk configuration, by its own commands.

Debian's pristine /etc/asterisk of the sandbox's asterisk package (captured at
`balagh pbx install`, or recovered from dpkg) in a second Asterisk of the chroot, in a
network namespace of its own (tests/e2e/second_pbx.py). What an admin does, counted:
  1. balagh pbx apply --asterisk-etc DIR        (snippets + one #include per site file)
  2. list the agents in balagh_queue_members.conf (the one file apply leaves to them)
  3. start Asterisk (on a running one: core reload)
  4. balagh run, with secrets_file = the file apply made
and a real call (the test caller, a Local channel through ARI) is routed into the queue
the answers call for: Asterisk's own queue_log shows it entered balagh-child-protection.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from balagh.pbx.sandbox import Sandbox

from .second_pbx import SecondAsterisk, environment, second_asterisk

HERE = Path(__file__).resolve().parent
# Answers: Arabic, in danger, a child, female, Sharjah, no condition -> child protection.
CHILD_IN_DANGER = "1,1,1,2,3,0"
# The site's own agents before Balagh arrives: phones that answer (here Local channels).
SITE_AGENTS = "\n[site-agents]\nexten => _1XXX,1,Answer()\n same => n,Wait(20)\n"
MEMBERS = ("[balagh-child-protection](+)\nmember => Local/1001@site-agents/n,0,Agent 1001\n"
           "[balagh-general](+)\nmember => Local/1007@site-agents/n,0,Agent 1007\n")


def balagh(*args: str) -> list[str]:
    return [sys.executable, "-m", "balagh", *args]


def start_app(site: SecondAsterisk, env: dict[str, str], log: Path,
              ready: tuple[bytes, ...] = (b'"ari.connected"', b'"fastagi.listening"')) -> None:
    """`balagh run` in the site's namespace, waited for until it logs every `ready` event."""
    app = site.start_in(balagh("--log-json", "run"), log, env)
    deadline = time.monotonic() + 30
    while not all(event in log.read_bytes() for event in ready):
        assert app.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)


def place_call(site: SecondAsterisk, env: dict[str, str], number: str,
               context: str) -> dict[str, str]:
    result = site.run_in([sys.executable, str(HERE / "second_pbx.py"), number,
                          CHILD_IN_DANGER, context], env=env, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    called: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return called


def entered(site: SecondAsterisk, queue: str) -> list[str]:
    return [line for line in site.queue_log().splitlines()
            if f"|{queue}|" in line and "|ENTERQUEUE|" in line]


def test_stock_debian_asterisk_routes_a_call_after_balagh_pbx_apply(
        pbx: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    stock = pbx.stock_etc()
    with second_asterisk(pbx.root, stock) as site:
        # The stock tree is the package's: no Balagh in it yet.
        assert not list(site.etc.glob("*balagh*"))
        before = {p.name: p.read_bytes() for p in site.etc.iterdir() if p.is_file()}
        (site.etc / "extensions.conf").write_text(
            (site.etc / "extensions.conf").read_text() + SITE_AGENTS)
        site.point_at_own_dirs()
        site.namespace()
        env = environment(tmp_path / "secrets.env", tmp_path / "data")
        commands = 0

        started = time.monotonic()
        applied = subprocess.run(balagh("pbx", "apply", "--asterisk-etc", str(site.etc),
                                        "--secrets-file", str(tmp_path / "secrets.env")),
                                 capture_output=True, text=True, env=env, check=False)
        commands += 1
        assert applied.returncode == 0, applied.stdout + applied.stderr
        (site.etc / "balagh_queue_members.conf").write_text(MEMBERS)
        commands += 1
        site.start()
        commands += 1
        start_app(site, env, tmp_path / "app.log")
        commands += 1
        called = place_call(site, env, "800700", "balagh-inbound")
        routed = time.monotonic() - started

        assert called["asterisk_queue"] == "balagh-child-protection", called
        assert entered(site, "balagh-child-protection"), site.queue_log()
        # Nothing of the site's was overwritten: each site file starts as it did.
        for name, text in before.items():
            assert (site.etc / name).read_bytes().startswith(
                text if name != "asterisk.conf" else b""), name
        # The app's AMI user as shipped: no shell, no config, no command.
        user = site.cli("manager show user balagh")
        assert "read perm: call,agent,user" in user
        assert "write perm: reporting,originate" in user
        # Re-runnable: a second apply changes nothing.
        again = subprocess.run(balagh("pbx", "apply", "--asterisk-etc", str(site.etc),
                                      "--secrets-file", str(tmp_path / "secrets.env")),
                               capture_output=True, text=True, env=env, check=False)
        assert again.returncode == 0 and "nothing to change" in again.stdout, again.stdout
    with capsys.disabled():
        print(f"\nstock Asterisk: apply -> first routed call {routed:.1f} s, "
              f"{commands} admin commands")
