"""Several Asterisk nodes behind Kamailio, in the sandbox (issue 26, docs/scale.md).

Node k (1..3) is an Asterisk from the sandbox's chroot on 127.0.0.(k+1): its own
etc/run/log/spool/db folders under <pbx_dir>/root/var/lib/balagh-nodes/node<k>, the
project's config and dialplan as the sandbox deploys them, with every address moved to
the node's own and `systemname` set so unique ids do not clash. Kamailio (the host's
Debian package) listens on KAMAILIO_ADDRESS, takes the hotline number and dispatches to
the nodes in priority order: node 1 is active, the next one its standby (docs/scale.md).
Everything binds loopback addresses only; processes are stopped by their pid.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from balagh.config import CONFIG_DIR, Settings
from balagh.pbx.exclusive import PBX_LOCK
from balagh.pbx.sandbox import Sandbox, SandboxError
from balagh.pbx.sipcall import options_ping

log = structlog.get_logger(__name__)

KAMAILIO_CONFIG = CONFIG_DIR / "kamailio/kamailio.cfg"
KAMAILIO_ADDRESS = ("127.0.0.1", 5070)
KAMAILIO_LISTEN = f"{KAMAILIO_ADDRESS[0]}:{KAMAILIO_ADDRESS[1]}"
HOTLINE = "800700"
# Kamailio dispatcher algorithms: 8, the up node of highest priority (what Balagh runs:
# one node holds every queue); 4, round robin (active/active, only for the benchmark).
ACTIVE_STANDBY, ROUND_ROBIN = "8", "4"
MAX_NODES = 3
NODES_INNER = Path("/var/lib/balagh-nodes")  # as the chroot sees it
# asterisk.conf's folders each node keeps to itself; modules and prompts stay shared.
OWN_DIRS = {"astetcdir": "etc", "astrundir": "run", "astlogdir": "log",
            "astspooldir": "spool", "astdbdir": "db"}
# Files of the deployed tree that name the sandbox's address (bind, media, origins, AGI).
ADDRESS_FILES = ("http.conf", "pjsip.conf", "manager.conf", "ari.conf",
                 "extensions_balagh_dialplan.conf")
# Kamailio on the node's SIP side: identified by its address, no password (loopback only).
KAMAILIO_ENDPOINT = """
; Calls dispatched by Kamailio (balagh/pbx/nodes.py): identified by its address.
[kamailio]
type = endpoint
context = balagh-softphone
disallow = all
allow = ulaw,alaw
direct_media = no
media_address = {address}
bind_rtp_to_media_address = yes
dtmf_mode = rfc4733
language = ar

[kamailio]
type = identify
endpoint = kamailio
match = {kamailio}
"""


def node_address(number: int) -> str:
    return f"127.0.0.{number + 1}"


@dataclass(frozen=True)
class Node:
    """One Asterisk of the cluster, as the chroot and the host each see its folders."""

    number: int
    chroot: Path

    @property
    def name(self) -> str:
        return f"node{self.number}"

    @property
    def address(self) -> str:
        return node_address(self.number)

    @property
    def inner(self) -> Path:
        return NODES_INNER / self.name

    @property
    def work(self) -> Path:
        return self.chroot / self.inner.relative_to("/")

    @property
    def ari_url(self) -> str:
        return f"http://{self.address}:8088"

    def app_environment(self, data_dir: Path) -> dict[str, str]:
        """What `balagh run` beside this node needs to talk to it and no other."""
        return {"BALAGH_ARI_URL": self.ari_url, "BALAGH_AMI_HOST": self.address,
                "BALAGH_FASTAGI_HOST": self.address, "BALAGH_CONSOLE_HOST": self.address,
                "BALAGH_DATA_DIR": str(data_dir)}

    def asterisk(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["chroot", str(self.chroot), "/usr/sbin/asterisk", "-C",
                               str(self.inner / "etc/asterisk.conf"), *args],
                              capture_output=True, text=True, check=False)

    def cli(self, command: str) -> str:
        return self.asterisk("-rx", command).stdout

    def pid(self) -> int | None:
        return _live_pid(self.work / "run/asterisk.pid")

    def running(self) -> bool:
        return self.pid() is not None and "fully booted" in self.cli("core waitfullybooted")

    def prepare(self, deployed_etc: Path) -> None:
        """The sandbox's deployed tree, moved to this node's address and folders."""
        etc = self.work / "etc"
        if etc.exists():
            shutil.rmtree(etc)
        shutil.copytree(deployed_etc, etc, symlinks=True)
        for name in OWN_DIRS.values():
            (self.work / name).mkdir(parents=True, exist_ok=True)
        (self.work / "log/cdr-csv").mkdir(exist_ok=True)  # cdr_csv writes there
        (self.work / "spool/recording").mkdir(exist_ok=True)
        (self.work / "spool/monitor").mkdir(exist_ok=True)
        for name in ADDRESS_FILES:
            path = etc / name
            if path.exists():
                text = path.read_text(encoding="utf-8").replace("127.0.0.1", self.address)
                # The host's clients connect from 127.0.0.1 whatever node they reach.
                text = re.sub(r"(?m)^permit\s*=.*$", "permit = 127.0.0.0/255.0.0.0", text)
                path.write_text(text, encoding="utf-8")
        with (etc / "pjsip.conf").open("a", encoding="utf-8") as pjsip:
            pjsip.write(KAMAILIO_ENDPOINT.format(address=self.address,
                                                 kamailio=KAMAILIO_ADDRESS[0]))
        conf = etc / "asterisk.conf"
        text = conf.read_text(encoding="utf-8").replace("[directories](!)", "[directories]")
        for key, name in OWN_DIRS.items():
            line = f"{key} => {self.inner / name}"
            text, found = re.subn(rf"(?m)^;?\s*{key}\s*=>.*$", line, text)
            if not found:
                text = text.replace("[directories]\n", f"[directories]\n{line}\n", 1)
        # Unique ids start with the system name: two nodes' reports never share a call id.
        text = re.sub(r"(?m)^\[options\]\s*$", f"[options]\nsystemname = {self.name}", text,
                      count=1)
        conf.write_text(text, encoding="utf-8")

    def start(self, timeout: float = 60.0) -> None:
        (self.work / "run/asterisk.ctl").unlink(missing_ok=True)
        result = self.asterisk("-U", "root", "-G", "root", "-n")
        if result.returncode != 0:
            raise SandboxError(f"{self.name}: asterisk did not start: {result.stderr[-1500:]}")
        deadline = time.monotonic() + timeout
        while not self.running():
            if time.monotonic() > deadline:
                raise SandboxError(f"{self.name} not booted within {timeout:.0f}s; see "
                                   f"{self.work / 'log/messages.log'}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL, as a crashed or powered-off box: nothing answers any more."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 10)
        (self.work / "run/asterisk.pid").unlink(missing_ok=True)

    def stop(self, timeout: float = 20.0) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        self.cli("core stop now")
        if not _wait_gone(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5)
        return True


class Nodes:
    """The cluster: `balagh pbx nodes start N|stop|status`."""

    def __init__(self, settings: Settings) -> None:
        self.sandbox = Sandbox(settings)
        self.dir = self.sandbox.root / NODES_INNER.relative_to("/")
        self.state_file = self.dir / "nodes.json"

    @property
    def kamailio_dir(self) -> Path:
        return self.dir / "kamailio"

    def nodes(self, count: int | None = None) -> list[Node]:
        number = self._count() if count is None else count
        return [Node(k, self.sandbox.root) for k in range(1, number + 1)]

    def node(self, number: int) -> Node:
        return Node(number, self.sandbox.root)

    def _count(self) -> int:
        try:
            return int(json.loads(self.state_file.read_text())["count"])
        except (OSError, ValueError, KeyError):
            return 0

    def start(self, count: int, *, hold_lock: bool = True,
              algorithm: str = ACTIVE_STANDBY) -> None:
        """Start `count` nodes and Kamailio. hold_lock: take the machine's PBX lock and keep
        it (a holder process) until `stop`; a test session that holds it already says no."""
        if not 2 <= count <= MAX_NODES:
            raise SandboxError(f"nodes: 2 to {MAX_NODES}, not {count}")
        if os.geteuid() != 0:
            raise SandboxError("the sandbox nodes need root (chroot, mount)")
        if not self.sandbox.installed:
            raise SandboxError("the sandbox PBX is not installed: run `balagh pbx install`")
        if shutil.which("kamailio") is None:
            raise SandboxError("kamailio is missing: apt-get install kamailio (make deps)")
        if self._count():
            raise SandboxError(f"{self._count()} nodes already run: `balagh pbx nodes stop`")
        self.dir.mkdir(parents=True, exist_ok=True)
        if hold_lock:
            self._hold_lock()
        self.state_file.write_text(json.dumps({"count": count}))
        try:
            self.sandbox.deploy()
            self.sandbox.mount_proc()
            for node in self.nodes(count):
                node.prepare(self.sandbox.root / "etc/asterisk")
                node.start()
                log.info("nodes.node_started", node=node.name, address=node.address)
            self.start_kamailio(count, algorithm)
        except BaseException:
            self.stop()
            raise

    def start_kamailio(self, count: int, algorithm: str = ACTIVE_STANDBY,
                       timeout: float = 20.0) -> None:
        work = self.kamailio_dir
        work.mkdir(parents=True, exist_ok=True)
        dispatcher = work / "dispatcher.list"
        # setid destination flags priority: the higher priority is tried first.
        dispatcher.write_text("".join(
            f"1 sip:{node.address}:5060 0 {MAX_NODES + 1 - node.number}\n"
            for node in self.nodes(count)))
        config = work / "kamailio.cfg"
        config.write_text(KAMAILIO_CONFIG.read_text(encoding="utf-8")
                          .replace("{{LISTEN}}", KAMAILIO_LISTEN)
                          .replace("{{DISPATCHER_LIST}}", str(dispatcher))
                          .replace("{{HOTLINE}}", HOTLINE)
                          .replace("{{ALGORITHM}}", algorithm))
        check = subprocess.run(["kamailio", "-c", "-f", str(config)], capture_output=True,
                               text=True, check=False)
        if check.returncode != 0:
            raise SandboxError(f"kamailio config rejected: {check.stderr[-1500:]}")
        with (work / "kamailio.log").open("ab") as out:
            process = subprocess.Popen(
                # 256 MB of shared memory: the default 64 ran out at ~400 new calls a
                # second (bench/nodes_rate.py), each transaction kept for its wait timer.
                ["kamailio", "-DD", "-E", "-m", "256", "-f", str(config), "-Y", str(work)],
                stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True)
        (work / "kamailio.pid").write_text(f"{process.pid}\n")
        deadline = time.monotonic() + timeout
        while options_ping(*KAMAILIO_ADDRESS, timeout=0.5) != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SandboxError(f"kamailio did not answer; see {work / 'kamailio.log'}")
        log.info("nodes.kamailio_started", listen=KAMAILIO_LISTEN)

    def _hold_lock(self) -> None:
        """The PBX lock, held by a small process of its own while the nodes run."""
        holder = subprocess.Popen(
            ["flock", "--nonblock", str(PBX_LOCK), "sh", "-c", "echo held; exec sleep infinity"],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        assert holder.stdout is not None
        held = holder.stdout.readline().strip() == b"held"
        holder.stdout.close()
        if not held:
            holder.wait()
            raise SandboxError(f"the sandbox PBX is in use (tests or a benchmark hold "
                               f"{PBX_LOCK}); try again when they are done")
        (self.dir / "lock.pid").write_text(f"{holder.pid}\n")

    def kamailio_pid(self) -> int | None:
        return _live_pid(self.kamailio_dir / "kamailio.pid")

    def stop(self) -> bool:
        """Kamailio, then every node, each by its pid. True if anything was running."""
        stopped = False
        pid = self.kamailio_pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            if not _wait_gone(pid, 10):
                os.killpg(pid, signal.SIGKILL)
                _wait_gone(pid, 5)
            stopped = True
        (self.kamailio_dir / "kamailio.pid").unlink(missing_ok=True)
        for node in self.nodes(MAX_NODES):
            stopped = node.stop() or stopped
        self.state_file.unlink(missing_ok=True)
        holder = _live_pid(self.dir / "lock.pid")
        if holder is not None:  # flock and the sleep that holds the lock: its own group
            os.killpg(holder, signal.SIGTERM)
            _wait_gone(holder, 5)
        (self.dir / "lock.pid").unlink(missing_ok=True)
        return stopped

    def status(self) -> dict[str, str]:
        fields = {"dir": str(self.dir), "nodes": str(self._count())}
        pid = self.kamailio_pid()
        fields["kamailio"] = (f"pid {pid}, sip:{KAMAILIO_ADDRESS[0]}:{KAMAILIO_ADDRESS[1]}, "
                              f"OPTIONS {options_ping(*KAMAILIO_ADDRESS, timeout=1)}"
                              if pid else "not running")
        for node in self.nodes():
            pid = node.pid()
            fields[node.name] = (f"pid {pid}, sip:{node.address}:5060, ari {node.ari_url}, "
                                 f"OPTIONS {options_ping(node.address, 5060, timeout=1)}"
                                 if pid else f"down ({node.address})")
        return fields


def _live_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # our own child (Kamailio started by this process): reap it
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return False
