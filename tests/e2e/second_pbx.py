"""A second Asterisk from the sandbox's chroot, on a site's own /etc/asterisk tree.

The stock-Asterisk and FreePBX-layout scenarios start Asterisk on a tree Balagh did not
write (Debian's pristine one, or a FreePBX-style one), apply Balagh with its own command
and route calls. That Asterisk, its `balagh run` and the test caller run in a network
namespace of their own: Asterisk's default ports (8088, 5038, 4573 ...) as on a real
site, no clash with the sandbox PBX, and whatever a stock tree opens (IAX2 on 0.0.0.0)
stays inside. Run as a script in that namespace, it places one test call and prints
the result as JSON (the test process itself stays in the host's namespace).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Folders of asterisk.conf moved into the tree's own work folder; the binaries, modules
# and prompts stay the chroot's.
OWN_DIRS = ("astetcdir", "astrundir", "astlogdir", "astspooldir", "astdbdir")
ENV_KEEP = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")


class SecondAsterisk:
    def __init__(self, chroot: Path, etc_source: Path) -> None:
        self.chroot = chroot
        self.inner = Path(f"/tmp/balagh-site-{uuid.uuid4().hex[:8]}")  # as the chroot sees it
        self.work = chroot / self.inner.relative_to("/")
        self.etc = self.work / "etc"
        self.holder: subprocess.Popen[bytes] | None = None
        self.processes: list[subprocess.Popen[bytes]] = []
        for name in ("run", "log", "spool", "lib"):
            (self.work / name).mkdir(parents=True)
        shutil.copytree(etc_source, self.etc, symlinks=True)
        (self.etc / "RECOVERED").unlink(missing_ok=True)

    def point_at_own_dirs(self) -> None:
        """asterisk.conf's folders into the work folder ([directories](!) is a template
        in the stock file, ignored by Asterisk, so it becomes a real section)."""
        conf = self.etc / "asterisk.conf"
        text = conf.read_text().replace("[directories](!)", "[directories]")
        own = {"astetcdir": "etc", "astrundir": "run", "astlogdir": "log",
               "astspooldir": "spool", "astdbdir": "lib"}
        for key in OWN_DIRS:
            text = re.sub(rf"(?m)^{key}\s*=>.*$", f"{key} => {self.inner / own[key]}", text)
        conf.write_text(text)

    def namespace(self) -> None:
        self.holder = subprocess.Popen(["unshare", "--net", "sleep", "600"])
        deadline = time.monotonic() + 10
        # The links' own text ("net:[4026531840]"): the holder is in a namespace of its own
        # only once unshare has run; entered before that, `lo up` would land on the host's.
        ours = os.readlink("/proc/self/ns/net")
        while os.readlink(f"/proc/{self.holder.pid}/ns/net") == ours:
            if time.monotonic() > deadline:
                raise RuntimeError("unshare did not make a network namespace")
            time.sleep(0.05)
        up = self.run_in(["ip", "link", "set", "lo", "up"])
        if up.returncode != 0:
            raise RuntimeError(f"cannot bring the namespace's loopback up: {up.stderr}")

    def nsenter(self) -> list[str]:
        assert self.holder is not None
        return ["nsenter", "-t", str(self.holder.pid), "-n"]

    def run_in(self, cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.nsenter(), *cmd], capture_output=True, text=True,
                              check=False, **kwargs)  # type: ignore[call-overload]

    def start_in(self, cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        handle = log.open("ab")
        process = subprocess.Popen([*self.nsenter(), *cmd], stdout=handle, stderr=handle,
                                   env=env)
        self.processes.append(process)
        return process

    def asterisk(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run_in(["chroot", str(self.chroot), "/usr/sbin/asterisk", "-C",
                            str(self.inner / "etc/asterisk.conf"), *args])

    def cli(self, command: str) -> str:
        return self.asterisk("-rx", command).stdout

    def start(self, timeout: float = 60) -> None:
        result = self.asterisk("-U", "root", "-G", "root", "-n")
        if result.returncode != 0:
            raise RuntimeError(f"asterisk did not start: {result.stderr[-2000:]}")
        deadline = time.monotonic() + timeout
        while "fully booted" not in self.cli("core waitfullybooted"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"asterisk not booted; {self.messages()[-2000:]}")
            time.sleep(0.2)

    def messages(self) -> str:
        path = self.work / "log/messages.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def queue_log(self) -> str:
        path = self.work / "log/queue_log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self.holder is not None:
            if (self.work / "run/asterisk.ctl").exists():
                self.cli("core stop now")
            pid_file = self.work / "run/asterisk.pid"
            deadline = time.monotonic() + 20
            while pid_file.exists() and Path(f"/proc/{pid_file.read_text().strip()}").exists():
                if time.monotonic() > deadline:
                    subprocess.run(["kill", "-9", pid_file.read_text().strip()], check=False)
                    break
                time.sleep(0.1)
            self.holder.terminate()
            self.holder.wait()
        shutil.rmtree(self.work, ignore_errors=True)


@contextmanager
def second_asterisk(chroot: Path, etc_source: Path) -> Iterator[SecondAsterisk]:
    pbx = SecondAsterisk(chroot, etc_source)
    try:
        yield pbx
    finally:
        pbx.stop()


def environment(secrets_file: Path, data_dir: Path) -> dict[str, str]:
    """`balagh` as a site runs it: its own secrets file, no sandbox secrets (HOME moved)."""
    home = data_dir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {key: os.environ[key] for key in ENV_KEEP if key in os.environ}
    return {**env, "HOME": str(home), "BALAGH_SECRETS_FILE": str(secrets_file),
            "BALAGH_DATA_DIR": str(data_dir)}


def _call(number: str, digits: str, context: str) -> None:
    from balagh.config import load_settings
    from balagh.testcall import place_call

    result = asyncio.run(place_call(load_settings(), number, digits.split(","), ahead=True,
                                    timeout=30, context=context))
    print(json.dumps({"queue": result.queue, "asterisk_queue": result.asterisk_queue,
                      "reference": result.reference,
                      "fallback": result.fallback}))


if __name__ == "__main__":
    _call(*sys.argv[1:4])
