"""The sandbox PBX: Asterisk 22 from Debian sid in a debootstrap chroot.

Debian 12 has no asterisk package, so the sandbox is a minimal sid tree kept in a
cache folder outside the repository and reused while present. Every start copies
the project's dialplan/, config/asterisk/ and sounds/ into it so that edits take
effect. Asterisk listens on loopback only. Needs root (chroot, mount).

(Just over 300 lines: install, secrets, deploy, run and mounts of one chroot are one
object's life; split, each part would need all the others' paths.)
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import structlog

from balagh.config import ASTERISK_CONFIG_DIR, DIALPLAN_DIR, Settings, read_env_file
from balagh.config.atomicfile import replace_file
from balagh.pbx import test_user
from balagh.pbx.mirror import debian_mirror
from balagh.sounds import install_prompts

log = structlog.get_logger(__name__)

PACKAGES = ("asterisk", "asterisk-core-sounds-en", "asterisk-moh-opsound-wav")
APT_OPTS = ("-o", "Acquire::Check-Valid-Until=false", "-o", "Dpkg::Use-Pty=0")
# Directories the chroot's asterisk user owns; root here may lack CAP_DAC_OVERRIDE.
ASTERISK_DIRS = ("etc/asterisk", "var/lib/asterisk", "var/spool/asterisk", "var/log/asterisk",
                 "var/cache/asterisk", "var/run/asterisk", "usr/share/asterisk")
STOCK_ETC = "stock-etc-asterisk"  # in pbx_dir: the package's pristine /etc/asterisk
SECRET_KEYS = ("BALAGH_ARI_PASSWORD", "BALAGH_AMI_SECRET", "BALAGH_SIP_PASSWORD",
               test_user.SECRET_KEY)


class SandboxError(RuntimeError):
    pass


@dataclass(frozen=True)
class Sandbox:
    settings: Settings

    @property
    def dir(self) -> Path:
        return self.settings.pbx_dir

    @property
    def root(self) -> Path:
        return self.dir / "root"

    @property
    def installed(self) -> bool:
        stamp = self.dir / "installed.stamp"
        return stamp.exists() and (self.root / "usr/sbin/asterisk").exists()

    # -- install -------------------------------------------------------------

    def install(self, *, force: bool = False) -> bool:
        """Build the chroot unless it is there already. Returns True if it built one.

        The secrets are made first, so that every process started after `balagh pbx
        install` (the app, the tests) reads the same passwords the PBX will get."""
        _require_root()
        self.secrets()
        if self.installed and not force:
            return False
        for tool in ("debootstrap",):
            if shutil.which(tool) is None:
                raise SandboxError(f"{tool} is missing: apt-get install {tool}")
        self.dir.mkdir(parents=True, exist_ok=True)
        partial = self.dir / "root.partial"
        if partial.exists():
            self._unmount(partial)
            shutil.rmtree(partial)
        mirror = debian_mirror()
        log.info("sandbox.debootstrap", mirror=mirror, target=str(partial))
        _run(["debootstrap", "--variant=minbase", "sid", str(partial), mirror])
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        _run(["chroot", str(partial), "apt-get", *APT_OPTS, "update", "-qq"], env=env)
        _run(["chroot", str(partial), "apt-get", *APT_OPTS, "install", "-y", "-qq",
              "--no-install-recommends", *PACKAGES], env=env)
        _run(["chroot", str(partial), "apt-get", "clean"], env=env)
        # Debian's own /etc/asterisk, before the sandbox writes its files over it: the
        # stock-Asterisk scenario starts from it (tests/e2e/test_stock_asterisk.py).
        stock = self.dir / STOCK_ETC
        if stock.exists():
            shutil.rmtree(stock)
        shutil.copytree(partial / "etc/asterisk", stock, symlinks=True)
        if self.root.exists():
            self._unmount(self.root)
            shutil.rmtree(self.root)
        partial.rename(self.root)
        self._fix_permissions()
        (self.dir / "installed.stamp").write_text(" ".join(PACKAGES) + "\n")
        log.info("sandbox.installed", root=str(self.root))
        return True

    def stock_etc(self) -> Path:
        """Debian's pristine /etc/asterisk of the installed package, captured at install.

        A sandbox built before the capture existed gets it back without a download: each
        conffile dpkg lists is taken from /etc/asterisk if its checksum is still the
        package's, else from the package's sample of it if that one's is. Files neither
        gives exactly (Debian's own edits the sandbox overwrote) come from the sample and
        are named in RECOVERED."""
        stock = self.dir / STOCK_ETC
        if stock.exists():
            return stock
        if not self.installed:
            raise SandboxError("the sandbox PBX is not installed: run `balagh pbx install`")
        listing = subprocess.run(
            ["chroot", str(self.root), "dpkg-query", "-W", "-f=${Conffiles}\\n", "asterisk-config"],
            capture_output=True, text=True, check=True).stdout
        partial = self.dir / f"{STOCK_ETC}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        inexact = []
        samples = self.root / "usr/share/asterisk/conf/samples"
        for line in listing.splitlines():
            fields = line.split()
            if len(fields) < 2 or not fields[0].startswith("/etc/asterisk/"):
                continue
            name, digest = fields[0].removeprefix("/etc/asterisk/"), fields[1]
            candidates = [self.root / fields[0].lstrip("/"), samples / f"{name}.sample"]
            exact = [c for c in candidates if c.is_file() and _md5(c) == digest]
            source = exact[0] if exact else candidates[1]
            if not source.is_file():
                continue
            if not exact:
                inexact.append(name)
            (partial / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, partial / name)
        if inexact:
            (partial / "RECOVERED").write_text(
                "Recovered from dpkg's checksums; Debian's own version of these was gone, "
                "the upstream sample stands in:\n" + "\n".join(inexact) + "\n")
        partial.rename(stock)
        return stock

    def _fix_permissions(self) -> None:
        for rel in ASTERISK_DIRS:
            path = self.root / rel
            path.mkdir(parents=True, exist_ok=True)
            _run(["chown", "-R", "0:0", str(path)])
            _run(["chmod", "-R", "u+rwX,go+rX", str(path)])

    # -- secrets -------------------------------------------------------------

    def secrets(self) -> dict[str, str]:
        """The sandbox's own passwords, made once and kept in <pbx_dir>/secrets.env (0600)."""
        path = self.settings.sandbox_secrets
        values = read_env_file(path)
        if all(values.get(key) for key in SECRET_KEYS):
            return values
        for key in SECRET_KEYS:
            values.setdefault(key, secrets.token_urlsafe(18))
        # Whole and atomically, every key kept: others (`balagh pbx db`'s database
        # password) live in the same file.
        lines = ["# Sandbox PBX secrets, made by `balagh pbx`. Not for production."]
        lines += [f"{key}={value}" for key, value in values.items()]
        replace_file(path, "\n".join(lines) + "\n", 0o600)
        return values

    # -- deploy --------------------------------------------------------------

    def deploy(self) -> None:
        """Copy the project's Asterisk config, dialplan and prompts into the chroot."""
        values = self.secrets()
        placeholders = {
            "{{ARI_PASSWORD}}": values["BALAGH_ARI_PASSWORD"],
            "{{AMI_SECRET}}": values["BALAGH_AMI_SECRET"],
            "{{SIP_PASSWORD}}": values["BALAGH_SIP_PASSWORD"],
            "{{TEST_AMI_SECRET}}": values[test_user.SECRET_KEY],
        }
        etc = self.root / "etc/asterisk"
        sources = sorted(ASTERISK_CONFIG_DIR.glob("*.conf"))
        sources += sorted(DIALPLAN_DIR.glob("*.conf"))
        for source in sources:
            text = source.read_text(encoding="utf-8")
            if source.name == "manager.conf":  # the tests' user exists in the sandbox only
                text += test_user.MANAGER_SECTION
            for placeholder, value in placeholders.items():
                text = text.replace(placeholder, value)
            target = etc / source.name
            target.write_text(text, encoding="utf-8")
            target.chmod(0o640 if "{{" in source.read_text(encoding="utf-8") else 0o644)
        self._deploy_sounds()

    def _no_nameservers(self) -> None:
        """The sandbox needs no DNS once built (apt runs in the partial root at install), so
        its Asterisk is given no nameserver to ask. (res_pjsip still makes its resolver,
        with glibc's default 127.0.0.1, and pjproject binds that resolver's two query
        sockets to 0.0.0.0 and [::]: client sockets, not services; docs/security.md.)"""
        resolv = self.root / "etc/resolv.conf"
        resolv.unlink(missing_ok=True)  # may be a symlink out of the chroot
        resolv.write_text("# Balagh sandbox: no nameservers: it needs no DNS once built "
                          "(balagh/pbx/sandbox.py)\n", encoding="utf-8")

    def _deploy_sounds(self) -> None:
        # The same copy as `balagh sounds install`, with the chroot's own symlinks.
        install_prompts(self.settings.sounds_dir, Path("/usr/share/asterisk/sounds"),
                        resolve=lambda path: in_chroot(self.root, str(path)))

    # -- run -----------------------------------------------------------------

    def running(self) -> bool:
        if not self.installed:
            return False
        result = subprocess.run(
            ["chroot", str(self.root), "/usr/sbin/asterisk", "-rx", "core show uptime"],
            capture_output=True, text=True, check=False,
        )
        return result.returncode == 0 and "uptime" in result.stdout.lower()

    def start(self, *, timeout: float = 60.0) -> bool:
        """Start Asterisk (or reload it with the current files). True if it was started."""
        _require_root()
        if not self.installed:
            raise SandboxError("the sandbox PBX is not installed: run `balagh pbx install`")
        self._fix_permissions()
        self.deploy()
        self._no_nameservers()
        if self.running():
            self.cli("core reload")
            self.wait_for_ari(timeout)
            return False
        self._refuse_busy_ports()
        self.mount_proc()
        # Debian ships no recording folder; ARI record fails without it.
        for rel in ("var/run/asterisk", "var/log/asterisk", "var/spool/asterisk/recording",
                    "var/spool/asterisk/monitor"):
            (self.root / rel).mkdir(parents=True, exist_ok=True)
        (self.root / "var/run/asterisk/asterisk.ctl").unlink(missing_ok=True)
        _run(["chroot", str(self.root), "/usr/sbin/asterisk", "-U", "root", "-G", "root", "-n"])
        self.wait_for_ari(timeout)
        log.info("sandbox.started", ari=self.settings.ari.url)
        return True

    def _refuse_busy_ports(self) -> None:
        """Another Asterisk (a sandbox in another folder) would answer with other passwords."""
        url = urllib.parse.urlsplit(self.settings.ari.url)
        for host, port in ((url.hostname or "127.0.0.1", url.port or 80),
                           (self.settings.ami.host, self.settings.ami.port)):
            with socket.socket() as probe:
                probe.settimeout(1)
                if probe.connect_ex((host, port)) == 0:
                    raise SandboxError(
                        f"something already listens on {host}:{port} (another Asterisk, or a "
                        f"sandbox in another folder?); stop it before starting {self.dir}")

    def wait_for_ari(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            last = self.ari_status()
            if last == "ok":
                return
            time.sleep(0.25)
        raise SandboxError(f"ARI did not answer within {timeout:.0f}s ({last}); see "
                           f"{self.root / 'var/log/asterisk/messages.log'}")

    def ari_status(self) -> str:
        values = self.secrets()
        url = self.settings.ari.url.rstrip("/") + "/ari/asterisk/info"
        token = base64.b64encode(
            f"{self.settings.ari.username}:{values['BALAGH_ARI_PASSWORD']}".encode()
        ).decode()
        request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return "ok" if response.status == 200 else f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return str(getattr(exc, "reason", exc))

    def stop(self, *, timeout: float = 20.0) -> bool:
        """Stop Asterisk. True if it was running."""
        _require_root()
        was_running = self.running()
        if was_running:
            self.cli("core stop now")
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.running():
                time.sleep(0.2)
        self._unmount(self.root)
        return was_running

    def cli(self, command: str) -> str:
        result = subprocess.run(
            ["chroot", str(self.root), "/usr/sbin/asterisk", "-rx", command],
            capture_output=True, text=True, check=False,
        )
        return result.stdout

    def status(self) -> dict[str, str]:
        return {
            "dir": str(self.dir),
            "installed": "yes" if self.installed else "no",
            "running": "yes" if self.installed and self.running() else "no",
            "ari": self.ari_status() if self.installed else "-",
            "ari_url": self.settings.ari.url,
            "ami": f"{self.settings.ami.host}:{self.settings.ami.port}",
            "sip": "udp 127.0.0.1:5060, user softphone",
            "secrets": str(self.settings.sandbox_secrets),
            "log": str(self.root / "var/log/asterisk/messages.log"),
        }

    # -- mounts --------------------------------------------------------------

    def mount_proc(self) -> None:
        proc = self.root / "proc"
        proc.mkdir(exist_ok=True)
        if not os.path.ismount(proc):
            _run(["mount", "-t", "proc", "proc", str(proc)])

    @staticmethod
    def _unmount(root: Path) -> None:
        proc = root / "proc"
        if os.path.ismount(proc):
            subprocess.run(["umount", "-l", str(proc)], check=False)


def in_chroot(root: Path, path: str) -> Path:
    """Resolve `path` as the chroot sees it (its absolute symlinks point inside root)."""
    current = root
    parts = [p for p in path.split("/") if p]
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            # Never above the chroot's own root, as the chroot itself sees it.
            current = current.parent if current != root else root
            continue
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                raise SandboxError(f"symlink loop at {candidate}")
            target = os.readlink(candidate)
            parts = [p for p in target.split("/") if p] + parts
            current = root if target.startswith("/") else current
            continue
        current = candidate
    return current


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _require_root() -> None:
    if os.geteuid() != 0:
        raise SandboxError("the sandbox PBX needs root (debootstrap, chroot, mount); "
                           "run as root or point config/balagh.yaml at your own Asterisk")


def _run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    log.debug("sandbox.run", cmd=" ".join(cmd))
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-15:]
        raise SandboxError(f"{' '.join(cmd[:4])} ... failed ({result.returncode}):\n"
                           + "\n".join(tail))
